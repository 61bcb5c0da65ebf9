/**
 * Page views per page and minute, into a MySQL or MariaDB table, upserted by (page, windowStart)
 * (`INSERT … ON DUPLICATE KEY UPDATE`): a replay after a failure overwrites, so each result is there once.
 *
 *   mysql -e 'CREATE TABLE db.page_views (page VARCHAR(64), windowStart BIGINT, windowEnd BIGINT, views BIGINT,
 *             PRIMARY KEY (page, windowStart))'
 *   npx rlink run examples/sinks/mysql-window-counts.ts url=mysql://user:password@127.0.0.1:3306/db
 *
 * Props: url (required), table (default page_views), count (default 100 000).
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sources, sinks } from 'rlink';

const PAGES = ['/home', '/search', '/cart', '/checkout', '/help'];
const START = Date.UTC(2026, 0, 1);

export default defineApp({
  name: 'mysql-window-counts',
  prepareProperties(props) {
    if (!props.has('checkpoint.interval')) props.set('checkpoint.interval', '5s');
  },
  build(env, props) {
    const views = env.fromSource(sources.generator({
      count: props.getNumber('count', 100_000),
      generate: (i) => ({ page: PAGES[(i * 7) % PAGES.length]!, user: `u${i % 97}`, ts: START + i * 50 - ((i * 7919) % 2000) }),
    }), { parallelism: 1, watermarks: WatermarkStrategy.forBoundedOutOfOrderness('2s').withTimestampField('ts') });

    views.keyBy('page').window(TumblingEventTimeWindows.of('1m')).aggregate({ views: count() }, { uid: 'views-per-minute' })
      .sinkTo(sinks.mysql({ connection: props.get('url'), table: props.getOr('table', 'page_views'), upsertKey: ['page', 'windowStart'] }), { uid: 'views-out' });
  },
});
