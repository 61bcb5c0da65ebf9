// The Kafka source across a failure, in a cluster of real processes (test/cluster/cluster.ts): a task
// manager running the job is SIGKILLed after a checkpoint; the job restarts from the checkpoint, the
// source resumes every partition from its checkpointed offset (and stops at the end offsets of the
// first start), and the exactly-once file sink's committed output equals the fault-free computation.
// The broker is librdkafka's mock cluster on loopback (test/kafka/broker.ts); kcat writes the input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl } from '../../test/helpers/cli';
import { startCluster, type TestCluster, waitFor } from '../../test/cluster/cluster';
import { kafkaTestGate, kcatProduce, startMockBroker, type MockBroker } from '../../test/kafka/broker.js';

const kafka = await kafkaTestGate();

const APP = `
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, count, sum, sources, sinks } from 'rlink';

export default defineApp({
  name: 'kafka-failover',
  build(env, props) {
    const spinMs = props.getNumber('spinMs', 0);
    env.fromSource(sources.kafka({ brokers: props.get('brokers'), topic: props.get('topic'), bounded: 'latest' }), {
      parallelism: 2,
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('ts'),
    })
      // Slow enough for a kill in the middle: the records themselves are unchanged.
      .map((r) => { const end = performance.now() + spinMs; while (performance.now() < end) { /* spin */ } return r; })
      .keyBy('k')
      .window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ n: count(), s: sum('v') }, { parallelism: 2 })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
`;

interface Rec { k: number; ts: number; v: number }

function data(partitions: number, per: number): Rec[][] {
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: per }, (_, i) => ({ k: (i + p) % 11, ts: i * 20 + p, v: (i * 7 + p) % 13 })));
}

function expected(records: Rec[]): unknown[] {
  const m = new Map<string, { k: number; windowStart: number; windowEnd: number; n: number; s: number }>();
  for (const r of records) {
    const ws = r.ts - (r.ts % 10_000);
    const key = `${r.k}|${ws}`;
    const a = m.get(key) ?? { k: r.k, windowStart: ws, windowEnd: ws + 10_000, n: 0, s: 0 };
    a.n++; a.s += r.v;
    m.set(key, a);
  }
  return [...m.values()];
}

describe.skipIf(!kafka.ok)('Kafka source across a task-manager SIGKILL (cluster of real processes)', () => {
  let broker: MockBroker;
  let c: TestCluster;
  beforeAll(async () => {
    broker = await startMockBroker();
    c = await startCluster({ taskManagers: 3, slots: 2, heartbeatTimeout: '1500ms' });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    await broker?.stop();
  });

  it('restores the partitions’ offsets from the latest checkpoint: the committed output is exact', async () => {
    const input = data(3, 3000);
    await broker.createTopic('failover', 3);
    for (let p = 0; p < 3; p++) await kcatProduce(broker.bootstrap, 'failover', input[p]!.map((r) => JSON.stringify(r)), { partition: p });
    const app = join(c.dir, 'kafka-failover.ts');
    writeFileSync(app, APP);
    const out = join(c.dir, 'kafka-failover-out');
    const r = await c.rlink(['submit', app, '--jm', c.url, '--detached', `brokers=${broker.bootstrap}`, 'topic=failover', `output=${out}`, 'spinMs=1', 'pipeline.batch-size=50',
      'restart.strategy=fixed-delay', 'restart.delay=200ms', 'checkpoint.interval=300ms', `checkpoint.dir=${join(c.dir, 'kafka-checkpoints')}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const jobId = r.stdout.trim().split('\n').at(-1)!;
    await waitFor('a completed checkpoint', async () => ((await c.get(`/jobs/${jobId}/checkpoints`)).counts?.completed > 0 ? true : undefined));
    const job = await c.get(`/jobs/${jobId}`);
    expect(job.state).toBe('RUNNING'); // killed in the middle, not after the end
    const used = new Set<string>(job.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s.taskmanager)));
    const victim = c.taskManagers.find((t) => t.id !== undefined && used.has(t.id) && t.proc.exitCode === null)!;
    process.kill(victim.pid, 'SIGKILL');
    const done = await waitFor('the job to end', async () => {
      const j = await c.get(`/jobs/${jobId}`);
      return ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
    }, 60_000);
    expect(done.state, JSON.stringify(done.error)).toBe('FINISHED');
    expect(done.restarts).toBeGreaterThanOrEqual(1);
    const cps = await c.get(`/jobs/${jobId}/checkpoints`);
    expect(cps.counts.restored).toBeGreaterThanOrEqual(1);
    expect(canonical(readJsonl(out))).toEqual(canonical(expected(input.flat())));
  }, 120_000);
});
