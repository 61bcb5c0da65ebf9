/** The chaos procedure shared by the generator and Kafka variants (see chaos.test.ts). */
import { expect } from 'vitest';
import { join } from 'node:path';
import { canonical, readJsonl } from '../helpers/cli';
import type { TestCluster } from './cluster';
import { reference } from './apps/chaos';

const APP = join(import.meta.dirname, 'apps', 'chaos.ts');

/**
 * Submits the chaos job (count = n, plus `args`), SIGKILLs a task manager that runs it `kills` times
 * (after a checkpoint of each attempt; each killed task manager is replaced), then checks: FINISHED,
 * at least `kills` restarts, no semantics alert, output equal to the fault-free reference.
 */
export async function runChaos(c: TestCluster, n: number, kills: number, args: string[]): Promise<{ recoveryMs: number[] }> {
  const out = join(c.dir, `chaos-out-${Date.now()}`);
  const alertsOut = join(c.dir, `chaos-alerts-${Date.now()}`);
  const r = await c.rlink(['submit', APP, '--jm', c.url, '--detached', `count=${n}`, `output=${out}`, `alerts=${alertsOut}`,
    'checkpoint.interval=400ms', `checkpoint.dir=${join(c.dir, 'chaos-checkpoints')}`,
    'restart.strategy=fixed-delay', 'restart.delay=100ms', 'restart.attempts=50', ...args]);
  expect(r.exitCode, r.stderr).toBe(0);
  const jobId = r.stdout.trim().split('\n').at(-1)!;
  const recovery: number[] = [];
  const allRunning = (j: any) => j.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));
  for (let k = 0; k < kills; k++) {
    // Wait for a checkpoint of this attempt, then kill a task manager that runs the job.
    const end = Date.now() + 20_000;
    let j = await c.get(`/jobs/${jobId}`);
    while (!(allRunning(j) && (await c.get(`/jobs/${jobId}/checkpoints`)).counts.completed > k) && Date.now() < end) {
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
      if (x.attempt > j.attempt && allRunning(x)) break;
      if (x.state === 'FINISHED' || x.state === 'FAILED') break;
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
  console.info(JSON.stringify({ killsSurvived: recovery.length, recoveryMs: recovery, restarts: done.restarts, state: done.state }));
  expect(recovery.length).toBe(kills);
  expect(done.state, done.error).toBe('FINISHED');
  expect(done.restarts).toBeGreaterThanOrEqual(kills);
  expect(readJsonl(alertsOut), 'semantics alerts').toEqual([]);
  expect(canonical(readJsonl(out))).toEqual(canonical(reference(n)));
  return { recoveryMs: recovery };
}
