/** A bounded job that runs for a few seconds (paced generator), for failover tests. */
import { defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, count, sum } from 'rlink';

export default defineApp({
  name: 'paced-windows',
  build(env, props) {
    const p = props.getNumber('parallelism', 2);
    env.fromSource(sources.generator({
      count: props.getNumber('count', 60_000), ratePerSecond: props.getNumber('rate', 15_000),
      generate: (i) => ({ k: i % 13, ts: i * 10, v: i % 7 }),
    }), { parallelism: p, watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
      .keyBy('k').window(TumblingEventTimeWindows.of('10s')).aggregate({ n: count(), s: sum('v') }, { parallelism: p })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});

/** The exact expected output for `count` records. */
export function expected(countRecords: number): Array<{ k: number; windowStart: number; windowEnd: number; n: number; s: number }> {
  const m = new Map<string, { k: number; windowStart: number; windowEnd: number; n: number; s: number }>();
  for (let i = 0; i < countRecords; i++) {
    const k = i % 13, ts = i * 10, v = i % 7;
    const ws = ts - (ts % 10_000);
    const key = `${k}|${ws}`;
    const a = m.get(key) ?? { k, windowStart: ws, windowEnd: ws + 10_000, n: 0, s: 0 };
    a.n++; a.s += v;
    m.set(key, a);
  }
  return [...m.values()];
}
