/**
 * Failover with real processes: a job manager and task managers as separate OS processes. A task
 * manager that dies (SIGKILL) or stops sending heartbeats makes the job restart on the remaining
 * slots; without checkpoints it reruns from the beginning and the file sink publishes only the
 * successful attempt's output, so the committed result is exact.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readJsonl, canonical } from '../helpers/cli';
import { startCluster, waitFor, type TestCluster } from './cluster';
import { expected } from './apps/paced-windows';

const APP = join(import.meta.dirname, 'apps', 'paced-windows.ts');

async function submitDetached(c: TestCluster, args: string[]): Promise<string> {
  const r = await c.rlink(['submit', APP, '--jm', c.url, '--detached', ...args]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').at(-1)!;
}

/** The pid of a task manager that runs a subtask of the job. */
async function busyTaskManager(c: TestCluster, jobId: string): Promise<number> {
  const job = await c.get(`/jobs/${jobId}`);
  const used = new Set<string>(job.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
  const tm = c.taskManagers.find((t) => t.id !== undefined && used.has(t.id) && t.proc.exitCode === null);
  if (!tm) throw new Error(`no live task manager runs job ${jobId}`);
  return tm.pid;
}

/** The job ends FINISHED after at least one restart, and its committed output is exact. */
async function expectRestartedAndExact(c: TestCluster, jobId: string, out: string): Promise<void> {
  const done = await waitFor('the job to end', async () => {
    const j = await c.get(`/jobs/${jobId}`);
    return ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
  }, 60_000);
  expect(done.state, JSON.stringify(done.error)).toBe('FINISHED');
  expect(done.restarts).toBeGreaterThanOrEqual(1);
  expect(canonical(readJsonl(out))).toEqual(canonical(expected(60_000)));
}

describe('a cluster of real processes', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 3, slots: 2, heartbeatTimeout: '1500ms' }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('restarts a job whose task manager is SIGKILLed and commits exactly the right output', async () => {
    const out = join(c.dir, 'kill-out');
    const jobId = await submitDetached(c, [`output=${out}`, 'count=60000', 'rate=15000', 'restart.strategy=fixed-delay', 'restart.delay=200ms']);
    await waitFor('the job to run', async () => ((await c.get(`/jobs/${jobId}`)).state === 'RUNNING' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    const victim = await busyTaskManager(c, jobId);
    process.kill(victim, 'SIGKILL');
    await expectRestartedAndExact(c, jobId, out);
    // The lost task manager is gone from the cluster's view.
    await c.waitForTaskManagers(2);
  }, 90_000);

  it('declares a task manager lost when its heartbeats stop, and restarts the job elsewhere', async () => {
    await c.addTaskManager();
    await c.waitForTaskManagers(3);
    const out = join(c.dir, 'heartbeat-out');
    const jobId = await submitDetached(c, [`output=${out}`, 'count=60000', 'rate=15000', 'restart.strategy=fixed-delay', 'restart.delay=200ms']);
    await waitFor('the job to run', async () => ((await c.get(`/jobs/${jobId}`)).state === 'RUNNING' ? true : undefined));
    await new Promise((r) => setTimeout(r, 800));
    const victim = await busyTaskManager(c, jobId);
    process.kill(victim, 'SIGUSR2'); // the task manager stops its heartbeats but stays connected
    await expectRestartedAndExact(c, jobId, out);
    // Declared lost, the victim reconnects and registers again (its heartbeats restart with the new
    // connection), at a time of its own: gone for good, it leaves the next test a known count.
    process.kill(victim, 'SIGKILL');
    await c.waitForTaskManagers(2);
  }, 90_000);

  it('restores from the latest checkpoint after a SIGKILL, with exact output', async () => {
    await c.addTaskManager();
    await c.waitForTaskManagers(3);
    const out = join(c.dir, 'checkpointed-out');
    const jobId = await submitDetached(c, [`output=${out}`, 'count=60000', 'rate=15000', 'restart.strategy=fixed-delay', 'restart.delay=200ms',
      'checkpoint.interval=300ms', `checkpoint.dir=${join(c.dir, 'checkpoints')}`]);
    await waitFor('a completed checkpoint', async () => ((await c.get(`/jobs/${jobId}/checkpoints`)).counts.completed > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const victim = await busyTaskManager(c, jobId);
    process.kill(victim, 'SIGKILL');
    await expectRestartedAndExact(c, jobId, out);
    const cps = await c.get(`/jobs/${jobId}/checkpoints`);
    expect(cps.counts.restored).toBeGreaterThanOrEqual(1);
    expect(cps.latest.restored.id).toBeGreaterThan(0);
  }, 90_000);
});
