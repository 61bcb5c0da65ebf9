/**
 * Nexmark on the embedded cluster: queries q0 (pass-through), q1 (currency conversion), q2
 * (selection), q5 (hot items), q7 (highest bid) and q8 (new persons who opened an auction in the
 * window they registered in: a window join) — bench/nexmark/queries/*.ts — each at parallelism 1
 * and 2 over the same N generated events (bench/nexmark/generator.ts, 100 000 events per second of
 * event time, as the nexmark project's V2 workload), with a sink that only counts.
 *
 * Reported per query and parallelism: wall time from job start to FINISHED (rlink run's job, deploy
 * included), events/s (all events the source generated, as Nexmark counts them), events/s per slot
 * (÷ parallelism), and events per CPU-second (process CPU time of all threads: the slot workers, the
 * job manager on the main thread, GC), which is what Nexmark's "Throughput/Cores" measures. Flink's
 * published figures per core are given beside them as context, not as a like-for-like comparison.
 * A plain loop calling the generator alone gives the source's own ceiling on this machine.
 *
 *   npm run bench -- nexmark          # BENCH_EVENTS=4000000 BENCH_REPEAT=3 BENCH_QUERIES=q0,q5 BENCH_RATE=100000
 *                                     # BENCH_PROPS="key=value …" extra job properties
 *
 * Each configuration runs BENCH_REPEAT times (the queries and parallelisms interleaved) and the
 * fastest run is reported, with its CPU time: about 3 minutes on 2 cores with the defaults.
 *
 * Writes nothing but JSON to stdout. Results: bench/RESULTS.md.
 */
import { join } from 'node:path';
import { tmpdir, loadavg, availableParallelism } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import * as api from '../index';
import { installApi, loadAppBundle } from '../core/app/load';
import { bundleApp, type Bundle } from '../core/app/bundle';
import { Props } from '../core/api/props';
import { silentLogger } from '../core/logging';
import { runLocal } from '../local/local-cluster';
import { nexmarkGenerator, type NexmarkEvent } from './nexmark/generator';

const N = Number(process.env.BENCH_EVENTS ?? 4_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 100_000);
const QUERIES = (process.env.BENCH_QUERIES ?? 'q0,q1,q2,q5,q7,q8').split(',').map((q) => q.trim()).filter(Boolean);
const PARALLELISMS = [1, 2];
/** Extra job properties, `key=value` separated by spaces (e.g. pipeline.aggregation-local.skip-ratio=1000). */
const EXTRA_PROPS = Object.fromEntries((process.env.BENCH_PROPS ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

/**
 * Flink's throughput per core from the nexmark project's published run (github.com/nexmark/nexmark,
 * GUIDE_V2.md, "Benchmark Results", commit e115ef9 of 2025-03-02): Flink 2.0, 8 task managers with 1
 * slot each (parallelism 8) on 4 × 16-core machines, RocksDB with incremental checkpoints every 30 s,
 * mini-batch, 50 M events measured after 150 M of warm-up; Throughput ÷ Cores (the CPU the task
 * managers used). The older V1 table (README, Flink 1.13) gave 155 K, 158 K, 175 K, 22.1 K, 12.3 K.
 */
const FLINK = {
  source: 'github.com/nexmark/nexmark GUIDE_V2.md (Flink 2.0, parallelism 8, RocksDB, checkpoints every 30 s): Throughput / Cores',
  perCore: {
    q0: { throughput: 2_650_000, cores: 7 },
    q1: { throughput: 2_860_000, cores: 7.24 },
    q2: { throughput: 2_950_000, cores: 7.13 },
    q5: { throughput: 920_400, cores: 12.35 },
    q7: { throughput: 262_460, cores: 11.45 },
    q8: { throughput: 2_080_000, cores: 12.83 },
  } as Record<string, { throughput: number; cores: number }>,
};

interface Run { ms: number; cpuMs: number; recordsOut: number; recordsIn: number }

async function engine(bundle: Bundle, parallelism: number): Promise<Run> {
  const app = await loadAppBundle(bundle.path);
  const cpu0 = process.cpuUsage();
  const r = await runLocal({
    app, appRef: { kind: 'bundle', path: bundle.path, hash: bundle.hash },
    props: new Props({ ...EXTRA_PROPS, events: String(N), parallelism: String(parallelism), eventsPerSecond: String(RATE) }),
    logger: silentLogger(),
  });
  const cpu = process.cpuUsage(cpu0);
  if (r.status !== 'FINISHED') throw new Error(`bench job ${app.name} p${parallelism} ${r.status}: ${r.error}`);
  if (r.progress.recordsIn !== N) throw new Error(`bench job ${app.name} p${parallelism} read ${r.progress.recordsIn} of ${N} events`);
  return { ms: r.durationMs, cpuMs: (cpu.user + cpu.system) / 1000, recordsOut: r.progress.recordsOut, recordsIn: r.progress.recordsIn };
}

/** The generator alone in a plain loop, records materialised 1024 at a time as a source hands them over. */
function generatorLoop(n: number): { ms: number } {
  const generate = nexmarkGenerator({ eventsPerSecond: RATE });
  const batch = new Array<NexmarkEvent>(1024);
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const e = generate(i);
    batch[i & 1023] = e;
    sink += e.dateTime & 1;
  }
  const ms = performance.now() - t0;
  if (sink < 0) throw new Error('unreachable');
  return { ms };
}

const best = <T extends { ms: number }>(runs: T[]): T => runs.reduce((a, b) => (b.ms < a.ms ? b : a));
const round = (x: number, digits = 0) => Number(x.toFixed(digits));

async function main(): Promise<void> {
  installApi(api);
  const load = { start: loadavg().map((x) => round(x, 2)), end: [] as number[] };
  const dir = mkdtempSync(join(tmpdir(), 'rlink-nexmark-'));
  const bundles = new Map<string, Bundle>();
  for (const q of QUERIES) bundles.set(q, await bundleApp(join(import.meta.dirname, 'nexmark', 'queries', `${q}.ts`), join(dir, `${q}.mjs`)));

  const generator: Array<{ ms: number }> = [];
  const runs = new Map<string, Run[]>();
  for (let k = 0; k < REPEAT; k++) {
    generator.push(generatorLoop(N));
    for (const q of QUERIES) {
      for (const p of PARALLELISMS) {
        const key = `${q}/p${p}`;
        const r = await engine(bundles.get(q)!, p);
        runs.set(key, [...(runs.get(key) ?? []), r]);
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  load.end = loadavg().map((x) => round(x, 2));

  const rate = (ms: number) => (N / ms) * 1000;
  const queries = QUERIES.map((q) => {
    const byP = PARALLELISMS.map((p) => {
      const r = best(runs.get(`${q}/p${p}`)!);
      return {
        parallelism: p, ms: Math.round(r.ms), results: r.recordsOut,
        eventsPerSec: Math.round(rate(r.ms)),
        eventsPerSecPerSlot: Math.round(rate(r.ms) / p),
        cpuSeconds: round(r.cpuMs / 1000, 2),
        coresUsed: round(r.cpuMs / r.ms, 2),
        eventsPerCpuSecond: Math.round(N / (r.cpuMs / 1000)),
      };
    });
    const [p1, p2] = byP as [typeof byP[number], typeof byP[number]];
    if (p1.results !== p2.results) throw new Error(`${q}: ${p1.results} results at parallelism 1, ${p2.results} at parallelism 2`);
    const flink = FLINK.perCore[q];
    return {
      query: q, results: p1.results, p1, p2,
      speedupP2OverP1: round(p1.ms / p2.ms, 3),
      flinkPerCore: flink ? Math.round(flink.throughput / flink.cores) : null,
    };
  });
  const g = best(generator);
  const out = {
    events: N, eventsPerSecondOfEventTime: RATE, repeat: REPEAT, props: EXTRA_PROPS, cores: availableParallelism(), loadAverage: load,
    generatorLoop: { ms: Math.round(g.ms), eventsPerSec: Math.round(rate(g.ms)) },
    queries,
    flink: { source: FLINK.source, perCore: Object.fromEntries(Object.entries(FLINK.perCore).map(([q, f]) => [q, Math.round(f.throughput / f.cores)])) },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

await main();
