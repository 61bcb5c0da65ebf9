/**
 * Reading the store jobs' results back, with clients of the tests' own (not the connectors): the
 * window rows of test/stores/apps/window-counts.ts as plain objects, from a PostgreSQL or MariaDB
 * table, Redis keys, or a Redis stream.
 */
import pg from 'pg';
import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import type { StoreServer } from './servers';
import type { WindowRow } from './apps/window-counts';

const FIELDS = ['key', 'windowStart', 'windowEnd', 'events', 'seqSum', 'lastSeq'] as const;

function row(o: Record<string, unknown>): WindowRow {
  const out: Record<string, number> = {};
  for (const f of FIELDS) out[f] = Number(o[f] ?? o[f.toLowerCase()]);
  return out as unknown as WindowRow;
}

export async function pgQuery<R = Record<string, unknown>>(s: StoreServer, sql: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: s.url });
  await c.connect();
  try { return (await c.query(sql)).rows as R[]; } finally { await c.end(); }
}

/** A window table (unquoted names: PostgreSQL folds them to lower case); with `primaryKey`, on (key, windowStart). */
export async function createPgTable(s: StoreServer, name: string, primaryKey: boolean): Promise<void> {
  await pgQuery(s, `CREATE TABLE ${name} (key int, windowStart bigint, windowEnd bigint, events bigint, seqSum bigint, lastSeq bigint${primaryKey ? ', PRIMARY KEY (key, windowStart)' : ''})`);
}

export async function readPgTable(s: StoreServer, name: string): Promise<WindowRow[]> {
  return (await pgQuery(s, `SELECT * FROM ${name}`)).map(row);
}

export async function mysqlQuery(s: StoreServer, sql: string): Promise<Array<Record<string, unknown>>> {
  const c = await createConnection({ uri: s.url });
  try { return (await c.query(sql))[0] as Array<Record<string, unknown>>; } finally { await c.end(); }
}

export async function createMysqlTable(s: StoreServer, name: string): Promise<void> {
  await mysqlQuery(s, `CREATE TABLE ${name} (\`key\` INT, windowStart BIGINT, windowEnd BIGINT, events BIGINT, seqSum BIGINT, lastSeq BIGINT, PRIMARY KEY (\`key\`, windowStart))`);
}

export async function readMysqlTable(s: StoreServer, name: string): Promise<WindowRow[]> {
  return (await mysqlQuery(s, `SELECT * FROM ${name}`)).map(row);
}

async function withRedis<R>(s: StoreServer, fn: (r: Redis) => Promise<R>): Promise<R> {
  const r = new Redis(s.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  await r.connect();
  try { return await fn(r); } finally { r.disconnect(); }
}

/** The values (JSON) of every key `<prefix>:*`, with the keys checked against the rows. */
export async function readRedisKeys(s: StoreServer, prefix: string): Promise<WindowRow[]> {
  return withRedis(s, async (r) => {
    const keys: string[] = [];
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
      if (cursor === '0') break;
    }
    const values = keys.length === 0 ? [] : await r.mget(...keys);
    return values.map((v, i) => {
      const o = row(JSON.parse(v!) as Record<string, unknown>);
      if (keys[i] !== `${prefix}:${o.key}:${o.windowStart}`) throw new Error(`key ${keys[i]} holds the row of ${o.key}:${o.windowStart}`);
      return o;
    });
  });
}

/** Every entry of the stream `key` (fields as written by xadd). */
export async function readRedisStream(s: StoreServer, key: string): Promise<WindowRow[]> {
  return withRedis(s, async (r) => {
    const entries = await r.xrange(key, '-', '+');
    return entries.map(([, f]) => {
      const o: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) o[f[i]!] = f[i + 1]!;
      return row(o);
    });
  });
}

/** Rows as sorted JSON texts: compare results as multisets. */
export function canonicalRows(rows: WindowRow[]): string[] {
  return rows.map((r) => JSON.stringify(FIELDS.map((f) => r[f]))).sort();
}
