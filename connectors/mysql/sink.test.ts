/**
 * sinks.mysql against a real MariaDB server (test/stores/servers.ts): upserts, inserts, the
 * updating-stream row kinds, retries across a killed connection and a server restart, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type Connection } from 'mysql2/promise';
import type { SinkWriter } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { testContext } from '../testing/context';
import { startMariadb, storeTestGate, type StoreServer } from '../../test/stores/servers';
import { mysqlSink, type MySqlSinkOptions } from './sink';

const gate = storeTestGate('mariadb');

describe.skipIf(!gate.ok)('sinks.mysql (real MariaDB server)', () => {
  let server: StoreServer;
  let db: Connection;
  let n = 0;
  const table = async (ddl: string) => {
    const name = `t${++n}`;
    await db.query(`CREATE TABLE ${name} ${ddl}`);
    return name;
  };
  const rows = async (name: string, order: string) => (await db.query(`SELECT * FROM ${name} ORDER BY ${order}`))[0] as Array<Record<string, unknown>>;
  const writer = (o: Partial<MySqlSinkOptions> & { table: string }) =>
    mysqlSink({ connection: server.url, retryTimeout: '20s', ...o }).createWriter(testContext()) as SinkWriter<Record<string, unknown>>;
  const connect = async () => { db = await createConnection({ uri: server.url, dateStrings: true, timezone: 'Z' }); };

  beforeAll(async () => { server = await startMariadb(); await connect(); }, 60_000);
  afterAll(async () => { await db?.end().catch(() => undefined); await server?.stop(); });

  it('upserts by upsertKey: a replay overwrites instead of duplicating; epoch ms go into a DATETIME column', async () => {
    const t = await table('(user VARCHAR(20), windowStart BIGINT, n BIGINT, at DATETIME(3), PRIMARY KEY (user, windowStart))');
    const recs = [{ user: 'a', windowStart: 0, n: 1, at: 0 }, { user: 'b', windowStart: 0, n: 2, at: 1500 }, { user: 'a', windowStart: 10, n: 3, at: 2000 }];
    for (let run = 0; run < 2; run++) {
      const w = writer({ table: t, upsertKey: ['user', 'windowStart'] });
      await w.open();
      await w.write(run === 0 ? recs : recs.map((r) => ({ ...r })), []);
      await w.prepareCommit(1);
      await w.close();
    }
    expect(await rows(t, 'user, windowStart')).toEqual([
      { user: 'a', windowStart: 0, n: 1, at: '1970-01-01 00:00:00.000' },
      { user: 'a', windowStart: 10, n: 3, at: '1970-01-01 00:00:02.000' },
      { user: 'b', windowStart: 0, n: 2, at: '1970-01-01 00:00:01.500' },
    ]);
  });

  it('an updating stream: +I/+U upsert, -U is skipped, -D deletes, op is not written', async () => {
    const t = await table('(page VARCHAR(20) PRIMARY KEY, clicks BIGINT)');
    const w = writer({ table: t, upsertKey: 'page', batchSize: 2 });
    await w.open();
    await w.write([
      { op: '+I', page: '/a', clicks: 1 }, { op: '+I', page: '/b', clicks: 1 },
      { op: '-U', page: '/a', clicks: 1 }, { op: '+U', page: '/a', clicks: 2 },
      { op: '-D', page: '/b', clicks: 1 }, { op: '+I', page: '/c', clicks: 7 },
    ], []);
    await w.prepareCommit(1);
    await w.close();
    expect(await rows(t, 'page')).toEqual([{ page: '/a', clicks: 2 }, { page: '/c', clicks: 7 }]);
  });

  it('without upsertKey: inserts, objects as JSON text', async () => {
    const t = await table('(k INT, tags TEXT)');
    const w = writer({ table: t });
    await w.open();
    await w.write([{ k: 1, tags: ['x', 'y'] }, { k: 2, tags: { a: 1 } }], []);
    await w.prepareCommit(1);
    await w.close();
    expect(await rows(t, 'k')).toEqual([{ k: 1, tags: '["x","y"]' }, { k: 2, tags: '{"a":1}' }]);
  });

  it('retries across a killed connection and a server restart: every row arrives once', async () => {
    const t = await table('(k INT PRIMARY KEY, v INT)');
    const w = writer({ table: t, upsertKey: 'k', batchSize: 50 });
    await w.open();
    await w.write(Array.from({ length: 100 }, (_, k) => ({ k, v: k })), []);
    await w.prepareCommit(1);
    const [procs] = await db.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = 'rlink' AND ID <> CONNECTION_ID()") as [Array<{ id: number }>, unknown];
    expect(procs.length).toBe(1);
    await db.query(`KILL ${procs[0]!.id}`);
    await w.write(Array.from({ length: 100 }, (_, i) => ({ k: 100 + i, v: i })), []);
    await w.prepareCommit(2);
    await db.end();
    await server.restart(1_500);
    await connect();
    await w.write(Array.from({ length: 100 }, (_, i) => ({ k: 200 + i, v: i })), []);
    await w.prepareCommit(3);
    await w.close();
    expect((await rows(t, 'k')).map((r) => r.k)).toEqual(Array.from({ length: 300 }, (_, k) => k));
  }, 60_000);

  describe('errors name the host and the cause', () => {
    it('nothing listening: RLINK_NETWORK after the retries, within the bound', async () => {
      const w = mysqlSink({ connection: 'mysql://rlink:x@127.0.0.1:1/rlink', table: 't', retryTimeout: '1s' }).createWriter(testContext());
      const err = await Promise.resolve(w.open()).then(() => undefined, (e: unknown) => e) as RlinkError;
      expect(err.code).toBe('RLINK_NETWORK');
      expect(err.context.host).toBe('127.0.0.1:1');
      expect(err.message).toMatch(/^mysql sink: cannot reach 127\.0\.0\.1:1 \(rlink@127\.0\.0\.1:1\/rlink\) within 1(\.\d)? s, retried with back-off: .*ECONNREFUSED/);
    });

    it('a wrong password fails at once, naming the host and the server\'s reason', async () => {
      const w = mysqlSink({ connection: `mysql://rlink:wrong@127.0.0.1:${server.port}/rlink`, table: 't' }).createWriter(testContext());
      const t0 = Date.now();
      await expect(Promise.resolve(w.open())).rejects.toThrow(new RegExp(`^mysql sink: cannot connect to 127\\.0\\.0\\.1:${server.port} \\(rlink@127\\.0\\.0\\.1:${server.port}/rlink\\): ER_ACCESS_DENIED_ERROR: Access denied for user 'rlink'`));
      expect(Date.now() - t0).toBeLessThan(3_000);
    });

    it('a missing table; an upsertKey that is not unique', async () => {
      await expect(Promise.resolve(writer({ table: 'nope' }).open())).rejects.toThrow(`mysql sink: table nope does not exist in rlink@127.0.0.1:${server.port}/rlink`);
      const t = await table('(k INT, v INT)');
      await expect(Promise.resolve(writer({ table: t, upsertKey: 'k' }).open())).rejects.toThrow(`mysql sink: upsertKey (k) is not the primary key or a unique index of table ${t} (unique keys: none)`);
    });
  });
});
