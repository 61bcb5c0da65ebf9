/**
 * A SQL job that runs for a few seconds (paced generator), for failover tests: a HOP window aggregate
 * with WHERE, COUNT(DISTINCT) and HAVING into one file sink, and a regular GROUP BY (an update stream)
 * into another. `expectedWindows` and `expectedTotals` are the brute-force answers.
 */
import { defineApp, sources, sinks } from 'rlink';

export interface Event { user: string; page: string; v: number | null; ts: number }

export function event(i: number): Event {
  return { user: `u${i % 17}`, page: `/p${(i * 7) % 5}`, v: i % 11 === 0 ? null : (i * 31) % 100, ts: i * 10 };
}

export const WINDOWS_SQL = `
  SELECT page, HOP_START(ts, INTERVAL '2' SECOND, INTERVAL '6' SECOND) AS ws, HOP_END(ts, INTERVAL '2' SECOND, INTERVAL '6' SECOND) AS we,
         COUNT(*) AS n, COUNT(DISTINCT user) AS users, SUM(v) AS s, MAX(v) AS hi
  FROM clicks
  WHERE page <> '/p4'
  GROUP BY HOP(ts, INTERVAL '2' SECOND, INTERVAL '6' SECOND), page
  HAVING COUNT(*) > 1`;

export const TOTALS_SQL = 'SELECT user, COUNT(*) AS n, SUM(v) AS s FROM clicks GROUP BY user';

export default defineApp({
  name: 'sql-paced',
  build(env, props) {
    const p = props.getNumber('parallelism', 2);
    const clicks = env.fromSource(sources.generator({
      count: props.getNumber('count', 60_000), ratePerSecond: props.getNumber('rate', 15_000), generate: event,
      schema: { user: 'string', page: 'string', v: 'bigint', ts: 'timestamp', watermark: { field: 'ts', delay: 0 } },
    }), { parallelism: p, uid: 'clicks' });
    env.createTemporaryView('clicks', clicks);
    env.createTemporarySinkTable('windows', sinks.file({ path: `${props.get('output')}/windows` }));
    env.createTemporarySinkTable('totals', sinks.file({ path: `${props.get('output')}/totals` }));
    env.executeSql(`INSERT INTO windows ${WINDOWS_SQL}`, { parallelism: p, uid: 'windows' });
    env.executeSql(`INSERT INTO totals ${TOTALS_SQL}`, { parallelism: p, uid: 'totals' });
  },
});

/** The window rows for `count` events. */
export function expectedWindows(count: number): Array<Record<string, unknown>> {
  const m = new Map<string, { page: string; ws: number; we: number; rows: Event[] }>();
  for (let i = 0; i < count; i++) {
    const e = event(i);
    if (e.page === '/p4') continue;
    for (let ws = e.ts - (e.ts % 2000); ws > e.ts - 6000; ws -= 2000) {
      const k = `${e.page}@${ws}`;
      const w = m.get(k) ?? { page: e.page, ws, we: ws + 6000, rows: [] };
      w.rows.push(e);
      m.set(k, w);
    }
  }
  return [...m.values()].filter((w) => w.rows.length > 1).map((w) => {
    const vs = w.rows.map((r) => r.v).filter((v): v is number => v !== null);
    return {
      page: w.page, ws: w.ws, we: w.we, n: w.rows.length, users: new Set(w.rows.map((r) => r.user)).size,
      s: vs.length ? vs.reduce((a, b) => a + b, 0) : null, hi: vs.length ? Math.max(...vs) : null,
    };
  });
}

/** The final row per user of the update stream. */
export function expectedTotals(count: number): Map<string, { user: string; n: number; s: number | null }> {
  const m = new Map<string, { user: string; n: number; s: number | null }>();
  for (let i = 0; i < count; i++) {
    const e = event(i);
    const t = m.get(e.user) ?? { user: e.user, n: 0, s: null };
    t.n++;
    if (e.v !== null) t.s = (t.s ?? 0) + e.v;
    m.set(e.user, t);
  }
  return m;
}
