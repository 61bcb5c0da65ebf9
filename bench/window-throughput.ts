/**
 * Single-core throughput of a keyed 1 s tumbling sum/count (20 M records, 1000 keys, 100 records per
 * ms of event time), as a ratio to the same computation written as one plain loop, measured in the
 * same run; and the speed-up of parallelism 2 over 1. Results: bench/RESULTS.md.
 *
 *   npm run bench -- window-throughput            (BENCH_RECORDS=2000000 for a quick look)
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import * as api from '../index';
import { installApi, loadAppBundle } from '../core/app/load';
import { bundleApp } from '../core/app/bundle';
import { Props } from '../core/api/props';
import { silentLogger } from '../core/logging';
import { runLocal } from '../local/local-cluster';
import { generate } from './apps/keyed-tumbling-data';

const N = Number(process.env.BENCH_RECORDS ?? 20_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

/**
 * The baseline: the same windows in one loop, no framework. Records are materialised in a reused
 * array of 1024, as any source hands them over; without that, V8 inlines `generate` and never
 * allocates the record at all (reported as `handLoopNoRecords`, a bound no stream processor meets).
 */
function handLoop(n: number, materialise = true): { ms: number; windows: number } {
  const t0 = performance.now();
  const batch = new Array<ReturnType<typeof generate>>(1024);
  const panes = new Map<number, Map<number, { sum: number; count: number }>>();
  let results = 0;
  let lastStart = Number.NaN;
  let pane: Map<number, { sum: number; count: number }> | undefined;
  let watermark = -Infinity;
  for (let i = 0; i < n; i++) {
    let r: ReturnType<typeof generate>;
    if (materialise) {
      const j = i & 1023;
      if (j === 0) for (let k = 0; k < 1024 && i + k < n; k++) batch[k] = generate(i + k);
      r = batch[j]!;
    } else r = generate(i);
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

async function engine(bundlePath: string, hash: string, parallelism: number, n: number, extra: Record<string, string> = {}): Promise<{ ms: number; recordsOut: number; recordsIn: number; checkpoints: number }> {
  const app = await loadAppBundle(bundlePath);
  const r = await runLocal({
    app, appRef: { kind: 'bundle', path: bundlePath, hash }, props: new Props({ count: String(n), parallelism: String(parallelism), ...extra }),
    logger: silentLogger(),
  });
  if (r.status !== 'FINISHED') throw new Error(`bench job ${r.status}: ${r.error}`);
  return { ms: r.durationMs, recordsOut: r.progress.recordsOut, recordsIn: r.progress.recordsIn, checkpoints: r.checkpoints.completed };
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
  const bare: Array<{ ms: number; windows: number }> = [];
  const p1: Array<{ ms: number; recordsOut: number }> = [];
  const p2: Array<{ ms: number; recordsOut: number }> = [];
  for (let k = 0; k < REPEAT; k++) {
    hand.push(handLoop(N));
    bare.push(handLoop(N, false));
    p1.push(await engine(bundle.path, bundle.hash, 1, N));
    p2.push(await engine(bundle.path, bundle.hash, 2, N));
    f1.push(await engine(forward.path, forward.hash, 1, N));
    c1.push(await engine(bundle.path, bundle.hash, 1, N, { 'checkpoint.interval': '1s', 'checkpoint.dir': cpDir }));
    c01.push(await engine(bundle.path, bundle.hash, 1, N, { 'checkpoint.interval': '100ms', 'checkpoint.dir': cpDir }));
    f2.push(await engine(forward.path, forward.hash, 2, N));
  }
  rmSync(dir, { recursive: true, force: true });
  if (best(c1).recordsOut !== best(p1).recordsOut) throw new Error('results differ with checkpoints');
  const h = best(hand), e1 = best(p1), e2 = best(p2);
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
    withCheckpoints1s: { ms: Math.round(best(c1).ms), recordsPerSec: Math.round(rate(best(c1).ms)), checkpoints: best(c1).checkpoints, ratioToNoCheckpoints: Number((e1.ms / best(c1).ms).toFixed(3)) },
    withCheckpoints100ms: { ms: Math.round(best(c01).ms), recordsPerSec: Math.round(rate(best(c01).ms)), checkpoints: best(c01).checkpoints, ratioToNoCheckpoints: Number((e1.ms / best(c01).ms).toFixed(3)) },
    noShuffle: { p1Ms: Math.round(best(f1).ms), p2Ms: Math.round(best(f2).ms), speedupP2OverP1: Number((best(f1).ms / best(f2).ms).toFixed(3)) },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

await main();
