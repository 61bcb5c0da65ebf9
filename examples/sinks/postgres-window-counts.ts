/**
 * Page views per page and minute, into a PostgreSQL table, upserted by (page, windowStart): a replay
 * after a failure overwrites the rows it wrote before, so the table holds each result once. With
 * `transactional=true` the rows of each checkpoint are written in a prepared transaction committed when
 * the checkpoint completes (two-phase commit; the server needs max_prepared_transactions > 0).
 *
 *   psql "$URL" -c 'CREATE TABLE page_views (page text, windowStart bigint, windowEnd bigint, views bigint,
 *                   PRIMARY KEY (page, windowStart))'
 *   npx rlink run examples/sinks/postgres-window-counts.ts url=postgres://user:password@127.0.0.1:5432/db
 *   psql "$URL" -c 'SELECT * FROM page_views ORDER BY windowstart, page LIMIT 10'
 *
 * Props: url (required), table (default page_views), count (default 100 000), transactional=true.
 * Unquoted column names are folded to lower case by PostgreSQL: the field windowStart goes into the
 * column windowstart.
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sources, sinks } from 'rlink';

const PAGES = ['/home', '/search', '/cart', '/checkout', '/help'];
const START = Date.UTC(2026, 0, 1);

export default defineApp({
  name: 'postgres-window-counts',
  prepareProperties(props) {
    if (!props.has('checkpoint.interval')) props.set('checkpoint.interval', '5s');
  },
  build(env, props) {
    const views = env.fromSource(sources.generator({
      count: props.getNumber('count', 100_000),
      generate: (i) => ({ page: PAGES[(i * 7) % PAGES.length]!, user: `u${i % 97}`, ts: START + i * 50 - ((i * 7919) % 2000) }),
    }), { parallelism: 1, watermarks: WatermarkStrategy.forBoundedOutOfOrderness('2s').withTimestampField('ts') });

    views.keyBy('page').window(TumblingEventTimeWindows.of('1m')).aggregate({ views: count() }, { uid: 'views-per-minute' })
      .sinkTo(sinks.postgres({
        connection: props.get('url'),
        table: props.getOr('table', 'page_views'),
        upsertKey: ['page', 'windowStart'],
        transactional: props.getOr('transactional', 'false') === 'true',
      }), { uid: 'views-out' });
  },
});
