// Keeps the assigned partitions' buffers filled: Fetch requests sent straight to each partition's
// leader from the reader's own positions (no consumer group; see kafkaSource in ../source.ts for
// why). The reader only takes records out of the buffers; everything that talks to the brokers while
// the job runs, and retries when they fail, is here.
import { RlinkError } from '../../../core/errors';
import { RateLimitedLog } from '../../../core/util/rate-limited-log';
import { backoff, errorType, formatMs, isRetriable, kafkaMessage, type FetchedPartition } from '../client';
import { filterAborted } from './aborted-transactions';
import { listPartitionOffsets } from './offsets';
import type { Part } from './partition';
import type { ReaderScope } from './scope';

/** Fetch long-poll when there is nothing buffered (Kafka's fetch.max.wait.ms default). */
const MAX_WAIT_MS = 500;
/** Fetch wait while other partitions still have buffered records (keeps them from waiting on a long-poll). */
const SHORT_WAIT_MS = 20;
/** Fetched chunks buffered per partition before it is no longer fetched. */
const MAX_CHUNKS = 2;

export class PartitionFetcher {
  readonly parts = new Map<number, Part>();
  /** Unfinished partitions, in partition order (polled round-robin). */
  readonly active: Part[] = [];
  /** Splits that ended without a last batch to carry the news (a reset past the end offset). */
  readonly finishedSplits: string[] = [];
  /** Set when fetching failed for good: the reader throws it on its next poll. */
  failure: Error | undefined;
  private readonly inflight = new Set<string>();
  private failingSince: number | undefined;
  private retryAttempt = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly fetchErrors: RateLimitedLog;

  constructor(private readonly scope: ReaderScope) {
    this.fetchErrors = new RateLimitedLog(scope.ctx.logger, 'kafka.fetch-retry');
  }

  /** Adds an assigned partition; it is fetched unless it is already finished. */
  add(part: Part): void {
    this.parts.set(part.partition, part);
    if (!part.finished) this.active.push(part);
  }

  /** The partition reached its end offset: no more fetching or polling. */
  finish(part: Part): void {
    part.finished = true;
    part.chunks = [];
    const i = this.active.indexOf(part);
    if (i >= 0) this.active.splice(i, 1);
    this.scope.ctx.logger.debug({ split: part.split, end: part.end }, `${this.scope.what}: ${part.split} read to its end offset ${part.end}`);
  }

  /** The reader is closing: cancels a pending retry (once closed, `pump` starts nothing). */
  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Drops every partition's buffered records (after close). */
  clear(): void {
    for (const part of this.parts.values()) part.chunks = [];
  }

  /** Starts a fetch for every leader that has partitions wanting data and no fetch in flight. */
  pump(): void {
    const { scope } = this;
    const cluster = scope.cluster;
    if (scope.closed || this.failure || !cluster) return;
    const now = Date.now();
    if (now < this.retryAt) {
      if (!this.retryTimer) this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.pump(); }, this.retryAt - now);
      return;
    }
    const wanting = this.active.filter((x) => !x.fetching && !x.resetting && x.chunks.length < MAX_CHUNKS && (x.end === undefined || x.fetchOffset < x.end));
    if (wanting.length === 0) return;
    let byLeader: Record<string, number[]>;
    try {
      byLeader = cluster.findLeaderForPartitions(scope.o.topic, wanting.map((x) => x.partition));
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
    const { scope } = this;
    const { o } = scope;
    const cluster = scope.cluster!;
    this.inflight.add(node);
    const asked = new Map(parts.map((x) => [x.partition, { offset: x.fetchOffset, epoch: x.epoch }]));
    for (const x of parts) x.fetching = true;
    // Long-poll only when nothing is buffered: otherwise partitions that fill up later would wait for it.
    const waiting = this.active.some((x) => x.chunks.length > 0);
    try {
      const broker = await cluster.findBroker({ nodeId: node });
      const res = await broker.fetch({
        isolationLevel: o.isolationLevel, maxWaitTime: waiting ? SHORT_WAIT_MS : MAX_WAIT_MS, minBytes: 1,
        maxBytes: o.maxBytesPerPartition * parts.length,
        topics: [{ topic: o.topic, partitions: parts.map((x) => ({ partition: x.partition, fetchOffset: String(x.fetchOffset), maxBytes: o.maxBytesPerPartition })) }],
      });
      if (scope.closed) return;
      this.failingSince = undefined;
      this.retryAttempt = 0;
      for (const t of res.responses) {
        if (t.topicName !== o.topic) continue;
        for (const pd of t.partitions) {
          const part = this.parts.get(pd.partition);
          const a = asked.get(pd.partition);
          if (!part || !a || part.epoch !== a.epoch || part.fetchOffset !== a.offset || part.finished) continue;
          this.addChunk(part, pd);
        }
      }
    } catch (e) {
      if (scope.closed) return;
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
    const { o, what } = this.scope;
    const now = Date.now();
    this.failingSince ??= now;
    const type = errorType(e);
    if (!isRetriable(e)) {
      this.failure = new RlinkError('RLINK_TASK_FAILED', `${what}: fetch failed: ${type}: ${kafkaMessage(e)}`, { cause: e });
      return;
    }
    if (now - this.failingSince >= o.retryTimeoutMs) {
      this.failure = new RlinkError('RLINK_TASK_FAILED',
        `${what}: cannot fetch from the Kafka brokers ${o.brokers.join(',')} for ${formatMs(now - this.failingSince)} (retried with back-off): ${kafkaMessage(e)}`,
        { retriable: true, context: { host: o.brokers.join(',') }, cause: e });
      return;
    }
    const wait = backoff(this.retryAttempt++);
    this.retryAt = now + wait;
    this.fetchErrors.warn({ error: kafkaMessage(e), type, retryInMs: wait }, `${what}: fetch failed (${type}), retrying in ${wait} ms`);
    // A leader may have moved or a broker gone: refresh before the next attempt.
    void this.scope.cluster?.refreshMetadata().catch(() => undefined);
  }

  /** The partition's fetch offset is not in the log any more (or not yet): start over as configured. */
  private async resetOutOfRange(part: Part): Promise<void> {
    if (part.resetting) return;
    part.resetting = true;
    const to = this.scope.o.startingOffsets === 'latest' ? 'latest' : 'earliest';
    try {
      const offsets = await listPartitionOffsets(this.scope, [part.partition], to);
      const offset = offsets.get(part.partition)!;
      this.scope.ctx.logger.warn({ split: part.split, offset: part.fetchOffset, resetTo: offset },
        `${this.scope.what}: offset ${part.fetchOffset} of ${part.split} is out of range; continuing from the ${to} offset ${offset} (records may be skipped or read again)`);
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
}
