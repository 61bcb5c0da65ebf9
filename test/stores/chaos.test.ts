/**
 * Chaos with the store sinks on a cluster of real processes (test/cluster/cluster.ts): the
 * checkpointed windowed job of apps/window-counts.ts writes into Redis (set by key), PostgreSQL
 * (upserts; two-phase commit into a table WITHOUT a key, where any duplicate would show) and MariaDB
 * (upserts) — and once reading its events from Redis streams (sources.redisStream, positions in the
 * checkpoints) — while a task manager that runs it is SIGKILLed twice (each time after a checkpoint of the
 * current attempt, and replaced). Required: FINISHED after at least two restarts, and the store holding
 * exactly the fault-free result — no row lost, none duplicated. Prints one JSON line per sink with the
 * kills survived and the time from each kill to RUNNING again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../cluster/cluster';
import { startMariadb, startPostgres, startRedis, storeTestGate, type StoreServer } from './servers';
import { canonicalRows, createMysqlTable, createPgTable, pgQuery, readMysqlTable, readPgTable, readRedisKeys } from './tables';
import { event, reference, streamsOf, type WindowRow } from './apps/window-counts';

const APP = join(import.meta.dirname, 'apps', 'window-counts.ts');
const KILLS = Number(process.env.RLINK_STORE_CHAOS_KILLS ?? 2);
const N = 16 * 6_000; // 96 000 events: 960 windows
const RATE = 10_000;

const redisOk = storeTestGate('redis').ok;
const pgOk = storeTestGate('postgres').ok;
const mariaOk = storeTestGate('mariadb').ok;

/**
 * Submits the app (count N) with `args`, SIGKILLs a task manager running it `kills` times (after a
 * checkpoint of each attempt; each one replaced), waits for the end; asserts FINISHED with the restarts.
 */
async function runChaos(c: TestCluster, name: string, args: string[], kills: number): Promise<void> {
  const r = await c.rlink(['submit', APP, '--jm', c.url, '--detached', `count=${N}`, `rate=${RATE}`, ...args,
    'checkpoint.interval=400ms', `checkpoint.dir=${join(c.dir, `cp-${name}`)}`,
    'restart.strategy=fixed-delay', 'restart.delay=100ms', 'restart.attempts=20']);
  expect(r.exitCode, r.stderr).toBe(0);
  const jobId = r.stdout.trim().split('\n').at(-1)!;
  const allRunning = (j: any) => j.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));
  const recovery: number[] = [];
  for (let k = 0; k < kills; k++) {
    const end = Date.now() + 20_000;
    let j = await c.get(`/jobs/${jobId}`);
    const completedBefore = (await c.get(`/jobs/${jobId}/checkpoints`)).counts.completed as number;
    // A checkpoint of this attempt first: the restore then has something to go back to.
    while (!(allRunning(j) && (await c.get(`/jobs/${jobId}/checkpoints`)).counts.completed > completedBefore) && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 50));
      j = await c.get(`/jobs/${jobId}`);
    }
    if (j.state !== 'RUNNING') break; // finished early: fewer kills than planned (asserted below)
    const used = new Set<string>(j.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
    const victim = c.taskManagers.find((t) => t.id !== undefined && used.has(t.id) && t.proc.exitCode === null);
    if (!victim) break;
    const t0 = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    await c.addTaskManager();
    while (Date.now() - t0 < 30_000) {
      const x = await c.get(`/jobs/${jobId}`);
      if ((x.attempt > j.attempt && allRunning(x)) || x.state === 'FINISHED' || x.state === 'FAILED') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    recovery.push(Date.now() - t0);
  }
  let done = await c.get(`/jobs/${jobId}`);
  for (const end = Date.now() + 90_000; !['FINISHED', 'FAILED', 'CANCELED'].includes(done.state) && Date.now() < end;) {
    await new Promise((res) => setTimeout(res, 200));
    done = await c.get(`/jobs/${jobId}`);
  }
  // eslint-disable-next-line no-console -- the report of the chaos run is part of its result
  console.info(JSON.stringify({ sink: name, killsSurvived: recovery.length, recoveryMs: recovery, restarts: done.restarts, state: done.state }));
  expect(recovery.length).toBe(kills);
  expect(done.state, done.error).toBe('FINISHED');
  expect(done.restarts).toBeGreaterThanOrEqual(kills);
}

const anyStore = redisOk || pgOk || mariaOk;

describe.skipIf(!anyStore)(`store sinks under chaos: ${KILLS} task-manager SIGKILLs`, () => {
  let c: TestCluster;
  const servers: StoreServer[] = [];
  const expected = canonicalRows(reference(N));
  beforeAll(async () => { c = await startCluster({ taskManagers: 3, slots: 2 }); }, 60_000);
  afterAll(async () => {
    await c?.stop();
    for (const s of servers) await s.stop();
  });

  it.skipIf(!redisOk)('Redis set by key: exactly the fault-free keys and values', async () => {
    const s = await startRedis();
    servers.push(s);
    await runChaos(c, 'redis', ['sink=redis', `url=${s.url}`, 'prefix=chaos'], KILLS);
    const rows: WindowRow[] = await readRedisKeys(s, 'chaos');
    expect(rows.length).toBe(reference(N).length);
    expect(canonicalRows(rows)).toEqual(expected);
  }, 180_000);

  it.skipIf(!redisOk)('Redis stream source (positions in checkpoints) → Redis set: exactly the fault-free result', async () => {
    const s = await startRedis();
    servers.push(s);
    const { Redis } = await import('ioredis');
    const r = new Redis(s.url);
    r.on('error', () => undefined);
    for (let from = 0; from < N; from += 4000) {
      const p = r.pipeline();
      for (let i = from; i < Math.min(N, from + 4000); i++) { const e = event(i); p.xadd(streamsOf('events')[e.key % 2]!, '*', 'data', JSON.stringify(e)); }
      await p.exec();
    }
    r.disconnect();
    await runChaos(c, 'redis-stream', ['source=redis-stream', `source.url=${s.url}`, 'source.stream=events', 'stall=15', 'sink=redis', `url=${s.url}`, 'prefix=from-stream'], KILLS);
    expect(canonicalRows(await readRedisKeys(s, 'from-stream'))).toEqual(expected);
  }, 180_000);

  describe.skipIf(!pgOk)('PostgreSQL', () => {
    let s: StoreServer;
    beforeAll(async () => { s = await startPostgres(); servers.push(s); }, 60_000);

    it('upserts by (key, windowStart): exactly the fault-free table', async () => {
      await createPgTable(s, 'chaos_upsert', true);
      await runChaos(c, 'postgres', ['sink=postgres', `url=${s.url}`, 'table=chaos_upsert'], KILLS);
      expect(canonicalRows(await readPgTable(s, 'chaos_upsert'))).toEqual(expected);
    }, 180_000);

    it('two-phase commit into a table without a key: exactly the fault-free rows, no prepared transaction left', async () => {
      await createPgTable(s, 'chaos_2pc', false);
      await runChaos(c, 'postgres-2pc', ['sink=postgres-2pc', `url=${s.url}`, 'table=chaos_2pc'], KILLS);
      const rows = await readPgTable(s, 'chaos_2pc');
      expect(rows.length).toBe(reference(N).length); // a duplicate or a lost row would change the count
      expect(canonicalRows(rows)).toEqual(expected);
      expect(await pgQuery(s, 'SELECT gid FROM pg_prepared_xacts')).toEqual([]);
    }, 180_000);
  });

  it.skipIf(!mariaOk)('MariaDB upserts by (key, windowStart): exactly the fault-free table', async () => {
    const s = await startMariadb();
    servers.push(s);
    await createMysqlTable(s, 'chaos');
    await runChaos(c, 'mysql', ['sink=mysql', `url=${s.url}`, 'table=chaos'], KILLS);
    expect(canonicalRows(await readMysqlTable(s, 'chaos'))).toEqual(expected);
  }, 180_000);
});
