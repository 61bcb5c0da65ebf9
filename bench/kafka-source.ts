/**
 * Kafka source throughput (issue 4; floor 0.8): rlink's `sources.kafka` against a raw kafkajs consumer
 * reading the same topic from the same broker, in the same run. Results: bench/RESULTS.md.
 *
 * librdkafka's mock cluster (test/kafka/broker.ts) on loopback with a topic of 4 partitions, filled
 * with N JSON records `{ key, ts, value }` (~41 bytes) by a kafkajs producer (acks 1, one record batch
 * of BENCH_PRODUCE_BATCH / 4 records per partition and request). The mock keeps 5 MiB per partition
 * (measured: ~107 k of these records; older ones are dropped), so the bench checks that every
 * partition still starts at offset 0 and holds all its records. Then, best of BENCH_REPEAT each:
 *   - raw (the baseline): a kafkajs consumer (bench/apps/kafka-raw-consumer.ts: eachBatch, no
 *     auto-commit, a fresh group each time) on a fresh worker thread, as cold as each rlink job's task
 *     thread, reads the topic from the beginning, JSON.parses and counts every value; timed from its
 *     first batch to the N-th record (the consumer-group join, ~3 s fixed on the mock, is reported
 *     apart); the same consumer on the bench's main thread (warm after its first run) for information;
 *   - rlink p1: `sources.kafka({ bounded: 'latest', format: 'json' })` → a counting sink at
 *     parallelism 1 (bench/apps/kafka-count.ts) with runLocal in threads mode (one worker thread, the
 *     `rlink run` path), timed by the sink from its first to its last record (the raw consumer's
 *     span); the job's whole duration is reported too, with the engine's fixed cost measured by the
 *     same job on a topic of 4 records, so the ratio is also computed as raw / (job − fixed cost);
 *   - rlink p2 (for information): the same at parallelism 2 (two worker threads, 2 partitions each).
 * Every run must see exactly N records with the right checksum (sum of `value`); every step is
 * bounded in time (BENCH_RUN_TIMEOUT_MS per run, 15 min in all); the broker is stopped at the end.
 *
 *   npm run bench -- kafka-source            (BENCH_RECORDS=300000 BENCH_REPEAT=3 BENCH_PRODUCE_BATCH=4000)
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { Kafka, logLevel } from 'kafkajs';
import * as api from '../index';
import { installApi, loadAppBundle } from '../core/app/load';
import { bundleApp } from '../core/app/bundle';
import { Props } from '../core/api/props';
import { silentLogger } from '../core/logging';
import { runLocal } from '../local/local-cluster';
import { generate } from './apps/keyed-tumbling-data';
import type { SinkReport } from './apps/kafka-count';
import { readAll, type RawRun } from './apps/kafka-raw-consumer';

const ROOT = join(import.meta.dirname, '..');
const N = Number(process.env.BENCH_RECORDS ?? 300_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const PARTITIONS = 4;
const TOPIC = 'bench-records';
/** The fixed-cost job reads this topic: one record per partition. */
const TINY_TOPIC = 'bench-tiny';
/** Records per producer request (one record batch per partition: PRODUCE_BATCH / PARTITIONS records). */
const PRODUCE_BATCH = Number(process.env.BENCH_PRODUCE_BATCH ?? 4000);
/** Any single run (a consumer read, a job) longer than this fails the bench. */
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_MS ?? 60_000);
/** The whole bench, as a last resort. */
const TOTAL_TIMEOUT_MS = 15 * 60_000;

const now = (): number => performance.timeOrigin + performance.now();

/** Rejects when `p` takes longer than `ms`; `onTimeout` may cancel the work. */
function within<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => { onTimeout?.(); reject(new Error(`${what}: no result within ${ms} ms`)); }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

type BrokerModule = typeof import('../test/kafka/broker');

/**
 * test/kafka/broker.ts finds its binary through import.meta.dirname, which tools/run-bench.mjs
 * defines as bench/ for everything it bundles: bundle the helper on its own, with its own directory.
 */
async function loadBrokerHelpers(dir: string): Promise<BrokerModule> {
  const out = join(dir, 'kafka-broker.mjs');
  await build({
    entryPoints: [join(ROOT, 'test', 'kafka', 'broker.ts')], outfile: out, bundle: true, format: 'esm', platform: 'node',
    target: 'node20', packages: 'external', logLevel: 'warning',
    define: { 'import.meta.dirname': JSON.stringify(join(ROOT, 'test', 'kafka')) },
  });
  return await import(pathToFileURL(out).href) as BrokerModule;
}

const value = (i: number): string => JSON.stringify(generate(i));

/** Writes `n` records round-robin over the partitions with a kafkajs producer (acks 1, batches). */
async function fill(kafka: Kafka, topic: string, n: number): Promise<{ ms: number; bytes: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await within(producer.connect(), 20_000, 'producer connect');
  const t0 = now();
  let bytes = 0;
  try {
    for (let i = 0; i < n; i += PRODUCE_BATCH) {
      const messages: Array<{ partition: number; value: string }> = [];
      for (let j = i; j < Math.min(n, i + PRODUCE_BATCH); j++) {
        const v = value(j);
        bytes += v.length;
        messages.push({ partition: j % PARTITIONS, value: v });
      }
      await within(producer.send({ topic, acks: 1, messages }), 20_000, `producing records ${i}..${i + messages.length - 1}`);
    }
  } finally {
    await within(producer.disconnect(), 10_000, 'producer disconnect').catch(() => undefined);
  }
  return { ms: now() - t0, bytes };
}

/** The topic holds exactly records 0..n-1 of every partition: nothing trimmed by the mock's retention. */
async function checkTopic(kafka: Kafka, topic: string, n: number): Promise<void> {
  const admin = kafka.admin();
  await within(admin.connect(), 20_000, 'admin connect');
  try {
    const offsets = await within(admin.fetchTopicOffsets(topic), 20_000, 'fetchTopicOffsets');
    const total = offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
    const trimmed = offsets.filter((o) => Number(o.low) !== 0);
    if (trimmed.length > 0 || total !== n || offsets.length !== PARTITIONS) {
      throw new Error(`topic ${topic} holds ${total} records, not ${n} (offsets ${JSON.stringify(offsets)}); ` +
        'the mock keeps a few MB per partition: lower BENCH_RECORDS');
    }
  } finally {
    await within(admin.disconnect(), 10_000, 'admin disconnect').catch(() => undefined);
  }
}

/** The baseline on a fresh worker thread (as cold as an rlink job's task thread). */
async function rawInWorker(script: string, brokers: string[], n: number): Promise<RawRun> {
  const worker = new Worker(script, { workerData: { kind: 'kafka-raw-consumer', brokers, topic: TOPIC, n, timeoutMs: RUN_TIMEOUT_MS } });
  try {
    const r = await within(new Promise<RawRun | { error: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`raw consumer worker exited (${code}) without a result`)));
    }), RUN_TIMEOUT_MS + 15_000, 'raw consumer worker');
    if ('error' in r) throw new Error(r.error);
    return r;
  } finally {
    await worker.terminate();
  }
}

interface RlinkRun { spanMs: number; jobMs: number; wallMs: number; count: number; sum: number; recordsIn: number; recordsOut: number; invalid: number }

async function rlinkJob(bundle: { path: string; hash: string }, topic: string, parallelism: number, brokers: string): Promise<RlinkRun> {
  const app = await loadAppBundle(bundle.path);
  const channel = `rlink-bench-${randomUUID()}`;
  const reports: SinkReport[] = [];
  const bc = new BroadcastChannel(channel);
  bc.onmessage = (e) => { reports.push((e as { data: SinkReport }).data); };
  let cancel: (() => void) | undefined;
  try {
    const t0 = now();
    const r = await within(runLocal({
      app, appRef: { kind: 'bundle', path: bundle.path, hash: bundle.hash }, mode: 'threads',
      props: new Props({ brokers, topic, parallelism: String(parallelism), channel }),
      logger: silentLogger(), onStarted: (j) => { cancel = j.cancel; },
    }), RUN_TIMEOUT_MS, `rlink job (parallelism ${parallelism}, topic ${topic})`, () => cancel?.());
    const wallMs = now() - t0;
    if (r.status !== 'FINISHED') throw new Error(`bench job ${r.status}: ${r.error}`);
    for (let t = 0; reports.length < parallelism; t++) {
      if (t > 500) throw new Error(`only ${reports.length} of ${parallelism} sink reports arrived`);
      await new Promise((res) => setTimeout(res, 10));
    }
    const withData = reports.filter((x) => x.count > 0);
    const spanMs = withData.length === 0 ? 0 : Math.max(...withData.map((x) => x.last)) - Math.min(...withData.map((x) => x.first));
    return {
      spanMs, jobMs: r.durationMs, wallMs,
      count: reports.reduce((s, x) => s + x.count, 0), sum: reports.reduce((s, x) => s + x.sum, 0),
      recordsIn: r.progress.recordsIn, recordsOut: r.progress.recordsOut, invalid: r.progress.invalidRecords,
    };
  } finally {
    bc.close();
  }
}

function checkRlink(what: string, r: RlinkRun, n: number, sum: number): void {
  if (r.count !== n || r.sum !== sum || r.recordsIn !== n || r.recordsOut !== n || r.invalid !== 0) {
    throw new Error(`${what}: expected ${n} records (sum ${sum}), got ${JSON.stringify(r)}`);
  }
}

function min(xs: number[]): number { return Math.min(...xs); }
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const round = (x: number): number => Math.round(x);
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const ratio = (x: number): number => Number(x.toFixed(3));

async function main(): Promise<void> {
  installApi(api);
  const dir = mkdtempSync(join(tmpdir(), 'rlink-bench-kafka-'));
  const { startMockBroker } = await loadBrokerHelpers(dir);
  const broker = await startMockBroker({ topics: [{ name: TOPIC, partitions: PARTITIONS }, { name: TINY_TOPIC, partitions: PARTITIONS }], maxSeconds: TOTAL_TIMEOUT_MS / 1000 });
  try {
    if (!broker.brokers.every((b) => b.startsWith('127.0.0.1:'))) throw new Error(`broker not on loopback: ${broker.bootstrap}`);
    const kafka = new Kafka({ clientId: 'rlink-bench', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const filled = await fill(kafka, TOPIC, N);
    await fill(kafka, TINY_TOPIC, PARTITIONS);
    await checkTopic(kafka, TOPIC, N);
    await checkTopic(kafka, TINY_TOPIC, PARTITIONS);
    let expectedSum = 0;
    for (let i = 0; i < N; i++) expectedSum += generate(i).value;
    let tinySum = 0;
    for (let i = 0; i < PARTITIONS; i++) tinySum += generate(i).value;

    const bundle = await bundleApp(join(import.meta.dirname, 'apps', 'kafka-count.ts'), join(dir, 'kafka-count.mjs'));
    const rawScript = join(ROOT, 'dist', 'bench', 'kafka-raw-consumer.js');
    await build({
      entryPoints: [join(import.meta.dirname, 'apps', 'kafka-raw-consumer.ts')], outfile: rawScript, bundle: true, format: 'esm',
      platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning',
    });
    const checkRaw = (what: string, r: RawRun): RawRun => {
      if (r.count !== N || r.sum !== expectedSum) throw new Error(`${what}: expected ${N} records (sum ${expectedSum}), got ${r.count} (sum ${r.sum})`);
      return r;
    };
    const raw: RawRun[] = [], rawMain: RawRun[] = [], p1: RlinkRun[] = [], p2: RlinkRun[] = [], tiny: RlinkRun[] = [];
    for (let k = 0; k < REPEAT; k++) {
      raw.push(checkRaw('raw consumer (worker thread)', await rawInWorker(rawScript, broker.brokers, N)));
      rawMain.push(checkRaw('raw consumer (main thread)', await readAll(broker.brokers, TOPIC, N, RUN_TIMEOUT_MS)));
      const a = await rlinkJob(bundle, TOPIC, 1, broker.bootstrap);
      checkRlink('rlink p1', a, N, expectedSum);
      p1.push(a);
      const b = await rlinkJob(bundle, TOPIC, 2, broker.bootstrap);
      checkRlink('rlink p2', b, N, expectedSum);
      p2.push(b);
      const t = await rlinkJob(bundle, TINY_TOPIC, 1, broker.bootstrap);
      checkRlink('rlink tiny job', t, PARTITIONS, tinySum);
      tiny.push(t);
    }

    const rawMs = min(raw.map((x) => x.ms));
    const rawMainMs = min(rawMain.map((x) => x.ms));
    const p1Span = min(p1.map((x) => x.spanMs));
    const p1Job = min(p1.map((x) => x.jobMs));
    const p2Span = min(p2.map((x) => x.spanMs));
    const startup = min(tiny.map((x) => x.jobMs));
    const paired = raw.map((r, k) => ratio(r.ms / p1[k]!.spanMs));
    const rawOut = (runs: RawRun[]) => {
      const ms = min(runs.map((x) => x.ms));
      return {
        ms: round(ms), recordsPerSec: rate(N, ms), groupJoinMs: round(min(runs.map((x) => x.joinMs))),
        totalMs: round(min(runs.map((x) => x.totalMs))), runsMs: runs.map((x) => round(x.ms)), batches: runs[0]!.batches,
      };
    };
    const rlinkOut = (runs: RlinkRun[]) => {
      const ms = min(runs.map((x) => x.spanMs));
      return {
        ms: round(ms), recordsPerSec: rate(N, ms), jobMs: round(min(runs.map((x) => x.jobMs))),
        runsMs: runs.map((x) => round(x.spanMs)), runsJobMs: runs.map((x) => round(x.jobMs)),
      };
    };
    const out = {
      records: N, partitions: PARTITIONS, repeat: REPEAT, recordBytes: Number((filled.bytes / N).toFixed(1)),
      recordsPerProducerBatch: Math.min(N, PRODUCE_BATCH) / PARTITIONS,
      broker: `librdkafka ${broker.librdkafka} mock cluster, loopback`,
      fill: { ms: round(filled.ms), recordsPerSec: rate(N, filled.ms) },
      // The baseline: a fresh worker thread per run, as each rlink job's task gets.
      raw: rawOut(raw),
      // For information: the bench's main thread (warm JIT after its first run).
      rawMainThread: rawOut(rawMain),
      rlinkP1: rlinkOut(p1),
      rlinkP2: rlinkOut(p2),
      tinyJob: { records: PARTITIONS, jobMs: round(startup), runsJobMs: tiny.map((x) => round(x.jobMs)) },
      // The headline: the same span on both sides (first record handed over to the last).
      ratioP1ToRaw: ratio(rawMs / p1Span),
      // Each repetition runs raw and p1 back to back: their ratio per repetition, and the median.
      pairedRatiosP1ToRaw: paired, medianPairedRatioP1ToRaw: ratio(median(paired)),
      // The other way: the job's whole duration minus the fixed cost of the same job on 4 records.
      ratioP1JobMinusStartupToRaw: ratio(rawMs / (p1Job - startup)),
      ratioP1ToRawMainThread: ratio(rawMainMs / p1Span),
      ratioP2ToRaw: ratio(rawMs / p2Span),
      speedupP2OverP1: ratio(p1Span / p2Span),
      floor: 0.8,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`kafka-source bench: not done after ${TOTAL_TIMEOUT_MS / 1000} s, giving up\n`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
watchdog.unref();
try {
  await main();
} catch (e) {
  process.stderr.write(`kafka-source bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
}
// Anything still open (a kafkajs socket, a worker) must not keep the process alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
