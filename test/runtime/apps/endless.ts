/** An unbounded job (generator without count), for cancellation tests. */
import { defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, count } from 'rlink';

export default defineApp({
  name: 'endless',
  build(env, props) {
    env.fromSource(sources.generator({ ratePerSecond: 50_000, generate: (i) => ({ k: i % 7, ts: i }) }), {
      parallelism: 2, watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts'),
    })
      .keyBy('k').window(TumblingEventTimeWindows.of('1s')).aggregate({ n: count() }, { parallelism: 2 })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
