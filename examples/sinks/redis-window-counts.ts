/**
 * Page views per page and minute, into Redis: one key per result, `views:<page>:<window start>`,
 * holding the window's row as JSON and expiring after a day. `SET` overwrites, so a replay after a
 * failure writes the same values again: exactly-once in effect.
 *
 *   redis-server --port 6379 &
 *   npx rlink run examples/sinks/redis-window-counts.ts url=redis://127.0.0.1:6379
 *   redis-cli --scan --pattern 'views:*' | head; redis-cli get views:/home:1767225600000
 *
 * Props: url (required), count (page views generated, default 100 000), command=hset to write one
 * hash per minute instead (`views:<window start>`, a field per page).
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sources, sinks } from 'rlink';

const PAGES = ['/home', '/search', '/cart', '/checkout', '/help'];
const START = Date.UTC(2026, 0, 1);

export default defineApp({
  name: 'redis-window-counts',
  prepareProperties(props) {
    if (!props.has('checkpoint.interval')) props.set('checkpoint.interval', '5s');
  },
  build(env, props) {
    const views = env.fromSource(sources.generator({
      count: props.getNumber('count', 100_000),
      // 20 views per second of event time, up to 2 s out of order.
      generate: (i) => ({ page: PAGES[(i * 7) % PAGES.length]!, user: `u${i % 97}`, ts: START + i * 50 - ((i * 7919) % 2000) }),
    }), { parallelism: 1, watermarks: WatermarkStrategy.forBoundedOutOfOrderness('2s').withTimestampField('ts') });

    const perMinute = views.keyBy('page').window(TumblingEventTimeWindows.of('1m')).aggregate({ views: count() }, { uid: 'views-per-minute' });

    perMinute.sinkTo(props.getOr('command', 'set') === 'hset'
      ? sinks.redis({ url: props.get('url'), command: 'hset', key: 'views:{windowStart}', field: '{page}', ttl: '1d' })
      : sinks.redis({ url: props.get('url'), command: 'set', key: 'views:{page}:{windowStart}', ttl: '1d' }), { uid: 'views-out' });
  },
});
