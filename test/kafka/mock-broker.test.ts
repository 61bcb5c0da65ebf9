// The Kafka test broker: librdkafka's mock cluster (test/kafka/mock-broker.c) on loopback, with
// kcat as an independent client. This file checks the helper itself and MEASURES the mock's
// limits, so that Kafka connector tests know what they can and cannot prove against it.
//
// Versions measured: librdkafka 2.0.2 (Debian bookworm librdkafka-dev 2.0.2-1), kcat 1.7.1
// (Debian 1.7.1-2), and — in a scratch install, see the last test — kafkajs 2.2.4.
//
// What the mock is: a real Kafka-protocol server (in memory, loopback, ephemeral ports — 2.0.2 has
// no API to choose a port) with produce, fetch, list offsets, consumer groups (join/sync/heartbeat,
// offset commit/fetch), idempotent and transactional produce. Broker ids are 1..N.
//
// Measured limits (each asserted below, so an upgraded librdkafka that changes one fails here):
//  1. No CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, ListGroups, DescribeGroups,
//     DeleteRecords… : ApiVersions offers only Produce, Fetch, ListOffsets, Metadata (v0–2 only),
//     OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup,
//     ApiVersions, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit.
//     Create topics through the helper: startMockBroker({ topics }) or broker.createTopic().
//  2. Unknown topics are auto-created with 4 partitions by ANY metadata request that names them —
//     a producer's, and a consumer's too (Metadata v2 has no AllowAutoTopicCreation flag, and
//     the mock ignores broker settings). So "topic does not exist" cannot be tested here: a source
//     reading a missing topic sees an empty 4-partition topic.
//  3. Metadata reports controller id 0, a broker that does not exist. Client features that go to
//     the controller fail: kafkajs admin.createTopics/deleteTopics ("Broker 0 not found in the
//     cached metadata") and kafkajs `producer({ idempotent: true })` (its InitProducerId goes to the
//     controller). A kafkajs transactional producer works — WITHOUT `idempotent: true` (its
//     transactional sends are idempotent anyway) — because it asks the transaction coordinator.
//  4. Transactions are accepted but not applied: EndTxn only checks the producer id; no commit or
//     abort markers are written (offsets stay contiguous, unlike a real broker where each marker
//     takes an offset); Fetch reports LastStableOffset = high watermark and no aborted
//     transactions. So read_committed consumers see records of ABORTED and of still-OPEN
//     transactions, and re-initialising a transactional.id does not abort its dangling
//     transaction. Consequence for rlink: test the Kafka exactly-once sink's protocol sequence
//     against the mock (init, begin, send, commit on checkpoint complete, abort lingering ids on
//     restore), and prove end-to-end exactly-once through the file sink.
//  5. ListOffsets by timestamp is not implemented (offset -1); earliest/latest work.
//  6. Data lives in memory and is gone when the broker stops; no retention or compaction.
// Fault injection the helper offers instead: brokerDown/brokerUp (port kept), brokerRtt,
// requestErrors(api, errors), delayNext(broker, api, ms) — see broker.ts.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEYS, apiVersions, kafkaTestGate, kcatConsume, kcatMetadata, kcatOffsets, kcatProduce, run,
  startMockBroker, type MockBroker,
} from './broker.js';

const kafka = await kafkaTestGate();

// kafkajs is not a dependency yet: the kafkajs measurement runs once it is installed.
const kafkajsName: string = 'kafkajs';
const kafkajs: any = await import(kafkajsName).then((m) => m.default ?? m, () => undefined);

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!kafka.ok)('Kafka mock broker and kcat helpers', () => {
  let broker: MockBroker;
  beforeAll(async () => {
    broker = await startMockBroker({ topics: [{ name: 'orders', partitions: 3 }] });
  });
  afterAll(async () => { await broker?.stop(); });

  it('starts on loopback and reports its bootstrap address', () => {
    expect(broker.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(broker.librdkafka).toMatch(/^\d+\.\d+\.\d+/);
    expect(alive(broker.pid)).toBe(true);
  });

  it('reads back exactly the 100 keyed messages produced to chosen partitions, in order', async () => {
    const all = Array.from({ length: 100 }, (_, i) => ({ i, p: i % 3, key: `user:${i % 7}`, value: JSON.stringify({ i, v: `x:${i}` }) }));
    for (const p of [0, 1, 2]) {
      const mine = all.filter((m) => m.p === p);
      await kcatProduce(broker.bootstrap, 'orders', mine.map((m) => m.value), { partition: p, key: (k) => mine[k]!.key });
    }
    const lines = await kcatConsume(broker.bootstrap, 'orders', { format: '%p %o %k %s\n' });
    expect(lines).toHaveLength(100);
    const parsed = lines.map((l) => {
      const [p, o, k, ...rest] = l.split(' ');
      return { p: Number(p), o: Number(o), key: k!, value: rest.join(' ') };
    });
    for (const p of [0, 1, 2]) {
      const got = parsed.filter((m) => m.p === p);
      const want = all.filter((m) => m.p === p);
      expect(got.map((m) => m.o)).toEqual(want.map((_, k) => k)); // offsets 0..n-1, in order
      expect(got.map((m) => m.value)).toEqual(want.map((m) => m.value)); // per-partition order kept
      expect(got.map((m) => m.key)).toEqual(want.map((m) => m.key));
      expect(await kcatOffsets(broker.bootstrap, 'orders', p)).toEqual({ low: 0, high: want.length });
    }
    // One partition, and a count limit.
    expect(await kcatConsume(broker.bootstrap, 'orders', { partition: 1 })).toEqual(all.filter((m) => m.p === 1).map((m) => m.value));
    expect(await kcatConsume(broker.bootstrap, 'orders', { partition: 2, count: 5, format: '%o\n' })).toEqual(['0', '1', '2', '3', '4']);
  });

  it('creates topics while running; a duplicate or bad name is refused', async () => {
    await broker.createTopic('events', 2);
    const md = await kcatMetadata(broker.bootstrap);
    expect(md.topics.find((t) => t.topic === 'events')?.partitions).toHaveLength(2);
    await kcatProduce(broker.bootstrap, 'events', ['a', 'b', 'c'], { partition: 1 });
    await kcatProduce(broker.bootstrap, 'events', ['d'], { partition: 0 });
    expect(await kcatConsume(broker.bootstrap, 'events', { partition: 1 })).toEqual(['a', 'b', 'c']);
    expect((await kcatConsume(broker.bootstrap, 'events')).sort()).toEqual(['a', 'b', 'c', 'd']);
    await expect(broker.createTopic('events', 2)).rejects.toThrow(/TOPIC_ALREADY_EXISTS/);
    await expect(broker.createTopic('bad/name', 1)).rejects.toThrow(/invalid topic name/);
    await expect(broker.command('create-topic x 0')).rejects.toThrow(/usage/);
    await broker.command('ping'); // still answering, answers still in step
  });

  it('waits for messages still being written when asked to', async () => {
    await broker.createTopic('late', 1);
    const reading = kcatConsume(broker.bootstrap, 'late', { count: 3, wait: true, timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    await kcatProduce(broker.bootstrap, 'late', ['1', '2', '3']);
    expect(await reading).toEqual(['1', '2', '3']);
  });

  it('shows brokers and topics in the metadata', async () => {
    const md = await kcatMetadata(broker.bootstrap);
    expect(md.brokers).toEqual([{ id: 1, name: broker.bootstrap }]);
    const topics = Object.fromEntries(md.topics.map((t) => [t.topic, t.partitions.length]));
    expect(topics).toMatchObject({ orders: 3, events: 2 });
    for (const t of md.topics) for (const p of t.partitions) expect(p.leader).toBe(1);
  });

  it('runs a cluster of several brokers and can take one down and up again', async () => {
    const cluster = await startMockBroker({ brokers: 3, topics: [{ name: 'spread', partitions: 6 }] });
    try {
      expect(cluster.brokers).toHaveLength(3);
      const md = await kcatMetadata(cluster.bootstrap);
      expect(md.brokers.map((b) => b.id).sort()).toEqual([1, 2, 3]);
      expect(new Set(md.topics.find((t) => t.topic === 'spread')!.partitions.map((p) => p.leader)).size).toBeGreaterThan(1);
      await kcatProduce(cluster.bootstrap, 'spread', Array.from({ length: 30 }, (_, i) => `m${i}`), { key: (i) => `k${i}` });
      expect((await kcatConsume(cluster.bootstrap, 'spread')).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).sort());

      // A broker taken down refuses connections on its (kept) port, then comes back.
      await cluster.brokerDown(2);
      await expect(apiVersions(cluster.brokers[1]!, 2_000)).rejects.toThrow(/ECONNREFUSED|no answer/);
      await cluster.brokerUp(2);
      expect((await apiVersions(cluster.brokers[1]!)).has(API_KEYS.Produce)).toBe(true);
      await expect(cluster.brokerDown(9)).rejects.toThrow(/usage/);
    } finally {
      await cluster.stop();
    }
  });

  it('stop() leaves no process behind, and is idempotent', async () => {
    const b = await startMockBroker({ topics: [{ name: 't', partitions: 1 }] });
    expect(alive(b.pid)).toBe(true);
    await b.stop();
    expect(alive(b.pid)).toBe(false);
    await b.stop();
    await expect(b.createTopic('u', 1)).rejects.toThrow(/not running|exited/);
  });

  it('fails clearly when started with a bad option', async () => {
    await expect(startMockBroker({ topics: [{ name: 'a', partitions: 0 }] })).rejects.toThrow(/bad --topic|exited/);
  });

  describe('measured limits of the mock', () => {
    it('1. offers no CreateTopics or other admin APIs (ApiVersions)', async () => {
      const av = await apiVersions(broker.brokers[0]!);
      const names = Object.fromEntries(Object.entries(API_KEYS).map(([n, k]) => [k, n]));
      const offered = [...av.keys()].sort((a, b) => a - b).map((k) => names[k] ?? String(k));
      expect(offered).toEqual([
        'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator',
        'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'ApiVersions', 'InitProducerId',
        'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit',
      ]);
      for (const missing of ['CreateTopics', 'DeleteTopics', 'CreatePartitions', 'DescribeConfigs', 'ListGroups', 'DescribeGroups', 'DeleteRecords'] as const) {
        expect(av.has(API_KEYS[missing]), missing).toBe(false);
      }
      expect(av.get(API_KEYS.Metadata)).toEqual({ min: 0, max: 2 });
      expect(av.get(API_KEYS.Produce)).toEqual({ min: 0, max: 7 });
      expect(av.get(API_KEYS.Fetch)).toEqual({ min: 0, max: 11 });
    });

    it('2. auto-creates an unknown topic with 4 partitions on any metadata request, even a consumer\'s', async () => {
      await kcatProduce(broker.bootstrap, 'never-created', ['x']);
      const md = await kcatMetadata(broker.bootstrap);
      expect(md.topics.find((t) => t.topic === 'never-created')?.partitions).toHaveLength(4);

      // A consumer of a missing topic gets an empty topic, not an error.
      expect(await kcatConsume(broker.bootstrap, 'ghost')).toEqual([]);
      const md2 = await kcatMetadata(broker.bootstrap);
      expect(md2.topics.find((t) => t.topic === 'ghost')?.partitions).toHaveLength(4);
    });

    it('3. reports controller id 0, a broker that does not exist', async () => {
      const md = await kcatMetadata(broker.bootstrap);
      expect(md.controllerid).toBe(0);
      expect(md.brokers.some((b) => b.id === 0)).toBe(false);
    });

    it('4. accepts transactions without applying them: an open transaction is visible to read_committed, no markers take offsets', async () => {
      await broker.createTopic('txn', 1);
      await kcatProduce(broker.bootstrap, 'txn', ['c1', 'c2'], { partition: 0, transactionalId: 'tx-a' });
      // A real broker would be at 3 here: the commit marker takes an offset.
      expect(await kcatOffsets(broker.bootstrap, 'txn', 0)).toEqual({ low: 0, high: 2 });

      // Leave a transaction open: the Produce is applied but its answer held back, so kcat is
      // still flushing (before EndTxn) when it is killed — a task manager dying mid-checkpoint.
      await broker.delayNext(1, 'Produce', 60_000);
      const kcat = spawn(process.env.KCAT ?? 'kcat', ['-P', '-q', '-b', broker.bootstrap, '-t', 'txn', '-p', '0', '-X', 'transactional.id=tx-b'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const exited = new Promise((r) => kcat.on('exit', r));
      kcat.stdin.on('error', () => undefined);
      try {
        kcat.stdin.end('d1\nd2\n');
        const uncommitted = await eventually(() => kcatConsume(broker.bootstrap, 'txn'), (v) => v.length >= 4);
        expect(uncommitted).toEqual(['c1', 'c2', 'd1', 'd2']);
      } finally {
        kcat.kill('SIGKILL');
        await exited;
      }
      // A real broker: ['c1', 'c2'] (the last stable offset stays before d1 while tx-b is open).
      expect(await kcatConsume(broker.bootstrap, 'txn', { isolationLevel: 'read_committed' })).toEqual(['c1', 'c2', 'd1', 'd2']);

      // Restarting tx-b (InitProducerId with the same transactional.id) aborts its dangling
      // transaction on a real broker; the mock leaves d1, d2 visible.
      await kcatProduce(broker.bootstrap, 'txn', ['e1'], { partition: 0, transactionalId: 'tx-b' });
      expect(await kcatConsume(broker.bootstrap, 'txn', { isolationLevel: 'read_committed', format: '%o %s\n' }))
        .toEqual(['0 c1', '1 c2', '2 d1', '3 d2', '4 e1']); // a real broker: c1@0, c2@1, e1@5
    });

    it('5. has no offsets by timestamp (ListOffsets answers -1); earliest/latest work', async () => {
      // kcat -Q with a timestamp: the mock answers offset -1 ("end").
      const r = await run(process.env.KCAT ?? 'kcat', ['-Q', '-b', broker.bootstrap, '-t', `orders:0:${Date.now() - 60_000}`], { timeoutMs: 20_000 });
      expect(r.stdout).toMatch(/orders \[0\]\s+offset -1/);
    });

    if (kafkajs) {
      it('kafkajs: aborted transactions stay visible to read_committed; controller-bound features fail', async () => {
        const { Kafka, logLevel } = kafkajs;
        const client = new Kafka({ clientId: 'mock-limits', brokers: broker.brokers, logLevel: logLevel.NOTHING, retry: { retries: 1 } });
        await broker.createTopic('kjs', 1);

        const admin = client.admin();
        await admin.connect();
        try {
          await expect(admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 1 }] })).rejects.toThrow(/Broker 0 not found|not support/);
        } finally { await admin.disconnect(); }

        const idem = client.producer({ idempotent: true, retry: { retries: 1 } });
        await expect(idem.connect()).rejects.toThrow(/Broker 0 not found/);
        await idem.disconnect().catch(() => undefined);

        const tp = client.producer({ transactionalId: 'kjs-tx', maxInFlightRequests: 1 });
        await tp.connect();
        try {
          let t = await tp.transaction();
          await t.send({ topic: 'kjs', messages: [{ value: 'committed', partition: 0 }] });
          await t.commit();
          t = await tp.transaction();
          await t.send({ topic: 'kjs', messages: [{ value: 'ABORTED', partition: 0 }] });
          await t.abort();
        } finally { await tp.disconnect(); }

        // kcat read_committed, and a kafkajs consumer (read_committed by default): both see ABORTED.
        expect(await kcatConsume(broker.bootstrap, 'kjs', { isolationLevel: 'read_committed' })).toEqual(['committed', 'ABORTED']);
        const consumer = client.consumer({ groupId: 'kjs-g', readUncommitted: false });
        const got: string[] = [];
        await consumer.connect();
        try {
          await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
          await consumer.run({ eachMessage: async ({ message }: { message: { value: Buffer } }) => { got.push(message.value.toString()); } });
          await eventually(async () => got.length, (n) => n >= 2, 20_000);
        } finally { await consumer.disconnect(); }
        expect(got).toEqual(['committed', 'ABORTED']);
      });
    } else {
      it.todo('kafkajs (not installed yet): an aborted transaction stays visible to a read_committed consumer; ' +
        'admin.createTopics and producer({ idempotent: true }) fail on "Broker 0 not found" — measured with kafkajs 2.2.4; ' +
        'this test runs by itself once kafkajs is a dependency');
    }
  });
});
