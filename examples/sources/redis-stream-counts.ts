/**
 * Clicks from a Redis stream, counted per user and 10 s window. Each stream entry is one click with
 * the fields user and amount; the entry id's milliseconds are the event time. `bounded: 'latest'` reads
 * the stream up to its last entry at the start, so the job finishes; the source's position lives in
 * the checkpoints, so a restored job goes on after the last entry it had read.
 *
 *   redis-cli xadd clicks '*' user ann amount 3; redis-cli xadd clicks '*' user bob amount 5
 *   npx rlink run examples/sources/redis-stream-counts.ts url=redis://127.0.0.1:6379        # prints the counts
 *   npx rlink run examples/sources/redis-stream-counts.ts url=… output=out/clicks.jsonl
 *
 * Props: url (required), stream (default clicks), follow=true to keep reading new entries (unbounded).
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sum, sources, sinks } from 'rlink';

export default defineApp({
  name: 'redis-stream-counts',
  build(env, props) {
    const follow = props.getOr('follow', 'false') === 'true';
    const clicks = env.fromSource(sources.redisStream<{ user?: string; amount?: string }>({ url: props.get('url'), stream: props.getOr('stream', 'clicks'), ...(follow ? {} : { bounded: 'latest' as const }) }), {
      uid: 'clicks', watermarks: WatermarkStrategy.forBoundedOutOfOrderness('1s'),
    });
    clicks
      .map((c) => ({ user: c.user ?? '?', amount: Number(c.amount ?? 0) }))
      .keyBy('user')
      .window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ clicks: count(), amount: sum('amount') }, { uid: 'clicks-per-user' })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print(), { uid: 'out' });
  },
});
