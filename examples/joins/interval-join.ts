/**
 * An interval join (Flink's `a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper)`): each order
 * meets the shipments of the same order that happen between 0 and 2 hours after it. Orders shipped
 * later than that (or never) give nothing: this is the "shipped on time" stream.
 *
 *   npx rlink run examples/joins/interval-join.ts                                # 1 000 orders, printed
 *   npx rlink run examples/joins/interval-join.ts count=50000 output=out/on-time.jsonl
 *
 * Output records: { "order": 12, "amount": 37.5, "shippedAfterMin": 84 } with the timestamp of the
 * shipment (the later of the two).
 *
 * Order i is placed i minutes after the start; its shipment leaves (i × 37) mod 180 minutes later,
 * and every 7th order is never shipped. Shipments therefore arrive up to 3 hours out of order: their
 * watermarks allow 3 hours (the join keeps both sides' elements until the watermarks of both inputs
 * say no partner can come).
 */
import { defineApp, WatermarkStrategy, sources, sinks } from 'rlink';

const START = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

export interface Order { order: number; amount: number; ts: number }
export interface Shipment { order: number; carrier: string; ts: number }

export function order(i: number): Order {
  return { order: i, amount: ((i * 31) % 200) / 2 + 5, ts: START + i * MINUTE };
}

/** The shipment of order i (every 7th order is never shipped: the job drops those shipments). */
export function shipment(i: number): Shipment {
  return { order: i, carrier: i % 3 === 0 ? 'rail' : 'road', ts: START + i * MINUTE + ((i * 37) % 180) * MINUTE };
}

export default defineApp({
  name: 'interval-join',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 1000);
  },
  build(env, props) {
    const count = props.getNumber('count');
    const orders = env.fromSource(sources.generator({ count, generate: order }), {
      name: 'orders', watermarks: WatermarkStrategy.forMonotonousTimestamps<Order>().withTimestampField('ts'),
    });
    const shipments = env.fromSource(sources.generator({ count, generate: shipment }), {
      name: 'shipments', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Shipment>('3h').withTimestampField('ts'),
    }).filter((s) => s.order % 7 !== 0);

    orders.keyBy('order')
      .intervalJoin(shipments.keyBy('order'))
      .between('0s', '2h')
      .process((o, s, ctx, out) => out.collect({ order: o.order, amount: o.amount, shippedAfterMin: (ctx.rightTimestamp - ctx.leftTimestamp) / MINUTE }), { parallelism: 2 })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
