/**
 * Recovery time after a job-manager SIGKILL (issue 9): two job managers on one metadata directory
 * (high availability) and two task managers, as processes on loopback; a job checkpointing every
 * 500 ms. Measured, each from the SIGKILL until every subtask of the job runs again (restored from
 * its latest checkpoint):
 *
 *   tm-kill       a task manager running the job is killed (replaced): the baseline, same run
 *   jm-restart    the leader is killed and restarted at once on the same address (it takes its own
 *                 lease back without waiting: the restart is process start + recovery)
 *   jm-standby    the leader is killed for good: the standby waits out the lease (--lease-timeout),
 *                 then recovers the job
 *
 *   npm run bench -- jm-recovery            (BENCH_ROUNDS=3, BENCH_LEASE=2s)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'rlink.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LEASE = process.env.BENCH_LEASE ?? '2s';
const dir = mkdtempSync(join(tmpdir(), 'rlink-jm-recovery-'));
const env = { ...process.env, RLINK_TOKEN: randomBytes(24).toString('hex'), RLINK_LOG_LEVEL: 'warn' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function daemon(args: string[]): Promise<{ proc: ChildProcess; ready: Record<string, string> }> {
  const proc = spawn('node', [BIN, ...args, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) { clearTimeout(timer); resolve({ proc, ready: JSON.parse(buf.slice(0, buf.indexOf('\n'))) }); }
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
}

async function get(url: string): Promise<any> {
  try { const r = await fetch(url); return r.ok ? await r.json() : undefined; } catch { return undefined; }
}

const allRunning = (j: any) => j?.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));

async function main(): Promise<void> {
  const procs: ChildProcess[] = [];
  try {
    const ports = [await freePort(), await freePort()];
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const jms: Array<ChildProcess | undefined> = [undefined, undefined];
    const startJm = async (i: number) => {
      const jm = await daemon(['jobmanager', 'start', '--port', String(ports[i]), '--data-dir', join(dir, `jm-${i}`),
        '--metadata-dir', join(dir, 'meta'), '--lease-timeout', LEASE, '--heartbeat-timeout', '5s']);
      procs.push(jm.proc);
      jms[i] = jm.proc;
    };
    const leaderGet = async (path: string) => { for (const u of urls) { const r = await get(`${u}${path}`); if (r) return r; } return undefined; };
    await startJm(0);
    const tms = new Map<string, ChildProcess>();
    const addTm = async () => {
      const tm = await daemon(['taskmanager', 'start', '--jm', urls.join(','), '--slots', '2', '--heartbeat-interval', '200', '--work-dir', join(dir, `tm-${tms.size}-${Date.now()}`)]);
      procs.push(tm.proc);
      tms.set(tm.ready.id!, tm.proc);
    };
    await addTm();
    await addTm();
    const app = join(ROOT, 'test', 'cluster', 'apps', 'paced-windows.ts');
    const submit = spawn('node', [BIN, 'submit', app, '--jm', urls.join(','), '--detached', `output=${join(dir, 'out')}`, 'count=100000000', 'rate=20000',
      'restart.strategy=fixed-delay', 'restart.delay=200ms', 'restart.attempts=100', 'checkpoint.interval=500ms', `checkpoint.dir=${join(dir, 'cp')}`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    submit.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((r) => submit.on('exit', r));
    const jobId = out.trim().split('\n').at(-1)!;

    let checkpoints = 0;
    /** Waits for a checkpoint newer than the last round's, then kills, then times until the job runs again. */
    const round = async (kill: () => Promise<void>): Promise<number> => {
      for (let t = 0; t < 300; t++) {
        const c = await leaderGet(`/jobs/${jobId}/checkpoints`);
        if (c && c.counts.completed > checkpoints && allRunning(await leaderGet(`/jobs/${jobId}`))) { checkpoints = c.counts.completed; break; }
        await sleep(100);
      }
      const before = await leaderGet(`/jobs/${jobId}`);
      const t0 = performance.now();
      await kill();
      for (let t = 0; t < 3000; t++) {
        const j = await leaderGet(`/jobs/${jobId}`);
        if (j && j.attempt > before.attempt && allRunning(j)) break;
        await sleep(20);
      }
      const ms = Math.round(performance.now() - t0);
      checkpoints = 0; // counts restart with a new leader's view
      return ms;
    };

    const results: Record<string, number[]> = { 'tm-kill': [], 'jm-restart': [], 'jm-standby': [] };
    let leader = 0;
    for (let r = 0; r < ROUNDS; r++) {
      results['tm-kill']!.push(await round(async () => {
        const j = await leaderGet(`/jobs/${jobId}`);
        const used = new Set<string>(j.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
        const victim = [...tms.keys()].find((id) => used.has(id))!;
        tms.get(victim)!.kill('SIGKILL');
        tms.delete(victim);
        await addTm();
      }));
      results['jm-restart']!.push(await round(async () => {
        jms[leader]!.kill('SIGKILL');
        await startJm(leader);
      }));
      results['jm-standby']!.push(await round(async () => {
        const standby = 1 - leader;
        if (!jms[standby]) await startJm(standby); // the standby is up before the leader dies
        jms[leader]!.kill('SIGKILL');
        jms[leader] = undefined;
        leader = standby;
      }));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const cps = await leaderGet(`/jobs/${jobId}/checkpoints`);
    process.stdout.write(`${JSON.stringify({
      rounds: ROUNDS, leaseTimeout: LEASE, recoveryMs: results,
      medianMs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])),
      ratioToTmKill: { 'jm-restart': +(median(results['jm-restart']!) / median(results['tm-kill']!)).toFixed(2), 'jm-standby': +(median(results['jm-standby']!) / median(results['tm-kill']!)).toFixed(2) },
      restoredFrom: cps?.latest?.restored ?? null,
    }, null, 2)}\n`);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
