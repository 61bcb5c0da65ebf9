/**
 * Recovery time after a task-manager SIGKILL (issue 4; floor: running again within 10 s): a job
 * manager and three task managers as processes on loopback, a checkpointed job on two of them; a
 * task manager running it is killed, and the time until every subtask of the job runs again (restored
 * from its latest checkpoint) is measured. Repeated KILLS times, replacing the killed task manager.
 *
 *   npm run bench -- recovery-time            (BENCH_KILLS=3)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'rlink.js');
const KILLS = Number(process.env.BENCH_KILLS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'rlink-recovery-'));
const env = { ...process.env, RLINK_TOKEN: randomBytes(24).toString('hex'), RLINK_LOG_LEVEL: 'warn' };

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

async function get(url: string): Promise<any> { return (await fetch(url)).json(); }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const procs: ChildProcess[] = [];
  try {
    const jm = await daemon(['jobmanager', 'start', '--port', '0', '--data-dir', join(dir, 'jm')]);
    procs.push(jm.proc);
    const url = jm.ready.url!;
    const tms = new Map<string, ChildProcess>();
    const addTm = async () => {
      const tm = await daemon(['taskmanager', 'start', '--jm', url, '--slots', '2', '--work-dir', join(dir, `tm-${tms.size}-${Date.now()}`)]);
      procs.push(tm.proc);
      tms.set(tm.ready.id!, tm.proc);
    };
    for (let i = 0; i < 3; i++) await addTm();
    const app = join(ROOT, 'test', 'cluster', 'apps', 'paced-windows.ts');
    const submit = spawn('node', [BIN, 'submit', app, '--jm', url, '--detached', `output=${join(dir, 'out')}`, 'count=100000000', 'rate=20000',
      'restart.strategy=fixed-delay', 'restart.delay=200ms', 'restart.attempts=100', 'checkpoint.interval=500ms', `checkpoint.dir=${join(dir, 'cp')}`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let jobId = '';
    submit.stdout!.on('data', (d: Buffer) => { jobId += d.toString(); });
    await new Promise((r) => submit.on('exit', r));
    jobId = jobId.trim().split('\n').at(-1)!;
    const allRunning = (j: any) => j.state === 'RUNNING' && j.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING'));
    const times: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      for (let t = 0; t < 300; t++) { const c = await get(`${url}/jobs/${jobId}/checkpoints`); if (c.counts.completed > k) break; await sleep(100); }
      const before = await get(`${url}/jobs/${jobId}`);
      const used = new Set<string>(before.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
      const victim = [...tms.keys()].find((id) => used.has(id))!;
      const t0 = Date.now();
      tms.get(victim)!.kill('SIGKILL');
      tms.delete(victim);
      for (let t = 0; t < 600; t++) {
        const j = await get(`${url}/jobs/${jobId}`);
        if (j.attempt > before.attempt && allRunning(j)) break;
        await sleep(20);
      }
      times.push(Date.now() - t0);
      await addTm(); // a replacement, so the next kill has somewhere to go
    }
    await fetch(`${url}/jobs/${jobId}?mode=cancel`, { method: 'PATCH', headers: { authorization: `Bearer ${env.RLINK_TOKEN}` } });
    const cps = await get(`${url}/jobs/${jobId}/checkpoints`);
    process.stdout.write(`${JSON.stringify({ kills: KILLS, recoveryMs: times, maxMs: Math.max(...times), floorMs: 10_000, restoredFrom: cps.latest.restored }, null, 2)}\n`);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
