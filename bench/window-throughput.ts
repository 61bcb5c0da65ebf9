/**
 * Single-core throughput of a keyed 1 s tumbling sum/count (20 M records, 1000 keys, 100 records per
 * ms of event time), as a ratio to the same computation written as one plain loop, measured in the
 * same run; and the speed-up of parallelism 2 over 1. Results: bench/RESULTS.md.
 *
 *   npm run bench -- window-throughput            (BENCH_RECORDS=2000000 for a quick look)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import * as api from '../index';
import { installApi, loadAppBundle } from '../core/app/load';
import { bundleApp } from '../core/app/bundle';
import { Props } from '../core/api/props';
import { silentLogger } from '../core/logging';
import { LocalCluster, runLocal } from '../local/local-cluster';
import { buildJob } from '../jobmanager/build/built-job';
import { generate } from './apps/keyed-tumbling-data';

const N = Number(process.env.BENCH_RECORDS ?? 20_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

/**
 * The baseline: the same windows in one loop, no framework. Records are materialised in a reused
 * array of 1024, as any source hands them over; without that, V8 inlines `generate` and never
 * allocates the record at all (reported as `handLoopNoRecords`, a bound no stream processor meets).
 */
function handLoop(n: number, materialise = true, part = 0, parts = 1): { ms: number; windows: number } {
  const t0 = performance.now();
  const batch = new Array<ReturnType<typeof generate>>(1024);
  const panes = new Map<number, Map<number, { sum: number; count: number }>>();
  let results = 0;
  let lastStart = Number.NaN;
  let pane: Map<number, { sum: number; count: number }> | undefined;
  let watermark = -Infinity;
  // Part `part` of `parts` takes every parts-th record (as the generator source's subtasks do).
  const m = Math.ceil((n - part) / parts);
  for (let i = 0; i < m; i++) {
    let r: ReturnType<typeof generate>;
    if (materialise) {
      const j = i & 1023;
      if (j === 0) for (let k = 0; k < 1024 && i + k < m; k++) batch[k] = generate(part + (i + k) * parts);
      r = batch[j]!;
    } else r = generate(part + i * parts);
    const start = r.ts - (r.ts % 1000);
    if (start !== lastStart) {
      pane = panes.get(start);
      if (!pane) { pane = new Map(); panes.set(start, pane); }
      lastStart = start;
    }
    const acc = pane!.get(r.key);
    if (acc) { acc.sum += r.value; acc.count++; } else pane!.set(r.key, { sum: r.value, count: 1 });
    if (r.ts - 1 > watermark) {
      watermark = r.ts - 1;
      for (const [s, p] of panes) {
        if (s + 999 > watermark) break;
        for (const [key, a] of p) { results += ({ key, windowStart: s, windowEnd: s + 1000, sum: a.sum, count: a.count }).count > 0 ? 1 : 0; }
        panes.delete(s);
      }
    }
  }
  for (const [s, p] of panes) for (const [key, a] of p) results += ({ key, windowStart: s, windowEnd: s + 1000, sum: a.sum, count: a.count }).count > 0 ? 1 : 0;
  return { ms: performance.now() - t0, windows: results };
}

/**
 * The machine's own ceiling for parallelism 2: the hand loop in two worker threads, each taking every
 * other record (the keys are i mod 1000, so the halves' windows are disjoint and need no merge). On a
 * machine whose two cores share caches and memory bandwidth, this allocation-heavy loop speeds up far
 * less than 2× (a pure arithmetic loop does ~1.9×); rlink's p2/p1 is read against it.
 */
async function handLoopThreads(n: number, parts: number): Promise<{ ms: number; windows: number }> {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: parts }, (_, part) => new Promise<{ ms: number; windows: number }>((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { handLoop: { n, part, parts } } });
    w.once('message', (r: { ms: number; windows: number }) => { void w.terminate(); resolve(r); });
    w.once('error', reject);
  })));
  // Time inside the threads (as rlink's job duration excludes its slots' start-up).
  return { ms: Math.max(...results.map((r) => r.ms)), windows: results.reduce((a, r) => a + r.windows, 0), wallMs: performance.now() - t0 } as { ms: number; windows: number };
}

async function engine(bundlePath: string, hash: string, parallelism: number, n: number, extra: Record<string, string> = {}): Promise<{ ms: number; recordsOut: number; recordsIn: number; checkpoints: number }> {
  const app = await loadAppBundle(bundlePath);
  const r = await runLocal({
    app, appRef: { kind: 'bundle', path: bundlePath, hash }, props: new Props({ count: String(n), parallelism: String(parallelism), ...extra }),
    logger: silentLogger(),
  });
  if (r.status !== 'FINISHED') throw new Error(`bench job ${r.status}: ${r.error}`);
  return { ms: r.durationMs, recordsOut: r.progress.recordsOut, recordsIn: r.progress.recordsIn, checkpoints: r.checkpoints.completed };
}

/** The same job on a cluster that stays up across runs: its slots' code is already optimised (JIT). */
async function warmEngine(cluster: LocalCluster, bundlePath: string, hash: string, parallelism: number, n: number): Promise<{ ms: number; recordsOut: number }> {
  const app = await loadAppBundle(bundlePath);
  const built = buildJob(app, { count: String(n), parallelism: String(parallelism) });
  const r = await cluster.run(built, { kind: 'bundle', path: bundlePath, hash });
  if (r.status !== 'FINISHED') throw new Error(`bench job ${r.status}: ${r.error}`);
  return { ms: r.durationMs, recordsOut: r.progress.recordsOut };
}

function best<T extends { ms: number }>(runs: T[]): T { return runs.reduce((a, b) => (b.ms < a.ms ? b : a)); }

async function main(): Promise<void> {
  installApi(api);
  const dir = mkdtempSync(join(tmpdir(), 'rlink-bench-'));
  const bundle = await bundleApp(join(import.meta.dirname, 'apps', 'keyed-tumbling.ts'), join(dir, 'app.mjs'));
  // Diagnostic: the same source at parallelism 1 and 2 without a shuffle (generator → filter → sink).
  const forward = await bundleApp(join(import.meta.dirname, 'apps', 'forward-only.ts'), join(dir, 'forward.mjs'));
  const f1: Array<{ ms: number }> = [];
  const f2: Array<{ ms: number }> = [];
  // Checkpoints every second (issue 4): the same job at parallelism 1 with checkpoint.interval=1s.
  const c1: Array<{ ms: number; recordsOut: number; checkpoints: number }> = [];
  const c01: Array<{ ms: number; recordsOut: number; checkpoints: number }> = [];
  const cpDir = join(dir, 'checkpoints');
  const hand: Array<{ ms: number; windows: number }> = [];
  const hand1T: Array<{ ms: number; windows: number }> = [];
  const hand2T: Array<{ ms: number; windows: number }> = [];
  const bare: Array<{ ms: number; windows: number }> = [];
  const p1: Array<{ ms: number; recordsOut: number }> = [];
  const p2: Array<{ ms: number; recordsOut: number }> = [];
  for (let k = 0; k < REPEAT; k++) {
    hand.push(handLoop(N));
    bare.push(handLoop(N, false));
    hand1T.push(await handLoopThreads(N, 1));
    hand2T.push(await handLoopThreads(N, 2));
    p1.push(await engine(bundle.path, bundle.hash, 1, N));
    p2.push(await engine(bundle.path, bundle.hash, 2, N));
    f1.push(await engine(forward.path, forward.hash, 1, N));
    c1.push(await engine(bundle.path, bundle.hash, 1, N, { 'checkpoint.interval': '1s', 'checkpoint.dir': cpDir }));
    c01.push(await engine(bundle.path, bundle.hash, 1, N, { 'checkpoint.interval': '100ms', 'checkpoint.dir': cpDir }));
    f2.push(await engine(forward.path, forward.hash, 2, N));
  }
  // Warm: one embedded cluster with two slots for all runs, after one run of each to warm it up (as
  // JMH-style benchmarks do); the cold figures above start a cluster per job, as `rlink run` does.
  const cluster = await LocalCluster.start({ slots: 2, logger: silentLogger() });
  const w1: Array<{ ms: number; recordsOut: number }> = [];
  const w2: Array<{ ms: number; recordsOut: number }> = [];
  try {
    await warmEngine(cluster, bundle.path, bundle.hash, 2, N);
    await warmEngine(cluster, bundle.path, bundle.hash, 1, N);
    for (let k = 0; k < REPEAT; k++) {
      w1.push(await warmEngine(cluster, bundle.path, bundle.hash, 1, N));
      w2.push(await warmEngine(cluster, bundle.path, bundle.hash, 2, N));
    }
  } finally { await cluster.stop(); }
  rmSync(dir, { recursive: true, force: true });
  if (best(c1).recordsOut !== best(p1).recordsOut) throw new Error('results differ with checkpoints');
  const h = best(hand), e1 = best(p1), e2 = best(p2);
  if (best(hand2T).windows !== h.windows || best(hand1T).windows !== h.windows) throw new Error(`hand loop in threads: ${best(hand1T).windows} / ${best(hand2T).windows} windows, expected ${h.windows}`);
  if (best(w1).recordsOut !== h.windows || best(w2).recordsOut !== h.windows) throw new Error('results differ on the warm cluster');
  if (e1.recordsOut !== h.windows || e2.recordsOut !== h.windows) {
    throw new Error(`results differ: hand loop ${h.windows} windows, rlink p1 ${e1.recordsOut}, p2 ${e2.recordsOut}`);
  }
  const rate = (ms: number) => (N / ms) * 1000;
  const out = {
    records: N, repeat: REPEAT, windows: h.windows,
    handLoop: { ms: Math.round(h.ms), recordsPerSec: Math.round(rate(h.ms)) },
    handLoopNoRecords: { ms: Math.round(best(bare).ms), recordsPerSec: Math.round(rate(best(bare).ms)) },
    rlinkP1: { ms: Math.round(e1.ms), recordsPerSec: Math.round(rate(e1.ms)) },
    rlinkP2: { ms: Math.round(e2.ms), recordsPerSec: Math.round(rate(e2.ms)) },
    ratioP1ToHandLoop: Number((h.ms / e1.ms).toFixed(3)),
    speedupP2OverP1: Number((e1.ms / e2.ms).toFixed(3)),
    // The machine's ceiling: the hand loop on one worker thread vs split over two.
    handLoopThreads: { p1Ms: Math.round(best(hand1T).ms), p2Ms: Math.round(best(hand2T).ms), speedupP2OverP1: Number((best(hand1T).ms / best(hand2T).ms).toFixed(3)) },
    warm: {
      p1Ms: Math.round(best(w1).ms), p2Ms: Math.round(best(w2).ms),
      ratioP1ToHandLoop: Number((h.ms / best(w1).ms).toFixed(3)),
      speedupP2OverP1: Number((best(w1).ms / best(w2).ms).toFixed(3)),
      runs: { p1: w1.map((r) => Math.round(r.ms)), p2: w2.map((r) => Math.round(r.ms)) },
    },
    speedupShareOfCeiling: Number(((e1.ms / e2.ms) / (best(hand1T).ms / best(hand2T).ms)).toFixed(3)),
    withCheckpoints1s: { ms: Math.round(best(c1).ms), recordsPerSec: Math.round(rate(best(c1).ms)), checkpoints: best(c1).checkpoints, ratioToNoCheckpoints: Number((e1.ms / best(c1).ms).toFixed(3)) },
    withCheckpoints100ms: { ms: Math.round(best(c01).ms), recordsPerSec: Math.round(rate(best(c01).ms)), checkpoints: best(c01).checkpoints, ratioToNoCheckpoints: Number((e1.ms / best(c01).ms).toFixed(3)) },
    noShuffle: { p1Ms: Math.round(best(f1).ms), p2Ms: Math.round(best(f2).ms), speedupP2OverP1: Number((best(f1).ms / best(f2).ms).toFixed(3)) },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

if (isMainThread) await main();
else {
  const { n, part, parts } = (workerData as { handLoop: { n: number; part: number; parts: number } }).handLoop;
  parentPort!.postMessage(handLoop(n, true, part, parts));
}
