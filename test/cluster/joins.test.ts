/**
 * Two-input operators on a cluster of real processes: window join, interval join, keyed co-process and
 * keyed broadcast state, each at parallelism 2 over two task managers (the inputs' channels cross the
 * data plane), checkpointed, with a task manager SIGKILLed after a checkpoint; the exactly-once file
 * sink's output must equal the brute-force reference (test/reference/joins.ts) of the generated inputs
 * (test/cluster/apps/join-data.ts: nothing late, so the result does not depend on timing).
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { canonical, readJsonl } from '../helpers/cli';
import { startCluster, waitFor, type TestCluster } from './cluster';
import { generatedLeft, generatedRight } from './apps/join-data';
import { refBroadcast, refBucketSums, refIntervalJoin, refWindowJoin, type Left, type Right } from '../reference/joins';

const APP = join(import.meta.dirname, '..', 'semantics', 'apps', 'join-app.ts');
const N = 6000;

const allRunning = (j: any) => j?.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));

describe('two-input operators on a cluster, through a task-manager SIGKILL', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 2, slots: 2 }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  const cases: Array<[string, string[], (l: Left[], r: Right[]) => Array<Record<string, unknown>>]> = [
    ['window-join', ['window=sliding', 'size=30', 'slide=10'], (l, r) => refWindowJoin(l, r, { kind: 'sliding', size: 30, slide: 10 })],
    ['interval-join', ['lower=-4', 'upper=6'], (l, r) => refIntervalJoin(l, r, -4, 6)],
    ['co-process', [], refBucketSums],
    ['broadcast', [], refBroadcast],
  ];

  for (const [mode, args, reference] of cases) {
    it(`${mode}: exact output after a restore from the latest checkpoint`, async () => {
      const out = join(c.dir, `${mode}-out`);
      const r = await c.rlink(['submit', APP, '--jm', c.url, '--detached', `mode=${mode}`, `count=${N}`, 'rate=2000', 'bound=5',
        'sourceParallelism=2', 'parallelism=2', `output=${out}`, ...args,
        'checkpoint.interval=300ms', `checkpoint.dir=${join(c.dir, 'checkpoints')}`, 'restart.strategy=fixed-delay', 'restart.delay=100ms', 'restart.attempts=10']);
      expect(r.exitCode, r.stderr).toBe(0);
      const jobId = r.stdout.trim().split('\n').at(-1)!;
      const before = await waitFor('a checkpoint of the running job', async () => {
        const j = await c.get(`/jobs/${jobId}`);
        return allRunning(j) && (await c.get(`/jobs/${jobId}/checkpoints`)).counts.completed > 0 ? j : undefined;
      }, 30_000);
      const used = new Set<string>(before.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
      const victim = c.taskManagers.find((t) => t.id !== undefined && used.has(t.id) && t.proc.exitCode === null)!;
      process.kill(victim.pid, 'SIGKILL');
      await c.addTaskManager();
      const done = await waitFor('the job to end', async () => {
        const j = await c.get(`/jobs/${jobId}`);
        return ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
      }, 90_000);
      expect(done.state, done.error).toBe('FINISHED');
      expect(done.restarts).toBeGreaterThanOrEqual(1);
      expect((await c.get(`/jobs/${jobId}/checkpoints`)).counts.restored).toBeGreaterThanOrEqual(1);
      const left = Array.from({ length: N }, (_, i) => generatedLeft(mode)(i)) as Left[];
      const right = Array.from({ length: Math.ceil(N / 2) }, (_, i) => generatedRight(mode)(i)) as Right[];
      expect(canonical(readJsonl(out))).toEqual(canonical(reference(left, right)));
    }, 150_000);
  }
});
