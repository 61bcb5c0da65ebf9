/**
 * An adversarial user against a cluster of real processes: malformed and forged control messages,
 * a user function that ignores cancel, a build() that never ends, a non-deterministic build(), absurd
 * slot counts, a cluster too busy for a second job. Each is answered cleanly: the daemons keep
 * serving, and a job running next to the abuse ends with exactly its fault-free output.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import fc from 'fast-check';
import { execa } from 'execa';
import { BIN, canonical, readJsonl } from '../helpers/cli';
import { startCluster, waitFor, type TestCluster } from './cluster';
import { reference } from './apps/chaos';
import { mutated, taskManagerSamples, type FuzzTarget } from './control-fuzz';
import { PROTOCOL_VERSION } from '../../core/protocol/control-messages';

const APPS = join(import.meta.dirname, 'apps');
const CHAOS = join(APPS, 'chaos.ts');

interface Closed { code: number; reason: string }

/** A raw control connection with the cluster's token: a task manager that is not one. */
async function rogue(c: TestCluster, opts: { register?: false | { slots?: number; version?: number } } = {}): Promise<{ ws: WebSocket; closed: Promise<Closed>; id: string }> {
  const id = `rogue-${Math.random().toString(36).slice(2, 10)}`;
  const ws = new WebSocket(`${c.url.replace('http', 'ws')}/taskmanager`, { headers: { authorization: `Bearer ${c.token}` } });
  const closed = new Promise<Closed>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  if (opts.register !== false) {
    const reg = opts.register ?? {};
    const answered = new Promise<void>((r) => ws.once('message', () => r()));
    ws.send(JSON.stringify({ type: 'register', taskManagerId: id, slots: reg.slots ?? 1, version: reg.version ?? PROTOCOL_VERSION }));
    await Promise.race([answered, closed]);
  }
  return { ws, closed, id };
}

/** Sends one frame; resolves with the close it provoked, or undefined when the socket stayed open for `ms`. */
async function provoke(r: { ws: WebSocket; closed: Promise<Closed> }, frame: unknown, ms = 40): Promise<Closed | undefined> {
  if (r.ws.readyState === WebSocket.OPEN) r.ws.send(frame === undefined ? 'undefined' : JSON.stringify(frame));
  const closed = await Promise.race([r.closed, new Promise<undefined>((res) => setTimeout(() => res(undefined), ms))]);
  if (!closed) { r.ws.close(1000); await r.closed; }
  return closed;
}

async function submitDetached(c: TestCluster, app: string, args: string[]): Promise<string> {
  const r = await c.rlink(['submit', app, '--jm', c.url, '--detached', ...args], 60_000);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').at(-1)!;
}

const allRunning = (j: any) => j?.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));
const ended = (j: any) => ['FINISHED', 'FAILED', 'CANCELED'].includes(j?.state);

async function chaosJob(c: TestCluster, name: string, n: number, rate: number, extra: string[] = []): Promise<{ id: string; out: string; alerts: string; n: number }> {
  const out = join(c.dir, `${name}-out`);
  const alerts = join(c.dir, `${name}-alerts`);
  const id = await submitDetached(c, CHAOS, [`count=${n}`, `rate=${rate}`, `output=${out}`, `alerts=${alerts}`, ...extra]);
  return { id, out, alerts, n };
}

async function expectExact(c: TestCluster, job: { id: string; out: string; alerts: string; n: number }, timeoutMs = 90_000): Promise<any> {
  const j = await waitFor(`job ${job.id} to end`, async () => { const x = await c.get(`/jobs/${job.id}`); return ended(x) ? x : undefined; }, timeoutMs);
  expect(j.state, j.error).toBe('FINISHED');
  expect(readJsonl(job.alerts), 'semantics alerts').toEqual([]);
  expect(canonical(readJsonl(job.out))).toEqual(canonical(reference(job.n)));
  return j;
}

function alive(pid: number): boolean { try { process.kill(pid, 0); return true; } catch { return false; } }

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

describe('a cluster under adversarial input (real processes)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ taskManagers: 1, slots: 2, heartbeatTimeout: '3s', jobManagerArgs: ['--property', 'job.build.timeout=3s'] });
  }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('malformed control messages close the socket with 1007 naming the field; forged ones are ignored; the running job is untouched', async () => {
    const job = await chaosJob(c, 'fuzz', 36_000, 3000);
    const running = await waitFor('the job running', async () => { const j = await c.get(`/jobs/${job.id}`); return allRunning(j) ? j : undefined; });
    const target: FuzzTarget = { jobId: job.id, attempt: 0, vertices: running.vertices.map((v: any) => v.id) };

    // The two messages that made the job manager exit with a TypeError.
    const noSubtask = await provoke(await rogue(c), { type: 'task-state', jobId: job.id, attempt: 0, state: 'FAILED' });
    expect(noSubtask?.code).toBe(1007);
    expect(noSubtask?.reason).toMatch(/task-state\.subtask: expected an object, got undefined/);
    const nullTasks = await provoke(await rogue(c), { type: 'metrics', jobId: job.id, attempt: 0, tasks: null });
    expect(nullTasks?.code).toBe(1007);
    expect(nullTasks?.reason).toMatch(/metrics\.tasks: expected an array of at most 10000 items, got null/);
    // Before registering, anything but register is a policy violation.
    expect((await provoke(await rogue(c, { register: false }), { type: 'heartbeat', taskManagerId: 'x' }))?.code).toBe(1008);

    // Random breakage of every message kind, and forged well-formed messages about the running job.
    const seen = new Map<number | 'open', number>();
    await fc.assert(fc.asyncProperty(mutated(taskManagerSamples(target, 'forger')), async (m) => {
      const closed = await provoke(await rogue(c), m.message);
      seen.set(closed?.code ?? 'open', (seen.get(closed?.code ?? 'open') ?? 0) + 1);
      // Either refused as malformed (or as a second register), or accepted and then ignored.
      if (closed) expect([1007, 1008], m.kind).toContain(closed.code);
      expect((await fetch(`${c.url}/overview`)).status).toBe(200);
    }), { numRuns: 120, seed: 9 });
    expect(seen.get(1007)).toBeGreaterThan(20);
    expect(seen.get('open')).toBeGreaterThan(5);

    expect(alive(c.jobManager.pid)).toBe(true);
    const done = await expectExact(c, job);
    expect(done.restarts ?? 0).toBe(0);
    const jmLog = readFileSync(c.jobManager.log, 'utf8');
    expect(jmLog).toMatch(/"event":"taskmanager.bad-frame"/);
    expect(jmLog).toMatch(/"event":"job.foreign-message"/);
    expect(jmLog).not.toMatch(/TypeError/);
  }, 120_000);

  it('refuses a task manager declaring absurd slots (close 4002, and the CLI flag), without growing', async () => {
    const before = rssMiB(c.jobManager.pid);
    const huge = await provoke(await rogue(c, { register: { slots: 1_000_000_000 } }), undefined, 1000);
    expect(huge?.code).toBe(4002);
    expect(huge?.reason).toMatch(/it offers 1000000000 slots; a task manager offers 1 to 1024/);
    const zero = await provoke(await rogue(c, { register: { slots: 0 } }), undefined, 1000);
    expect(zero?.code).toBe(4002);
    // The largest allowed offer is served as any other, and costs nothing to schedule against.
    const big = await rogue(c, { register: { slots: 1024 } });
    const t0 = performance.now();
    const tms = await c.get('/taskmanagers');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(tms.taskmanagers.find((t: any) => t.id === big.id)?.slotsNumber).toBe(1024);
    big.ws.close(1000);
    await big.closed;
    expect(rssMiB(c.jobManager.pid) - before).toBeLessThan(100);
    const flag = await execa('node', [BIN, 'taskmanager', 'start', '--jm', c.url, '--slots', '1000000000'], { env: c.env, reject: false, timeout: 30_000, stdin: 'ignore' });
    expect(flag.exitCode).not.toBe(0);
    expect(String(flag.stderr)).toMatch(/less than or equal to 1024/);
    // Another protocol version is final (4001).
    const v2 = await provoke(await rogue(c, { register: { version: PROTOCOL_VERSION + 1 } }), undefined, 1000);
    expect(v2?.code).toBe(4001);
    expect(v2?.reason).toBe(`protocol ${PROTOCOL_VERSION + 1} not supported (expected ${PROTOCOL_VERSION})`);
  }, 60_000);

  it('builds off the event loop: a build() busy past job.build.timeout is refused, and nothing else stalls', async () => {
    const job = await chaosJob(c, 'beside-slow-build', 12_000, 3000);
    await waitFor('the job running', async () => (allRunning(await c.get(`/jobs/${job.id}`)) ? true : undefined));
    let worst = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const t0 = performance.now();
        await fetch(`${c.url}/overview`);
        worst = Math.max(worst, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const t0 = Date.now();
    const r = await c.rlink(['submit', join(APPS, 'slow-build.ts'), '--jm', c.url, 'buildMs=12000'], 60_000);
    const took = Date.now() - t0;
    polling = false;
    await poll;
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/did not finish loading and building within 3000 ms \(job\.build\.timeout\)/);
    expect(r.stderr).toMatch(/job\.build\.timeout/);
    expect(r.stderr).toMatch(/3000 ms/);
    expect(took).toBeLessThan(11_000); // refused at the limit, not when the build would have ended
    expect(worst).toBeLessThan(1000); // the REST API answered all along
    const done = await expectExact(c, job);
    expect(done.restarts ?? 0).toBe(0); // no heartbeat was missed (timeout 3 s)
  }, 90_000);

  it('a map stuck in while(true) is cancelled: the watchdog replaces its slot worker, the job is CANCELED, the slot serves the next job', async () => {
    const tm = c.taskManagers[0]!;
    const id = await submitDetached(c, join(APPS, 'spin-forever.ts'), [`output=${join(c.dir, 'spin-out')}`, 'task.cancellation.timeout=1500ms']);
    await waitFor('the job running', async () => (allRunning(await c.get(`/jobs/${id}`)) ? true : undefined));
    await new Promise((r) => setTimeout(r, 500)); // the map is in its loop now
    const t0 = Date.now();
    const cancel = await c.rlink(['job', 'cancel', id, '--jm', c.url], 60_000);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    const j = await waitFor('CANCELED', async () => { const x = await c.get(`/jobs/${id}`); return ended(x) ? x : undefined; }, 30_000);
    expect(j.state).toBe('CANCELED');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(alive(tm.pid)).toBe(true);
    expect(readFileSync(tm.log, 'utf8')).toMatch(/"event":"slot.terminated"/);
    await waitFor('both slots free', async () => ((await c.get('/taskmanagers')).taskmanagers[0]?.freeSlots === 2 ? true : undefined), 10_000);
    await expectExact(c, await chaosJob(c, 'after-spin', 6000, 6000));
  }, 90_000);

  it('fails a job whose build() is not deterministic once, with RLINK_NONDETERMINISTIC_GRAPH', async () => {
    const r = await c.rlink(['submit', join(APPS, 'nondeterministic.ts'), '--jm', c.url, `output=${join(c.dir, 'nondet-out')}`,
      'restart.strategy=fixed-delay', 'restart.attempts=5', 'restart.delay=50ms'], 60_000);
    expect(r.exitCode).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^rlink submit: job nondeterministic \(\w+\) FAILED: .*built a different dataflow here than on the job manager/);
    expect(last).not.toMatch(/Cannot read properties/);
    const id = /\((\w+)\)/.exec(last)![1]!;
    const j = await c.get(`/jobs/${id}`);
    expect(j.errorCode).toBe('RLINK_NONDETERMINISTIC_GRAPH');
    expect(j.restarts ?? 0).toBe(0);
  }, 60_000);

  it('queues a second job while the first holds the slots (Flink slot sharing within a job, not across jobs), or refuses it after slot.request.timeout', async () => {
    const first = await chaosJob(c, 'first', 40_000, 4000);
    await waitFor('the first job running', async () => (allRunning(await c.get(`/jobs/${first.id}`)) ? true : undefined));
    const second = await chaosJob(c, 'second', 3000, 6000);
    expect((await c.get(`/jobs/${second.id}`)).state).toBe('CREATED'); // queued
    const refused = await chaosJob(c, 'refused', 3000, 6000, ['slot.request.timeout=1s']);
    expect((await c.get(`/jobs/${first.id}`)).state).toBe('RUNNING');
    const f = await expectExact(c, first);
    const s = await expectExact(c, second);
    expect(s['start-time']).toBeLessThanOrEqual(f['end-time'] + 1); // submitted while the first ran…
    const r = await waitFor('the refused job', async () => { const x = await c.get(`/jobs/${refused.id}`); return ended(x) ? x : undefined; });
    expect(r.state).toBe('FAILED');
    expect(r.error).toMatch(/waited 1000 ms \(slot\.request\.timeout\) for 2 free slots: 0 of the cluster's 2 are free/);
  }, 120_000);
});
