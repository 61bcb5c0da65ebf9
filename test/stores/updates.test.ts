/**
 * Updating streams into the store sinks, end to end through `rlink run`: SQL's regular GROUP BY with
 * HAVING (apps/page-clicks-sql.ts) emits +I, -U, +U and -D records (the row kind in `op`); the sinks
 * with an upsert key apply them, so the table (or the Redis keys) ends up as the query's final result
 * — deleted pages gone, no `op` column — and SQL refuses to plan the updating query into a sink that
 * can only append.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { canonical, rlink } from '../helpers/cli';
import { startMariadb, startPostgres, startRedis, storeTestGate, type StoreServer } from './servers';
import { mysqlQuery, pgQuery } from './tables';
import { finalPages } from './apps/page-clicks-sql';

const APP = join(import.meta.dirname, 'apps', 'page-clicks-sql.ts');
const COUNT = 2300;
const LIMIT = 100;
const expected = finalPages(COUNT, LIMIT);

async function runApp(args: string[]) {
  return rlink(['run', APP, `count=${COUNT}`, `limit=${LIMIT}`, ...args], { timeoutMs: 120_000 });
}

function expectFinished(r: { exitCode: number; stdout: string; stderr: string }): void {
  if (r.exitCode !== 0) throw new Error(`rlink run exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-4000)}`);
}

const num = (rows: Array<Record<string, unknown>>) => rows.map((r) => ({ page: r.page, clicks: Number(r.clicks), total: Number(r.total) }));

it('the query deletes some pages and keeps others (the test means something)', () => {
  expect(expected.length).toBeGreaterThan(5);
  expect(expected.length).toBeLessThan(23);
});

describe.skipIf(!storeTestGate('postgres').ok)('updating stream into PostgreSQL', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startPostgres(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('with upsertKey: the table is the final result (updates applied, -D deleted, no op column)', async () => {
    await pgQuery(s, 'CREATE TABLE pages (page text PRIMARY KEY, clicks bigint, total bigint)');
    expectFinished(await runApp(['sink=postgres', `url=${s.url}`, 'table=pages']));
    expect(canonical(num(await pgQuery(s, 'SELECT * FROM pages')))).toEqual(canonical(expected));
  }, 120_000);

  it('without upsertKey: SQL refuses to plan the updating query into the append-only sink', async () => {
    const r = await runApp(['sink=postgres-append', `url=${s.url}`, 'table=pages']);
    expect(r.exitCode).not.toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('rlink run:'));
    expect(lines).toEqual([
      "rlink run: app 'page-clicks-sql' failed to build: SQL: the query makes an update stream (a GROUP BY without a window: records with op +I, -U, +U, -D) and the postgres sink takes inserts only (acceptsUpdates: false): add a window, or write to a sink that applies updates",
    ]);
  }, 120_000);
});

describe.skipIf(!storeTestGate('mariadb').ok)('updating stream into MariaDB', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startMariadb(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('with upsertKey: the table is the final result', async () => {
    await mysqlQuery(s, 'CREATE TABLE pages (page VARCHAR(10) PRIMARY KEY, clicks BIGINT, total BIGINT)');
    expectFinished(await runApp(['sink=mysql', `url=${s.url}`, 'table=pages']));
    expect(canonical(num(await mysqlQuery(s, 'SELECT * FROM pages')))).toEqual(canonical(expected));
  }, 120_000);
});

describe.skipIf(!storeTestGate('redis').ok)('updating stream into Redis', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startRedis(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('set by key: the keys are the final result (-D deleted the key)', async () => {
    expectFinished(await runApp(['sink=redis', `url=${s.url}`, 'prefix=page']));
    const r = new Redis(s.url);
    r.on('error', () => undefined);
    try {
      const keys = await r.keys('page:*');
      const rows = (await r.mget(...keys)).map((v) => JSON.parse(v!) as Record<string, unknown>);
      expect(rows.every((x) => !('op' in x))).toBe(true);
      expect(keys.sort()).toEqual(expected.map((p) => `page:${p.page}`).sort());
      expect(canonical(num(rows))).toEqual(canonical(expected));
    } finally {
      r.disconnect();
    }
  }, 120_000);
});
