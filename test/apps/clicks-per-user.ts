/**
 * Test app: clicks per user in 10 s tumbling event-time windows, read from a JSON-lines file.
 *
 *   rlink run test/apps/clicks-per-user.ts input=clicks.jsonl output=out.jsonl
 *
 * Records: { user: string, ts: epoch ms, amount: number }. Used by test/cli/bad-input.test.ts for
 * unparsable lines, records without a timestamp and a missing required property (`input`).
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sum, sources, sinks } from 'rlink';

export default defineApp({
  name: 'clicks-per-user',
  build(env, props) {
    env.fromSource(sources.file({ path: props.get('input'), format: 'jsonl' }), {
      parallelism: 1,
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('ts'),
    })
      .keyBy('user')
      .window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ clicks: count(), total: sum('amount') })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
