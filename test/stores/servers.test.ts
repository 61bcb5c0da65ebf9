/**
 * The store test servers themselves: each starts on loopback with its own data directory, takes the
 * password (and refuses a wrong one), keeps its data across restart(), and leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createConnection } from 'mysql2/promise';
import { PASSWORD, startMariadb, startPostgres, startRedis, storeTestGate } from './servers';

const redisOk = storeTestGate('redis').ok;
const pgOk = storeTestGate('postgres').ok;
const mariaOk = storeTestGate('mariadb').ok;

describe.skipIf(!redisOk)('test Redis server', () => {
  it('starts on loopback with a password, keeps its data across a restart, and is removed by stop()', async () => {
    const s = await startRedis();
    try {
      expect(s.url).toMatch(/^redis:\/\/:[^@]+@127\.0\.0\.1:\d+$/);
      const c = new Redis(s.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      await c.connect();
      await c.set('k', 'v');
      c.disconnect();
      const bad = new Redis(`redis://:wrong@127.0.0.1:${s.port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      const errors: string[] = [];
      bad.on('error', (e: Error) => errors.push(e.message));
      await expect(bad.connect()).rejects.toThrow();
      expect(errors.join('\n')).toMatch(/WRONGPASS|invalid password|NOAUTH/);
      bad.disconnect();
      const pid = s.pid;
      await s.restart(100);
      expect(s.pid).not.toBe(pid);
      const c2 = new Redis(s.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c2.on('error', () => undefined);
      await c2.connect();
      expect(await c2.get('k')).toBe('v');
      c2.disconnect();
    } finally {
      await s.stop();
    }
    expect(existsSync(s.dir)).toBe(false);
  });
});

describe.skipIf(!pgOk)('test PostgreSQL server', () => {
  it('starts with password authentication over TCP and prepared transactions enabled; prepared ones survive a restart', async () => {
    const s = await startPostgres();
    try {
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      expect((await c.query('SHOW max_prepared_transactions')).rows[0].max_prepared_transactions).not.toBe('0');
      await c.query('CREATE TABLE t (k int primary key)');
      await c.query('BEGIN');
      await c.query('INSERT INTO t VALUES (1)');
      await c.query("PREPARE TRANSACTION 'servers-test'");
      await c.end();
      const bad = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'rlink', password: 'wrong', database: 'rlink' });
      await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
      await s.restart(100);
      const c2 = new pg.Client({ connectionString: s.url });
      await c2.connect();
      expect((await c2.query('SELECT gid FROM pg_prepared_xacts')).rows.map((r) => r.gid)).toEqual(['servers-test']);
      await c2.query("COMMIT PREPARED 'servers-test'");
      expect((await c2.query('SELECT k FROM t')).rows).toEqual([{ k: 1 }]);
      await c2.end();
      expect(PASSWORD.length).toBeGreaterThan(0);
    } finally {
      await s.stop();
    }
    expect(existsSync(s.dir)).toBe(false);
  });
});

describe.skipIf(!mariaOk)('test MariaDB server', () => {
  it('starts with a user, a password and a database; keeps committed rows across a restart', async () => {
    const s = await startMariadb();
    try {
      const c = await createConnection({ uri: s.url });
      await c.query('CREATE TABLE t (k INT PRIMARY KEY)');
      await c.query('INSERT INTO t VALUES (1)');
      await c.end();
      await expect(createConnection({ host: '127.0.0.1', port: s.port, user: 'rlink', password: 'wrong', database: 'rlink' })).rejects.toThrow(/Access denied/);
      await s.restart(100);
      const c2 = await createConnection({ uri: s.url });
      const [rows] = await c2.query('SELECT k FROM t');
      expect(rows).toEqual([{ k: 1 }]);
      await c2.end();
    } finally {
      await s.stop();
    }
    expect(existsSync(s.dir)).toBe(false);
  });
});
