/**
 * The job of rlink-rs's README written as its SQL query: per name, a HOP window of 60 s every 20 s
 * with the sum, max, min and count of `value`, on the same generated data as examples/rlink-simple.ts
 * (the DataStream version). Both give the same windows (test/sql/examples.test.ts); the SQL columns
 * without an alias are named as Flink names them (EXPR$0, EXPR$1, name, EXPR$3, …).
 *
 *   npx rlink run examples/rlink-simple-sql.ts                       # 200 000 records, printed
 *   npx rlink run examples/rlink-simple-sql.ts count=1000000 output=out/simple-sql.jsonl
 */
import { defineApp, sources, sinks } from 'rlink';

const NAMES = ['A-0', 'B-1', 'C-2', 'D-3', 'E-4', 'F-5', 'G-6', 'H-7', 'I-8', 'J-9'];
const START = Date.UTC(2026, 0, 1);

export default defineApp({
  name: 'rlink-simple-sql',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 200_000);
  },
  build(env, props) {
    const events = env.fromSource(sources.generator({
      count: props.getNumber('count'),
      // 10 records per millisecond of event time, up to 0.5 s out of order.
      generate: (i) => ({
        timestamp: START + Math.floor(i / 10) - ((i * 7919) % 500),
        name: NAMES[i % NAMES.length]!,
        value: (i * 31) % 1000,
      }),
    }), { parallelism: 1 });

    env.createTemporaryView('stream_table', events,
      { name: 'string', value: 'double', timestamp: 'timestamp', watermark: { field: 'timestamp', delay: '1s' } });

    const stats = env.sqlQuery(`
      SELECT HOP_START(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND),
             HOP_END(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND),
             name, SUM(value), MAX(value), MIN(value), COUNT(*)
      FROM stream_table
      GROUP BY HOP(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND), name`, { parallelism: 2, uid: 'stats' });

    stats.sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
