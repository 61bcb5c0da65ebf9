// Whole jobs with Kafka through the real CLI (`node bin/rlink.js run <app>`), against librdkafka's
// mock cluster on loopback (test/kafka/broker.ts); kcat writes the inputs and reads Kafka outputs.
// The apps are written to a temporary directory (an app anywhere on disk works with no install).
//
// The mock does not apply transactions (see sink.test.ts): the exactly-once job below shows the sink
// committing with the engine's checkpoints and the final commit at the end of input, with the output
// exact in a run without failures; exactly-once ACROSS failures is proven with the file sink.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, rlink, tempDir } from '../../test/helpers/cli';
import { kafkaTestGate, kcatConsume, kcatProduce, startMockBroker, type MockBroker } from '../../test/kafka/broker.js';

const kafka = await kafkaTestGate();

const WINDOW_APP = `
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sum, sources, sinks } from 'rlink';

export default defineApp({
  name: 'kafka-clicks',
  build(env, props) {
    env.fromSource(sources.kafka({ brokers: props.get('brokers'), topic: props.get('topic'), bounded: 'latest' }), {
      parallelism: 2,
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('ts'),
    })
      .keyBy('user')
      .window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ clicks: count(), total: sum('amount') }, { parallelism: 2 })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
`;

const COPY_APP = `
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'kafka-copy',
  build(env, props) {
    env.fromSource(sources.kafka({ brokers: props.get('brokers'), topic: props.get('input'), bounded: 'latest' }), { parallelism: 2 })
      .map((r) => ({ ...r, doubled: r.amount * 2 }))
      .sinkTo(sinks.kafka({ brokers: props.get('brokers'), topic: props.get('output'), guarantee: 'exactly-once', key: 'user', transactionalIdPrefix: 'copy' }), { parallelism: 2 });
  },
});
`;

const UNREACHABLE_APP = `
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'kafka-unreachable',
  build(env, props) {
    env.fromSource(sources.kafka({ brokers: props.get('brokers'), topic: 'clicks', bounded: 'latest', retryTimeout: props.get('kafka.retry') }))
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
`;

interface Click { user: string; ts: number; amount: number }

/** Clicks per partition: per-partition event time increases with up to 0.5 s of disorder (bound: 1 s). */
function clicks(partitions: number, perPartition: number): Click[][] {
  const start = Date.UTC(2026, 0, 1);
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: perPartition }, (_, i) => ({
    user: `u${(i * 7 + p) % 5}`,
    ts: start + i * 150 + p * 37 - ((i * 7919) % 500),
    amount: (i * 31 + p) % 100,
  })));
}

/** What the window app computes: per user and 10 s tumbling window, count and sum of amount. */
function expectedWindows(records: Click[]): unknown[] {
  const m = new Map<string, { user: string; windowStart: number; windowEnd: number; clicks: number; total: number }>();
  for (const r of records) {
    const start = r.ts - (((r.ts % 10_000) + 10_000) % 10_000);
    const k = `${r.user}@${start}`;
    let a = m.get(k);
    if (!a) m.set(k, a = { user: r.user, windowStart: start, windowEnd: start + 10_000, clicks: 0, total: 0 });
    a.clicks += 1;
    a.total += r.amount;
  }
  return [...m.values()];
}

describe.skipIf(!kafka.ok)('Kafka jobs through the CLI (mock broker)', () => {
  let broker: MockBroker;
  const dirs: string[] = [];
  const dir = () => { const d = tempDir('rlink-kafka-job-'); dirs.push(d); return d; };

  beforeAll(async () => { broker = await startMockBroker(); });
  afterAll(async () => {
    await broker?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('sources.kafka (bounded latest, 2 subtasks over 3 partitions) → keyed tumbling window → sinks.file equals the expected computation', async () => {
    await broker.createTopic('clicks', 3);
    const data = clicks(3, 400);
    for (let p = 0; p < 3; p++) {
      const lines = data[p]!.map((c) => JSON.stringify(c));
      if (p === 1) lines.splice(200, 0, 'this is not json'); // counted, logged, skipped: the job still finishes
      await kcatProduce(broker.bootstrap, 'clicks', lines, { partition: p });
    }
    const d = dir();
    const app = join(d, 'kafka-clicks.ts');
    writeFileSync(app, WINDOW_APP);
    const out = join(d, 'out');
    const r = await rlink(['run', app, `brokers=${broker.bootstrap}`, 'topic=clicks', `output=${out}`, 'checkpoint.interval=300ms', `checkpoint.dir=${join(d, 'cp')}`], { timeoutMs: 90_000 });
    if (r.exitCode !== 0) throw new Error(`rlink run exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    expect(r.stdout).toMatch(/FINISHED kafka-clicks in [\d.]+s/);
    const got = readJsonl(out);
    expect(canonical(got)).toEqual(canonical(expectedWindows(data.flat())));
    expect(r.stderr).toContain('invalid record skipped at clicks-1@200');
  }, 120_000);

  it('sources.kafka → map → sinks.kafka exactly-once: transactions committed with the checkpoints; kcat reads exactly the output', async () => {
    await broker.createTopic('copy-in', 3);
    await broker.createTopic('copy-out', 4);
    const data = clicks(3, 300);
    for (let p = 0; p < 3; p++) await kcatProduce(broker.bootstrap, 'copy-in', data[p]!.map((c) => JSON.stringify(c)), { partition: p });
    const d = dir();
    const app = join(d, 'kafka-copy.ts');
    writeFileSync(app, COPY_APP);
    const r = await rlink(['run', app, `brokers=${broker.bootstrap}`, 'input=copy-in', 'output=copy-out', 'checkpoint.interval=200ms', `checkpoint.dir=${join(d, 'cp')}`],
      { timeoutMs: 90_000, env: { RLINK_LOG_LEVEL: 'debug' } });
    if (r.exitCode !== 0) throw new Error(`rlink run exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-5000)}`);
    const lines = await kcatConsume(broker.bootstrap, 'copy-out', { format: '%k %s\n' });
    const got = lines.map((l) => { const i = l.indexOf(' '); return { key: l.slice(0, i), value: JSON.parse(l.slice(i + 1)) as Click & { doubled: number } }; });
    expect(canonical(got.map((g) => g.value))).toEqual(canonical(data.flat().map((c) => ({ ...c, doubled: c.amount * 2 }))));
    for (const g of got) expect(g.key).toBe(g.value.user);
    // Transactions named copy-<operator>-<subtask>-<n> were committed (debug log of the sink).
    const commits = r.stderr.split('\n').filter((l) => l.includes('committed transaction copy-'));
    expect(commits.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('an unreachable broker fails the job after the retries, with one line naming the brokers', async () => {
    const d = dir();
    const app = join(d, 'kafka-unreachable.ts');
    writeFileSync(app, UNREACHABLE_APP);
    const t0 = Date.now();
    const r = await rlink(['run', app, 'brokers=127.0.0.1:1', 'kafka.retry=2s', `output=${join(d, 'out.jsonl')}`, 'restart.strategy=none'], { timeoutMs: 60_000 });
    expect(r.exitCode, r.stdout).not.toBe(0);
    // (stderr also has the log; the command's own failure is one line.)
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('rlink run:'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^rlink run: job kafka-unreachable FAILED: .*kafka source: cannot reach the Kafka brokers 127\.0\.0\.1:1 \(topic 'clicks'\) within 2(\.\d)? s, retried with back-off: .*ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});
