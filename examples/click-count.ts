/**
 * The click-count job of Flink's operations playground: clicks from Kafka, counted per page in 15 s
 * tumbling event-time windows, the counts written to Kafka with exactly-once transactions. The same
 * job as a config file: examples/click-count.yaml (both give identical output, test/jobfile).
 *
 * A click: {"timestamp": 1767225601234, "page": "/help"} (epoch ms, or a date string).
 * A count:  {"windowStart": 1767225600000, "windowEnd": 1767225615000, "page": "/help", "count": 1000}
 *
 *   npx rlink run examples/click-count.ts brokers=localhost:9092                  # unbounded: Ctrl-C ends it
 *   npx rlink run examples/click-count.ts brokers=localhost:9092 bounded=latest   # what is in the topic now
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sources, sinks } from 'rlink';

interface Count { page: string; windowStart: number; windowEnd: number; count: number }

export default defineApp({
  name: 'click-count',
  prepareProperties(props) {
    if (!props.has('input-topic')) props.set('input-topic', 'input');
    if (!props.has('output-topic')) props.set('output-topic', 'output');
    if (!props.has('checkpoint.interval')) props.set('checkpoint.interval', '10s');
  },
  build(env, props) {
    const brokers = props.get('brokers');
    const bounded = props.getOr('bounded', '') === 'latest' ? { bounded: 'latest' as const } : {};
    env.fromSource(sources.kafka({ brokers, topic: props.get('input-topic'), schema: { timestamp: 'timestamp', page: 'string' }, ...bounded }), {
      uid: 'clicks',
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness('200ms').withTimestampField('timestamp'),
    })
      .keyBy('page')
      .window(TumblingEventTimeWindows.of('15s'))
      .aggregate({ count: count() }, { uid: 'click-counts' })
      .map((c: Count) => ({ windowStart: c.windowStart, windowEnd: c.windowEnd, page: c.page, count: c.count }), { uid: 'click-statistics' })
      .sinkTo(sinks.kafka({
        brokers, topic: props.get('output-topic'), guarantee: 'exactly-once', key: 'page',
        transactionalIdPrefix: props.getOr('transactional-id-prefix', 'click-count'),
      }), { uid: 'counts-out' });
  },
});
