/**
 * The store connectors' (Redis, PostgreSQL, MySQL) retry defaults over core/util/retry.ts: exponential
 * back-off with jitter on transient failures, bounded in time and in attempts, ending in one clear
 * error; and which socket failures count as transient.
 */
import { backoffDelay, retry, sleep } from '../../core/util/retry';

export { sleep };

/** How long a store that cannot be reached is retried, by default. */
export const DEFAULT_RETRY_TIMEOUT_MS = 30_000;
/** Attempts at most, whatever the time bound (a bound on the loop, not a tuning knob). */
const MAX_ATTEMPTS = 1_000;

export interface RetryOptions {
  /** Total time for all attempts (ms); an attempt still running at the deadline is abandoned. */
  timeoutMs: number;
  /** Whether a failure may go away by itself (connection refused, server restarting, deadlock, …). */
  isTransient: (e: unknown) => boolean;
  /** The error thrown when the time is up: `last` is the last failure, `elapsedMs` the time spent. */
  fail: (last: unknown, elapsedMs: number) => Error;
  /** Called after each transient failure, before the wait (e.g. to drop a broken connection). */
  onRetry?: (e: unknown, attempt: number, waitMs: number) => Promise<void> | void;
  /** Stops retrying (the writer is closing). */
  closed?: () => boolean;
  /** First wait (ms), doubled per attempt up to `maxDelayMs`. Default 100 ms, at most 2 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** The wait before attempt `attempt + 1`: doubling from `initial` up to `max`, ±20 % jitter. */
export function backoff(attempt: number, initial = 100, max = 2_000): number {
  return backoffDelay(attempt, { initialMs: initial, maxMs: max, jitter: 0.2 });
}

/**
 * Runs `fn` until it succeeds. A transient failure is retried after a back-off; any other failure
 * is thrown at once; when `timeoutMs` is up, `fail(lastFailure)` is thrown. The loop is
 * core/util/retry.ts's; this keeps the store connectors' defaults (100 ms … 2 s, 1 000 attempts).
 */
export function withRetries<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  return retry(fn, {
    timeoutMs: o.timeoutMs,
    isRetriable: o.isTransient,
    fail: o.fail,
    maxAttempts: MAX_ATTEMPTS,
    backoff: { initialMs: o.initialDelayMs ?? 100, maxMs: o.maxDelayMs ?? 2_000, jitter: 0.2 },
    ...(o.onRetry ? { onRetry: o.onRetry } : {}),
    ...(o.closed ? { closed: o.closed } : {}),
  });
}

/** `30 s`, `1.5 s`, `200 ms` */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}

/** Node's socket error codes that mean "the peer is not there (yet) or the connection broke". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTCONN', 'ESHUTDOWN', 'EADDRNOTAVAIL',
]);

/** A socket-level failure (by code, or by the messages clients use for a lost connection). */
export function isNetworkError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const errors = (e as { errors?: unknown } | null)?.errors; // AggregateError of a multi-address connect
  if (Array.isArray(errors) && errors.some(isNetworkError)) return true;
  const msg = e instanceof Error ? e.message : '';
  return /connection (is )?(closed|terminated|lost|ended)|socket (hang up|closed)|Connection terminated|not queryable|ECONNREFUSED|ECONNRESET/i.test(msg);
}
