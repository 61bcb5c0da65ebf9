/**
 * An updating stream into the store sinks: SQL's regular GROUP BY (no window) emits every page's
 * running count as it changes (op +I, -U, +U), and HAVING takes a page out of the result (-D) once
 * it has more than `limit` clicks. The sink named by `sink` applies the changes by key:
 *
 *   postgres  sinks.postgres, upsertKey page      mysql  sinks.mysql, upsertKey page
 *   redis     sinks.redis set, key <prefix>:{page}
 *   postgres-append  sinks.postgres without a key: SQL refuses to plan it (an append-only sink)
 *
 * Props: count, limit, sink, url, table or prefix.
 */
import { defineApp, sources, sinks, type Sink } from 'rlink';

export const PAGES = 23;

/** Click i: page ⌊√i⌋ mod 23, so pages get runs of clicks and different totals (56 … 143 of 2300). */
export function click(i: number): { page: string; amount: number } {
  return { page: `p${Math.floor(Math.sqrt(i)) % PAGES}`, amount: i % 10 };
}

function storeSink(props: { get(k: string): string }): Sink<unknown> {
  const url = props.get('url');
  switch (props.get('sink')) {
    case 'postgres': return sinks.postgres({ connection: url, table: props.get('table'), upsertKey: 'page', batchSize: 50 });
    case 'postgres-append': return sinks.postgres({ connection: url, table: props.get('table'), batchSize: 50 });
    case 'mysql': return sinks.mysql({ connection: url, table: props.get('table'), upsertKey: 'page', batchSize: 50 });
    case 'redis': return sinks.redis({ url, command: 'set', key: `${props.get('prefix')}:{page}`, batchSize: 50 });
    default: throw new Error(`unknown sink ${props.get('sink')}`);
  }
}

export default defineApp({
  name: 'page-clicks-sql',
  build(env, props) {
    const clicks = env.fromSource(sources.generator({ count: props.getNumber('count'), generate: click }), { parallelism: 1 });
    env.createTemporaryView('clicks', clicks, { page: 'string', amount: 'bigint' });
    env.sqlQuery(`SELECT page, COUNT(*) AS clicks, SUM(amount) AS total FROM clicks GROUP BY page HAVING COUNT(*) <= ${props.getNumber('limit')}`)
      .sinkTo(storeSink(props), { uid: 'pages-out' });
  },
});

/** The final result: every page with at most `limit` clicks, with its count and total. */
export function finalPages(count: number, limit: number): Array<{ page: string; clicks: number; total: number }> {
  const m = new Map<string, { page: string; clicks: number; total: number }>();
  for (let i = 0; i < count; i++) {
    const c = click(i);
    const a = m.get(c.page) ?? { page: c.page, clicks: 0, total: 0 };
    a.clicks++; a.total += c.amount;
    m.set(c.page, a);
  }
  return [...m.values()].filter((p) => p.clicks <= limit);
}
