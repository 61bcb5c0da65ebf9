/**
 * Whole jobs with the store sinks through the real CLI (`rlink run`, the embedded cluster), against
 * real servers (test/stores/servers.ts): a checkpointed windowed job writes exactly the fault-free
 * result; a server restarted mid-job is survived by the sink's retries alone (restart.strategy=none,
 * so a job restart cannot be what saved it); bad connection settings fail the job with one line that
 * names the host and the cause. The results are read back with the tests' own clients (tables.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { rlink, tempDir } from '../helpers/cli';
import { startMariadb, startPostgres, startRedis, storeTestGate, type StoreServer } from './servers';
import { canonicalRows, createMysqlTable, createPgTable, readMysqlTable, readPgTable, readRedisKeys, readRedisStream } from './tables';
import { reference, type WindowRow } from './apps/window-counts';

const APP = join(import.meta.dirname, 'apps', 'window-counts.ts');
const redisOk = storeTestGate('redis').ok;
const pgOk = storeTestGate('postgres').ok;
const mariaOk = storeTestGate('mariadb').ok;

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** `rlink run` of the app with checkpoints; resolves with the CLI's result. */
function run(args: string[], env: Record<string, string> = {}) {
  const d = tempDir('rlink-store-job-');
  dirs.push(d);
  return rlink(['run', APP, 'checkpoint.interval=300ms', `checkpoint.dir=${join(d, 'cp')}`, ...args], { timeoutMs: 120_000, env });
}

function expectFinished(r: { exitCode: number; stdout: string; stderr: string }): void {
  if (r.exitCode !== 0) throw new Error(`rlink run exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-4000)}`);
  expect(r.stdout).toMatch(/FINISHED store-window-counts/);
}

/** The job's one failure line (stderr also has the log). */
function failureLine(r: { exitCode: number; stderr: string }): string {
  expect(r.exitCode).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('rlink run:'));
  expect(lines, r.stderr.slice(-3000)).toHaveLength(1);
  return lines[0]!;
}

/** Starts the job, restarts the server once `ready()` says the sink is writing, waits for the job. */
async function runWithServerRestart(server: StoreServer, args: string[], ready: () => Promise<boolean>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const job = run(['restart.strategy=none', ...args]);
  const end = Date.now() + 60_000;
  while (!(await ready().catch(() => false))) {
    if (Date.now() > end) throw new Error('the job never wrote');
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.restart(1_500);
  return job;
}

const N = 16 * 2_000; // 32 000 events, 16 keys, 200 s of event time: 320 windows
const expected = canonicalRows(reference(N));

describe.skipIf(!redisOk)('store jobs: Redis', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startRedis(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('a checkpointed windowed job: set by key holds exactly the fault-free result; xadd has every row', async () => {
    expectFinished(await run([`count=${N}`, 'rate=40000', 'sink=redis', `url=${s.url}`, 'prefix=w1']));
    expect(canonicalRows(await readRedisKeys(s, 'w1'))).toEqual(expected);
    expectFinished(await run([`count=${N}`, 'rate=40000', 'sink=redis-xadd', `url=${s.url}`, 'prefix=w1-stream']));
    expect(canonicalRows(await readRedisStream(s, 'w1-stream'))).toEqual(expected); // no failure: no duplicate either
  }, 120_000);

  it('a server restart mid-job is survived by retries (restart.strategy=none): exact result', async () => {
    const r = await runWithServerRestart(s, [`count=${N * 2}`, 'rate=8000', 'sink=redis', `url=${s.url}`, 'prefix=w2'],
      async () => (await readRedisKeys(s, 'w2')).length >= 20);
    expectFinished(r);
    expect(r.stderr).toMatch(/redis sink \(set w2:\{key\}:\{windowStart\} on 127\.0\.0\.1:\d+\): write failed \(.*\), retrying in/);
    expect(canonicalRows(await readRedisKeys(s, 'w2'))).toEqual(canonicalRows(reference(N * 2)));
  }, 120_000);

  it('bad connection settings fail the job with one line naming the host and the cause', async () => {
    const refused = failureLine(await run([`count=${N}`, 'sink=redis', 'url=redis://127.0.0.1:1', 'prefix=x', 'retry=1s']));
    expect(refused).toMatch(/^rlink run: job store-window-counts FAILED: .*redis sink: cannot reach 127\.0\.0\.1:1 within 1(\.\d)? s, retried with back-off: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    const auth = failureLine(await run([`count=${N}`, 'sink=redis', `url=redis://:wrong@127.0.0.1:${s.port}`, 'prefix=x']));
    expect(auth).toMatch(new RegExp(`^rlink run: job store-window-counts FAILED: .*redis sink: cannot connect to 127\\.0\\.0\\.1:${s.port}: WRONGPASS`));
  }, 120_000);
});

describe.skipIf(!pgOk)('store jobs: PostgreSQL', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startPostgres(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('a checkpointed windowed job: upserts, two-phase commit and plain inserts each hold exactly the fault-free result', async () => {
    for (const [sink, table, pk] of [['postgres', 'w_upsert', true], ['postgres-2pc', 'w_2pc', false], ['postgres-plain', 'w_plain', false]] as const) {
      await createPgTable(s, table, pk);
      expectFinished(await run([`count=${N}`, 'rate=40000', `sink=${sink}`, `url=${s.url}`, `table=${table}`]));
      expect(canonicalRows(await readPgTable(s, table)), sink).toEqual(expected);
    }
  }, 120_000);

  for (const [sink, table, pk] of [['postgres', 'w_restart', true], ['postgres-2pc', 'w_restart_2pc', false]] as const) {
    it(`a server restart mid-job is survived by retries (${sink}, restart.strategy=none): exact result`, async () => {
      await createPgTable(s, table, pk);
      const r = await runWithServerRestart(s, [`count=${N * 2}`, 'rate=8000', `sink=${sink}`, `url=${s.url}`, `table=${table}`],
        async () => (await readPgTable(s, table)).length >= 20);
      expectFinished(r);
      expect(r.stderr).toMatch(new RegExp(`postgres sink \\(table ${table} on rlink@127\\.0\\.0\\.1:\\d+/rlink\\): (write|prepare|commit) failed \\(.*\\), retrying in|cannot connect .*retrying in`));
      const rows: WindowRow[] = await readPgTable(s, table);
      expect(canonicalRows(rows)).toEqual(canonicalRows(reference(N * 2)));
    }, 120_000);
  }

  it('bad connection settings fail the job with one line naming the host and the cause', async () => {
    const refused = failureLine(await run([`count=${N}`, 'sink=postgres', 'url=postgres://rlink:x@127.0.0.1:1/rlink', 'table=t', 'retry=1s']));
    expect(refused).toMatch(/^rlink run: job store-window-counts FAILED: .*postgres sink: cannot reach 127\.0\.0\.1:1 \(rlink@127\.0\.0\.1:1\/rlink\) within 1(\.\d)? s, retried with back-off: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    const auth = failureLine(await run([`count=${N}`, 'sink=postgres', `url=postgres://rlink:wrong@127.0.0.1:${s.port}/rlink`, 'table=t']));
    expect(auth).toMatch(new RegExp(`^rlink run: job store-window-counts FAILED: .*postgres sink: cannot connect to 127\\.0\\.0\\.1:${s.port} \\(rlink@127\\.0\\.0\\.1:${s.port}/rlink\\): 28P01 password authentication failed for user "rlink"$`));
    const noTable = failureLine(await run([`count=${N}`, 'sink=postgres', `url=${s.url}`, 'table=missing']));
    expect(noTable).toMatch(new RegExp(`^rlink run: job store-window-counts FAILED: .*postgres sink: table missing does not exist in rlink@127\\.0\\.0\\.1:${s.port}/rlink`));
  }, 120_000);
});

describe.skipIf(!mariaOk)('store jobs: MariaDB', () => {
  let s: StoreServer;
  beforeAll(async () => { s = await startMariadb(); }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('a checkpointed windowed job: upserts hold exactly the fault-free result', async () => {
    await createMysqlTable(s, 'w1');
    expectFinished(await run([`count=${N}`, 'rate=40000', 'sink=mysql', `url=${s.url}`, 'table=w1']));
    expect(canonicalRows(await readMysqlTable(s, 'w1'))).toEqual(expected);
  }, 120_000);

  it('a server restart mid-job is survived by retries (restart.strategy=none): exact result', async () => {
    await createMysqlTable(s, 'w2');
    const r = await runWithServerRestart(s, [`count=${N * 2}`, 'rate=8000', 'sink=mysql', `url=${s.url}`, 'table=w2'],
      async () => (await readMysqlTable(s, 'w2')).length >= 20);
    expectFinished(r);
    expect(r.stderr).toMatch(/mysql sink \(table w2 on rlink@127\.0\.0\.1:\d+\/rlink\): (write failed|cannot connect) \(.*\), retrying in/);
    expect(canonicalRows(await readMysqlTable(s, 'w2'))).toEqual(canonicalRows(reference(N * 2)));
  }, 120_000);

  it('bad connection settings fail the job with one line naming the host and the cause', async () => {
    const refused = failureLine(await run([`count=${N}`, 'sink=mysql', 'url=mysql://rlink:x@127.0.0.1:1/rlink', 'table=t', 'retry=1s']));
    expect(refused).toMatch(/^rlink run: job store-window-counts FAILED: .*mysql sink: cannot reach 127\.0\.0\.1:1 \(rlink@127\.0\.0\.1:1\/rlink\) within 1(\.\d)? s, retried with back-off: .*ECONNREFUSED/);
    const auth = failureLine(await run([`count=${N}`, 'sink=mysql', `url=mysql://rlink:wrong@127.0.0.1:${s.port}/rlink`, 'table=t']));
    expect(auth).toMatch(new RegExp(`^rlink run: job store-window-counts FAILED: .*mysql sink: cannot connect to 127\\.0\\.0\\.1:${s.port} \\(rlink@127\\.0\\.0\\.1:${s.port}/rlink\\): ER_ACCESS_DENIED_ERROR: Access denied for user 'rlink'`));
  }, 120_000);
});
