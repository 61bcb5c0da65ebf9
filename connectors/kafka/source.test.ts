// The Kafka source against a real Kafka-protocol broker: librdkafka's mock cluster on loopback
// (test/kafka/broker.ts), with kcat as the independent client that writes the inputs. Each test
// uses its own topic and is bounded in time. Skipped (with a reason) where kcat or the mock are
// missing; RLINK_REQUIRE_KAFKA=1 turns a skip into a failure.
//
// What the mock cannot show (measured in test/kafka/mock-broker.test.ts): a missing topic (any
// metadata request auto-creates it with 4 partitions) and transactions (read_committed sees
// aborted records; there are no control records), so those paths are not covered here.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { memoryLogger, testContext } from '../testing/context';
import { kafkaTestGate, kcatProduce, startMockBroker, type MockBroker } from '../../test/kafka/broker.js';
import { kafkaSource, restoredState, type KafkaSourceOptions, type KafkaSourceState } from './source';

const kafka = await kafkaTestGate();

interface Read {
  values: unknown[];
  where: string[];
  timestamps: number[];
  splits: string[];
  finished: string[];
  ended: boolean;
  idles: number[];
}

/**
 * Polls `reader` until it ends, until `want` records were read, or until it has been idle for
 * `idleMs` after reading something; never longer than `timeoutMs`.
 */
async function read(reader: SourceReader, o: { want?: number; max?: number; idleMs?: number; timeoutMs?: number } = {}): Promise<Read> {
  const out: Read = { values: [], where: [], timestamps: [], splits: [], finished: [], ended: false, idles: [] };
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  const want = o.want ?? Number.POSITIVE_INFINITY;
  let idleSince: number | undefined;
  while (out.values.length < want) {
    if (Date.now() > deadline) throw new Error(`read: timed out after ${out.values.length} records`);
    const r: SourcePoll<unknown> = await reader.poll(o.max ?? 1000);
    if (r.kind === 'end') { out.ended = true; break; }
    if (r.kind === 'idle') {
      out.idles.push(r.waitMs);
      expect(r.waitMs).toBeGreaterThan(0); // never a busy spin
      idleSince ??= Date.now();
      if (o.idleMs !== undefined && Date.now() - idleSince >= o.idleMs) break;
      await new Promise((res) => setTimeout(res, r.waitMs));
      continue;
    }
    idleSince = undefined;
    if (r.kind === 'split-finished') { out.finished.push(r.split); continue; }
    expect(r.values.length).toBeLessThanOrEqual(o.max ?? 1000);
    r.values.forEach((v, i) => {
      out.values.push(v);
      out.where.push(r.where!(i));
      out.timestamps.push(r.timestamps![i]!);
    });
    out.splits.push(r.split);
    if (r.splitFinished) out.finished.push(r.split);
  }
  return out;
}

/** `n` JSON records for partition p: { p, i, key } */
function records(p: number, n: number, from = 0): Array<{ p: number; i: number }> {
  return Array.from({ length: n }, (_, k) => ({ p, i: from + k }));
}

describe.skipIf(!kafka.ok)('kafka source (mock broker)', () => {
  let broker: MockBroker;
  let topicSeq = 0;
  const readers: SourceReader[] = [];

  beforeAll(async () => { broker = await startMockBroker(); });
  afterEach(async () => { for (const r of readers.splice(0)) await r.close(); });
  afterAll(async () => { await broker?.stop(); });

  /** A new topic with `counts[p]` records { p, i } produced by kcat into partition p. */
  async function topicWith(counts: number[]): Promise<{ topic: string; all: Array<{ p: number; i: number }> }> {
    const topic = `src-${++topicSeq}`;
    await broker.createTopic(topic, counts.length);
    const all: Array<{ p: number; i: number }> = [];
    for (let p = 0; p < counts.length; p++) {
      const rs = records(p, counts[p]!);
      all.push(...rs);
      if (rs.length > 0) await kcatProduce(broker.bootstrap, topic, rs.map((r) => JSON.stringify(r)), { partition: p });
    }
    return { topic, all };
  }

  function reader(opts: Omit<KafkaSourceOptions, 'brokers'>, over: Parameters<typeof testContext>[0] = {}) {
    const ctx = testContext(over);
    const r = kafkaSource({ brokers: broker.bootstrap, ...opts }).createReader(ctx);
    readers.push(r);
    return { ctx, reader: r };
  }

  const sortPI = (xs: unknown[]) => [...(xs as Array<{ p: number; i: number }>)].sort((a, b) => a.p - b.p || a.i - b.i);

  it('reads exactly what kcat produced into 3 partitions; bounded latest ends the reader', async () => {
    const { topic, all } = await topicWith([40, 25, 31]);
    const before = Date.now();
    const { reader: r } = reader({ topic, bounded: 'latest' });
    expect((await r.open()).sort()).toEqual([`${topic}-0`, `${topic}-1`, `${topic}-2`]);
    const got = await read(r, { max: 10 });
    expect(got.ended).toBe(true);
    expect(sortPI(got.values)).toEqual(all);
    // Per partition in offset order, one split per batch, where = topic-partition@offset.
    for (let p = 0; p < 3; p++) {
      const mine = got.values.map((v, k) => ({ v: v as { p: number; i: number }, w: got.where[k]! })).filter((x) => x.v.p === p);
      expect(mine.map((x) => x.v.i)).toEqual(all.filter((x) => x.p === p).map((x) => x.i));
      expect(mine.map((x) => x.w)).toEqual(mine.map((_, k) => `${topic}-${p}@${k}`));
    }
    expect(new Set(got.splits)).toEqual(new Set([`${topic}-0`, `${topic}-1`, `${topic}-2`]));
    expect(got.finished.sort()).toEqual([`${topic}-0`, `${topic}-1`, `${topic}-2`]);
    // Kafka record timestamps (CreateTime, set by kcat) come with the records.
    for (const t of got.timestamps) expect(t).toBeGreaterThanOrEqual(before - 60_000);
    // Ended for good.
    expect((await r.poll(10)).kind).toBe('end');
  }, 30_000);

  it('unbounded: reads everything, then idles without spinning, then reads what arrives later', async () => {
    const { topic, all } = await topicWith([5, 5, 5]);
    const { reader: r } = reader({ topic });
    await r.open();
    const first = await read(r, { want: 15 });
    expect(sortPI(first.values)).toEqual(all);
    const idle = await read(r, { idleMs: 300 });
    expect(idle.values).toEqual([]);
    expect(idle.idles.length).toBeGreaterThan(0);
    expect(idle.idles.length).toBeLessThan(300); // waits of ≥ 5 ms each, not a spin
    await kcatProduce(broker.bootstrap, topic, [JSON.stringify({ p: 1, i: 5 })], { partition: 1 });
    const t0 = Date.now();
    const later = await read(r, { want: 1 });
    expect(later.values).toEqual([{ p: 1, i: 5 }]);
    expect(later.where).toEqual([`${topic}-1@5`]);
    expect(Date.now() - t0).toBeLessThan(3_000);
  }, 30_000);

  it('assigns partitions to 2 subtasks disjointly and completely (i ≡ k mod p)', async () => {
    const { topic, all } = await topicWith([7, 8, 9, 10, 11]);
    const a = reader({ topic, bounded: 'latest' }, { subtaskIndex: 0, parallelism: 2 });
    const b = reader({ topic, bounded: 'latest' }, { subtaskIndex: 1, parallelism: 2 });
    expect((await a.reader.open()).sort()).toEqual([`${topic}-0`, `${topic}-2`, `${topic}-4`]);
    expect((await b.reader.open()).sort()).toEqual([`${topic}-1`, `${topic}-3`]);
    const [ra, rb] = await Promise.all([read(a.reader), read(b.reader)]);
    expect(ra.ended && rb.ended).toBe(true);
    expect(new Set((ra.values as Array<{ p: number }>).map((v) => v.p))).toEqual(new Set([0, 2, 4]));
    expect(new Set((rb.values as Array<{ p: number }>).map((v) => v.p))).toEqual(new Set([1, 3]));
    expect(sortPI([...ra.values, ...rb.values])).toEqual(all);
  }, 30_000);

  it('a subtask with no partition (parallelism > partitions) ends at once when bounded', async () => {
    const { topic } = await topicWith([3]);
    const { reader: r } = reader({ topic, bounded: 'latest' }, { subtaskIndex: 1, parallelism: 2 });
    expect(await r.open()).toEqual([]);
    expect((await r.poll(10)).kind).toBe('end');
  }, 30_000);

  it('snapshot / restore resumes exactly: nothing lost, nothing read twice', async () => {
    const { topic, all } = await topicWith([30, 30, 30]);
    const first = reader({ topic, bounded: 'latest' });
    await first.reader.open();
    const part1 = await read(first.reader, { want: 37, max: 7 });
    const state = first.reader.snapshot!() as KafkaSourceState;
    // The positions are exactly what was handed out, per partition.
    for (let p = 0; p < 3; p++) {
      expect(state[`${topic}-${p}`]).toBe((part1.values as Array<{ p: number }>).filter((v) => v.p === p).length);
      expect(state[`${topic}-${p}:end`]).toBe(30);
    }
    await first.reader.close();
    // JSON round trip, as a checkpoint stores it.
    const second = reader({ topic, bounded: 'latest' });
    await second.reader.open(JSON.parse(JSON.stringify(state)));
    const part2 = await read(second.reader);
    expect(part2.ended).toBe(true);
    expect(sortPI([...part1.values, ...part2.values])).toEqual(all);
    expect(part1.values.length + part2.values.length).toBe(all.length);
  }, 30_000);

  it('a restored bounded source stops at the end offsets of its first start, not at the new end', async () => {
    const { topic, all } = await topicWith([10, 10]);
    const first = reader({ topic, bounded: 'latest' });
    await first.reader.open();
    const part1 = await read(first.reader, { want: 5, max: 5 });
    const state = first.reader.snapshot!();
    await first.reader.close();
    await kcatProduce(broker.bootstrap, topic, records(0, 3, 10).map((r) => JSON.stringify(r)), { partition: 0 });
    const second = reader({ topic, bounded: 'latest' });
    await second.reader.open(state);
    const part2 = await read(second.reader);
    expect(sortPI([...part1.values, ...part2.values])).toEqual(all);
  }, 30_000);

  it('restores at another parallelism from every old subtask’s state (array form)', async () => {
    const { topic, all } = await topicWith([12, 13, 14, 15, 16]);
    // Two subtasks read part of their partitions and snapshot.
    const olds = [0, 1].map((k) => reader({ topic, bounded: 'latest' }, { subtaskIndex: k, parallelism: 2 }));
    for (const o of olds) await o.reader.open();
    const before = await Promise.all(olds.map((o) => read(o.reader, { want: 20, max: 3 })));
    const states = olds.map((o) => JSON.parse(JSON.stringify(o.reader.snapshot!())) as KafkaSourceState);
    for (const o of olds) await o.reader.close();
    // Three subtasks take over, each handed the states of both old subtasks.
    const news = [0, 1, 2].map((k) => reader({ topic, bounded: 'latest' }, { subtaskIndex: k, parallelism: 3 }));
    const splits = await Promise.all(news.map((n) => n.reader.open(states)));
    expect(splits.map((s) => s.sort())).toEqual([[`${topic}-0`, `${topic}-3`], [`${topic}-1`, `${topic}-4`], [`${topic}-2`]]);
    const after = await Promise.all(news.map((n) => read(n.reader)));
    const got = [...before, ...after].flatMap((x) => x.values);
    expect(got.length).toBe(all.length);
    expect(sortPI(got)).toEqual(all);
    // And down to one subtask from the same states.
    const one = reader({ topic, bounded: 'latest' });
    await one.reader.open(states);
    const rest = await read(one.reader);
    expect(sortPI([...before.flatMap((x) => x.values), ...rest.values])).toEqual(all);
  }, 30_000);

  it('counts, logs and skips a message that is not JSON; its offset still advances', async () => {
    const topic = `src-${++topicSeq}`;
    await broker.createTopic(topic, 2);
    await kcatProduce(broker.bootstrap, topic, ['{"a":1}', '{not json', '{"a":2}', 'plain text', '{"a":3}'], { partition: 1 });
    const mem = memoryLogger();
    const { ctx, reader: r } = reader({ topic, bounded: 'latest' }, { logger: mem.logger });
    await r.open();
    const got = await read(r);
    expect(got.values).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(got.where).toEqual([`${topic}-1@0`, `${topic}-1@2`, `${topic}-1@4`]);
    expect(ctx.metrics.recordsInvalid).toBe(2);
    const warns = mem.lines().filter((l) => l.event === 'record.invalid');
    expect(warns).toHaveLength(2);
    expect(warns[0]).toMatchObject({ topic, partition: 1, offset: 1, at: `${topic}-1@1`, preview: '{not json' });
    expect(warns[0]!.msg).toContain(`${topic}-1@1`);
    expect(warns[1]).toMatchObject({ offset: 3, preview: 'plain text' });
    expect(r.snapshot!()).toEqual({ [`${topic}-0`]: 0, [`${topic}-0:end`]: 0, [`${topic}-1`]: 5, [`${topic}-1:end`]: 5 });
    // format 'string' takes every value as text.
    const s = reader({ topic, bounded: 'latest', format: 'string' });
    await s.reader.open();
    expect((await read(s.reader)).values).toEqual(['{"a":1}', '{not json', '{"a":2}', 'plain text', '{"a":3}']);
    expect(s.ctx.metrics.recordsInvalid).toBe(0);
  }, 30_000);

  it('startingOffsets latest skips what is there; committed starts from the offsets committed when a checkpoint completed', async () => {
    const { topic } = await topicWith([4, 4]);
    const latest = reader({ topic, startingOffsets: 'latest' });
    await latest.reader.open();
    expect((await read(latest.reader, { idleMs: 200 })).values).toEqual([]);
    await kcatProduce(broker.bootstrap, topic, [JSON.stringify({ p: 0, i: 4 })], { partition: 0 });
    expect((await read(latest.reader, { want: 1 })).values).toEqual([{ p: 0, i: 4 }]);
    await latest.reader.close();

    const groupId = `g-${topic}`;
    const a = reader({ topic, startingOffsets: 'latest', groupId });
    await a.reader.open();
    await kcatProduce(broker.bootstrap, topic, [4, 5, 6].map((i) => JSON.stringify({ p: 1, i })), { partition: 1 });
    const reader_ = a.reader as SourceReader & { snapshot(id?: number): unknown; notifyCheckpointComplete(id: number): void };
    expect((await read(a.reader, { want: 2, max: 2 })).values).toEqual([{ p: 1, i: 4 }, { p: 1, i: 5 }]);
    reader_.snapshot(1); // checkpoint 1: partition 1 at 6
    expect((await read(a.reader, { want: 1 })).values).toEqual([{ p: 1, i: 6 }]);
    reader_.snapshot(2); // checkpoint 2: partition 1 at 7, not completed
    reader_.notifyCheckpointComplete(1);
    await a.reader.close(); // waits for the commit in flight

    // A fresh job with startingOffsets 'committed' starts where checkpoint 1 was.
    const b = reader({ topic, startingOffsets: 'committed', groupId, bounded: 'latest' });
    await b.reader.open();
    expect(b.reader.snapshot!()).toMatchObject({ [`${topic}-0`]: 5, [`${topic}-1`]: 6 });
    expect((await read(b.reader)).values).toEqual([{ p: 1, i: 6 }]);
    // A group without commits: from the earliest offset.
    const c = reader({ topic, startingOffsets: 'committed', groupId: `${groupId}-none`, bounded: 'latest' });
    await c.reader.open();
    expect((await read(c.reader)).values).toHaveLength(12);
  }, 30_000);

  it('a position no longer in the log (retention) is reset to the earliest offset, with a warning', async () => {
    const topic = `src-${++topicSeq}`;
    await broker.createTopic(topic, 1);
    // The mock keeps only the last few MiB of a partition: this moves its log start past 0.
    const n = 60_000;
    await kcatProduce(broker.bootstrap, topic, Array.from({ length: n }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(60) })), { partition: 0 });
    const mem = memoryLogger();
    const { reader: r } = reader({ topic, bounded: 'latest' }, { logger: mem.logger });
    await r.open({ [`${topic}-0`]: 0 });
    const got = await read(r, { timeoutMs: 25_000 });
    expect(got.ended).toBe(true);
    const first = (got.values[0] as { i: number }).i;
    expect(first).toBeGreaterThan(0); // the log start
    expect((got.values as Array<{ i: number }>).map((v) => v.i)).toEqual(Array.from({ length: n - first }, (_, k) => first + k));
    const warn = mem.lines().find((l) => String(l.msg).includes('out of range'));
    expect(warn).toMatchObject({ split: `${topic}-0`, offset: 0, resetTo: first });
    // Restored with an end offset the log start has passed: the split is over at once.
    const b = reader({ topic, bounded: 'latest' });
    await b.reader.open({ [`${topic}-0`]: 0, [`${topic}-0:end`]: 10 });
    const none = await read(b.reader);
    expect(none).toMatchObject({ values: [], finished: [`${topic}-0`], ended: true });
    expect(b.reader.snapshot!()).toEqual({ [`${topic}-0`]: 10, [`${topic}-0:end`]: 10 });
  }, 30_000);

  it('an unreachable broker: retries with back-off, then a clear error naming the brokers, within the bound', async () => {
    const ctx = testContext();
    const r = kafkaSource({ brokers: '127.0.0.1:1,127.0.0.1:2', topic: 'x', retryTimeout: '2s' }).createReader(ctx);
    const t0 = Date.now();
    const err = await Promise.resolve(r.open()).then(() => undefined, (e: unknown) => e);
    const took = Date.now() - t0;
    await r.close();
    expect(err).toBeInstanceOf(RlinkError);
    expect((err as RlinkError).message).toMatch(/cannot reach the Kafka brokers 127\.0\.0\.1:1,127\.0\.0\.1:2 \(topic 'x'\) within 2(\.\d)? s/);
    expect((err as RlinkError).code).toBe('RLINK_TASK_FAILED');
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(6_000);
  }, 30_000);

  it('a broker lost while reading: retried, and the reader goes on where it was once it is back', async () => {
    const { topic, all } = await topicWith([20, 20]);
    const mem = memoryLogger();
    const { reader: r } = reader({ topic, retryTimeout: '20s' }, { logger: mem.logger });
    await r.open();
    const part1 = await read(r, { want: 10, max: 5 });
    await broker.brokerDown(1);
    await kcatProduce(broker.bootstrap, topic, ['{"p":9,"i":0}'], { partition: 0, timeoutMs: 1_000 }).catch(() => undefined);
    const during = await read(r, { want: 40, idleMs: 1_000 });
    await broker.brokerUp(1);
    const rest = await read(r, { want: 40 - part1.values.length - during.values.length, timeoutMs: 25_000 });
    const got = [...part1.values, ...during.values, ...rest.values].filter((v) => (v as { p: number }).p !== 9);
    expect(sortPI(got)).toEqual(all);
    expect(mem.lines().filter((l) => l.event === 'kafka.fetch-retry').length).toBeGreaterThan(0);
    await r.close();
  }, 60_000);

  it('the source fails the job after retryTimeout when the broker stays away mid-read', async () => {
    const { topic } = await topicWith([3]);
    const { reader: r } = reader({ topic, retryTimeout: '1500ms' });
    await r.open();
    await read(r, { want: 3 });
    await broker.brokerDown(1);
    try {
      const t0 = Date.now();
      let err: unknown;
      while (Date.now() - t0 < 10_000) {
        try {
          const p = await r.poll(10);
          if (p.kind === 'idle') await new Promise((res) => setTimeout(res, p.waitMs));
        } catch (e) { err = e; break; }
      }
      expect(err).toBeInstanceOf(RlinkError);
      expect((err as Error).message).toContain(broker.bootstrap);
      expect(Date.now() - t0).toBeLessThan(8_000);
    } finally {
      await broker.brokerUp(1);
      await r.close();
    }
  }, 30_000);
});

describe('kafka source: options and state', () => {
  it('rejects bad options with clear messages', () => {
    expect(() => kafkaSource({ brokers: '', topic: 't' })).toThrow(/brokers/);
    expect(() => kafkaSource({ brokers: 'nohost', topic: 't' })).toThrow(/host:port/);
    expect(() => kafkaSource({ brokers: 'h:1', topic: 'bad topic' })).toThrow(/topic/);
    expect(() => kafkaSource({ brokers: 'h:1', topic: 't', startingOffsets: 'middle' as never })).toThrow(/startingOffsets/);
    expect(() => kafkaSource({ brokers: 'h:1', topic: 't', bounded: 'forever' as never })).toThrow(/bounded/);
    expect(() => kafkaSource({ brokers: 'h:1', topic: 't', format: 'avro' as never })).toThrow(/format/);
    expect(() => kafkaSource({ brokers: 'h:1', topic: 't', startingOffsets: 'committed' })).toThrow(/groupId/);
    expect(() => kafkaSource({ brokers: 'h:1', topic: 't', retryTimeout: 'soon' })).toThrow(/retryTimeout/);
  });

  it('is bounded iff bounded: latest; describes itself without surprises', () => {
    expect(kafkaSource({ brokers: ['a:1', 'b:2'], topic: 't' }).bounded).toBe(false);
    const s = kafkaSource({ brokers: 'a:1,b:2', topic: 't', bounded: 'latest', groupId: 'g' });
    expect(s.bounded).toBe(true);
    expect(s.kind).toBe('kafka');
    expect(s.describe()).toEqual({ kind: 'kafka', brokers: 'a:1,b:2', topic: 't', startingOffsets: 'earliest', bounded: 'latest', format: 'json', groupId: 'g', isolationLevel: 'read_committed' });
  });

  it('merges restored states (array form) and ignores other topics and junk', () => {
    const st = restoredState([{ 't-0': 5, 't-0:end': 9, 'u-1': 3 }, { 't-1': 7, 't-x': 1, 't-2': -1 }, null, 'junk'], 't')!;
    expect([...st.positions]).toEqual([[0, 5], [1, 7]]);
    expect([...st.ends]).toEqual([[0, 9]]);
    expect(restoredState(undefined, 't')).toBeUndefined();
    expect(restoredState([undefined], 't')).toBeUndefined();
    expect(restoredState({}, 't')!.positions.size).toBe(0);
  });
});
