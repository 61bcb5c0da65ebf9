// The Kafka sink against a real Kafka-protocol broker: librdkafka's mock cluster on loopback
// (test/kafka/broker.ts), with kcat as the independent client that reads the outputs back. Each
// test uses its own topic and is bounded in time.
//
// THE MOCK'S LIMIT, and what is tested because of it: librdkafka's mock cluster (2.0.2) accepts
// transactions but does not apply them. EndTxn only checks the producer id; no commit/abort markers
// are written; read_committed consumers see records of aborted and of still-open transactions; and
// re-initialising a transactional.id does not abort the transaction it left open (it also always
// answers epoch 0). So the exactly-once sink is tested here for its PROTOCOL SEQUENCE, against the
// real mock broker, through a recording wrapper around its transaction backend: begin on the first
// write after a checkpoint → sends → prepare (no commit) → EndTxn(commit) only on commit(); on
// open(restored): fence (InitProducerId) the transactional ids after the restored checkpoint — never
// the ids of the restored committables, which the sink operator then commits through commit(). End-to-end exactly-once across
// failures is proven through the file sink (the chaos test), not here.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RlinkError } from '../../core/errors';
import { memoryLogger, testContext } from '../testing/context';
import { kafkaTestGate, kcatConsume, startMockBroker, type MockBroker } from '../../test/kafka/broker.js';
import { ExactlyOnceKafkaWriter, kafkaSink, resolveSinkOptions, type KafkaSinkOptions } from './sink';
import { KafkaTransactionBackend, type BackendOptions, type KafkaCommittable, type TransactionBackend } from './transactions';

const kafka = await kafkaTestGate();

/** A transaction backend that records every protocol step before doing it against the broker. */
function recording(steps: string[]): (o: BackendOptions) => TransactionBackend {
  return (o) => {
    const real = new KafkaTransactionBackend(o);
    return {
      connect: () => real.connect(),
      async begin(id) {
        steps.push(`begin ${id}`);
        const t = await real.begin(id);
        return {
          transactionalId: t.transactionalId, producerId: t.producerId, producerEpoch: t.producerEpoch,
          send: async (m) => { steps.push(`send ${id} ${m.length}`); await t.send(m); },
          abort: async () => { steps.push(`abort ${id}`); await t.abort(); },
        };
      },
      async fence(id) { steps.push(`fence ${id}`); return real.fence(id); },
      async commit(c) { steps.push(`commit ${c.transactionalId}`); return real.commit(c); },
      close: () => real.close(),
    };
  };
}

describe.skipIf(!kafka.ok)('kafka sink (mock broker)', () => {
  let broker: MockBroker;
  let seq = 0;
  const closers: Array<() => Promise<void> | void> = [];

  beforeAll(async () => { broker = await startMockBroker(); });
  afterEach(async () => { for (const c of closers.splice(0)) await c(); });
  afterAll(async () => { await broker?.stop(); });

  async function newTopic(partitions = 3): Promise<string> {
    const topic = `sink-${++seq}`;
    await broker.createTopic(topic, partitions);
    return topic;
  }

  function writer(opts: Omit<KafkaSinkOptions, 'brokers'>, over: Parameters<typeof testContext>[0] = {}) {
    const ctx = testContext(over);
    const w = kafkaSink({ brokers: broker.bootstrap, ...opts }).createWriter(ctx);
    closers.push(() => w.close());
    return { ctx, writer: w };
  }

  const recs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ user: `u${(from + i) % 4}`, n: from + i }));

  it('guarantee none: fire-and-forget batches; a checkpoint flushes; kcat reads back every record', async () => {
    const topic = await newTopic();
    const { ctx, writer: w } = writer({ topic, guarantee: 'none', key: 'user' });
    await w.open();
    const all = recs(250);
    for (let i = 0; i < all.length; i += 50) {
      const r = w.write(all.slice(i, i + 50), all.slice(i, i + 50).map((x) => 1_700_000_000_000 + x.n));
      expect(r).toBeUndefined(); // not waited for
    }
    expect(await w.prepareCommit(1)).toBeNull();
    await w.commit([null]);
    const lines = await kcatConsume(broker.bootstrap, topic, { format: '%k|%T|%s\n' });
    expect(lines).toHaveLength(250);
    const got = lines.map((l) => { const [k, t, v] = l.split('|'); return { k, t: Number(t), v: JSON.parse(v!) as { user: string; n: number } }; });
    expect(got.map((g) => g.v).sort((a, b) => a.n - b.n)).toEqual(all);
    for (const g of got) {
      expect(g.k).toBe(g.v.user); // key field
      expect(g.t).toBe(1_700_000_000_000 + g.v.n); // event time as the Kafka timestamp
    }
    // Same key, same partition.
    const byKey = new Map<string, Set<string>>();
    const parts = await kcatConsume(broker.bootstrap, topic, { format: '%k %p\n' });
    for (const l of parts) { const [k, p] = l.split(' '); (byKey.get(k!) ?? byKey.set(k!, new Set()).get(k!)!).add(p!); }
    for (const s of byKey.values()) expect(s.size).toBe(1);
    expect(ctx.metrics.bytesOut).toBeGreaterThan(0);
  }, 30_000);

  it('guarantee at-least-once: write() resolves once the batch is acknowledged; strings are written as is', async () => {
    const topic = await newTopic(1);
    const { writer: w } = writer({ topic, guarantee: 'at-least-once', key: (r) => (typeof r === 'string' ? r.slice(0, 1) : null) });
    await w.open();
    const p = w.write(['alpha', 'beta', 'gamma'], [NaN, NaN, NaN]);
    expect(p).toBeInstanceOf(Promise);
    await p;
    // Acknowledged: already readable before any checkpoint.
    expect(await kcatConsume(broker.bootstrap, topic, { format: '%k %s\n' })).toEqual(['a alpha', 'b beta', 'g gamma']);
    await w.write([{ x: 1 }, 2, null, [3]], [0, 0, 0, 0]);
    expect(await w.prepareCommit(1)).toBeNull();
    expect(await kcatConsume(broker.bootstrap, topic)).toEqual(['alpha', 'beta', 'gamma', '{"x":1}', '2', 'null', '[3]']);
  }, 30_000);

  it('exactly-once: begin → sends → prepare (no commit) → commit on commit(); a restore aborts lingering transactions and commits the restored ones', async () => {
    const topic = await newTopic();
    const steps: string[] = [];
    const opts = resolveSinkOptions({ brokers: broker.bootstrap, topic, guarantee: 'exactly-once', transactionalIdPrefix: 'eo' });
    const ctx = testContext({ operatorId: 'snk', subtaskIndex: 0, parallelism: 1 });
    const id = (s: number, n: number) => `eo-snk-${s}-${n}`;

    // A fresh start: the ids a crashed earlier attempt may have used are fenced (this subtask's, and
    // those of subtask 1 in case the job ran at a higher parallelism before).
    const w1 = new ExactlyOnceKafkaWriter(opts, ctx, recording(steps));
    closers.push(() => w1.close());
    await w1.open();
    expect(steps).toEqual([1, 2, 3, 4, 5].map((n) => `fence ${id(0, n)}`).concat([1, 2, 3, 4, 5].map((n) => `fence ${id(1, n)}`)));
    steps.length = 0;

    // Checkpoint 1: one transaction, begun on the first write.
    await w1.write(recs(3), [1, 2, 3]);
    await w1.write(recs(2, 3), [4, 5]);
    const c1 = await w1.prepareCommit(1) as KafkaCommittable;
    expect(steps).toEqual([`begin ${id(0, 1)}`, `send ${id(0, 1)} 3`, `send ${id(0, 1)} 2`]);
    expect(c1).toMatchObject({ transactionalId: id(0, 1), checkpointId: 1, records: 5 });
    expect(typeof c1.producerId).toBe('string');
    expect(typeof c1.producerEpoch).toBe('number');
    // Nothing written between checkpoints 1 and 2: no transaction, nothing to commit.
    expect(await w1.prepareCommit(2)).toBeNull();
    // After checkpoint 2 the next transaction is named after it; checkpoint 1 completes meanwhile.
    await w1.write(recs(4, 5), [6, 7, 8, 9]);
    expect(steps.slice(3)).toEqual([`begin ${id(0, 3)}`, `send ${id(0, 3)} 4`]);
    await w1.commit([c1, null]);
    expect(steps.slice(5)).toEqual([`commit ${id(0, 1)}`]);
    const c3 = await w1.prepareCommit(3) as KafkaCommittable;
    expect(c3).toMatchObject({ transactionalId: id(0, 3), checkpointId: 3, records: 4 });
    // The attempt goes on after checkpoint 3 and crashes before it completes: c3 is never committed
    // by it, and a transaction it began after checkpoint 3 is left open.
    await w1.write(recs(1, 9), [10]);
    expect(steps.slice(6)).toEqual([`begin ${id(0, 4)}`, `send ${id(0, 4)} 1`]);
    expect(steps.filter((s) => s.startsWith('commit'))).toEqual([`commit ${id(0, 1)}`]);

    // The job restores checkpoint 3 (it had completed on the job manager), as the sink operator does
    // it: open(restored) fences the ids after 3 — never id 3 or earlier — then commit(committables).
    steps.length = 0;
    const mem = memoryLogger();
    const ctx2 = testContext({ operatorId: 'snk', subtaskIndex: 0, parallelism: 1, attempt: 1, logger: mem.logger });
    const w2 = new ExactlyOnceKafkaWriter(opts, ctx2, recording(steps));
    closers.push(() => w2.close());
    const restored = JSON.parse(JSON.stringify({ prepared: [[3, c3]], restoredCheckpointId: 3 })) as { prepared: Array<[number, KafkaCommittable]> };
    await w2.open(restored);
    expect(steps).toEqual([4, 5, 6, 7, 8].map((n) => `fence ${id(0, n)}`).concat([4, 5, 6, 7, 8].map((n) => `fence ${id(1, n)}`)));
    steps.length = 0;
    await w2.commit(restored.prepared.map(([, c]) => c));
    expect(steps).toEqual([`commit ${id(0, 3)}`]);
    // Committing the same committable again (a notification repeated after the restore): a no-op with a log line.
    steps.length = 0;
    await w2.commit([c3]);
    expect(steps).toEqual([]);
    expect(mem.lines().some((l) => String(l.msg).includes(`transaction ${id(0, 3)} (checkpoint 3) is already committed`))).toBe(true);
    // Writing goes on with the transaction after the restored checkpoint.
    await w2.write(recs(1, 9), [10]);
    expect(steps).toEqual([`begin ${id(0, 4)}`, `send ${id(0, 4)} 1`]);
    const c4 = await w2.prepareCommit(4) as KafkaCommittable;
    await w2.commit([c4]);
    expect(steps.slice(2)).toEqual([`commit ${id(0, 4)}`]);
    await w2.close();
    // What reached the broker (the mock keeps aborted records too: it does not apply transactions).
    const got = (await kcatConsume(broker.bootstrap, topic)).map((l) => (JSON.parse(l) as { n: number }).n).sort((a, b) => a - b);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
  }, 60_000);

  it('exactly-once at another parallelism: each subtask fences its ids and those of old subtasks k + p, k + 2p …', async () => {
    const topic = await newTopic();
    const opts = resolveSinkOptions({ brokers: broker.bootstrap, topic, guarantee: 'exactly-once', transactionalIdPrefix: 'rs' });
    const steps: string[][] = [[], []];
    const ws = [0, 1].map((k) => new ExactlyOnceKafkaWriter(opts, testContext({ operatorId: 'o', subtaskIndex: k, parallelism: 2 }), recording(steps[k]!)));
    for (const w of ws) closers.push(() => w.close());
    // Every writer is handed all old subtasks' committables; subtask 0 alone commits them (the sink operator's rule).
    const fake = (s: number): KafkaCommittable => ({ transactionalId: `rs-o-${s}-7`, producerId: '1', producerEpoch: 0, checkpointId: 7, records: 1 });
    const old = [0, 1, 2].map(fake);
    for (const w of ws) await w.open({ prepared: old.map((c) => [7, c]), restoredCheckpointId: 7 });
    await ws[0]!.commit(old);
    const fences = (k: number) => steps[k]!.filter((s) => s.startsWith('fence ')).map((s) => s.slice(6));
    // (On a real broker the probe of old subtask 2 finds its ids used (epoch > 0) and goes on to 4; the
    // mock always answers epoch 0, so each chain stops after the first subtask beyond this one.)
    expect(fences(0)).toEqual([0, 2].flatMap((s) => [8, 9, 10, 11, 12].map((n) => `rs-o-${s}-${n}`)));
    expect(fences(1)).toEqual([1, 3].flatMap((s) => [8, 9, 10, 11, 12].map((n) => `rs-o-${s}-${n}`)));
    // The committables' ids (n = 7) are never fenced: opening never commits, subtask 0's commit does.
    expect(steps[1]!.filter((s) => !s.startsWith('fence '))).toEqual([]);
    expect(steps[0]!.filter((s) => !s.startsWith('fence '))).toEqual(['commit rs-o-0-7', 'commit rs-o-1-7', 'commit rs-o-2-7']);
  }, 60_000);

  it('exactly-once: committing a transaction that is already over is a no-op with a log line', async () => {
    const topic = await newTopic(1);
    const mem = memoryLogger();
    const opts = resolveSinkOptions({ brokers: broker.bootstrap, topic, guarantee: 'exactly-once' });
    const w = new ExactlyOnceKafkaWriter(opts, testContext({ logger: mem.logger }));
    closers.push(() => w.close());
    await w.open();
    // A producer id the coordinator does not know (expired, or the transaction long completed).
    await w.commit([{ transactionalId: 'test-job-op-1-0-99', producerId: '424242', producerEpoch: 3, checkpointId: 99, records: 1 }]);
    const warn = mem.lines().find((l) => String(l.msg).includes('is already over'));
    expect(warn).toMatchObject({ transactionalId: 'test-job-op-1-0-99', checkpointId: 99, type: 'UNKNOWN_PRODUCER_ID' });
  }, 30_000);

  it('exactly-once: default transactional ids are <jobId>-<operatorId>-<subtask>-<n>', () => {
    const w = new ExactlyOnceKafkaWriter(resolveSinkOptions({ brokers: 'h:1', topic: 't', guarantee: 'exactly-once' }), testContext({ jobId: 'job7', operatorId: 'sink-3', subtaskIndex: 2, parallelism: 4 }));
    expect(w.transactionalId(2, 5)).toBe('job7-sink-3-2-5');
  });

  it('an unreachable broker: a clear error naming the brokers within the bound', async () => {
    for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
      const w = kafkaSink({ brokers: ['127.0.0.1:1'], topic: 't', guarantee, retryTimeout: '1500ms' }).createWriter(testContext());
      const t0 = Date.now();
      const err = await Promise.resolve(w.open()).then(() => undefined, (e: unknown) => e);
      await w.close();
      expect(err).toBeInstanceOf(RlinkError);
      expect((err as Error).message).toMatch(/^kafka sink: cannot reach the Kafka brokers 127\.0\.0\.1:1 \(topic 't'\) within 1\.\d s/);
      expect(Date.now() - t0).toBeLessThan(5_000);
    }
  }, 30_000);
});

describe('kafka sink: options', () => {
  it('rejects bad options with clear messages', () => {
    expect(() => kafkaSink({ brokers: 'h:1', topic: 't', guarantee: 'maybe' as never })).toThrow(/guarantee/);
    expect(() => kafkaSink({ brokers: [], topic: 't', guarantee: 'none' })).toThrow(/brokers/);
    expect(() => kafkaSink({ brokers: 'h:1', topic: '', guarantee: 'none' })).toThrow(/topic/);
    expect(() => kafkaSink({ brokers: 'h:1', topic: 't', guarantee: 'none', key: 3 as never })).toThrow(/key/);
    expect(() => kafkaSink({ brokers: 'h:1', topic: 't', guarantee: 'exactly-once', transactionalIdPrefix: '' })).toThrow(/transactionalIdPrefix/);
    expect(() => kafkaSink({ brokers: 'h:1', topic: 't', guarantee: 'exactly-once', transactionTimeout: '10ms' })).toThrow(/transactionTimeout/);
  });

  it('describes itself', () => {
    expect(kafkaSink({ brokers: 'h:1', topic: 't', guarantee: 'exactly-once', key: 'user' }).describe())
      .toEqual({ kind: 'kafka', brokers: 'h:1', topic: 't', guarantee: 'exactly-once', transactionalIdPrefix: null, key: 'user' });
  });
});
