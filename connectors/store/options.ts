import { RlinkError } from '../../core/errors';
import { toMillis, type Duration } from '../../core/time/duration';
import { DEFAULT_RETRY_TIMEOUT_MS } from './retry';

/** Batching and retry options every store sink takes. */
export interface StoreBatchOptions {
  /** Records per batch (one pipeline, or one multi-row statement per column set). Default 1000. */
  batchSize?: number;
  /** A partial batch is written once its first record has waited this long. Default `200ms`. */
  flushInterval?: Duration;
  /**
   * How long a transient failure (the store unreachable, restarting, a lost connection, a deadlock)
   * is retried, with exponential back-off, before the subtask fails. Default `30s`.
   */
  retryTimeout?: Duration;
}

export interface ResolvedBatchOptions {
  batchSize: number;
  flushIntervalMs: number;
  retryTimeoutMs: number;
}

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_FLUSH_INTERVAL_MS = 200;

export function resolveBatchOptions(what: string, o: StoreBatchOptions): ResolvedBatchOptions {
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000) {
    throw new RlinkError('RLINK_CONFIG', `${what}: batchSize must be an integer from 1 to 1000000, not ${JSON.stringify(o.batchSize)}`);
  }
  const flushIntervalMs = o.flushInterval === undefined ? DEFAULT_FLUSH_INTERVAL_MS : toMillis(o.flushInterval, `${what}: flushInterval`);
  if (flushIntervalMs < 1) throw new RlinkError('RLINK_CONFIG', `${what}: flushInterval must be at least 1ms`);
  const retryTimeoutMs = o.retryTimeout === undefined ? DEFAULT_RETRY_TIMEOUT_MS : toMillis(o.retryTimeout, `${what}: retryTimeout`);
  if (retryTimeoutMs < 1) throw new RlinkError('RLINK_CONFIG', `${what}: retryTimeout must be positive`);
  return { batchSize, flushIntervalMs, retryTimeoutMs };
}

/** `upsertKey` as given (a field or a list of fields) → a non-empty list of distinct field names. */
export function resolveUpsertKey(what: string, key: unknown): string[] | undefined {
  if (key === undefined) return undefined;
  const list = typeof key === 'string' ? [key] : key;
  if (!Array.isArray(list) || list.length === 0 || list.some((k) => typeof k !== 'string' || k === '')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: upsertKey must be a field name or a non-empty list of field names, not ${JSON.stringify(key)}`);
  }
  if (new Set(list).size !== list.length) throw new RlinkError('RLINK_CONFIG', `${what}: upsertKey lists a field twice: ${JSON.stringify(key)}`);
  return list as string[];
}
