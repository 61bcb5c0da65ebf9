/**
 * Benchmark job: a keyed 1 s tumbling sum/count over generated readings (bench/window-throughput.ts).
 * props: count, parallelism. The sink only counts what reaches it.
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, sum, count, sources, type Sink } from 'rlink';
import { generate } from './keyed-tumbling-data';

function countingSink(): Sink {
  return {
    kind: 'count',
    describe: () => ({ kind: 'count' }),
    createWriter: () => {
      let n = 0;
      return {
        open() {}, write(values) { n += values.length; }, prepareCommit: () => n, commit() {}, close() {},
      };
    },
  };
}

export default defineApp({
  name: 'bench-keyed-tumbling',
  build(env, props) {
    const p = props.getNumber('parallelism', 1);
    env.fromSource(sources.generator({ count: props.getNumber('count'), generate }), {
      parallelism: p,
      watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts'),
    })
      .keyBy('key')
      .window(TumblingEventTimeWindows.of('1s'))
      .aggregate({ sum: sum('value'), count: count() }, { parallelism: p })
      .sinkTo(countingSink());
  },
});
