// A keyed 1 s tumbling-window count/sum over a JSONL file, at parallelism 2 behind a keyBy shuffle:
// the job the deploy tests run on the clusters they bring up.
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, sum, count, sources, sinks } from 'rlink';

export default defineApp({
  name: 'deploy-tumbling',
  build(env, props) {
    env.fromSource(sources.file({ path: props.get('input'), format: 'jsonl' }), { parallelism: 1 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness('500ms').withTimestampField('ts'))
      .keyBy('user')
      .window(TumblingEventTimeWindows.of('1s'))
      .aggregate({ total: sum('amount'), n: count() }, { parallelism: 2 })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
