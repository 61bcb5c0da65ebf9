/**
 * The store examples (examples/sinks/*.ts, examples/sources/redis-stream-counts.ts), run as a user
 * runs them — `rlink run <example> url=…` — against real servers, each result checked against the
 * page-view counts computed here with a plain loop over the same generated data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { ROOT, canonical, readJsonl, rlink, tempDir } from '../helpers/cli';
import { startMariadb, startPostgres, startRedis, storeTestGate, type StoreServer } from './servers';
import { mysqlQuery, pgQuery } from './tables';

const redisOk = storeTestGate('redis').ok;
const pgOk = storeTestGate('postgres').ok;
const mariaOk = storeTestGate('mariadb').ok;

const COUNT = 20_000;
const PAGES = ['/home', '/search', '/cart', '/checkout', '/help'];
const START = Date.UTC(2026, 0, 1);

/** Mirror of the examples' generator and windows: views per page and minute. */
function expectedViews(): Array<{ page: string; windowStart: number; windowEnd: number; views: number }> {
  const m = new Map<string, { page: string; windowStart: number; windowEnd: number; views: number }>();
  for (let i = 0; i < COUNT; i++) {
    const page = PAGES[(i * 7) % PAGES.length]!;
    const ts = START + i * 50 - ((i * 7919) % 2000);
    const ws = ts - (ts % 60_000);
    const k = `${page}|${ws}`;
    const a = m.get(k) ?? { page, windowStart: ws, windowEnd: ws + 60_000, views: 0 };
    a.views++;
    m.set(k, a);
  }
  return [...m.values()];
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function runExample(example: string, args: string[]): Promise<void> {
  const d = tempDir('rlink-store-example-');
  dirs.push(d);
  const r = await rlink(['run', join(ROOT, 'examples', example), `count=${COUNT}`, `checkpoint.dir=${join(d, 'cp')}`, ...args], { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`rlink run ${example} exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-4000)}`);
}

const num = (rows: Array<Record<string, unknown>>) => rows.map((r) => ({ page: r.page, windowStart: Number(r.windowStart ?? r.windowstart), windowEnd: Number(r.windowEnd ?? r.windowend), views: Number(r.views) }));

describe.skipIf(!redisOk)('examples with Redis', () => {
  let s: StoreServer;
  let r: Redis;
  beforeAll(async () => {
    s = await startRedis();
    r = new Redis(s.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    await r.connect();
  }, 60_000);
  afterAll(async () => { r?.disconnect(); await s?.stop(); });

  it('examples/sinks/redis-window-counts.ts: a key per page and minute, expiring; with command=hset a hash per minute', async () => {
    await runExample('sinks/redis-window-counts.ts', [`url=${s.url}`]);
    const keys = await r.keys('views:/*');
    const rows = (await r.mget(...keys)).map((v) => JSON.parse(v!) as Record<string, unknown>);
    expect(canonical(rows)).toEqual(canonical(expectedViews()));
    expect(await r.pttl(keys[0]!)).toBeGreaterThan(23 * 3_600_000);
    await r.del(...keys);
    await runExample('sinks/redis-window-counts.ts', [`url=${s.url}`, 'command=hset']);
    const hashes = await r.keys('views:*');
    const fromHashes = (await Promise.all(hashes.map((h) => r.hvals(h)))).flat().map((v) => JSON.parse(v) as Record<string, unknown>);
    expect(canonical(fromHashes)).toEqual(canonical(expectedViews()));
  }, 120_000);

  it('examples/sources/redis-stream-counts.ts: clicks per user and 10 s window from a stream', async () => {
    const p = r.pipeline();
    const clicks: Array<{ user: string; amount: number; ts: number }> = [];
    for (let i = 0; i < 500; i++) {
      const c = { user: ['ann', 'bob', 'cid'][i % 3]!, amount: i % 7, ts: START + i * 97 };
      clicks.push(c);
      p.xadd('clicks', `${c.ts}-0`, 'user', c.user, 'amount', String(c.amount));
    }
    await p.exec();
    const d = tempDir('rlink-store-example-');
    dirs.push(d);
    await runExample('sources/redis-stream-counts.ts', [`url=${s.url}`, `output=${join(d, 'out.jsonl')}`]);
    const m = new Map<string, { user: string; windowStart: number; windowEnd: number; clicks: number; amount: number }>();
    for (const c of clicks) {
      const ws = c.ts - (c.ts % 10_000);
      const a = m.get(`${c.user}|${ws}`) ?? { user: c.user, windowStart: ws, windowEnd: ws + 10_000, clicks: 0, amount: 0 };
      a.clicks++; a.amount += c.amount;
      m.set(`${c.user}|${ws}`, a);
    }
    expect(canonical(readJsonl(join(d, 'out.jsonl')))).toEqual(canonical([...m.values()]));
  }, 120_000);
});

describe.skipIf(!pgOk)('examples with PostgreSQL', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startPostgres(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('examples/sinks/postgres-window-counts.ts: upserts, and with transactional=true two-phase commit', async () => {
    for (const [table, extra] of [['page_views', []], ['page_views_2pc', ['transactional=true']]] as const) {
      await pgQuery(s, `CREATE TABLE ${table} (page text, windowStart bigint, windowEnd bigint, views bigint, PRIMARY KEY (page, windowStart))`);
      await runExample('sinks/postgres-window-counts.ts', [`url=${s.url}`, `table=${table}`, ...extra]);
      expect(canonical(num(await pgQuery(s, `SELECT * FROM ${table}`))), table).toEqual(canonical(expectedViews()));
    }
  }, 120_000);
});

describe.skipIf(!mariaOk)('examples with MariaDB', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startMariadb(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('examples/sinks/mysql-window-counts.ts: upserts', async () => {
    await mysqlQuery(s, 'CREATE TABLE page_views (page VARCHAR(64), windowStart BIGINT, windowEnd BIGINT, views BIGINT, PRIMARY KEY (page, windowStart))');
    await runExample('sinks/mysql-window-counts.ts', [`url=${s.url}`]);
    expect(canonical(num(await mysqlQuery(s, 'SELECT * FROM page_views')))).toEqual(canonical(expectedViews()));
  }, 120_000);
});
