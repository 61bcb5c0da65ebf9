/**
 * Test app: a key function that can return -0 (Math.round(-0.4)). 0 and -0 are one key in
 * JavaScript, so each window must be emitted once per key, whatever the parallelism.
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sources, sinks } from 'rlink';

export default defineApp({
  name: 'rounded-key',
  build(env, props) {
    env.fromSource(sources.collection([{ x: 0.4, ts: 1 }, { x: -0.4, ts: 2 }, { x: 0.1, ts: 3 }, { x: -0.2, ts: 4 }, { x: 1.2, ts: 5 }]), {
      parallelism: 1,
      watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts'),
    })
      .keyBy((r: { x: number }) => Math.round(r.x))
      .window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ n: count() }, { parallelism: props.getNumber('parallelism', 2) })
      .sinkTo(sinks.file({ path: props.get('output') }), { parallelism: 1 });
  },
});
