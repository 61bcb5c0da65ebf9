/**
 * Job manager high availability with real processes: job managers share a metadata directory
 * (`--metadata-dir`, what `metadata_storage: { type: FileSystem, path }` deploys), task managers and
 * the CLI know every job manager's address. A checkpointed job with the exactly-once file sink
 * survives two SIGKILLs of its job manager — one restarted in place, one replaced by a standby — and
 * its committed output equals the fault-free reference, with no semantics alert (every key's events
 * exactly once, in order).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, canonical, readJsonl, tempDir } from '../helpers/cli';
import { freePort } from '../infra/sshd';
import { readyLine, spawnDaemon, waitFor, type ClusterProcess } from './cluster';
import { reference } from './apps/chaos';

const APP = join(import.meta.dirname, 'apps', 'chaos.ts');

interface HaCluster {
  dir: string;
  env: Record<string, string>;
  urls: string[];
  jm: Array<ClusterProcess | undefined>;
  tms: ClusterProcess[];
  startJobManager(i: number): Promise<ClusterProcess>;
  get(path: string): Promise<any>;
  stop(): Promise<void>;
}

async function haCluster(jobManagers: number): Promise<HaCluster> {
  const dir = tempDir('rlink-ha-');
  mkdirSync(join(dir, 'logs'));
  const env = { RLINK_TOKEN: randomBytes(24).toString('hex'), RLINK_LOG_LEVEL: 'info' };
  const ports = await Promise.all(Array.from({ length: jobManagers }, () => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  let starts = 0;
  const c: HaCluster = {
    dir, env, urls, jm: [], tms: [],
    async startJobManager(i) {
      const log = join(dir, 'logs', `jobmanager-${i}-${starts++}.log`);
      const p = spawnDaemon(['jobmanager', 'start', '--port', String(ports[i]), '--data-dir', join(dir, `jm-${i}`),
        '--metadata-dir', join(dir, 'meta'), '--lease-timeout', '1500ms', '--heartbeat-timeout', '3s'], env, log);
      await readyLine(p.proc, log, 30_000);
      c.jm[i] = p;
      return p;
    },
    async get(path) {
      for (const u of urls) {
        const res = await fetch(new URL(path, u)).catch(() => undefined);
        if (res?.ok) return res.json();
      }
      return undefined;
    },
    async stop() {
      const all = [...c.tms, ...c.jm.filter((x): x is ClusterProcess => x !== undefined)];
      for (const p of all) p.proc.kill('SIGTERM');
      await Promise.all(all.map((p) => Promise.race([p.proc, new Promise((r) => setTimeout(r, 5000))])));
      for (const p of all) p.proc.kill('SIGKILL');
    },
  };
  return c;
}

async function addTaskManager(c: HaCluster): Promise<void> {
  const i = c.tms.length;
  const log = join(c.dir, 'logs', `taskmanager-${i}.log`);
  const tm = spawnDaemon(['taskmanager', 'start', '--jm', c.urls.join(','), '--slots', '2', '--work-dir', join(c.dir, `tm-${i}`), '--heartbeat-interval', '200'], c.env, log);
  tm.id = (await readyLine(tm.proc, log, 30_000) as { id: string }).id;
  c.tms.push(tm);
}

const allRunning = (j: any) => j?.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));

describe('job manager high availability (real processes)', () => {
  let c: HaCluster | undefined;
  afterAll(async () => { await c?.stop(); });

  it('a job survives its job manager SIGKILLed twice (restarted, then replaced by a standby) with exactly-once output', async () => {
    c = await haCluster(2);
    await c.startJobManager(0);
    await addTaskManager(c);
    await addTaskManager(c);
    await waitFor('two task managers', async () => ((await c!.get('/taskmanagers'))?.taskmanagers.length === 2 ? true : undefined));
    const n = 48_000;
    const out = join(c.dir, 'out');
    const alerts = join(c.dir, 'alerts');
    const submit = await execa('node', [BIN, 'submit', APP, '--jm', c.urls.join(','), '--detached', `count=${n}`, 'rate=4000', `output=${out}`, `alerts=${alerts}`,
      'checkpoint.interval=300ms', `checkpoint.dir=${join(c.dir, 'checkpoints')}`, 'restart.strategy=fixed-delay', 'restart.delay=100ms', 'restart.attempts=20'],
    { env: c.env, reject: false, timeout: 60_000 });
    expect(submit.exitCode, String(submit.stderr)).toBe(0);
    const jobId = String(submit.stdout).trim().split('\n').at(-1)!;

    const checkpointsBeyond = async (k: number) => waitFor(`a checkpoint after ${k}`, async () => {
      const cp = await c!.get(`/jobs/${jobId}/checkpoints`);
      return cp && cp.counts.completed > k && allRunning(await c!.get(`/jobs/${jobId}`)) ? cp.counts.completed as number : undefined;
    }, 30_000);

    // 1. The job manager is SIGKILLed and restarted on the same address and metadata directory.
    const before = await checkpointsBeyond(1);
    process.kill(c.jm[0]!.pid, 'SIGKILL');
    await c.jm[0]!.proc;
    await c.startJobManager(0);
    const recovered = await waitFor('the job recovered by the restarted job manager', async () => {
      const j = await c!.get(`/jobs/${jobId}`);
      return allRunning(j) ? j : undefined;
    }, 30_000);
    expect(recovered.attempt).toBeGreaterThan(0);
    const cps = await c.get(`/jobs/${jobId}/checkpoints`);
    expect(cps.counts.restored).toBeGreaterThanOrEqual(1);
    expect(cps.latest.restored.id).toBeGreaterThanOrEqual(1);

    // 2. A standby joins; the leader is SIGKILLed for good and the standby takes over.
    await c.startJobManager(1);
    const standby = await (await fetch(`${c.urls[1]}/leader`)).json() as { leader: boolean };
    expect(standby.leader).toBe(false);
    expect((await fetch(`${c.urls[1]}/jobs`)).status).toBe(503);
    await checkpointsBeyond(before + 1);
    process.kill(c.jm[0]!.pid, 'SIGKILL');
    c.jm[0] = undefined;
    await waitFor('the standby to lead', async () => ((await (await fetch(`${c!.urls[1]}/leader`)).json() as { leader: boolean }).leader ? true : undefined), 20_000);
    const taken = await waitFor('the job running under the new leader', async () => {
      const j: any = await (await fetch(`${c!.urls[1]}/jobs/${jobId}`)).json().catch(() => undefined);
      return allRunning(j) ? j : undefined;
    }, 30_000);
    expect(taken.attempt).toBeGreaterThan(recovered.attempt);

    // The CLI, given both addresses, follows the job to its end at the new leader.
    const wait = await execa('node', [BIN, 'job', 'status', jobId, '--jm', c.urls.join(','), '--json'], { env: c.env, reject: false, timeout: 30_000 });
    expect(wait.exitCode, String(wait.stderr)).toBe(0);
    const done = await waitFor('the job to finish', async () => {
      const j = await c!.get(`/jobs/${jobId}`);
      return j && ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
    }, 120_000);
    expect(done.state, done.error).toBe('FINISHED');
    expect(readJsonl(alerts), 'semantics alerts').toEqual([]);
    expect(canonical(readJsonl(out))).toEqual(canonical(reference(n)));
  }, 240_000);
});
