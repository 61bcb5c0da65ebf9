/**
 * Broadcast state (Flink's "broadcast state pattern"): card payments, keyed by card, checked against
 * alerting rules that change while the job runs. Rules are a second stream, broadcast to every
 * subtask of the checking operator and kept there in broadcast state (in checkpoints, restored on
 * every subtask); each payment is judged by the rule in force at its own event time.
 *
 *   npx rlink run examples/joins/broadcast-rules.ts                           # 2 000 payments, printed
 *   npx rlink run examples/joins/broadcast-rules.ts count=100000 output=out/alerts.jsonl
 *
 * Output records: { "card": "card-7", "payment": 42, "amount": 930, "limit": 800, "rule": 3 }
 *
 * Rule versions: rule r takes effect r × 60 s after the start and sets the limit per payment to
 * 1000 − 100 × (r mod 5). A payment waits in keyed state (with an event-time timer at its own time)
 * until the watermarks of both streams pass it: by then every rule that took effect before it has
 * arrived, so the verdict does not depend on which stream happened to deliver first.
 */
import { defineApp, WatermarkStrategy, sources, sinks, type KeyedBroadcastProcessFunction } from 'rlink';

const START = Date.UTC(2026, 0, 1);

export interface Payment { card: string; payment: number; amount: number; ts: number }
export interface Rule { rule: number; limit: number; ts: number }
export interface Alert { card: string; payment: number; amount: number; limit: number; rule: number }

export function payment(i: number): Payment {
  return { card: `card-${i % 50}`, payment: i, amount: (i * 7919) % 1100, ts: START + i * 250 };
}
export function rule(r: number): Rule { return { rule: r, limit: 1000 - 100 * (r % 5), ts: START + r * 60_000 }; }

/** Broadcast state: rule version → rule. */
const RULES = { name: 'rules' };

/** The rule in force at `ts`: the latest that took effect at or before it. */
export function ruleAt(rules: Array<[number, Rule]>, ts: number): Rule | undefined {
  let best: Rule | undefined;
  for (const [, r] of rules) if (r.ts <= ts && (!best || r.ts > best.ts)) best = r;
  return best;
}

const check: KeyedBroadcastProcessFunction<Payment, Rule, Alert> = {
  processElement(p, ctx) {
    const waiting = ctx.state<Payment[]>('waiting', []);
    waiting.update([...waiting.value()!, p]);
    ctx.timerService().registerEventTimeTimer(p.ts);
  },
  processBroadcastElement(r, ctx) {
    ctx.getBroadcastState<number, Rule>(RULES).put(r.rule, r);
  },
  onTimer(t, ctx, out) {
    const waiting = ctx.state<Payment[]>('waiting', []);
    const rules = ctx.getBroadcastState<number, Rule>(RULES).entries();
    const still: Payment[] = [];
    for (const p of waiting.value()!) {
      if (p.ts > t) { still.push(p); continue; }
      const r = ruleAt(rules, p.ts);
      if (r && p.amount > r.limit) out.collect({ card: p.card, payment: p.payment, amount: p.amount, limit: r.limit, rule: r.rule });
    }
    if (still.length > 0) waiting.update(still); else waiting.clear();
  },
};

export default defineApp({
  name: 'broadcast-rules',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 2000);
  },
  build(env, props) {
    const count = props.getNumber('count');
    const payments = env.fromSource(sources.generator({ count, generate: payment }), {
      name: 'payments', watermarks: WatermarkStrategy.forMonotonousTimestamps<Payment>().withTimestampField('ts'),
    });
    // One rule per minute of the payments' time span (payments come 4 per second).
    const rules = env.fromSource(sources.generator({ count: Math.floor(count / 240) + 1, generate: rule }), {
      name: 'rules', parallelism: 1, watermarks: WatermarkStrategy.forMonotonousTimestamps<Rule>().withTimestampField('ts'),
    });

    payments.keyBy('card')
      .connect(rules.broadcast(RULES))
      .process(check, { parallelism: 2 })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
