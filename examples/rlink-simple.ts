/**
 * The job of rlink-rs's README: per name, a sliding (HOP) window of 60 s every 20 s with the sum,
 * max, min and count of `value`, on generated data.
 *
 *   npx rlink run examples/rlink-simple.ts                       # 200 000 records, printed
 *   npx rlink run examples/rlink-simple.ts count=1000000 output=out/simple.jsonl
 */
import { defineApp, WatermarkStrategy, SlidingEventTimeWindows, sum, max, min, count, sources, sinks } from 'rlink';

const NAMES = ['A-0', 'B-1', 'C-2', 'D-3', 'E-4', 'F-5', 'G-6', 'H-7', 'I-8', 'J-9'];
const START = Date.UTC(2026, 0, 1);

export default defineApp({
  name: 'rlink-simple',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 200_000);
  },
  build(env, props) {
    const total = props.getNumber('count');
    const events = env.fromSource(sources.generator({
      count: total,
      // 10 records per millisecond of event time, up to 0.5 s out of order.
      generate: (i) => ({
        timestamp: START + Math.floor(i / 10) - ((i * 7919) % 500),
        name: NAMES[i % NAMES.length]!,
        value: (i * 31) % 1000,
      }),
    }), { parallelism: 1 });

    const stats = events
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('timestamp'))
      .keyBy('name')
      .window(SlidingEventTimeWindows.of('60s', '20s'))
      .aggregate({ sum: sum('value'), max: max('value'), min: min('value'), count: count() }, { parallelism: 2 });

    stats.sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
