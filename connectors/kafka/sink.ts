import type { Kafka as KafkaClient, Message, Producer } from 'kafkajs';
import type { ConnectorContext, Sink, SinkWriter } from '../../core/api/connector';
import { RlinkError, errorMessage } from '../../core/errors';
import { toMillis, type Duration } from '../../core/time/duration';
import { createClient, errorType, kafkajs, formatMs, kafkaMessage, normalizeBrokers, retryTimeoutMs, retryUntil, validateTopic } from './client';
import { ALREADY_COMPLETED, KafkaTransactionBackend, type BackendOptions, type KafkaCommittable, type OpenTransaction, type TransactionBackend } from './transactions';

export type { KafkaCommittable } from './transactions';

/** Options of {@link kafkaSink} (`sinks.kafka`). */
export interface KafkaSinkOptions<T = unknown> {
  /** Bootstrap brokers: `'host:port,host:port'` or a list. */
  brokers: string | string[];
  topic: string;
  /**
   * - `none`: batches are sent without waiting (acks = leader); records may be lost on failures.
   * - `at-least-once`: each batch is acknowledged by all in-sync replicas before the next one
   *   (acks = all), and a checkpoint waits for everything sent; records may be duplicated on failures.
   * - `exactly-once`: Flink's two-phase commit with Kafka transactions: one transaction per checkpoint
   *   and subtask, committed when the checkpoint completes. Consumers must read with
   *   `isolation.level=read_committed` (the Kafka source's default) to see only committed records.
   */
  guarantee: 'none' | 'at-least-once' | 'exactly-once';
  /**
   * exactly-once: prefix of the transactional ids (default: the job id). Set it when restoring from a
   * savepoint into a new job, so that transactions the old job left open are found and aborted; two
   * jobs writing at the same time must use different prefixes.
   */
  transactionalIdPrefix?: string;
  /** The message key: a field of the record, or a function of it. None: no key (round robin). */
  key?: string | ((record: T) => string | number | null | undefined);
  /** Kafka client id (default `rlink-sink`). */
  clientId?: string;
  /**
   * exactly-once: the transaction timeout the brokers enforce (default 15 min, the brokers' default
   * maximum). A transaction not committed within it is aborted by the brokers: it must exceed the
   * checkpoint interval plus the time to recover from a failure.
   */
  transactionTimeout?: Duration;
  /** How long an unreachable cluster is retried (with back-off) before the job fails. Default 30 s. */
  retryTimeout?: Duration;
}

const DEFAULT_TRANSACTION_TIMEOUT_MS = 15 * 60_000;
/** guarantee none: write() waits once this many batches are unacknowledged. */
const MAX_INFLIGHT = 16;
/** Transactional ids probed (aborted) at least, from the restored checkpoint on, per old subtask. */
const PROBE_MIN = 5;
/**
 * Bounds of the probe: ids per subtask, and old subtasks beyond this one (k + p, k + 2p, …). Probing
 * marks ids as used, so restarts that never get past the same checkpoint probe a little further
 * each time; the bounds keep a crash loop from making the start slow.
 */
const PROBE_MAX = 50;
const MAX_OLD_SUBTASKS = 16;

export interface ResolvedSinkOptions {
  brokers: string[];
  topic: string;
  guarantee: 'none' | 'at-least-once' | 'exactly-once';
  transactionalIdPrefix: string | undefined;
  key: ((record: unknown) => string | number | null | undefined) | undefined;
  clientId: string;
  transactionTimeoutMs: number;
  retryTimeoutMs: number;
}

/**
 * `sinks.kafka`: writes records to a topic as JSON (strings as they are), with the record's event
 * time as the Kafka timestamp. See {@link KafkaSinkOptions.guarantee}.
 */
export function kafkaSink<T = unknown>(opts: KafkaSinkOptions<T>): Sink<T> {
  const o = resolveSinkOptions(opts);
  const k = opts.key;
  return {
    kind: 'kafka',
    describe: () => ({
      kind: 'kafka', brokers: o.brokers.join(','), topic: o.topic, guarantee: o.guarantee,
      transactionalIdPrefix: o.transactionalIdPrefix ?? null, key: typeof k === 'string' ? k : k ? '(function)' : null,
    }),
    createWriter: (ctx) => (o.guarantee === 'exactly-once' ? new ExactlyOnceKafkaWriter<T>(o, ctx) : new KafkaWriter<T>(o, ctx)),
  };
}

/** Checks and completes the options of a Kafka sink (RLINK_CONFIG errors name the option). */
export function resolveSinkOptions<T>(opts: KafkaSinkOptions<T>): ResolvedSinkOptions {
  const what = 'kafka sink';
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { brokers, topic, guarantee } are required`);
  const brokers = normalizeBrokers(what, opts.brokers);
  const topic = validateTopic(what, opts.topic);
  if (!['none', 'at-least-once', 'exactly-once'].includes(opts.guarantee)) {
    throw new RlinkError('RLINK_CONFIG', `${what}: guarantee must be 'none', 'at-least-once' or 'exactly-once', not ${JSON.stringify(opts.guarantee)}`);
  }
  if (opts.transactionalIdPrefix !== undefined && (typeof opts.transactionalIdPrefix !== 'string' || opts.transactionalIdPrefix === '')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: transactionalIdPrefix must be a non-empty string`);
  }
  const k = opts.key;
  if (k !== undefined && typeof k !== 'string' && typeof k !== 'function') {
    throw new RlinkError('RLINK_CONFIG', `${what}: key must be a field name or a function (record) => key`);
  }
  const key = k === undefined ? undefined
    : typeof k === 'function' ? (k as (r: unknown) => string | number | null | undefined)
      : (r: unknown) => (r !== null && typeof r === 'object' ? (r as Record<string, string | number | null | undefined>)[k] : undefined);
  const tt = opts.transactionTimeout === undefined ? DEFAULT_TRANSACTION_TIMEOUT_MS : toMillis(opts.transactionTimeout, `${what}: transactionTimeout`);
  if (tt < 1000) throw new RlinkError('RLINK_CONFIG', `${what}: transactionTimeout must be at least 1s`);
  return {
    brokers, topic, guarantee: opts.guarantee, transactionalIdPrefix: opts.transactionalIdPrefix, key,
    clientId: opts.clientId ?? 'rlink-sink', transactionTimeoutMs: tt, retryTimeoutMs: retryTimeoutMs(what, opts.retryTimeout),
  };
}

/** Encodes records as Kafka messages: JSON values (strings as is), keys, event-time timestamps. */
function encode(o: ResolvedSinkOptions, values: unknown[], timestamps: number[] | undefined): Message[] {
  const out = new Array<Message>(values.length);
  const key = o.key;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const m: Message = { value: typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null') };
    if (key) {
      const kv = key(v);
      if (kv !== null && kv !== undefined) m.key = String(kv);
    }
    const ts = timestamps?.[i];
    if (ts !== undefined && ts >= 0 && ts < 8.64e15) m.timestamp = String(Math.trunc(ts));
    out[i] = m;
  }
  return out;
}

function describeTarget(o: ResolvedSinkOptions): string {
  return `kafka sink (topic '${o.topic}', brokers ${o.brokers.join(',')})`;
}

function writeFailure(o: ResolvedSinkOptions, e: unknown): RlinkError {
  if (e instanceof RlinkError) return e;
  return new RlinkError('RLINK_TASK_FAILED', `${describeTarget(o)}: cannot write: ${errorType(e)}: ${kafkaMessage(e)}`,
    { retriable: true, context: { host: o.brokers.join(',') }, cause: e });
}

// ---------------------------------------------------------------------------------------------
// none / at-least-once
// ---------------------------------------------------------------------------------------------

/** `none` and `at-least-once`: a plain kafkajs producer. */
class KafkaWriter<T> implements SinkWriter<T> {
  private client: KafkaClient | undefined;
  private producer: Producer | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private error: unknown;
  private readonly acks: number;

  constructor(private readonly o: ResolvedSinkOptions, private readonly ctx: ConnectorContext) {
    this.acks = o.guarantee === 'none' ? 1 : -1;
  }

  async open(): Promise<void> {
    const { Partitioners } = await kafkajs();
    const client = this.client = await createClient({ brokers: this.o.brokers, clientId: this.o.clientId, logger: this.ctx.logger });
    const producer = this.producer = client.producer({
      createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await retryUntil(() => producer.connect(), {
      timeoutMs: this.o.retryTimeoutMs,
      fail: (e, ms) => new RlinkError('RLINK_TASK_FAILED', `kafka sink: cannot reach the Kafka brokers ${this.o.brokers.join(',')} (topic '${this.o.topic}') within ${formatMs(ms)}, retried with back-off: ${kafkaMessage(e)}`,
        { retriable: true, context: { host: this.o.brokers.join(',') }, cause: e }),
    });
  }

  write(values: T[], timestamps: number[]): Promise<void> | void {
    if (this.error !== undefined) throw writeFailure(this.o, this.error);
    if (values.length === 0) return;
    const messages = encode(this.o, values, timestamps);
    const sent = this.producer!.send({ topic: this.o.topic, messages, acks: this.acks }).then(() => {
      this.ctx.metrics.bytesOut += bytesOf(messages);
    });
    if (this.acks === -1) return sent.catch((e: unknown) => { throw writeFailure(this.o, e); });
    // none: fire and forget, up to MAX_INFLIGHT batches; the first failure fails a later write.
    const p = sent.catch((e: unknown) => { this.error ??= e; }).finally(() => { this.inflight.delete(p); });
    this.inflight.add(p);
    if (this.inflight.size >= MAX_INFLIGHT) return Promise.race(this.inflight);
  }

  async prepareCommit(): Promise<null> {
    await Promise.all(this.inflight);
    if (this.error !== undefined) throw writeFailure(this.o, this.error);
    return null;
  }

  commit(): void {}

  async close(): Promise<void> {
    await withTimeout(Promise.all(this.inflight), 10_000);
    await withTimeout(this.producer?.disconnect() ?? Promise.resolve(), 5_000);
  }
}

// ---------------------------------------------------------------------------------------------
// exactly-once
// ---------------------------------------------------------------------------------------------

/**
 * `exactly-once`: Flink's KafkaSink two-phase commit.
 *
 * - One transaction per checkpoint interval and subtask, begun on the first write after a checkpoint,
 *   with the transactional id `<prefix>-<operatorId>-<subtask>-<n>`, n = the last checkpoint id + 1
 *   (Flink's checkpoint-indexed naming). Every transaction has an id of its own: a committable (id,
 *   producer id, epoch) names exactly one transaction, so committing it again after a failure can
 *   never commit a later transaction (kafkajs keeps the epoch across a producer's transactions).
 * - `prepareCommit(checkpointId)` flushes (every send is acknowledged) and returns the committable
 *   without committing; `commit` (when the checkpoint completed everywhere) sends EndTxn(commit). A
 *   transaction that is already over (committed before, fenced, timed out) is a no-op with a log line.
 * - `open(restored)` aborts what the failed attempt left open: it initialises the transactional ids
 *   after the restored checkpoint K (n > K) — for this subtask and for the old subtasks k + p, k + 2p, …
 *   that no longer exist at this parallelism — which fences their producers and aborts their
 *   transactions. The restored committables (their checkpoint completed) are committed by the sink
 *   operator's `commit` right after `open` (by subtask 0 alone after a rescale); their ids are ≤ K and
 *   never touched by the probe, whichever subtask commits them and whenever. The probe goes on while
 *   ids turn out used (epoch > 0) and covers at least {@link PROBE_MIN} ids per subtask, so gaps in the
 *   checkpoint ids are covered too.
 */
export class ExactlyOnceKafkaWriter<T> implements SinkWriter<T> {
  private backend: TransactionBackend | undefined;
  private current: { txn: OpenTransaction; records: number } | undefined;
  private sending: Promise<void> = Promise.resolve();
  private error: unknown;
  private lastCheckpointId = 0;
  /** Transactions committed by this writer (transactionalId/producerId/epoch). */
  private readonly committed = new Set<string>();
  private readonly base: string;
  private readonly what: string;

  constructor(
    private readonly o: ResolvedSinkOptions,
    private readonly ctx: ConnectorContext,
    private readonly createBackend: (o: BackendOptions) => TransactionBackend = (b) => new KafkaTransactionBackend(b),
  ) {
    this.base = `${o.transactionalIdPrefix ?? ctx.jobId}-${ctx.operatorId}`;
    this.what = describeTarget(o);
  }

  /** The transactional id of transaction `n` of subtask `subtask`. */
  transactionalId(subtask: number, n: number): string { return `${this.base}-${subtask}-${n}`; }

  async open(restored?: unknown): Promise<void> {
    const backend = this.backend = this.createBackend({
      brokers: this.o.brokers, topic: this.o.topic, clientId: this.o.clientId, logger: this.ctx.logger,
      transactionTimeoutMs: this.o.transactionTimeoutMs, retryTimeoutMs: this.o.retryTimeoutMs,
    });
    await backend.connect();
    const k = restoredCheckpointId(restored);
    this.lastCheckpointId = k ?? 0;
    // What the failed attempt began after the restored checkpoint is aborted. (What the checkpoint
    // prepared is committed by the sink operator right after open(), through commit(): by subtask 0
    // alone after a rescale. Their ids are ≤ k, never touched here, so the order does not matter.)
    const known = restoredCommittables(restored).length;
    const probed = await this.abortLingering(this.lastCheckpointId);
    this.ctx.logger.info({ restoredCheckpointId: k ?? null, restoredCommittables: known, probed },
      `${this.what}: exactly-once writer ready (transactional ids ${this.base}-${this.ctx.subtaskIndex}-<n>; ${probed} ids after checkpoint ${k ?? 0} fenced)`);
  }

  write(values: T[], timestamps: number[]): Promise<void> | void {
    if (this.error !== undefined) throw writeFailure(this.o, this.error);
    if (values.length === 0) return;
    const messages = encode(this.o, values, timestamps);
    const run = this.sending.then(async () => {
      if (this.error !== undefined) throw this.error;
      if (!this.current) {
        const id = this.transactionalId(this.ctx.subtaskIndex, this.lastCheckpointId + 1);
        this.current = { txn: await this.backend!.begin(id), records: 0 };
      }
      await this.current.txn.send(messages);
      this.current.records += messages.length;
      this.ctx.metrics.bytesOut += bytesOf(messages);
    });
    this.sending = run.catch((e: unknown) => { this.error ??= e; });
    return run.catch((e: unknown) => { throw writeFailure(this.o, e); });
  }

  async prepareCommit(checkpointId: number): Promise<KafkaCommittable | null> {
    await this.sending;
    if (this.error !== undefined) throw writeFailure(this.o, this.error);
    this.lastCheckpointId = Math.max(this.lastCheckpointId, checkpointId);
    const cur = this.current;
    if (!cur) return null;
    this.current = undefined;
    const { txn, records } = cur;
    return { transactionalId: txn.transactionalId, producerId: txn.producerId, producerEpoch: txn.producerEpoch, checkpointId, records };
  }

  async commit(committables: unknown[]): Promise<void> {
    const list = committables.filter(isCommittable).sort((a, b) => a.checkpointId - b.checkpointId);
    for (const c of list) {
      const key = `${c.transactionalId}/${c.producerId}/${c.producerEpoch}`;
      if (this.committed.has(key)) {
        this.ctx.logger.info({ transactionalId: c.transactionalId, checkpointId: c.checkpointId }, `${this.what}: transaction ${c.transactionalId} (checkpoint ${c.checkpointId}) is already committed`);
        continue;
      }
      try {
        await this.backend!.commit(c);
        this.ctx.logger.debug({ transactionalId: c.transactionalId, checkpointId: c.checkpointId, records: c.records }, `${this.what}: committed transaction ${c.transactionalId}`);
      } catch (e) {
        const type = errorType(e);
        if (!ALREADY_COMPLETED.has(type)) throw writeFailure(this.o, e);
        this.ctx.logger.warn({ transactionalId: c.transactionalId, checkpointId: c.checkpointId, records: c.records, type },
          `${this.what}: transaction ${c.transactionalId} (checkpoint ${c.checkpointId}) is already over (${type}): committed before, or aborted (e.g. by the transaction timeout); nothing to commit`);
      }
      this.committed.add(key);
      if (this.committed.size > 10_000) this.committed.delete(this.committed.values().next().value!);
    }
  }

  async close(): Promise<void> {
    await withTimeout(this.sending, 10_000);
    // A transaction not prepared yet is of no checkpoint: abort it (prepared ones stay for the restore).
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      await withTimeout(cur.txn.abort().catch((e: unknown) => {
        this.ctx.logger.debug({ transactionalId: cur.txn.transactionalId, error: errorMessage(e) }, `${this.what}: abort on close failed (the next start aborts it)`);
      }), 5_000);
    }
    await withTimeout(this.backend?.close() ?? Promise.resolve(), 5_000);
  }

  /** Fences the transactional ids a failed attempt may have left open after checkpoint `k`. */
  private async abortLingering(k: number): Promise<number> {
    const backend = this.backend!;
    const { subtaskIndex, parallelism } = this.ctx;
    let probed = 0;
    for (let s = subtaskIndex; ; s += parallelism) {
      let used = false;
      for (let n = k + 1; n < k + 1 + PROBE_MAX; n++) {
        const id = this.transactionalId(s, n);
        const { producerEpoch } = await backend.fence(id).catch((e: unknown) => {
          throw new RlinkError('RLINK_TASK_FAILED', `${this.what}: cannot abort the lingering transaction ${id}: ${errorType(e)}: ${kafkaMessage(e)}`, { retriable: true, cause: e });
        });
        probed++;
        const wasUsed = producerEpoch > 0;
        if (wasUsed) used = true;
        if (n >= k + PROBE_MIN && !wasUsed) break;
      }
      // Old subtasks beyond this one: go on while they turn out to have existed.
      if (s !== subtaskIndex && !used) break;
      if (s >= subtaskIndex + parallelism * MAX_OLD_SUBTASKS) break;
    }
    return probed;
  }
}

function restoredCheckpointId(restored: unknown): number | undefined {
  const k = (restored as { restoredCheckpointId?: unknown } | undefined)?.restoredCheckpointId;
  return typeof k === 'number' && Number.isSafeInteger(k) && k >= 0 ? k : undefined;
}

/** The committables in a restored sink state `{ prepared: [[checkpointId, committable], …] }`. */
function restoredCommittables(restored: unknown): KafkaCommittable[] {
  const prepared = (restored as { prepared?: unknown } | undefined)?.prepared;
  if (!Array.isArray(prepared)) return [];
  const out: KafkaCommittable[] = [];
  for (const e of prepared) {
    const c = Array.isArray(e) ? e[1] : e;
    if (isCommittable(c)) out.push(c);
  }
  return out;
}

function isCommittable(c: unknown): c is KafkaCommittable {
  if (!c || typeof c !== 'object') return false;
  const o = c as Partial<KafkaCommittable>;
  return typeof o.transactionalId === 'string' && typeof o.producerId === 'string' && typeof o.producerEpoch === 'number' && typeof o.checkpointId === 'number';
}

function bytesOf(messages: Message[]): number {
  let n = 0;
  for (const m of messages) n += typeof m.value === 'string' ? m.value.length : m.value?.length ?? 0;
  return n;
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => { t = setTimeout(r, ms); })]).finally(() => clearTimeout(t));
}
