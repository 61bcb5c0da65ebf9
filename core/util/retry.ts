/**
 * The one retry module of rlink: exponential back-off with jitter, every loop bounded by a deadline
 * and by a number of attempts, a predicate that says which failures are worth retrying, and one
 * error (built by the caller, naming the cause) when the time is up. Used by the Kafka and store
 * connectors, the task manager's reconnects to the job manager, and the deploy toolkit's waits.
 *
 *   // an operation that may fail for a while: retried with back-off until it succeeds or 30 s passed
 *   await retry(() => producer.connect(), {
 *     timeoutMs: 30_000, isRetriable: isNetworkError,
 *     fail: (last, ms) => new RlinkError('RLINK_NETWORK', `no broker within ${ms} ms: ${errorMessage(last)}`),
 *   });
 *   // a condition to wait for: polled until it yields a value, or the deadline passes
 *   const url = await poll(() => readAddressFile(), { timeoutMs: 120_000, intervalMs: 250, fail: (ms) => … });
 *   // a reconnect loop driven by events: the next delay, and a reset once connected
 *   const b = new Backoff({ initialMs: 100, maxMs: 5_000, jitter: 0.25 });
 *   setTimeout(connect, b.next());  …  b.reset();
 */

export interface BackoffOptions {
  /** The first delay, in ms (default 100). */
  initialMs?: number;
  /** The largest delay, in ms (default 5 000). */
  maxMs?: number;
  /** Growth per attempt (default 2: doubling). */
  factor?: number;
  /**
   * Relative jitter: each delay is multiplied by a uniform factor in [1 − jitter, 1 + jitter]
   * (default 0.2), so that many clients that failed together do not retry together.
   */
  jitter?: number;
}

const DEFAULT_INITIAL_MS = 100;
const DEFAULT_MAX_MS = 5_000;
const DEFAULT_FACTOR = 2;
const DEFAULT_JITTER = 0.2;
/** Attempts at most, whatever the deadline (a bound on the loop, not a tuning knob). */
export const DEFAULT_MAX_ATTEMPTS = 10_000;

/**
 * The delay before attempt `attempt + 1` (attempt 0 is the first retry's wait): `initialMs ·
 * factor^attempt`, capped at `maxMs`, with jitter. `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, o: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = o.initialMs ?? DEFAULT_INITIAL_MS;
  const max = o.maxMs ?? DEFAULT_MAX_MS;
  const factor = o.factor ?? DEFAULT_FACTOR;
  const jitter = Math.min(1, Math.max(0, o.jitter ?? DEFAULT_JITTER));
  // The exponent is capped so that the product never overflows; the cap on the delay does the rest.
  const base = Math.min(max, initial * factor ** Math.min(Math.max(0, attempt), 64));
  return Math.max(0, Math.round(base * (1 - jitter + random() * 2 * jitter)));
}

/** Successive back-off delays for loops driven by events (reconnects): `next()`, and `reset()` once it worked. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly o: BackoffOptions = {}, private readonly random: () => number = Math.random) {}

  /** The next delay (ms); each call grows it up to `maxMs`. */
  next(): number { return backoffDelay(this.attempt++, this.o, this.random); }

  /** How many delays were handed out since the last reset. */
  get attempts(): number { return this.attempt; }

  /** Back to `initialMs` (call it once the operation succeeded). */
  reset(): void { this.attempt = 0; }
}

export interface RetryOptions {
  /** Total time for all attempts (ms); an attempt still running at the deadline is abandoned. */
  timeoutMs: number;
  /** Whether a failure may go away by itself (a refused connection, a leader moving, a deadlock…); others are thrown at once. */
  isRetriable: (e: unknown) => boolean;
  /**
   * The error thrown when the deadline passed (or the attempts ran out, or `closed()` said stop):
   * `last` is the last failure (a {@link DeadlineError} when the first attempt itself hung), `elapsedMs`
   * the time spent.
   */
  fail: (last: unknown, elapsedMs: number) => Error;
  /** Called after each retriable failure, before the wait (e.g. to log it or drop a broken connection). */
  onRetry?: (e: unknown, attempt: number, waitMs: number) => Promise<void> | void;
  /** Stops retrying when it returns true (the caller is closing). */
  closed?: () => boolean;
  /** The waits between attempts (default: from 100 ms, doubling, up to 5 s, ±20 %). */
  backoff?: BackoffOptions;
  /** Attempts at most (default {@link DEFAULT_MAX_ATTEMPTS}). */
  maxAttempts?: number;
}

/** An attempt that was still running when the deadline passed. */
export class DeadlineError extends Error {
  constructor(readonly ms: number) { super(`no answer within ${ms} ms`); this.name = 'DeadlineError'; }
}

/**
 * Runs `fn` until it succeeds. A retriable failure is retried after a back-off; any other failure
 * is thrown at once; when the deadline passes (or the attempts run out, or `closed()`),
 * `fail(lastFailure, elapsedMs)` is thrown.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const maxAttempts = o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let last: unknown;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const left = deadline - Date.now();
    if (o.closed?.()) { last ??= new Error('closed'); break; }
    if (left <= 0) { last ??= new DeadlineError(o.timeoutMs); break; }
    let timer: NodeJS.Timeout | undefined;
    try {
      const p = fn(attempt);
      p.catch(() => undefined); // abandoned at the deadline: its failure is no longer ours
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DeadlineError(left)), left); });
      return await Promise.race([p, timeout]);
    } catch (e) {
      // An attempt cut short says less than the failure before it, if there was one.
      if (e instanceof DeadlineError) { last ??= e; break; }
      last = e;
      if (!o.isRetriable(e)) throw e;
      const wait = Math.min(backoffDelay(attempt, o.backoff), Math.max(0, deadline - Date.now()));
      await o.onRetry?.(e, attempt, wait);
      if (wait > 0) await sleep(wait);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
  throw o.fail(last ?? new Error(`gave up after ${maxAttempts} attempts`), Date.now() - start);
}

export interface PollOptions {
  /** How long to wait for a value (ms). */
  timeoutMs: number;
  /** A fixed pause between checks (ms); without it, the pauses follow `backoff`. */
  intervalMs?: number;
  /** Pauses growing from `initialMs` to `maxMs` (used when `intervalMs` is not given; default 50 ms … 1 s, ±20 %). */
  backoff?: BackoffOptions;
  /** The error thrown when the time is up (or `closed()`, or the checks ran out). */
  fail: (elapsedMs: number) => Error;
  /** Stops waiting when it returns true. */
  closed?: () => boolean;
  /** Checks at most (default {@link DEFAULT_MAX_ATTEMPTS}). */
  maxAttempts?: number;
}

/**
 * Calls `check` until it returns a value other than undefined, pausing between calls; a failure of
 * `check` is thrown at once (a check that may fail for a while catches its own errors). The last
 * check happens at the deadline at the latest: a condition met just in time is not missed.
 */
export async function poll<T>(check: (attempt: number) => Promise<T | undefined> | T | undefined, o: PollOptions): Promise<T> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const maxAttempts = o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const pauses = o.backoff ?? { initialMs: 50, maxMs: 1_000 };
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (o.closed?.()) break;
    const value = await check(attempt);
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(left, o.intervalMs ?? backoffDelay(attempt, pauses)));
  }
  throw o.fail(Date.now() - start);
}

/** A promise that resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
