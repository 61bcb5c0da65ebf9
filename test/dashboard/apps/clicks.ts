/**
 * The dashboard test's main job: generated clicks (event time = now) through a map into 1 s
 * event-time windows per user, into the exactly-once file sink; checkpointed when the test sets
 * checkpoint.interval. Three vertices, each with records flowing: Source → Map → Window → Sink.
 */
import { defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, count, sum } from 'rlink';

interface Click { user: string; ts: number; ms: number }

export default defineApp({
  name: 'clicks-per-user',
  build(env, props) {
    env.fromSource(sources.generator({ ratePerSecond: props.getNumber('rate', 2000), generate: (i: number): Click => ({ user: `u${i % 20}`, ts: Date.now(), ms: i % 100 }) }),
      { parallelism: 1, uid: 'clicks', watermarks: WatermarkStrategy.forBoundedOutOfOrderness('200ms').withTimestampField('ts') })
      .map((c: Click) => ({ ...c, slow: c.ms > 80 }), { parallelism: 2, name: 'Enrich' })
      .keyBy('user')
      .window(TumblingEventTimeWindows.of('1s'))
      .aggregate({ clicks: count(), ms: sum('ms') }, { parallelism: 2, uid: 'clicks-per-user' })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
