/**
 * Count windows and a custom trigger (Flink's `countWindow(n)` and `GlobalWindows` + `Trigger`): per
 * user, one record for every 5 purchases (mode=count, the default), or one whenever the user's
 * spending since the last record reaches 100 (mode=budget, a trigger of our own over a global window
 * that keeps its running total in trigger state).
 *
 *   npx rlink run examples/count-window.ts                                   # 1 000 purchases, printed
 *   npx rlink run examples/count-window.ts mode=budget count=100000 output=out/budget.jsonl
 *
 * Output records: { "user": "u3", "purchases": 5, "spent": 87 }
 *
 * A global window has no end, so its result carries no windowStart/windowEnd; a user's last, unfilled
 * window is not emitted at the end of input (as in Flink).
 */
import { defineApp, WatermarkStrategy, GlobalWindows, count, sum, sources, sinks, type Trigger } from 'rlink';

const START = Date.UTC(2026, 0, 1);

export interface Purchase { user: string; amount: number; ts: number }

export function purchase(i: number): Purchase {
  return { user: `u${(i * 7) % 12}`, amount: 1 + ((i * 7919) % 40), ts: START + i * 1000 };
}

/** Fires (and starts afresh) when the window's spending reaches 100. */
export const BUDGET = 100;
const budget: Trigger<Purchase> = {
  onElement(p, _ts, ctx) {
    const spent = ctx.state('spent', 0);
    spent.update(spent.value()! + p.amount);
    if (spent.value()! < BUDGET) return 'CONTINUE';
    spent.update(0);
    return 'FIRE_AND_PURGE';
  },
};

export default defineApp({
  name: 'count-window',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 1000);
  },
  build(env, props) {
    // One source subtask: each user's purchases reach their window in the order they were made.
    const purchases = env.fromSource(sources.generator({ count: props.getNumber('count'), generate: purchase }), {
      parallelism: 1,
      watermarks: WatermarkStrategy.forMonotonousTimestamps<Purchase>().withTimestampField('ts'),
    });
    const byUser = purchases.keyBy('user');
    const windows = props.has('mode') && props.get('mode') === 'budget'
      ? byUser.window(GlobalWindows.create()).trigger(budget)
      : byUser.countWindow(5);
    windows.aggregate({ purchases: count(), spent: sum('amount') }, { parallelism: 2 })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
