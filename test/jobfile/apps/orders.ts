/** test/jobfile/apps/orders.yaml written with the DataStream API (and SQL for the window), for the YAML = TypeScript test. */
import { defineApp, sources, sinks } from 'rlink';

interface Order { id: number; customer: string; amount: number; ts: number }

export default defineApp({
  name: 'orders',
  build(env, props) {
    const schema = { id: 'bigint', customer: 'string', amount: 'double', ts: 'timestamp', watermark: { field: 'ts', delay: '2s' } };
    const orders = env.fromSource(sources.file<Order>({ path: props.get('input'), format: 'jsonl', schema }));
    const gen = env.fromSource(sources.generator<Order>({ count: 50, generate: (i) => ({ id: i + 1000, customer: `gen${i % 3}`, amount: i * 3, ts: i * 700 }), schema }));
    const priced = orders.union(gen)
      .filter((o: Order) => o.amount >= 1)
      .map((o: Order) => ({ ...o, amount: o.amount * 2, third: Math.round((o.amount / 3) * 100) / 100, big: o.amount > 20 }));
    env.createTemporaryView('priced', priced, { id: 'bigint', customer: 'string', amount: 'double', ts: 'timestamp', third: 'double', big: 'boolean' });
    env.sqlQuery("SELECT customer, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS n, SUM(amount) AS total FROM priced GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), customer", { parallelism: 2 })
      .map((r: { customer: string; ws: number; n: number; total: number }) => ({ who: r.customer, ws: r.ws, mean: r.total / r.n }))
      .sinkTo(sinks.file({ path: `${props.get('output')}/stats` }), { parallelism: 2 });
  },
});
