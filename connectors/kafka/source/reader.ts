// The SourceReader a Kafka source's subtask runs: it assigns itself its partitions and opens them at
// their start positions, then hands out the records its fetcher buffered, decoded, one partition per
// poll, and snapshots the positions of what it handed out.
import type { Kafka as KafkaClient } from 'kafkajs';
import type { ConnectorContext, SourcePoll, SourceReader } from '../../../core/api/connector';
import { RlinkError, errorMessage } from '../../../core/errors';
import { NO_TIMESTAMP } from '../../../core/runtime/elements';
import { RateLimitedLog } from '../../../core/util/rate-limited-log';
import { schemaConformer } from '../../../core/sql/types';
import { createClient, createCluster, errorType, formatMs, isRetriable, kafkaMessage, retryUntil } from '../client';
import { PartitionFetcher } from './fetcher';
import { OffsetCommitter, startPositions } from './offsets';
import type { ResolvedOptions } from './options';
import type { Part } from './partition';
import type { ReaderScope } from './scope';
import { restoredState, snapshotState, splitOf, type KafkaSourceState } from './split-state';

/** Longest idle wait handed to the task at once. */
const MAX_IDLE_MS = 50;
/** A topic missing from the metadata is retried this long (it may be being created), then a config error. */
const UNKNOWN_TOPIC_GRACE_MS = 5_000;
const PREVIEW_CHARS = 120;

export class KafkaSourceReader<T> implements SourceReader<T> {
  private client: KafkaClient | undefined;
  private readonly scope: ReaderScope;
  private readonly fetcher: PartitionFetcher;
  private readonly committer: OffsetCommitter;
  private rr = 0;
  private idleStreak = 0;
  private readonly invalid: RateLimitedLog;

  private readonly conform: ((record: unknown) => Record<string, unknown> | string) | undefined;

  constructor(private readonly o: ResolvedOptions, private readonly ctx: ConnectorContext) {
    this.invalid = new RateLimitedLog(ctx.logger, 'record.invalid');
    this.conform = o.schema ? schemaConformer(o.schema) : undefined;
    this.scope = { o, ctx, what: `kafka source (topic '${o.topic}', brokers ${o.brokers.join(',')})`, cluster: undefined, closed: false };
    this.fetcher = new PartitionFetcher(this.scope);
    this.committer = new OffsetCommitter(this.scope);
  }

  private get what(): string {
    return this.scope.what;
  }

  async open(restored?: unknown): Promise<string[]> {
    const { topic } = this.o;
    const { subtaskIndex: k, parallelism: p } = this.ctx;
    this.client = await createClient({ brokers: this.o.brokers, clientId: this.o.clientId, logger: this.ctx.logger });
    const cluster = this.scope.cluster = createCluster(this.client, { isolationLevel: this.o.isolationLevel });
    const started = Date.now();
    await retryUntil(async () => {
      await cluster.connect();
      await cluster.addTargetTopic(topic);
      if (cluster.findTopicPartitionMetadata(topic).length === 0) throw Object.assign(new Error(`topic '${topic}' has no partitions`), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    }, {
      timeoutMs: this.o.retryTimeoutMs,
      closed: () => this.scope.closed,
      isRetriable: (e) => (errorType(e) === 'UNKNOWN_TOPIC_OR_PARTITION' ? Date.now() - started < UNKNOWN_TOPIC_GRACE_MS : isRetriable(e)),
      onRetry: (e, attempt) => this.ctx.logger.debug({ attempt, error: kafkaMessage(e) }, `${this.what}: connecting, retrying`),
      fail: (e, ms) => this.openFailure(e, ms),
    }).catch((e: unknown) => { throw this.openFailure(e, Date.now() - started); });

    const all = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b);
    const assigned = all.filter((i) => i % p === k);
    const saved = restoredState(restored, topic);
    const { startOf, latest } = await startPositions(this.scope, assigned, saved);

    const splits: string[] = [];
    for (const i of assigned) {
      const position = startOf.get(i)!;
      const end = this.o.bounded ? saved?.ends.get(i) ?? latest.get(i)! : undefined;
      const part: Part = {
        partition: i, split: splitOf(topic, i), position, fetchOffset: position, end, chunks: [],
        finished: end !== undefined && position >= end, fetching: false, resetting: false, epoch: 0,
      };
      this.fetcher.add(part);
      if (!part.finished) splits.push(part.split);
    }
    this.ctx.logger.info({
      topic, partitions: all.length, assigned, restored: saved !== undefined,
      positions: Object.fromEntries([...this.fetcher.parts.values()].map((x) => [x.partition, x.end === undefined ? x.position : `${x.position}..${x.end}`])),
    }, `${this.what}: subtask ${k} of ${p} reads partitions [${assigned.join(', ')}] of ${all.length}`);
    this.fetcher.pump();
    return splits;
  }

  poll(max: number): SourcePoll<T> {
    const { fetcher } = this;
    if (fetcher.failure) throw fetcher.failure;
    const done = fetcher.finishedSplits.shift();
    if (done !== undefined) return { kind: 'split-finished', split: done };
    const active = fetcher.active;
    const n = active.length;
    if (n === 0 && this.o.bounded) return { kind: 'end' };
    const limit = max > 0 ? max : 1;
    for (let j = 0; j < n; j++) {
      const idx = (this.rr + j) % n;
      const part = active[idx]!;
      if (part.chunks.length === 0) continue;
      const r = this.take(part, limit);
      if (!r) continue;
      this.rr = part.finished ? idx : idx + 1;
      this.idleStreak = 0;
      fetcher.pump();
      return r;
    }
    fetcher.pump();
    if (active.length === 0 && this.o.bounded) return { kind: 'end' };
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
    const out = snapshotState(this.fetcher.parts.values());
    this.committer.snapshotTaken(checkpointId, this.fetcher.parts.values());
    return out;
  }

  /**
   * Checkpoint `checkpointId` completed: its offsets are committed to the consumer group (monitoring
   * only; failures are logged, never fail the job). Snapshots taken without an id: the latest one.
   */
  notifyCheckpointComplete(checkpointId: number): void {
    this.committer.checkpointComplete(checkpointId);
  }

  async close(): Promise<void> {
    const { scope } = this;
    if (scope.closed) return;
    scope.closed = true;
    this.fetcher.stop();
    await withTimeout(this.committer.settled(), 5_000);
    const cluster = scope.cluster;
    scope.cluster = undefined;
    if (cluster) await withTimeout(cluster.disconnect().catch(() => undefined), 5_000);
    this.fetcher.clear();
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
      this.fetcher.finish(part);
    }
    const split = part.split;
    if (values.length === 0) return finished ? { kind: 'split-finished', split } : undefined;
    return {
      kind: 'records', split, values, timestamps, where: (i) => `${split}@${offsets[i]}`,
      ...(finished ? { splitFinished: true } : {}),
    };
  }

  private reportInvalid(part: Part, offset: number, text: string, error: string): void {
    this.ctx.metrics.recordsInvalid++;
    const at = `${part.split}@${offset}`;
    const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
    this.invalid.warn({ topic: this.o.topic, partition: part.partition, offset, at, preview, error }, `invalid record skipped at ${at}: ${error}`);
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

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => { t = setTimeout(r, ms); })]).finally(() => clearTimeout(t));
}
