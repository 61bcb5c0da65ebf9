/**
 * SQL on a cluster of real processes (a job manager and task managers as separate OS processes):
 * - the property suite of test/sql (random windowed queries against the brute-force reference),
 *   submitted at parallelism 4 over two task managers;
 * - a SQL job with a HOP window aggregate and a regular GROUP BY (update stream), checkpointed, whose
 *   task manager is SIGKILLed mid-job: it restarts from the latest checkpoint, and the committed output
 *   is exact (the windows equal the brute-force answer; the update stream replays, key by key, as a
 *   valid sequence of +I, -U/+U to the expected final rows, with no duplicate or lost change).
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { ROOT, readJsonl, canonical, rlink, tempDir, writeJsonl } from '../helpers/cli';
import { startCluster, waitFor, type TestCluster } from './cluster';
import { assertSqlMatchesReference, sqlScenarioArb } from '../sql/scenarios';
import { expectedTotals, expectedWindows } from './apps/sql-paced';

const APP = join(import.meta.dirname, 'apps', 'sql-paced.ts');
const RUNS = Number(process.env.RLINK_CLUSTER_SQL_RUNS ?? 6);

/** Replays an update stream per key; throws at the first change that does not follow from the previous ones. */
function replay(records: Array<Record<string, unknown>>, key: string): Map<unknown, Record<string, unknown>> {
  const table = new Map<unknown, Record<string, unknown>>();
  let pendingBefore: string | undefined;
  for (const r of records) {
    const { op, ...row } = r;
    const k = row[key];
    const current = table.get(k);
    switch (op) {
      case '+I': expect(current, `+I for ${String(k)} that exists`).toBeUndefined(); table.set(k, row); break;
      case '-U': expect(JSON.stringify(row), `-U for ${String(k)} is not its current row`).toBe(JSON.stringify(current)); pendingBefore = String(k); break;
      case '+U': expect(pendingBefore, `+U for ${String(k)} without its -U`).toBe(String(k)); pendingBefore = undefined; table.set(k, row); break;
      case '-D': expect(JSON.stringify(row)).toBe(JSON.stringify(current)); table.delete(k); break;
      default: throw new Error(`unknown op ${String(op)}`);
    }
  }
  return table;
}

describe('SQL on a cluster of real processes', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 3, slots: 2, heartbeatTimeout: '1500ms' }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('windowed queries equal the reference at parallelism 4 across task managers', async () => {
    await assertSqlMatchesReference(sqlScenarioArb({ parallelism: 4 }), RUNS, { url: c.url, env: c.env });
  }, 300_000);

  it('restores from the latest checkpoint after a task manager is SIGKILLed, with exact window and update-stream output', async () => {
    const out = join(c.dir, 'sql-out');
    const count = 60_000;
    const r = await c.rlink(['submit', APP, '--jm', c.url, '--detached', `output=${out}`, `count=${count}`, 'rate=15000',
      'restart.strategy=fixed-delay', 'restart.delay=200ms', 'checkpoint.interval=300ms', `checkpoint.dir=${join(c.dir, 'sql-checkpoints')}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const jobId = r.stdout.trim().split('\n').at(-1)!;
    await waitFor('a completed checkpoint', async () => ((await c.get(`/jobs/${jobId}/checkpoints`)).counts.completed > 0 ? true : undefined));
    await new Promise((res) => setTimeout(res, 500));
    const job = await c.get(`/jobs/${jobId}`);
    const used = new Set<string>(job.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
    const victim = c.taskManagers.find((t) => t.id !== undefined && used.has(t.id) && t.proc.exitCode === null)!;
    process.kill(victim.pid, 'SIGKILL');
    const done = await waitFor('the job to end', async () => {
      const j = await c.get(`/jobs/${jobId}`);
      return ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
    }, 90_000);
    expect(done.state, JSON.stringify(done.error)).toBe('FINISHED');
    expect(done.restarts).toBeGreaterThanOrEqual(1);
    const cps = await c.get(`/jobs/${jobId}/checkpoints`);
    expect(cps.counts.restored, 'restarted from a checkpoint, not from the start').toBeGreaterThanOrEqual(1);
    expect(cps.latest.restored.id).toBeGreaterThan(0);
    expect(canonical(readJsonl(join(out, 'windows')))).toEqual(canonical(expectedWindows(count)));
    const totals = replay(readJsonl(join(out, 'totals')), 'user');
    expect(canonical([...totals.values()])).toEqual(canonical([...expectedTotals(count).values()]));
  }, 120_000);

  it('rlink submit runs a config-file job, and rlink sql --jm a SQL script, with the output of a local run', async () => {
    const d = tempDir('rlink-cluster-text-jobs-');
    writeJsonl(join(d, 'orders.jsonl'), Array.from({ length: 60 }, (_, i) => ({ id: i, customer: `c${i % 3}`, amount: (i * 37) % 50, ts: 1_767_225_600_000 + i * 500 })));
    const yaml = join(ROOT, 'test', 'jobfile', 'apps', 'orders.yaml');
    const sub = await rlink(['submit', yaml, `input=${join(d, 'orders.jsonl')}`, `output=${join(d, 'cluster')}`, '--jm', c.url], { cwd: d, env: c.env });
    expect(sub.exitCode, sub.stderr).toBe(0);
    expect(sub.stdout).toMatch(/FINISHED orders \(/);
    const local = await rlink(['run', yaml, `input=${join(d, 'orders.jsonl')}`, `output=${join(d, 'local')}`], { cwd: d });
    expect(local.exitCode, local.stderr).toBe(0);
    expect(readJsonl(join(d, 'cluster', 'stats')).length).toBeGreaterThan(5);
    expect(canonical(readJsonl(join(d, 'cluster', 'stats')))).toEqual(canonical(readJsonl(join(d, 'local', 'stats'))));

    const script = join(ROOT, 'examples', 'clicks.sql');
    const data = join(ROOT, 'examples', 'data', 'clicks.jsonl');
    const sql = await rlink(['sql', script, `input=${data}`, `output=${join(d, 'clicks-cluster.jsonl')}`, '--jm', c.url], { cwd: d, env: c.env });
    expect(sql.exitCode, sql.stderr).toBe(0);
    expect(sql.stdout).toMatch(/FINISHED page-stats \(/);
    const sqlLocal = await rlink(['sql', script, `input=${data}`, `output=${join(d, 'clicks-local.jsonl')}`], { cwd: d });
    expect(sqlLocal.exitCode, sqlLocal.stderr).toBe(0);
    expect(canonical(readJsonl(join(d, 'clicks-cluster.jsonl')))).toEqual(canonical(readJsonl(join(d, 'clicks-local.jsonl'))));
  }, 120_000);
});
