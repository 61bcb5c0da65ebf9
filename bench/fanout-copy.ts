/**
 * What a fan-out costs (a stream with several consumers in one chain hands every consumer but the
 * last a deep copy of each batch: core/runtime/copy-batch.ts), each as a ratio in the same run:
 *
 *   copy:  copyBatch vs structuredClone (how the copy was made before) on Nexmark events (mixed
 *          shapes, padded strings) and on flat {key, ts, value} records (the columnar path), ns/record;
 *   job:   Nexmark events → two filters (a fan-out: one copy per batch) vs → one process function with
 *          a side output (no copy), embedded cluster, parallelism 1, best of REPEAT.
 *
 *   npm run bench -- fanout-copy        # BENCH_EVENTS=2000000 BENCH_REPEAT=3
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
import { copyBatch } from '../core/runtime/copy-batch';
import { nexmarkGenerator } from './nexmark/generator';
import { batch as flatBatch } from './apps/shuffle-data';

const N = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

function perRecord(batches: unknown[][], copy: (b: unknown[]) => unknown[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const t0 = performance.now();
    for (let k = 0; k < 4; k++) for (const b of batches) n += copy(b).length;
    best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
  }
  return Math.round(best);
}

async function main(): Promise<void> {
  installApi(api);
  const generate = nexmarkGenerator({ eventsPerSecond: 100_000 });
  const nexmark = Array.from({ length: 64 }, (_, b) => Array.from({ length: 1024 }, (_, i) => generate(b * 1024 + i)) as unknown[]);
  const flat = Array.from({ length: 64 }, (_, b) => flatBatch(b % 16) as unknown[]);
  const copy: Record<string, { copyBatchNs: number; structuredCloneNs: number; speedup: number }> = {};
  for (const [name, batches] of [['nexmark', nexmark], ['flat', flat]] as const) {
    const sc = perRecord(batches, (b) => structuredClone(b));
    const cb = perRecord(batches, copyBatch);
    copy[name] = { copyBatchNs: cb, structuredCloneNs: sc, speedup: Number((sc / cb).toFixed(2)) };
  }

  const dir = mkdtempSync(join(tmpdir(), 'rlink-fanout-'));
  const bundle = await bundleApp(join(import.meta.dirname, 'apps', 'fanout.ts'), join(dir, 'fanout.mjs'));
  const app = await loadAppBundle(bundle.path);
  const runs: Record<string, number[]> = { filters: [], split: [] };
  for (let k = 0; k < REPEAT; k++) {
    for (const mode of ['split', 'filters']) {
      const r = await runLocal({ app, appRef: { kind: 'bundle', path: bundle.path, hash: bundle.hash }, props: new Props({ mode, events: String(N), parallelism: '1' }), logger: silentLogger() });
      if (r.status !== 'FINISHED' || r.progress.recordsIn !== N) throw new Error(`fanout ${mode}: ${r.status} ${r.error ?? ''}`);
      runs[mode]!.push(r.durationMs);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const filters = Math.min(...runs.filters!), split = Math.min(...runs.split!);
  process.stdout.write(`${JSON.stringify({ events: N, repeat: REPEAT, copy, job: { splitMs: split, filtersMs: filters, filtersOverSplit: Number((filters / split).toFixed(2)), runs } }, null, 2)}\n`);
}

await main();
