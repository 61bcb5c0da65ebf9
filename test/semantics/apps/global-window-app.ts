/**
 * Global windows for the semantics tests (test/semantics/global-windows.test.ts), configured from the
 * command line:
 *
 *   rlink run test/semantics/apps/global-window-app.ts input=in.jsonl output=out.jsonl \
 *     mode=count|threshold|timer n=3 limit=10 delay=5 parallelism=1 keys=key
 *
 * - `mode=count`: keyBy(keys).countWindow(n): every n elements of a key, their aggregate.
 * - `mode=threshold`: a global window with a custom trigger that fires and purges once the window's
 *   sum of `v` reaches `limit` (state kept by the trigger in ctx.state).
 * - `mode=timer`: a custom event-time trigger: the first element of a window sets a timer at its
 *   timestamp + `delay`; when the watermark reaches it the window fires and is purged.
 * Records carry `ts` (event time, bounded out of order by `bound`, default 0) and a number `v`.
 */
import {
  defineApp, GlobalWindows, Triggers, WatermarkStrategy, sum, min, max, count, avg, sources, sinks,
  type AggregateFunction, type Trigger,
} from 'rlink';

interface Rec { ts: number; v: number; [k: string]: unknown }

const spread: AggregateFunction<Rec, { lo: number; hi: number }, number> = {
  createAccumulator: () => ({ lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY }),
  add: (a, r) => ({ lo: Math.min(a.lo, r.v), hi: Math.max(a.hi, r.v) }),
  merge: (a, b) => ({ lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) }),
  getResult: (a) => a.hi - a.lo,
};

export default defineApp({
  name: 'semantics-global-window-app',
  build(env, props) {
    const mode = props.get('mode');
    const keys = props.getOr('keys', 'key').split(',');
    const events = env.fromSource(sources.file({ path: props.get('input'), format: 'jsonl' }), {
      parallelism: 1, watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Rec>(props.getNumber('bound', 0)).withTimestampField('ts'),
    });
    const keyed = events.keyBy(keys.length === 1 ? keys[0]! : keys);
    let windowed;
    if (mode === 'count') windowed = keyed.countWindow(props.getNumber('n'));
    else if (mode === 'threshold') {
      const limit = props.getNumber('limit');
      const threshold: Trigger<Rec> = {
        onElement(r, _ts, ctx) {
          const total = ctx.state('sum', 0);
          total.update(total.value() + r.v);
          if (total.value() < limit) return 'CONTINUE';
          total.update(0);
          return 'FIRE_AND_PURGE';
        },
      };
      windowed = keyed.window(GlobalWindows.create()).trigger(threshold);
    } else if (mode === 'timer') {
      const delay = props.getNumber('delay');
      const timer: Trigger<Rec> = {
        onElement(_r, ts, ctx) {
          if (ctx.count === 1) ctx.registerEventTimeTimer(ts + delay);
          return 'CONTINUE';
        },
        onEventTime: () => 'FIRE_AND_PURGE',
      };
      windowed = keyed.window(GlobalWindows.create()).trigger(timer);
    } else throw new Error(`mode=${mode}: expected count, threshold or timer`);
    windowed.aggregate({ sum: sum('v'), min: min('v'), max: max('v'), count: count(), avg: avg('v'), spread }, { parallelism: props.getNumber('parallelism', 1) })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
