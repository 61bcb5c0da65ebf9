import type { Kafka as KafkaClient } from 'kafkajs';
import type { ConnectorContext, Source, SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError, errorMessage } from '../../core/errors';
import { NO_TIMESTAMP } from '../../core/runtime/elements';
import type { Duration } from '../../core/time/duration';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { compileSchema, schemaConformer, schemaToSpec, type Schema, type SchemaSpec } from '../../core/sql/types';
import {
  READ_COMMITTED, READ_UNCOMMITTED, backoff, createClient, createCluster, errorType, formatMs, isRetriable, kafkaMessage, listOffsets,
  normalizeBrokers, retryTimeoutMs, retryUntil, validateTopic,
  type FetchedMessage, type FetchedPartition, type InternalCluster,
} from './client';

/** Options of {@link kafkaSource} (`sources.kafka`). */
export interface KafkaSourceOptions {
  /** Bootstrap brokers: `'host:port,host:port'` or a list. */
  brokers: string | string[];
  topic: string;
  /**
   * Where a partition is read from when the job does not restore a position for it:
   * `earliest` (default), `latest`, or `committed` (the offsets committed for `groupId`; earliest
   * where the group has none). Positions restored from a checkpoint always win.
   */
  startingOffsets?: 'earliest' | 'latest' | 'committed';
  /**
   * `latest`: the source is bounded; each partition is read up to the end offset it had when the job
   * first started (kept in checkpoints, so a restored job stops at the same place), then the job can
   * finish. Omitted: unbounded.
   */
  bounded?: 'latest';
  /** `json` (default): each message value is one JSON value; `string`: the value as UTF-8 text. */
  format?: 'json' | 'string';
  /**
   * Consumer group for `startingOffsets: 'committed'` and for committing the checkpointed offsets back
   * to Kafka when a checkpoint completes (for monitoring, e.g. lag; positions live in checkpoints).
   * No group: nothing is committed. The group is never joined: no rebalancing.
   */
  groupId?: string;
  /** Kafka client id (default `rlink-source`). */
  clientId?: string;
  /**
   * `read_committed` (default): records of open or aborted transactions are not read (and a bounded
   * source stops at the last stable offset). `read_uncommitted`: everything.
   */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** How long an unreachable cluster is retried (with back-off) before the job fails. Default 30 s. */
  retryTimeout?: Duration;
  /** Advanced: bytes fetched per partition and request. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /**
   * The fields and types of the (JSON) records: each is conformed to it (converted, missing fields
   * null, others dropped); a message that does not fit is invalid (counted, logged with
   * topic-partition@offset, skipped). A watermark declaration (`watermark: { field, delay }`) makes
   * `fromSource` generate watermarks from that field instead of the Kafka timestamps.
   */
  schema?: SchemaSpec | Schema;
}

/**
 * A Kafka source's checkpoint state: the next offset to read per split `<topic>-<partition>`; for a
 * bounded source also `<topic>-<partition>:end`, the offset it stops at.
 */
export type KafkaSourceState = Record<string, number>;

const DEFAULT_MAX_BYTES_PER_PARTITION = 1 << 20;
/** Fetch long-poll when there is nothing buffered (Kafka's fetch.max.wait.ms default). */
const MAX_WAIT_MS = 500;
/** Fetch wait while other partitions still have buffered records (keeps them from waiting on a long-poll). */
const SHORT_WAIT_MS = 20;
/** Fetched chunks buffered per partition before it is no longer fetched. */
const MAX_CHUNKS = 2;
/** Longest idle wait handed to the task at once. */
const MAX_IDLE_MS = 50;
/** A topic missing from the metadata is retried this long (it may be being created), then a config error. */
const UNKNOWN_TOPIC_GRACE_MS = 5_000;
const PREVIEW_CHARS = 120;

/**
 * `sources.kafka`: reads one topic. The partitions are assigned by the job, not by a consumer group:
 * subtask k of p reads the partitions whose index i satisfies i ≡ k (mod p), and positions live in
 * checkpoints, so a restored job (at any parallelism) resumes exactly where its checkpoint was.
 *
 * How it reads (the "assign" kafkajs lacks): kafkajs's consumer only works as a group member, where
 * the broker's group coordinator hands out partitions and rebalances whenever a member comes or goes
 * (and a new member of an old group waits for the dead one's session to time out). Pausing the
 * partitions the group gave us but the job did not, or one group per subtask, still joins groups,
 * heartbeats, and re-seeks to the group's offsets after every rebalance. So the reader does what
 * Kafka's `KafkaConsumer.assign()` does (and Flink's KafkaSource with it): no group at all. With
 * kafkajs's own cluster client it looks up each assigned partition's leader and sends Fetch requests
 * for exactly those partitions from its own positions (one request in flight per leader, a bounded
 * buffer of fetched chunks per partition, a long-poll only when nothing is buffered), refreshing the
 * metadata and retrying with back-off when a leader moves or a broker is down. Records of aborted
 * transactions and control records are dropped as kafkajs's consumer drops them.
 *
 * Each poll returns records of one partition (the split `<topic>-<partition>`), with the Kafka record
 * timestamps as timestamps (so a WatermarkStrategy without a field uses them) and per-split
 * watermarks from the engine. A message that is not JSON (format json) is counted
 * (`recordsInvalid`), logged with topic/partition/offset, and skipped; its offset still advances.
 */
export function kafkaSource<T = unknown>(opts: KafkaSourceOptions): Source<T> {
  const what = 'kafka source';
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { brokers, topic } are required`);
  const brokers = normalizeBrokers(what, opts.brokers);
  const topic = validateTopic(what, opts.topic);
  const startingOffsets = opts.startingOffsets ?? 'earliest';
  if (!['earliest', 'latest', 'committed'].includes(startingOffsets)) {
    throw new RlinkError('RLINK_CONFIG', `${what}: startingOffsets must be 'earliest', 'latest' or 'committed', not ${JSON.stringify(opts.startingOffsets)}`);
  }
  if (opts.bounded !== undefined && opts.bounded !== 'latest') {
    throw new RlinkError('RLINK_CONFIG', `${what}: bounded must be 'latest' (or omitted for an unbounded source), not ${JSON.stringify(opts.bounded)}`);
  }
  const format = opts.format ?? 'json';
  if (format !== 'json' && format !== 'string') {
    throw new RlinkError('RLINK_CONFIG', `${what}: format must be 'json' or 'string', not ${JSON.stringify(opts.format)}`);
  }
  if (opts.groupId !== undefined && (typeof opts.groupId !== 'string' || opts.groupId === '')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: groupId must be a non-empty string`);
  }
  if (startingOffsets === 'committed' && !opts.groupId) {
    throw new RlinkError('RLINK_CONFIG', `${what}: startingOffsets 'committed' needs a groupId`);
  }
  const iso = opts.isolationLevel ?? 'read_committed';
  if (iso !== 'read_committed' && iso !== 'read_uncommitted') {
    throw new RlinkError('RLINK_CONFIG', `${what}: isolationLevel must be 'read_committed' or 'read_uncommitted'`);
  }
  const maxBytes = opts.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw new RlinkError('RLINK_CONFIG', `${what}: maxBytesPerPartition must be an integer ≥ 1024`);
  }
  const schema = opts.schema === undefined ? undefined : compileSchema(opts.schema, what);
  if (schema && format !== 'json') throw new RlinkError('RLINK_CONFIG', `${what}: a schema needs format 'json' (records that are objects)`);
  const resolved: ResolvedOptions = {
    schema, brokers, topic, startingOffsets, bounded: opts.bounded === 'latest', format, groupId: opts.groupId,
    clientId: opts.clientId ?? 'rlink-source', isolationLevel: iso === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED,
    retryTimeoutMs: retryTimeoutMs(what, opts.retryTimeout), maxBytesPerPartition: maxBytes,
  };
  return {
    kind: 'kafka',
    bounded: resolved.bounded,
    ...(schema ? { schema } : {}),
    describe: () => ({
      kind: 'kafka', brokers: brokers.join(','), topic, startingOffsets, bounded: opts.bounded ?? null, format,
      groupId: opts.groupId ?? null, isolationLevel: iso, ...(schema ? { schema: schemaToSpec(schema) } : {}),
    }),
    createReader: (ctx) => new KafkaSourceReader<T>(resolved, ctx),
  };
}

interface ResolvedOptions {
  schema: Schema | undefined;
  brokers: string[];
  topic: string;
  startingOffsets: 'earliest' | 'latest' | 'committed';
  bounded: boolean;
  format: 'json' | 'string';
  groupId: string | undefined;
  clientId: string;
  isolationLevel: number;
  retryTimeoutMs: number;
  maxBytesPerPartition: number;
}

/** Fetched records of one partition not handed out yet. */
interface Chunk {
  messages: FetchedMessage[];
  /** Next message to hand out. */
  i: number;
  /** The partition's position once the chunk is consumed (past filtered and control records too). */
  next: number;
}

interface Part {
  readonly partition: number;
  readonly split: string;
  /** Next offset to hand out: what a checkpoint stores. */
  position: number;
  /** Next offset to fetch (ahead of `position` by what is buffered). */
  fetchOffset: number;
  /** Bounded: the offset the partition ends at. */
  end: number | undefined;
  chunks: Chunk[];
  finished: boolean;
  fetching: boolean;
  resetting: boolean;
  /** Bumped on a reset: a fetch answered for an older epoch is dropped. */
  epoch: number;
}

export class KafkaSourceReader<T> implements SourceReader<T> {
  private client: KafkaClient | undefined;
  private cluster: InternalCluster | undefined;
  private readonly parts = new Map<number, Part>();
  /** Unfinished partitions, in partition order (polled round-robin). */
  private active: Part[] = [];
  private rr = 0;
  private idleStreak = 0;
  /** Splits that ended without a last batch to carry the news (a reset past the end offset). */
  private readonly finishedSplits: string[] = [];
  private readonly inflight = new Set<string>();
  private failure: Error | undefined;
  private failingSince: number | undefined;
  private retryAttempt = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly invalid: RateLimitedLog;
  private readonly fetchErrors: RateLimitedLog;
  private readonly what: string;
  /** Snapshots whose offsets go to Kafka when their checkpoint completes (only with a groupId). */
  private readonly toCommit: Array<{ id: number | undefined; offsets: Array<[number, number]> }> = [];
  private committing: Promise<void> = Promise.resolve();
  private lastCommitted = '';

  private readonly conform: ((record: unknown) => Record<string, unknown> | string) | undefined;

  constructor(private readonly o: ResolvedOptions, private readonly ctx: ConnectorContext) {
    this.invalid = new RateLimitedLog(ctx.logger, 'record.invalid');
    this.conform = o.schema ? schemaConformer(o.schema) : undefined;
    this.fetchErrors = new RateLimitedLog(ctx.logger, 'kafka.fetch-retry');
    this.what = `kafka source (topic '${o.topic}', brokers ${o.brokers.join(',')})`;
  }

  async open(restored?: unknown): Promise<string[]> {
    const { topic } = this.o;
    const { subtaskIndex: k, parallelism: p } = this.ctx;
    this.client = await createClient({ brokers: this.o.brokers, clientId: this.o.clientId, logger: this.ctx.logger });
    const cluster = this.cluster = createCluster(this.client, { isolationLevel: this.o.isolationLevel });
    const started = Date.now();
    await retryUntil(async () => {
      await cluster.connect();
      await cluster.addTargetTopic(topic);
      if (cluster.findTopicPartitionMetadata(topic).length === 0) throw Object.assign(new Error(`topic '${topic}' has no partitions`), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    }, {
      timeoutMs: this.o.retryTimeoutMs,
      closed: () => this.closed,
      isRetriable: (e) => (errorType(e) === 'UNKNOWN_TOPIC_OR_PARTITION' ? Date.now() - started < UNKNOWN_TOPIC_GRACE_MS : isRetriable(e)),
      onRetry: (e, attempt) => this.ctx.logger.debug({ attempt, error: kafkaMessage(e) }, `${this.what}: connecting, retrying`),
      fail: (e, ms) => this.openFailure(e, ms),
    }).catch((e: unknown) => { throw this.openFailure(e, Date.now() - started); });

    const all = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b);
    const assigned = all.filter((i) => i % p === k);
    const saved = restoredState(restored, topic);
    const startOf = new Map<number, number>();
    const need: { earliest: number[]; latest: number[]; committed: number[] } = { earliest: [], latest: [], committed: [] };
    for (const i of assigned) {
      const pos = saved?.positions.get(i);
      if (pos !== undefined) startOf.set(i, pos);
      // Restored, but no position: the partition was added to the topic since; read all of it (as Flink).
      else if (saved) need.earliest.push(i);
      else need[this.o.startingOffsets].push(i);
    }
    const [earliest, latest, committed] = await Promise.all([
      this.listOffsets(need.earliest, 'earliest'),
      this.listOffsets(this.o.bounded ? assigned : need.latest, 'latest'),
      this.committedOffsets(need.committed),
    ]);
    const noCommit: number[] = [];
    for (const i of need.earliest) startOf.set(i, earliest.get(i)!);
    for (const i of need.latest) startOf.set(i, latest.get(i)!);
    for (const i of need.committed) {
      const c = committed.get(i);
      if (c !== undefined) startOf.set(i, c); else noCommit.push(i);
    }
    if (noCommit.length > 0) {
      const fallback = await this.listOffsets(noCommit, 'earliest');
      for (const i of noCommit) startOf.set(i, fallback.get(i)!);
      this.ctx.logger.info({ topic, groupId: this.o.groupId, partitions: noCommit }, `${this.what}: group '${this.o.groupId}' has no committed offset for partitions ${noCommit.join(', ')}: reading them from the earliest offset`);
    }

    const splits: string[] = [];
    for (const i of assigned) {
      const position = startOf.get(i)!;
      const end = this.o.bounded ? saved?.ends.get(i) ?? latest.get(i)! : undefined;
      const part: Part = {
        partition: i, split: `${topic}-${i}`, position, fetchOffset: position, end, chunks: [],
        finished: end !== undefined && position >= end, fetching: false, resetting: false, epoch: 0,
      };
      this.parts.set(i, part);
      if (!part.finished) { this.active.push(part); splits.push(part.split); }
    }
    this.ctx.logger.info({
      topic, partitions: all.length, assigned, restored: saved !== undefined,
      positions: Object.fromEntries([...this.parts.values()].map((x) => [x.partition, x.end === undefined ? x.position : `${x.position}..${x.end}`])),
    }, `${this.what}: subtask ${k} of ${p} reads partitions [${assigned.join(', ')}] of ${all.length}`);
    this.pump();
    return splits;
  }

  poll(max: number): SourcePoll<T> {
    if (this.failure) throw this.failure;
    const done = this.finishedSplits.shift();
    if (done !== undefined) return { kind: 'split-finished', split: done };
    const n = this.active.length;
    if (n === 0 && this.o.bounded) return { kind: 'end' };
    const limit = max > 0 ? max : 1;
    for (let j = 0; j < n; j++) {
      const idx = (this.rr + j) % n;
      const part = this.active[idx]!;
      if (part.chunks.length === 0) continue;
      const r = this.take(part, limit);
      if (!r) continue;
      this.rr = part.finished ? idx : idx + 1;
      this.idleStreak = 0;
      this.pump();
      return r;
    }
    this.pump();
    if (this.active.length === 0 && this.o.bounded) return { kind: 'end' };
    // Nothing buffered: wait a little longer each time (5 ms … 50 ms), never spin.
    const waitMs = Math.min(MAX_IDLE_MS, 5 * 2 ** Math.min(this.idleStreak, 4));
    this.idleStreak++;
    return { kind: 'idle', waitMs };
  }

  /**
   * Split positions for a checkpoint: `{ '<topic>-<p>': next offset }` (and `:end` when bounded).
   * With a `checkpointId`, the offsets are committed to Kafka exactly when that checkpoint completes.
   */
  snapshot(checkpointId?: number): KafkaSourceState {
    const out: KafkaSourceState = {};
    for (const part of this.parts.values()) {
      out[part.split] = part.position;
      if (part.end !== undefined) out[`${part.split}:end`] = part.end;
    }
    if (this.o.groupId) {
      this.toCommit.push({ id: checkpointId, offsets: [...this.parts.values()].map((x) => [x.partition, x.position]) });
      if (this.toCommit.length > 100) this.toCommit.shift();
    }
    return out;
  }

  /**
   * Checkpoint `checkpointId` completed: its offsets are committed to the consumer group (monitoring
   * only; failures are logged, never fail the job). Snapshots taken without an id: the latest one.
   */
  notifyCheckpointComplete(checkpointId: number): void {
    if (!this.o.groupId || this.toCommit.length === 0 || this.closed) return;
    let chosen = -1;
    for (let i = 0; i < this.toCommit.length; i++) {
      const id = this.toCommit[i]!.id;
      if (id === undefined || id <= checkpointId) chosen = i;
    }
    if (chosen < 0) return;
    const { offsets } = this.toCommit[chosen]!;
    this.toCommit.splice(0, chosen + 1);
    this.committing = this.committing.then(() => this.commitOffsets(offsets, checkpointId));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await withTimeout(this.committing, 5_000);
    const cluster = this.cluster;
    this.cluster = undefined;
    if (cluster) await withTimeout(cluster.disconnect().catch(() => undefined), 5_000);
    for (const part of this.parts.values()) part.chunks = [];
  }

  // ---- reading ----

  /** Hands out up to `max` buffered records of `part`; undefined when they were all skipped. */
  private take(part: Part, max: number): SourcePoll<T> | undefined {
    const values: T[] = [];
    const timestamps: number[] = [];
    const offsets: number[] = [];
    const json = this.o.format === 'json';
    let bytes = 0;
    while (values.length < max && part.chunks.length > 0) {
      const c = part.chunks[0]!;
      const msgs = c.messages;
      while (c.i < msgs.length && values.length < max) {
        const m = msgs[c.i++]!;
        const offset = Number(m.offset);
        part.position = offset + 1;
        const raw = m.value;
        if (raw === null || raw === undefined) { this.reportInvalid(part, offset, '', 'message has no value (tombstone)'); continue; }
        bytes += raw.length;
        const text = raw.toString('utf8');
        let v: unknown = text;
        if (json) {
          try { v = JSON.parse(text); } catch (err) { this.reportInvalid(part, offset, text, errorMessage(err)); continue; }
          if (this.conform) {
            const c = this.conform(v);
            if (typeof c === 'string') { this.reportInvalid(part, offset, text, c); continue; }
            v = c;
          }
        }
        values.push(v as T);
        const ts = Number(m.timestamp);
        timestamps.push(ts >= 0 ? ts : NO_TIMESTAMP);
        offsets.push(offset);
      }
      if (c.i >= msgs.length) {
        if (c.next > part.position) part.position = c.next;
        part.chunks.shift();
      }
    }
    this.ctx.metrics.bytesIn += bytes;
    let finished = false;
    if (part.end !== undefined && part.position >= part.end && part.chunks.length === 0) {
      finished = true;
      this.finish(part);
    }
    const split = part.split;
    if (values.length === 0) return finished ? { kind: 'split-finished', split } : undefined;
    return {
      kind: 'records', split, values, timestamps, where: (i) => `${split}@${offsets[i]}`,
      ...(finished ? { splitFinished: true } : {}),
    };
  }

  private finish(part: Part): void {
    part.finished = true;
    part.chunks = [];
    const i = this.active.indexOf(part);
    if (i >= 0) this.active.splice(i, 1);
    this.ctx.logger.debug({ split: part.split, end: part.end }, `${this.what}: ${part.split} read to its end offset ${part.end}`);
  }

  private reportInvalid(part: Part, offset: number, text: string, error: string): void {
    this.ctx.metrics.recordsInvalid++;
    const at = `${part.split}@${offset}`;
    const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
    this.invalid.warn({ topic: this.o.topic, partition: part.partition, offset, at, preview, error }, `invalid record skipped at ${at}: ${error}`);
  }

  // ---- fetching ----

  /** Starts a fetch for every leader that has partitions wanting data and no fetch in flight. */
  private pump(): void {
    const cluster = this.cluster;
    if (this.closed || this.failure || !cluster) return;
    const now = Date.now();
    if (now < this.retryAt) {
      if (!this.retryTimer) this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.pump(); }, this.retryAt - now);
      return;
    }
    const wanting = this.active.filter((x) => !x.fetching && !x.resetting && x.chunks.length < MAX_CHUNKS && (x.end === undefined || x.fetchOffset < x.end));
    if (wanting.length === 0) return;
    let byLeader: Record<string, number[]>;
    try {
      byLeader = cluster.findLeaderForPartitions(this.o.topic, wanting.map((x) => x.partition));
    } catch (e) {
      this.fetchFailed(e);
      return;
    }
    let placed = 0;
    for (const [node, partitions] of Object.entries(byLeader)) {
      placed += partitions.length;
      if (this.inflight.has(node)) continue;
      void this.fetchFrom(node, partitions.map((i) => this.parts.get(i)!));
    }
    if (placed < wanting.length) this.fetchFailed(Object.assign(new Error('no leader known for some partitions'), { type: 'LEADER_NOT_AVAILABLE' }));
  }

  private async fetchFrom(node: string, parts: Part[]): Promise<void> {
    const cluster = this.cluster!;
    this.inflight.add(node);
    const asked = new Map(parts.map((x) => [x.partition, { offset: x.fetchOffset, epoch: x.epoch }]));
    for (const x of parts) x.fetching = true;
    // Long-poll only when nothing is buffered: otherwise partitions that fill up later would wait for it.
    const waiting = this.active.some((x) => x.chunks.length > 0);
    try {
      const broker = await cluster.findBroker({ nodeId: node });
      const res = await broker.fetch({
        isolationLevel: this.o.isolationLevel, maxWaitTime: waiting ? SHORT_WAIT_MS : MAX_WAIT_MS, minBytes: 1,
        maxBytes: this.o.maxBytesPerPartition * parts.length,
        topics: [{ topic: this.o.topic, partitions: parts.map((x) => ({ partition: x.partition, fetchOffset: String(x.fetchOffset), maxBytes: this.o.maxBytesPerPartition })) }],
      });
      if (this.closed) return;
      this.failingSince = undefined;
      this.retryAttempt = 0;
      for (const t of res.responses) {
        if (t.topicName !== this.o.topic) continue;
        for (const pd of t.partitions) {
          const part = this.parts.get(pd.partition);
          const a = asked.get(pd.partition);
          if (!part || !a || part.epoch !== a.epoch || part.fetchOffset !== a.offset || part.finished) continue;
          this.addChunk(part, pd);
        }
      }
    } catch (e) {
      if (this.closed) return;
      const oor = e as { name?: string; partition?: number; topic?: string };
      if (oor.name === 'KafkaJSOffsetOutOfRange' && oor.partition !== undefined && this.parts.has(oor.partition)) {
        void this.resetOutOfRange(this.parts.get(oor.partition)!);
      } else {
        this.fetchFailed(e);
      }
    } finally {
      this.inflight.delete(node);
      for (const x of parts) x.fetching = false;
      this.pump();
    }
  }

  /** Buffers the records of one partition's fetch answer (as kafkajs's consumer filters them). */
  private addChunk(part: Part, pd: FetchedPartition): void {
    const from = part.fetchOffset;
    const msgs = pd.messages;
    let next = from;
    let any = false;
    for (const m of msgs) {
      const o = Number(m.offset);
      if (o + 1 > next) next = o + 1;
      any = true;
    }
    // A batch's last offset (records of it may have been compacted away, or be control records).
    const last = msgs.length > 0 ? msgs[msgs.length - 1]!.batchContext as { firstOffset?: string; lastOffsetDelta?: number } | undefined : undefined;
    if (last?.firstOffset !== undefined && typeof last.lastOffsetDelta === 'number') {
      const batchEnd = Number(last.firstOffset) + last.lastOffsetDelta + 1;
      if (batchEnd > next) next = batchEnd;
    }
    if (!any || next <= from) return;
    let data = msgs.filter((m) => Number(m.offset) >= from);
    data = filterAborted(data, pd.abortedTransactions).filter((m) => !m.isControlRecord);
    if (part.end !== undefined) {
      const end = part.end;
      if (next > end) next = end;
      if (data.length > 0 && Number(data[data.length - 1]!.offset) >= end) data = data.filter((m) => Number(m.offset) < end);
    }
    part.fetchOffset = next;
    part.chunks.push({ messages: data, i: 0, next });
  }

  /** A fetch failed: retry after a back-off, or fail the reader once the failures lasted retryTimeout. */
  private fetchFailed(e: unknown): void {
    const now = Date.now();
    this.failingSince ??= now;
    const type = errorType(e);
    if (!isRetriable(e)) {
      this.failure = new RlinkError('RLINK_TASK_FAILED', `${this.what}: fetch failed: ${type}: ${kafkaMessage(e)}`, { cause: e });
      return;
    }
    if (now - this.failingSince >= this.o.retryTimeoutMs) {
      this.failure = new RlinkError('RLINK_TASK_FAILED',
        `${this.what}: cannot fetch from the Kafka brokers ${this.o.brokers.join(',')} for ${formatMs(now - this.failingSince)} (retried with back-off): ${kafkaMessage(e)}`,
        { retriable: true, context: { host: this.o.brokers.join(',') }, cause: e });
      return;
    }
    const wait = backoff(this.retryAttempt++);
    this.retryAt = now + wait;
    this.fetchErrors.warn({ error: kafkaMessage(e), type, retryInMs: wait }, `${this.what}: fetch failed (${type}), retrying in ${wait} ms`);
    // A leader may have moved or a broker gone: refresh before the next attempt.
    void this.cluster?.refreshMetadata().catch(() => undefined);
  }

  /** The partition's fetch offset is not in the log any more (or not yet): start over as configured. */
  private async resetOutOfRange(part: Part): Promise<void> {
    if (part.resetting) return;
    part.resetting = true;
    const to = this.o.startingOffsets === 'latest' ? 'latest' : 'earliest';
    try {
      const offsets = await this.listOffsets([part.partition], to);
      const offset = offsets.get(part.partition)!;
      this.ctx.logger.warn({ split: part.split, offset: part.fetchOffset, resetTo: offset },
        `${this.what}: offset ${part.fetchOffset} of ${part.split} is out of range; continuing from the ${to} offset ${offset} (records may be skipped or read again)`);
      part.epoch++;
      part.fetchOffset = offset;
      if (part.chunks.length === 0) part.position = offset;
      if (part.end !== undefined && offset >= part.end) {
        part.fetchOffset = part.end;
        if (part.chunks.length === 0) {
          part.position = part.end;
          this.finish(part);
          this.finishedSplits.push(part.split);
        }
      }
    } catch (e) {
      this.fetchFailed(e);
    } finally {
      part.resetting = false;
      this.pump();
    }
  }

  // ---- offsets ----

  private async listOffsets(partitions: number[], which: 'earliest' | 'latest'): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (partitions.length === 0) return out;
    const cluster = this.cluster!;
    const res = await retryUntil(() => listOffsets(cluster, this.o.topic, partitions, which === 'earliest'), {
      timeoutMs: this.o.retryTimeoutMs,
      closed: () => this.closed,
      onRetry: () => { void cluster.refreshMetadata().catch(() => undefined); },
      fail: (e, ms) => new RlinkError('RLINK_TASK_FAILED', `${this.what}: cannot read the ${which} offsets of partitions [${partitions.join(', ')}] within ${formatMs(ms)}: ${kafkaMessage(e)}`, { retriable: true, cause: e }),
    });
    for (const [p, off] of res) out.set(p, off);
    for (const p of partitions) {
      if (!out.has(p)) throw new RlinkError('RLINK_TASK_FAILED', `${this.what}: no ${which} offset for partition ${p}`, { retriable: true });
    }
    return out;
  }

  private async committedOffsets(partitions: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (partitions.length === 0) return out;
    const cluster = this.cluster!;
    const groupId = this.o.groupId!;
    const res = await retryUntil(async () => {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      return coordinator.offsetFetch({ groupId, topics: [{ topic: this.o.topic, partitions: partitions.map((partition) => ({ partition })) }] });
    }, {
      timeoutMs: this.o.retryTimeoutMs,
      closed: () => this.closed,
      fail: (e, ms) => new RlinkError('RLINK_TASK_FAILED', `${this.what}: cannot read the offsets committed for group '${groupId}' within ${formatMs(ms)}: ${kafkaMessage(e)}`, { retriable: true, cause: e }),
    });
    for (const t of res.responses) {
      if (t.topic !== this.o.topic) continue;
      for (const x of t.partitions) {
        const off = Number(x.offset);
        if (Number.isSafeInteger(off) && off >= 0) out.set(x.partition, off);
      }
    }
    return out;
  }

  private async commitOffsets(offsets: Array<[number, number]>, checkpointId: number): Promise<void> {
    const cluster = this.cluster;
    const groupId = this.o.groupId;
    if (!cluster || !groupId || offsets.length === 0) return;
    const key = JSON.stringify(offsets);
    if (key === this.lastCommitted) return;
    try {
      await retryUntil(async () => {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        // Generation -1 and no member: a "simple" commit, as a consumer using assign() makes it.
        await coordinator.offsetCommit({
          groupId, groupGenerationId: -1, memberId: '',
          topics: [{ topic: this.o.topic, partitions: offsets.map(([partition, offset]) => ({ partition, offset: String(offset) })) }],
        });
      }, { timeoutMs: Math.min(this.o.retryTimeoutMs, 10_000), closed: () => this.closed && this.cluster === undefined, fail: (e) => e instanceof Error ? e : new Error(String(e)) });
      this.lastCommitted = key;
      const which = checkpointId === Number.MAX_SAFE_INTEGER ? 'the end of input' : `checkpoint ${checkpointId}`;
      this.ctx.logger.debug({ groupId, checkpointId, offsets: Object.fromEntries(offsets) }, `${this.what}: committed the offsets of ${which} to group '${groupId}'`);
    } catch (e) {
      this.ctx.logger.warn({ groupId, checkpointId, error: kafkaMessage(e) }, `${this.what}: could not commit offsets to group '${groupId}' (monitoring only; positions are in the checkpoint): ${kafkaMessage(e)}`);
    }
  }

  private openFailure(e: unknown, ms: number): Error {
    if (e instanceof RlinkError) return e;
    const type = errorType(e);
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
      return new RlinkError('RLINK_CONFIG', `${this.what}: topic '${this.o.topic}' does not exist`, { context: { host: this.o.brokers.join(',') }, cause: e });
    }
    if (!isRetriable(e)) {
      return new RlinkError('RLINK_TASK_FAILED', `${this.what}: ${type}: ${kafkaMessage(e)}`, { context: { host: this.o.brokers.join(',') }, cause: e });
    }
    return new RlinkError('RLINK_TASK_FAILED',
      `kafka source: cannot reach the Kafka brokers ${this.o.brokers.join(',')} (topic '${this.o.topic}') within ${formatMs(ms)}, retried with back-off: ${kafkaMessage(e)}`,
      { retriable: true, context: { host: this.o.brokers.join(',') }, cause: e });
  }
}

/**
 * Positions from a checkpoint for `topic`: a {@link KafkaSourceState}, or an array of them (every old
 * subtask's, when the parallelism changed). Undefined when there is no state at all.
 */
export function restoredState(restored: unknown, topic: string): { positions: Map<number, number>; ends: Map<number, number> } | undefined {
  const positions = new Map<number, number>();
  const ends = new Map<number, number>();
  let any = false;
  const prefix = `${topic}-`;
  const add = (s: unknown): void => {
    if (Array.isArray(s)) { for (const x of s) add(x); return; }
    if (!s || typeof s !== 'object') return;
    any = true;
    for (const [key, v] of Object.entries(s as Record<string, unknown>)) {
      if (!key.startsWith(prefix) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) continue;
      const m = /^(\d+)(:end)?$/.exec(key.slice(prefix.length));
      if (!m) continue;
      (m[2] ? ends : positions).set(Number(m[1]), v);
    }
  };
  add(restored);
  return any ? { positions, ends } : undefined;
}

const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);

/** Drops records of aborted transactions (kafkajs's consumer does the same: filterAbortedMessages). */
function filterAborted(messages: FetchedMessage[], aborted: FetchedPartition['abortedTransactions']): FetchedMessage[] {
  if (!aborted || aborted.length === 0) return messages;
  const remaining = [...aborted].sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
  const open = new Set<string>();
  return messages.filter((m) => {
    while (remaining.length > 0 && Number(m.offset) >= Number(remaining[0]!.firstOffset)) open.add(remaining.shift()!.producerId);
    const ctx = m.batchContext;
    if (!ctx) return true;
    if (m.isControlRecord && m.key && Buffer.from(m.key).subarray(0, 4).equals(ABORT_MARKER)) { open.delete(ctx.producerId); return false; }
    return !(open.has(ctx.producerId) && ctx.inTransaction);
  });
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => { t = setTimeout(r, ms); })]).finally(() => clearTimeout(t));
}
