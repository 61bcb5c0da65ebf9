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

/** A count given as a number, or as digits (options from a job file or SQL's WITH are text). */
export function countOption(v: unknown): unknown {
  return typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
}

/** A flag given as a boolean, or as 'true' / 'false'. */
export function flagOption(v: unknown): unknown {
  return v === 'true' ? true : v === 'false' ? false : v;
}

export function resolveBatchOptions(what: string, o: StoreBatchOptions): ResolvedBatchOptions {
  const batchSize = countOption(o.batchSize) ?? DEFAULT_BATCH_SIZE;
  if (typeof batchSize !== 'number' || !Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000) {
    throw new RlinkError('RLINK_CONFIG', `${what}: batchSize must be an integer from 1 to 1000000, not ${JSON.stringify(o.batchSize)}`);
  }
  const flushIntervalMs = o.flushInterval === undefined ? DEFAULT_FLUSH_INTERVAL_MS : toMillis(o.flushInterval, `${what}: flushInterval`);
  if (flushIntervalMs < 1) throw new RlinkError('RLINK_CONFIG', `${what}: flushInterval must be at least 1ms`);
  const retryTimeoutMs = o.retryTimeout === undefined ? DEFAULT_RETRY_TIMEOUT_MS : toMillis(o.retryTimeout, `${what}: retryTimeout`);
  if (retryTimeoutMs < 1) throw new RlinkError('RLINK_CONFIG', `${what}: retryTimeout must be positive`);
  return { batchSize, flushIntervalMs, retryTimeoutMs };
}

/** `upsertKey` as given (a field, `'a,b'`, or a list of fields) → a non-empty list of distinct field names. */
export function resolveUpsertKey(what: string, key: unknown): string[] | undefined {
  if (key === undefined) return undefined;
  const list = typeof key === 'string' ? key.split(',').map((k) => k.trim()) : key;
  if (!Array.isArray(list) || list.length === 0 || list.some((k) => typeof k !== 'string' || k === '')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: upsertKey must be a field name or a non-empty list of field names, not ${JSON.stringify(key)}`);
  }
  if (new Set(list).size !== list.length) throw new RlinkError('RLINK_CONFIG', `${what}: upsertKey lists a field twice: ${JSON.stringify(key)}`);
  return list as string[];
}
