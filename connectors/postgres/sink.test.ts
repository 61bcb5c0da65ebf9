/**
 * sinks.postgres against a real PostgreSQL server (test/stores/servers.ts): upserts, inserts, the
 * updating-stream row kinds, batching by size and time, retries across a lost connection and a server
 * restart, two-phase commit step by step (prepared, invisible, committed, restored), and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { SinkWriter } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { testContext } from '../testing/context';
import { startPostgres, storeTestGate, type StoreServer } from '../../test/stores/servers';
import { postgresSink, type PostgresCommittable, type PostgresSinkOptions } from './sink';

const gate = storeTestGate('postgres');

describe.skipIf(!gate.ok)('sinks.postgres (real server)', () => {
  let server: StoreServer;
  let db: pg.Client;
  let n = 0;
  const table = async (ddl = '(user_id text, "windowStart" bigint, n bigint, at timestamptz, PRIMARY KEY (user_id, "windowStart"))') => {
    const name = `t${++n}`;
    await db.query(`CREATE TABLE ${name} ${ddl}`);
    return name;
  };
  const rows = async (name: string, order = 'user_id, "windowStart"') => (await db.query(`SELECT * FROM ${name} ORDER BY ${order}`)).rows;
  const writer = (o: Partial<PostgresSinkOptions> & { table: string }, ctx = {}) =>
    postgresSink({ connection: server.url, retryTimeout: '20s', ...o }).createWriter(testContext(ctx)) as SinkWriter<Record<string, unknown>>;

  beforeAll(async () => {
    server = await startPostgres();
    db = new pg.Client({ connectionString: server.url });
    await db.connect();
  }, 60_000);
  afterAll(async () => { await db?.end().catch(() => undefined); await server?.stop(); });

  it('upserts by upsertKey: a replay overwrites instead of duplicating; epoch ms go into a timestamptz column', async () => {
    const t = await table();
    const recs = [{ user_id: 'a', windowStart: 0, n: 1, at: 0 }, { user_id: 'b', windowStart: 0, n: 2, at: 1000 }, { user_id: 'a', windowStart: 10, n: 3, at: 2000 }];
    for (let run = 0; run < 2; run++) { // the second run is a replay after a restore
      const w = writer({ table: t, upsertKey: ['user_id', 'windowStart'] });
      await w.open();
      await w.write(recs, []);
      expect(await w.prepareCommit(1)).toBeNull();
      await w.close();
    }
    const got = await rows(t);
    expect(got.map((r) => [r.user_id, Number(r.windowStart), Number(r.n), (r.at as Date).getTime()])).toEqual([['a', 0, 1, 0], ['a', 10, 3, 2000], ['b', 0, 2, 1000]]);
  });

  it('an updating stream: +I/+U upsert, -U is skipped, -D deletes, op is not written', async () => {
    const t = await table('(page text PRIMARY KEY, clicks bigint)');
    const w = writer({ table: t, upsertKey: 'page', batchSize: 2 });
    await w.open();
    await w.write([
      { op: '+I', page: '/a', clicks: 1 }, { op: '+I', page: '/b', clicks: 1 },
      { op: '-U', page: '/a', clicks: 1 }, { op: '+U', page: '/a', clicks: 2 },
      { op: '-D', page: '/b', clicks: 1 }, { op: '+I', page: '/c', clicks: 7 },
    ], []);
    await w.prepareCommit(1);
    await w.close();
    expect(await rows(t, 'page')).toEqual([{ page: '/a', clicks: '2' }, { page: '/c', clicks: '7' }]);
  });

  it('without upsertKey: inserts (at-least-once); an updating stream is refused with a hint', async () => {
    const t = await table('(user_id text, n int)');
    const w = writer({ table: t });
    await w.open();
    await w.write([{ user_id: 'a', n: 1 }, { op: '+I', user_id: 'b', n: 2 }], []);
    await w.prepareCommit(1);
    await expect(Promise.resolve().then(() => w.write([{ op: '-D', user_id: 'a', n: 1 }], [])).then(() => w.prepareCommit(2)))
      .rejects.toThrow(/op '-D' \(an updating stream\) cannot be appended to table t\d+: set upsertKey/);
    await w.close();
    expect(await rows(t, 'user_id')).toEqual([{ user_id: 'a', n: 1 }, { user_id: 'b', n: 2 }]);
  });

  it('batches by size and by time', async () => {
    const t = await table('(k int PRIMARY KEY)');
    const w = writer({ table: t, upsertKey: 'k', batchSize: 10, flushInterval: '150ms' });
    await w.open();
    await w.write(Array.from({ length: 25 }, (_, k) => ({ k })), []);
    const count = async () => Number((await db.query(`SELECT count(*) AS c FROM ${t}`)).rows[0].c);
    await new Promise((r) => setTimeout(r, 60));
    expect(await count()).toBe(20); // two full batches at once, the partial one waits
    await new Promise((r) => setTimeout(r, 400));
    expect(await count()).toBe(25); // … for flushInterval
    await w.close();
  });

  it('retries across a lost connection and a server restart: every row arrives once', async () => {
    const t = await table('(k int PRIMARY KEY, v int)');
    const w = writer({ table: t, upsertKey: 'k', batchSize: 50 });
    await w.open();
    await w.write(Array.from({ length: 100 }, (_, k) => ({ k, v: k })), []);
    await w.prepareCommit(1);
    expect((await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rlink'")).rowCount).toBe(1);
    await w.write(Array.from({ length: 100 }, (_, i) => ({ k: 100 + i, v: i })), []);
    await w.prepareCommit(2);
    await db.end();
    await server.restart(1_500);
    db = new pg.Client({ connectionString: server.url });
    await db.connect();
    await w.write(Array.from({ length: 100 }, (_, i) => ({ k: 200 + i, v: i })), []);
    await w.prepareCommit(3);
    await w.close();
    const got = await rows(t, 'k');
    expect(got.map((r) => r.k)).toEqual(Array.from({ length: 300 }, (_, k) => k));
  }, 60_000);

  describe('transactional (two-phase commit)', () => {
    const ctx = { jobId: 'job1', operatorId: 'out', subtaskIndex: 0, parallelism: 1, attempt: 0 };
    const prepared = async () => (await db.query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'rlink-job1-%' ORDER BY gid")).rows.map((r) => r.gid as string);

    it('rows are invisible until the checkpoint completes: prepared on prepareCommit, committed on commit, a repeated commit is a no-op', async () => {
      const t = await table('(k int, v int)');
      const w = writer({ table: t, transactional: true, batchSize: 10 }, ctx);
      await w.open();
      await w.write(Array.from({ length: 25 }, (_, k) => ({ k, v: 1 })), []);
      await new Promise((r) => setTimeout(r, 300)); // batches went into the open transaction
      expect(await rows(t, 'k')).toEqual([]);
      const c = await w.prepareCommit(7) as PostgresCommittable;
      expect(c).toEqual({ gid: 'rlink-job1-out-0-7-a0', checkpointId: 7, rows: 25 });
      expect(await prepared()).toEqual(['rlink-job1-out-0-7-a0']);
      expect(await rows(t, 'k')).toEqual([]);
      expect(await w.prepareCommit(8)).toBeNull(); // nothing written since
      await w.commit([c]);
      expect((await rows(t, 'k')).length).toBe(25);
      expect(await prepared()).toEqual([]);
      await w.commit([c]);
      await w.close();
      expect((await rows(t, 'k')).length).toBe(25);
    });

    it('restore: what the checkpoint lists is committed, what a failed attempt prepared after it is rolled back', async () => {
      const t = await table('(k int PRIMARY KEY)');
      const w0 = writer({ table: t, transactional: true }, ctx);
      await w0.open();
      await w0.write([{ k: 1 }], []);
      const c1 = await w0.prepareCommit(1) as PostgresCommittable; // checkpoint 1 completes, but its commit is lost
      await w0.write([{ k: 2 }], []);
      await w0.prepareCommit(2); // checkpoint 2 never completes
      await w0.write([{ k: 3 }], []); // an open transaction: gone when the writer dies
      await new Promise((r) => setTimeout(r, 300));
      await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rlink'"); // the task manager dies
      expect(await prepared()).toEqual(['rlink-job1-out-0-1-a0', 'rlink-job1-out-0-2-a0']);
      await w0.close();

      const w1 = writer({ table: t, transactional: true }, { ...ctx, attempt: 1 });
      await w1.open({ prepared: [[1, c1]], restoredCheckpointId: 1 });
      expect(await prepared()).toEqual(['rlink-job1-out-0-1-a0']); // checkpoint 2's transaction rolled back
      await w1.commit([c1]); // what the sink operator does right after open
      await w1.write([{ k: 2 }, { k: 3 }], []); // the replay after checkpoint 1
      const c = await w1.prepareCommit(3) as PostgresCommittable;
      expect(c.gid).toBe('rlink-job1-out-0-3-a1');
      await w1.commit([c]);
      await w1.close();
      expect((await rows(t, 'k')).map((r) => r.k)).toEqual([1, 2, 3]);
      expect(await prepared()).toEqual([]);
    });

    it('restore at another parallelism (3 → 2): subtask 0 commits every listed transaction, each subtask rolls back the unlisted ones of its old subtasks', async () => {
      const t = await table('(k int)');
      const prepare = async (gid: string, k: number) => {
        await db.query('BEGIN');
        await db.query(`INSERT INTO ${t} VALUES ($1)`, [k]);
        await db.query(`PREPARE TRANSACTION '${gid}'`);
      };
      const listed = [0, 1, 2].map((s) => ({ gid: `rlink-job3-out-${s}-5-a0`, checkpointId: 5, rows: 1 }));
      for (const [s, c] of listed.entries()) await prepare(c.gid, s);
      await prepare('rlink-job3-out-2-6-a0', 100); // old subtask 2, after checkpoint 5: never completed
      await prepare('rlink-job3-out-1-6-a0', 101); // old subtask 1, likewise
      const restored = { prepared: listed.map((c) => [5, c]), restoredCheckpointId: 5 };
      const ctx3 = { jobId: 'job3', operatorId: 'out', parallelism: 2, attempt: 1 };
      const w0 = writer({ table: t, transactional: true }, { ...ctx3, subtaskIndex: 0 });
      const w1 = writer({ table: t, transactional: true }, { ...ctx3, subtaskIndex: 1 });
      await w0.open(restored);
      await w1.open(restored);
      expect((await db.query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'rlink-job3-%' ORDER BY gid")).rows.map((r) => r.gid)).toEqual(listed.map((c) => c.gid));
      await w0.commit(listed); // what the sink operator does after a rescale: subtask 0 commits all
      await w0.close();
      await w1.close();
      expect((await rows(t, 'k')).map((r) => r.k)).toEqual([0, 1, 2]);
    });

    it('a connection lost mid-transaction: the batches are written again into a new transaction, once', async () => {
      const t = await table('(k int)');
      const w = writer({ table: t, transactional: true, batchSize: 10, flushInterval: '20ms' }, { ...ctx, jobId: 'job2' });
      await w.open();
      await w.write(Array.from({ length: 30 }, (_, k) => ({ k })), []);
      await new Promise((r) => setTimeout(r, 200));
      const killed = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rlink' AND state LIKE 'idle in transaction%'");
      expect(killed.rowCount).toBe(1); // the writer's connection, in its open transaction
      await w.write(Array.from({ length: 30 }, (_, i) => ({ k: 30 + i })), []);
      const c = await w.prepareCommit(1) as PostgresCommittable;
      expect(c.rows).toBe(60);
      await w.commit([c]);
      await w.close();
      expect((await rows(t, 'k')).map((r) => r.k)).toEqual(Array.from({ length: 60 }, (_, k) => k));
    });

    it('needs max_prepared_transactions > 0: a clear error naming the host', async () => {
      const s0 = await startPostgres({ maxPreparedTransactions: 0 });
      try {
        const c0 = new pg.Client({ connectionString: s0.url });
        await c0.connect();
        await c0.query('CREATE TABLE t (k int)');
        await c0.end();
        const w = postgresSink({ connection: s0.url, table: 't', transactional: true }).createWriter(testContext());
        await expect(Promise.resolve(w.open())).rejects.toThrow(`postgres sink: transactional writes need max_prepared_transactions > 0 on 127.0.0.1:${s0.port} (it is 0)`);
        await w.close();
      } finally {
        await s0.stop();
      }
    }, 60_000);
  });

  describe('errors name the host and the cause', () => {
    it('nothing listening: RLINK_NETWORK after the retries, within the bound', async () => {
      const w = postgresSink({ connection: 'postgres://rlink:x@127.0.0.1:1/rlink', table: 't', retryTimeout: '1s' }).createWriter(testContext());
      const t0 = Date.now();
      const err = await Promise.resolve(w.open()).then(() => undefined, (e: unknown) => e) as RlinkError;
      expect(err).toBeInstanceOf(RlinkError);
      expect(err.code).toBe('RLINK_NETWORK');
      expect(err.context.host).toBe('127.0.0.1:1');
      expect(err.message).toMatch(/^postgres sink: cannot reach 127\.0\.0\.1:1 \(rlink@127\.0\.0\.1:1\/rlink\) within 1(\.\d)? s, retried with back-off: .*ECONNREFUSED/);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('a wrong password fails at once (no retries), naming the host and PostgreSQL\'s reason', async () => {
      const w = postgresSink({ connection: `postgres://rlink:wrong@127.0.0.1:${server.port}/rlink`, table: 't' }).createWriter(testContext());
      const t0 = Date.now();
      await expect(Promise.resolve(w.open())).rejects.toThrow(`postgres sink: cannot connect to 127.0.0.1:${server.port} (rlink@127.0.0.1:${server.port}/rlink): 28P01 password authentication failed for user "rlink"`);
      expect(Date.now() - t0).toBeLessThan(3_000);
    });

    it('a missing table, a field without a column, an upsertKey that is not unique', async () => {
      await expect(Promise.resolve(writer({ table: 'nope' }).open())).rejects.toThrow(`postgres sink: table nope does not exist in rlink@127.0.0.1:${server.port}/rlink`);
      const t = await table('(k int, v int)');
      await expect(Promise.resolve(writer({ table: t, upsertKey: 'k' }).open())).rejects.toThrow(`postgres sink: upsertKey (k) is not the primary key or a unique index of table ${t} (unique keys: none)`);
      const w = writer({ table: t });
      await w.open();
      await w.write([{ k: 1, extra: 2 }], []);
      await expect(Promise.resolve(w.prepareCommit(1))).rejects.toThrow(`postgres sink: record field 'extra' has no column in table ${t} (columns: k, v)`);
      await w.close();
    });

    it('bad options fail when the job is built', () => {
      expect(() => postgresSink({ connection: 'mysql://h/db', table: 't' })).toThrow(/must start with postgres:\/\/ or postgresql:\/\//);
      expect(() => postgresSink({ connection: 'postgres://h/db', table: '' })).toThrow(/option "table" is required/);
      expect(() => postgresSink({ connection: 'postgres://h/db', table: 't', upsertKey: [] })).toThrow(/upsertKey must be a field name or a non-empty list/);
      expect(() => postgresSink({ connection: 'postgres://h/db', table: 't', batchSize: 0 })).toThrow(/batchSize must be an integer/);
      const s = postgresSink({ connection: 'postgres://u:secret@h/db', table: 't', upsertKey: 'k' });
      expect(JSON.stringify(s.describe())).not.toContain('secret');
      expect(s.describe()).toMatchObject({ kind: 'postgres', connection: 'u@h:5432/db', guarantee: 'exactly-once (idempotent upserts)' });
    });
  });
});
