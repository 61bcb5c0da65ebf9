/**
 * Scale-out across task-manager processes (issue 10): the keyed 1 s tumbling sum/count of
 * bench/window-throughput.ts (20 M generated records, 1000 keys) submitted to a cluster of real
 * processes on loopback — a job manager and one task manager with one slot, job at parallelism 1
 * (the baseline, same run) — then to a job manager and two task managers with one slot each, job at
 * parallelism 2 (every keyBy channel between the two processes goes over the data plane). Time is
 * the job's own (REST start-time to end-time), so process start-up is left out. Both clusters stay
 * up: one cold run each, then REPEAT runs alternating between them; best of those (and the cold pair).
 *
 *   npm run bench -- window-cluster           (BENCH_RECORDS=5000000 BENCH_REPEAT=1 for a quick look)
 *   BENCH_PHASES=one                          single-phase aggregation (pipeline.aggregation-phases)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'rlink.js');
const N = Number(process.env.BENCH_RECORDS ?? 20_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const PHASES = process.env.BENCH_PHASES ?? 'auto';
const dir = mkdtempSync(join(tmpdir(), 'rlink-window-cluster-'));
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

interface Cluster { run(): Promise<{ ms: number; windows: number }>; stop(): Promise<void> }

/** Starts a job manager and `tms` task managers of one slot each; `run` runs the job at `parallelism`. */
async function cluster(tms: number, parallelism: number): Promise<Cluster> {
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const p of procs) p.kill('SIGKILL');
  };
  try {
    const jm = await daemon(['jobmanager', 'start', '--port', '0', '--data-dir', join(dir, `jm-${tms}`)]);
    procs.push(jm.proc);
    const url = jm.ready.url!;
    for (let i = 0; i < tms; i++) {
      const tm = await daemon(['taskmanager', 'start', '--jm', url, '--slots', '1', '--work-dir', join(dir, `tm-${tms}-${i}`)]);
      procs.push(tm.proc);
    }
    for (let t = 0; t < 200 && (await get(`${url}/taskmanagers`)).taskmanagers.length < tms; t++) await new Promise((r) => setTimeout(r, 50));
    const run = async () => {
      const submit = spawn('node', [BIN, 'submit', join(ROOT, 'bench', 'apps', 'keyed-tumbling.ts'), '--jm', url, '--json',
        `count=${N}`, `parallelism=${parallelism}`, `pipeline.aggregation-phases=${PHASES}`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      submit.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      const code = await new Promise<number | null>((r) => submit.on('exit', r));
      if (code !== 0) throw new Error(`submit exited ${code}: ${out}`);
      const result = JSON.parse(out.slice(out.search(/^\{/m))) as { jobId: string };
      const j = await get(`${url}/jobs/${result.jobId}`);
      if (j.state !== 'FINISHED') throw new Error(`job ${j.state}: ${j.error}`);
      return { ms: j['end-time'] - j['start-time'], windows: j.vertices.at(-1).metrics['records-written'] as number };
    };
    return { run, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main(): Promise<void> {
  const clusters: Cluster[] = [];
  try {
    // Both clusters stay up; the first job on each is its cold run (its slot's code not optimised
    // yet), then the two alternate, so a slower spell of the machine hits both alike.
    const one = await cluster(1, 1);
    clusters.push(one);
    const two = await cluster(2, 2);
    clusters.push(two);
    const cold = { one: await one.run(), two: await two.run() };
    const oneMs: number[] = [], twoMs: number[] = [];
    for (let k = 0; k < REPEAT; k++) {
      const a = await one.run(), b = await two.run();
      if (a.windows !== cold.one.windows || b.windows !== cold.one.windows) throw new Error(`results differ: ${a.windows} windows at p1, ${b.windows} at p2`);
      oneMs.push(a.ms); twoMs.push(b.ms);
    }
    const best = (xs: number[]) => Math.min(...xs);
    const rate = (ms: number) => Math.round((N / ms) * 1000);
    process.stdout.write(`${JSON.stringify({
      records: N, repeat: REPEAT, phases: PHASES, windows: cold.one.windows,
      oneTaskManagerOneSlot: { ms: best(oneMs), recordsPerSec: rate(best(oneMs)), runs: oneMs, coldMs: cold.one.ms },
      twoTaskManagersOneSlotEach: { ms: best(twoMs), recordsPerSec: rate(best(twoMs)), runs: twoMs, coldMs: cold.two.ms },
      speedup: Number((best(oneMs) / best(twoMs)).toFixed(3)),
      coldSpeedup: Number((cold.one.ms / cold.two.ms).toFixed(3)),
      floor: 1.5,
    }, null, 2)}\n`);
  } finally {
    for (const c of clusters) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
