/**
 * What the Kafka source and sink share: broker lists, a kafkajs client whose log goes to rlink's
 * logger, bounded retries that end in one clear error, and typed access to the few kafkajs internals
 * the connectors build on.
 *
 * Why internals: kafkajs (2.2.4, its last release) has no public "assign these partitions" consumer and
 * no way to read a transactional producer's id and epoch. The source therefore reads with kafkajs's own
 * `Cluster` (metadata, leaders, ListOffsets, Fetch, OffsetFetch/OffsetCommit: the requests its consumer
 * makes, minus the consumer group), and the exactly-once sink runs kafkajs's own transaction manager
 * (`eosManager`) and message producer on such a cluster. The `Cluster` is made by the client's own
 * factory (so retries, socket factory and logger are configured exactly as for `kafka.consumer()`);
 * {@link requireInternals} checks that everything used is there and fails with a clear message if a
 * different kafkajs is installed.
 */
import { createRequire } from 'node:module';
import type { Kafka as KafkaClient, KafkaConfig, LogEntry, Message } from 'kafkajs';
import { RlinkError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { toMillis, type Duration } from '../../core/time/duration';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { backoffDelay, retry } from '../../core/util/retry';

type KafkaJs = typeof import('kafkajs');
let lib: Promise<KafkaJs> | undefined;

/** kafkajs, loaded on first use (it costs ~70 ms; jobs without Kafka never pay it). */
export function kafkajs(): Promise<KafkaJs> {
  lib ??= import('kafkajs').then((m) => (m as unknown as { default?: KafkaJs }).default ?? m);
  return lib;
}

/** How long an unreachable cluster is retried before the job fails, by default. */
export const DEFAULT_RETRY_TIMEOUT_MS = 30_000;

/** Kafka's isolation levels as the protocol numbers them. */
export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

/** `brokers` as given by the user: a list or a comma-separated string (bootstrap.servers). */
export function normalizeBrokers(what: string, brokers: unknown): string[] {
  const list: unknown[] | undefined = typeof brokers === 'string' ? brokers.split(',') : Array.isArray(brokers) ? brokers : undefined;
  const out = (list ?? []).map((b) => (typeof b === 'string' ? b.trim() : b)).filter((b) => b !== '');
  if (out.length === 0 || out.some((b) => typeof b !== 'string')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: option "brokers" must be 'host:port[,host:port…]' or a list of 'host:port', not ${JSON.stringify(brokers)}`);
  }
  for (const b of out as string[]) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(b)) {
      throw new RlinkError('RLINK_CONFIG', `${what}: broker '${b}' is not host:port`);
    }
  }
  return out as string[];
}

export function validateTopic(what: string, topic: unknown): string {
  if (typeof topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new RlinkError('RLINK_CONFIG', `${what}: option "topic" must be a Kafka topic name (letters, digits, '.', '_', '-'), not ${JSON.stringify(topic)}`);
  }
  return topic;
}

export function retryTimeoutMs(what: string, d: Duration | undefined): number {
  if (d === undefined) return DEFAULT_RETRY_TIMEOUT_MS;
  const ms = toMillis(d, `${what}: retryTimeout`);
  if (ms <= 0) throw new RlinkError('RLINK_CONFIG', `${what}: retryTimeout must be positive`);
  return ms;
}

/**
 * A kafkajs client: kafkajs's warnings and errors go to `logger` (rate limited: an unreachable broker
 * makes kafkajs log every attempt), its own retries are short (the connectors bound the total time
 * themselves, see {@link retryUntil}).
 */
export async function createClient(opts: { brokers: string[]; clientId: string; logger: Logger; requestTimeoutMs?: number }): Promise<KafkaClient> {
  const { Kafka, logLevel: LOG_LEVEL } = await kafkajs();
  const log = new RateLimitedLog(opts.logger, 'kafka.client', 3, 10_000);
  const config: KafkaConfig = {
    brokers: opts.brokers,
    clientId: opts.clientId,
    connectionTimeout: 3_000,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000, factor: 0.2, multiplier: 2 },
    logLevel: LOG_LEVEL.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      if (entry.level <= LOG_LEVEL.WARN) log.warn({ kafkajs: entry.namespace, ...pickLogFields(rest) }, `kafkajs: ${message}`);
    },
  };
  return new Kafka(config);
}

function pickLogFields(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['broker', 'error', 'topic', 'partition', 'retryCount', 'retryTime', 'groupId']) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// kafkajs internals (typed to what is used)
// ---------------------------------------------------------------------------------------------

/** A decoded record of a Fetch response (kafkajs's decoder). */
export interface FetchedMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId: string; inTransaction: boolean; isControlBatch?: boolean };
}

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset?: string;
  abortedTransactions?: Array<{ producerId: string; firstOffset: string }>;
  messages: FetchedMessage[];
}

export interface InternalBroker {
  readonly nodeId: number;
  fetch(req: {
    isolationLevel: number; maxWaitTime: number; minBytes: number; maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: FetchedPartition[] }> }>;
  listOffsets(req: { isolationLevel: number; topics: Array<{ topic: string; partitions: Array<{ partition: number; timestamp: number }> }> }):
    Promise<{ responses: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }>;
  offsetCommit(req: { groupId: string; groupGenerationId: number; memberId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }): Promise<unknown>;
  offsetFetch(req: { groupId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number }> }> }):
    Promise<{ responses: Array<{ topic: string; partitions: Array<{ partition: number; offset: string; errorCode?: number }> }> }>;
  initProducerId(req: { transactionalId: string; transactionTimeout: number }): Promise<{ producerId: string; producerEpoch: number }>;
  endTxn(req: { producerId: string; producerEpoch: number; transactionalId: string; transactionResult: boolean }): Promise<unknown>;
}

export interface PartitionMetadata { partitionId: number; leader: number; partitionErrorCode: number }

/** kafkajs's `Cluster` (src/cluster/index.js). */
export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(req: { nodeId: number | string }): Promise<InternalBroker>;
  findGroupCoordinator(req: { groupId: string; coordinatorType?: number }): Promise<InternalBroker>;
  fetchTopicsOffset(req: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning: boolean }>):
    Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  removeBroker?(req: { host: string; port: number }): void;
}

/** kafkajs's transaction manager (src/producer/eosManager). */
export interface EosManager {
  getProducerId(): string | number;
  getProducerEpoch(): number;
  getTransactionalId(): string;
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isInTransaction(): boolean;
}

export interface MessageProducer {
  sendBatch(req: { acks: number; timeout?: number; topicMessages: Array<{ topic: string; messages: Message[] }> }): Promise<unknown>;
}

interface KafkajsInternals {
  createEosManager(o: { logger: unknown; cluster: InternalCluster; transactionTimeout: number; transactional: boolean; transactionalId: string }): EosManager;
  createMessageProducer(o: { logger: unknown; cluster: InternalCluster; partitioner: unknown; eosManager: EosManager; idempotent: boolean; retrier: unknown; getConnectionStatus: () => string }): MessageProducer;
  createRetry(o: Record<string, number>): unknown;
  version: string;
}

let internals: KafkajsInternals | undefined;

/** kafkajs's transaction manager, message producer and retrier (checked once). */
export function requireInternals(): KafkajsInternals {
  if (internals) return internals;
  const require = createRequire(import.meta.url);
  let version = 'unknown';
  try {
    version = (require('kafkajs/package.json') as { version: string }).version;
    const createEosManager = require('kafkajs/src/producer/eosManager/index.js') as unknown;
    const createMessageProducer = require('kafkajs/src/producer/messageProducer.js') as unknown;
    const createRetry = require('kafkajs/src/retry/index.js') as unknown;
    if (typeof createEosManager !== 'function' || typeof createMessageProducer !== 'function' || typeof createRetry !== 'function') throw new Error('unexpected module shapes');
    internals = { createEosManager, createMessageProducer, createRetry, version } as KafkajsInternals;
    return internals;
  } catch (e) {
    throw new RlinkError('RLINK_INTERNAL', `kafka connector: kafkajs ${version} does not have the internals rlink builds on (made for kafkajs 2.2.x): ${errorMessage(e)}`, { cause: e });
  }
}

const CREATE_CLUSTER = 'private:Kafka:createCluster';

/**
 * A kafkajs `Cluster` made by `client`'s own factory, as `kafka.consumer()` makes one: the client's
 * brokers, retries, timeouts, socket factory and logger.
 */
export function createCluster(client: KafkaClient, opts: { isolationLevel?: number; metadataMaxAge?: number } = {}): InternalCluster {
  const sym = Object.getOwnPropertySymbols(client).find((s) => s.description === CREATE_CLUSTER);
  const factory = sym ? (client as unknown as Record<symbol, unknown>)[sym] : undefined;
  if (typeof factory !== 'function') {
    throw new RlinkError('RLINK_INTERNAL', `kafka connector: this kafkajs has no cluster factory (rlink is made for kafkajs 2.2.x)`);
  }
  return (factory as (o: Record<string, unknown>) => InternalCluster)({
    allowAutoTopicCreation: false,
    isolationLevel: opts.isolationLevel ?? READ_COMMITTED,
    metadataMaxAge: opts.metadataMaxAge ?? 300_000,
    maxInFlightRequests: null,
  });
}

/**
 * The earliest or latest offsets of `partitions` (ListOffsets to each leader; under read_committed the
 * latest is the last stable offset), as [partition, offset] pairs.
 */
export async function listOffsets(cluster: InternalCluster, topic: string, partitions: number[], fromBeginning: boolean): Promise<Array<[number, number]>> {
  await cluster.refreshMetadataIfNecessary();
  const res = await cluster.fetchTopicsOffset([{ topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning }]);
  const out: Array<[number, number]> = [];
  for (const t of res) if (t.topic === topic) for (const x of t.partitions) out.push([x.partition, Number(x.offset)]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors and retries
// ---------------------------------------------------------------------------------------------

interface KafkaJsErrorLike { name?: string; type?: string; retriable?: boolean; code?: string; cause?: unknown; originalError?: unknown }

/** The Kafka error type (e.g. `NOT_LEADER_FOR_PARTITION`) or the error's name. */
export function errorType(e: unknown): string {
  const x = e as KafkaJsErrorLike | undefined;
  const inner = (x?.originalError ?? x?.cause) as KafkaJsErrorLike | undefined;
  return x?.type ?? inner?.type ?? x?.code ?? x?.name ?? 'Error';
}

/** The innermost message of a kafkajs error (retry wrappers repeat it). */
export function kafkaMessage(e: unknown): string {
  let x = e as (KafkaJsErrorLike & { message?: string }) | undefined;
  for (let i = 0; i < 4; i++) {
    const inner = (x?.originalError ?? x?.cause) as (KafkaJsErrorLike & { message?: string }) | undefined;
    if (!inner || typeof inner !== 'object') break;
    x = inner;
  }
  return errorMessage(x ?? e);
}

const FATAL_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_VERSION', 'INVALID_TRANSACTION_TIMEOUT', 'INVALID_TOPIC_EXCEPTION', 'RECORD_LIST_TOO_LARGE',
  'MESSAGE_TOO_LARGE', 'INVALID_REQUIRED_ACKS', 'UNSUPPORTED_FOR_MESSAGE_FORMAT', 'KafkaJSServerDoesNotSupportApiKey',
  'PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_TXN_STATE',
]);

/** Whether retrying may help (connection problems, leader changes, coordinators moving). */
export function isRetriable(e: unknown): boolean {
  const t = errorType(e);
  if (FATAL_TYPES.has(t)) return false;
  if (e instanceof RlinkError) return e.retriable;
  return true;
}

/** The Kafka connectors' back-off: doubling from 100 ms up to 5 s, with ±20 % jitter (core/util/retry.ts). */
const KAFKA_BACKOFF = { initialMs: 100, maxMs: 5_000, jitter: 0.2 } as const;

/** The next back-off delay: doubles from 100 ms up to 5 s, with ±20 % jitter. */
export function backoff(attempt: number): number {
  return backoffDelay(attempt, KAFKA_BACKOFF);
}

/**
 * Runs `fn` until it succeeds, retrying retriable failures with back-off, for at most `timeoutMs`
 * in all (an attempt still running at the deadline is abandoned). Then: `fail(lastError)`.
 * The loop is core/util/retry.ts's; this adds Kafka's defaults (what is retriable, the delays).
 */
export function retryUntil<T>(fn: () => Promise<T>, opts: {
  timeoutMs: number;
  fail: (last: unknown, elapsedMs: number) => Error;
  onRetry?: (e: unknown, attempt: number) => void;
  isRetriable?: (e: unknown) => boolean;
  closed?: () => boolean;
}): Promise<T> {
  return retry(() => fn(), {
    timeoutMs: opts.timeoutMs,
    isRetriable: opts.isRetriable ?? isRetriable,
    fail: opts.fail,
    backoff: KAFKA_BACKOFF,
    ...(opts.onRetry ? { onRetry: (e: unknown, attempt: number) => opts.onRetry!(e, attempt) } : {}),
    ...(opts.closed ? { closed: opts.closed } : {}),
  });
}

/** `30 s`, `1.5 s`, `200 ms` */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}
