import type { ConnectorContext, Source, SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError, errorMessage } from '../../core/errors';
import { toMillis, type Duration } from '../../core/time/duration';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { describeEndpoint, hostPort, type Endpoint } from '../store/endpoint';
import { DEFAULT_RETRY_TIMEOUT_MS, backoff, formatMs, withRetries } from '../store/retry';
import { countOption } from '../store/options';
import { RedisSlot, describeRedisError, isTransientRedisError, parseRedisUrl } from './client';

/** Options of {@link redisStreamSource} (`sources.redisStream`). */
export interface RedisStreamSourceOptions {
  /** `redis://[user:password@]host:6379[/db]`, or `rediss://…` for TLS. */
  url: string;
  /** The stream key(s) to read. Each stream is a split; subtask k of p reads the streams i ≡ k (mod p). */
  stream: string | string[];
  /**
   * Where a stream is read from when the job restores no position for it: `earliest` (default: the
   * whole stream) or `latest` (only entries added after the job first starts).
   */
  start?: 'earliest' | 'latest';
  /**
   * `latest`: the source is bounded: each stream is read up to its last entry when the job first
   * started (kept in checkpoints, so a restored job stops at the same entry), then the job can finish.
   * Omitted: unbounded.
   */
  bounded?: 'latest';
  /**
   * `fields` (default): each entry becomes an object of its fields (values are strings); `json`: the
   * entry's field `field` (default `data`) holds the record as JSON (what `sinks.redis` with
   * `command: 'xadd', field: 'data'` writes). An entry that is not valid JSON is counted, logged and skipped.
   */
  format?: 'fields' | 'json';
  /** format `json`: the entry field that holds the JSON. Default `data`. */
  field?: string;
  /** Entries fetched per XREAD and stream. Default 500. */
  fetchSize?: number;
  /** How long an unreachable server is retried (with back-off) before the job fails. Default 30 s. */
  retryTimeout?: Duration;
}

/**
 * The source's checkpoint state: per stream, the id of the last entry handed out (`'0-0'`: none yet);
 * for a bounded source also `<stream>:end`, the id it stops at.
 */
export type RedisStreamSourceState = Record<string, string>;

interface ResolvedOptions {
  endpoint: Endpoint;
  url: string;
  streams: string[];
  start: 'earliest' | 'latest';
  bounded: boolean;
  format: 'fields' | 'json';
  field: string;
  fetchSize: number;
  retryTimeoutMs: number;
}

/** XREAD long-poll when nothing is buffered (unbounded). */
const BLOCK_MS = 500;
/** Entries buffered per stream before it is no longer fetched. */
const MAX_BUFFERED = 4 * 500;
const MAX_IDLE_MS = 50;

/**
 * `sources.redisStream`: reads Redis streams with XREAD (no consumer group: positions live in the
 * checkpoints, as the Kafka source's offsets do, so a restored job resumes exactly after the last
 * entry its checkpoint covers). Entries' ids give their event time (the milliseconds part), so a
 * WatermarkStrategy without a field uses them. A background loop fetches (a blocking XREAD of up to
 * 500 ms on its own connection when unbounded) into a bounded buffer; `poll` never waits on Redis.
 */
export function redisStreamSource<T = Record<string, unknown>>(opts: RedisStreamSourceOptions): Source<T> {
  const what = 'redis stream source';
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { url, stream } are required`);
  const endpoint = parseRedisUrl(what, opts.url);
  const streams = typeof opts.stream === 'string' ? [opts.stream] : opts.stream;
  if (!Array.isArray(streams) || streams.length === 0 || streams.some((s) => typeof s !== 'string' || s === '')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: option "stream" must be a stream key or a non-empty list of them, not ${JSON.stringify(opts.stream)}`);
  }
  if (new Set(streams).size !== streams.length) throw new RlinkError('RLINK_CONFIG', `${what}: option "stream" lists a stream twice`);
  const start = opts.start ?? 'earliest';
  if (start !== 'earliest' && start !== 'latest') throw new RlinkError('RLINK_CONFIG', `${what}: start must be 'earliest' or 'latest', not ${JSON.stringify(opts.start)}`);
  if (opts.bounded !== undefined && opts.bounded !== 'latest') throw new RlinkError('RLINK_CONFIG', `${what}: bounded must be 'latest' (or omitted for an unbounded source), not ${JSON.stringify(opts.bounded)}`);
  const format = opts.format ?? 'fields';
  if (format !== 'fields' && format !== 'json') throw new RlinkError('RLINK_CONFIG', `${what}: format must be 'fields' or 'json', not ${JSON.stringify(opts.format)}`);
  const field = opts.field ?? 'data';
  if (typeof field !== 'string' || field === '') throw new RlinkError('RLINK_CONFIG', `${what}: field must be a non-empty string`);
  const fetchSize = countOption(opts.fetchSize) ?? 500;
  if (typeof fetchSize !== 'number' || !Number.isSafeInteger(fetchSize) || fetchSize < 1 || fetchSize > 100_000) throw new RlinkError('RLINK_CONFIG', `${what}: fetchSize must be an integer from 1 to 100000`);
  const retryTimeoutMs = opts.retryTimeout === undefined ? DEFAULT_RETRY_TIMEOUT_MS : toMillis(opts.retryTimeout, `${what}: retryTimeout`);
  const o: ResolvedOptions = { endpoint, url: opts.url, streams, start, bounded: opts.bounded === 'latest', format, field, fetchSize, retryTimeoutMs };
  return {
    kind: 'redis-stream',
    bounded: o.bounded,
    maxParallelism: streams.length,
    describe: () => ({ kind: 'redis-stream', url: describeEndpoint(endpoint), streams, start, bounded: opts.bounded ?? null, format }),
    createReader: (ctx) => new RedisStreamReader<T>(o, ctx),
  };
}

/** An entry id `ms-seq` as a pair of numbers (both fit a double exactly in practice). */
export function parseId(id: string): [number, number] {
  const i = id.indexOf('-');
  return i < 0 ? [Number(id), 0] : [Number(id.slice(0, i)), Number(id.slice(i + 1))];
}

export function compareIds(a: string, b: string): number {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am !== bm ? am - bm : as - bs;
}

interface Stream {
  readonly key: string;
  /** Id of the last entry handed out: what a checkpoint stores. */
  position: string;
  /** Id of the last entry fetched (ahead of `position` by what is buffered). */
  fetched: string;
  end: string | undefined;
  buffer: Array<[string, string[]]>;
  finished: boolean;
}

export class RedisStreamReader<T> implements SourceReader<T> {
  private readonly slot: RedisSlot;
  private streams: Stream[] = [];
  private rr = 0;
  private idleStreak = 0;
  private closed = false;
  private failure: Error | undefined;
  private pumping: Promise<void> | undefined;
  private readonly invalid: RateLimitedLog;
  private readonly retryLog: RateLimitedLog;
  private readonly what: string;

  constructor(private readonly o: ResolvedOptions, private readonly ctx: ConnectorContext) {
    this.slot = new RedisSlot(o.url, `rlink-source-${ctx.subtaskIndex}`);
    this.invalid = new RateLimitedLog(ctx.logger, 'record.invalid');
    this.retryLog = new RateLimitedLog(ctx.logger, 'store.retry', 5, 10_000);
    this.what = `redis stream source (${describeEndpoint(o.endpoint)})`;
  }

  async open(restored?: unknown): Promise<string[]> {
    const { subtaskIndex: k, parallelism: p } = this.ctx;
    const saved = restoredState(restored);
    const mine = this.o.streams.filter((_, i) => i % p === k);
    const needLast = mine.filter((s) => this.o.bounded ? saved?.[`${s}:end`] === undefined : saved?.[s] === undefined && this.o.start === 'latest');
    const last = await this.retrying('reach', async () => {
      const client = await this.slot.get();
      const out = new Map<string, string>();
      for (const s of needLast) {
        const r = await client.xrevrange(s, '+', '-', 'COUNT', 1) as Array<[string, string[]]>;
        out.set(s, r[0]?.[0] ?? '0-0');
      }
      return out;
    });
    for (const key of mine) {
      const position = saved?.[key] ?? (this.o.start === 'latest' ? last.get(key)! : '0-0');
      const end = this.o.bounded ? saved?.[`${key}:end`] ?? last.get(key)! : undefined;
      this.streams.push({ key, position, fetched: position, end, buffer: [], finished: end !== undefined && compareIds(position, end) >= 0 });
    }
    this.ctx.logger.info({ streams: Object.fromEntries(this.streams.map((s) => [s.key, s.end === undefined ? s.position : `${s.position}..${s.end}`])), restored: saved !== undefined },
      `${this.what}: subtask ${k} of ${p} reads ${mine.length === 0 ? 'no stream' : `stream${mine.length > 1 ? 's' : ''} ${mine.join(', ')}`}`);
    this.pumping = this.pump();
    return this.streams.filter((s) => !s.finished).map((s) => s.key);
  }

  poll(max: number): SourcePoll<T> {
    if (this.failure) throw this.failure;
    const active = this.streams.filter((s) => !s.finished);
    if (active.length === 0 && this.o.bounded) return { kind: 'end' };
    const limit = Math.max(1, max);
    for (let j = 0; j < active.length; j++) {
      const s = active[(this.rr + j) % active.length]!;
      if (s.buffer.length === 0) {
        if (s.end !== undefined && compareIds(s.fetched, s.end) >= 0) {
          s.finished = true;
          return { kind: 'split-finished', split: s.key };
        }
        continue;
      }
      this.rr = (this.rr + j + 1) % Math.max(1, active.length);
      this.idleStreak = 0;
      return this.take(s, limit);
    }
    const waitMs = Math.min(MAX_IDLE_MS, 5 * 2 ** Math.min(this.idleStreak, 4));
    this.idleStreak++;
    return { kind: 'idle', waitMs };
  }

  snapshot(): RedisStreamSourceState {
    const out: RedisStreamSourceState = {};
    for (const s of this.streams) {
      out[s.key] = s.position;
      if (s.end !== undefined) out[`${s.key}:end`] = s.end;
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.slot.drop(); // a blocked XREAD fails at once
    await Promise.race([this.pumping?.catch(() => undefined), new Promise((r) => setTimeout(r, 2_000))]);
  }

  private take(s: Stream, max: number): SourcePoll<T> {
    const values: T[] = [];
    const timestamps: number[] = [];
    const ids: string[] = [];
    while (values.length < max && s.buffer.length > 0) {
      const [id, flat] = s.buffer.shift()!;
      s.position = id;
      const v = this.decode(s.key, id, flat);
      if (v === undefined) continue;
      values.push(v);
      timestamps.push(parseId(id)[0]);
      ids.push(id);
    }
    const finished = s.end !== undefined && s.buffer.length === 0 && compareIds(s.fetched, s.end) >= 0;
    if (finished) s.finished = true;
    if (values.length === 0) return finished ? { kind: 'split-finished', split: s.key } : { kind: 'idle', waitMs: 0 };
    const split = s.key;
    return { kind: 'records', split, values, timestamps, where: (i) => `${split}@${ids[i]}`, ...(finished ? { splitFinished: true } : {}) };
  }

  private decode(stream: string, id: string, flat: string[]): T | undefined {
    if (this.o.format === 'fields') {
      const rec: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) rec[flat[i]!] = flat[i + 1]!;
      return rec as T;
    }
    let text: string | undefined;
    for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === this.o.field) text = flat[i + 1];
    if (text === undefined) { this.reportInvalid(stream, id, `no field '${this.o.field}'`); return undefined; }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      this.reportInvalid(stream, id, `${errorMessage(e)}: ${text.slice(0, 120)}`);
      return undefined;
    }
  }

  private reportInvalid(stream: string, id: string, why: string): void {
    this.ctx.metrics.recordsInvalid++;
    this.invalid.warn({ stream, id }, `invalid record skipped at ${stream}@${id}: ${why}`);
  }

  /** The fetch loop: XREAD for the streams that have room, into their buffers, until closed or failed. */
  private async pump(): Promise<void> {
    let failingSince: number | undefined;
    let attempt = 0;
    while (!this.closed) {
      const want = this.streams.filter((s) => !s.finished && s.buffer.length < MAX_BUFFERED && (s.end === undefined || compareIds(s.fetched, s.end) < 0));
      if (want.length === 0) {
        if (this.streams.every((s) => s.finished)) return;
        await sleep(10);
        continue;
      }
      try {
        const client = await this.slot.get();
        const args: Array<string | number> = ['COUNT', this.o.fetchSize];
        if (!this.o.bounded) args.push('BLOCK', BLOCK_MS);
        args.push('STREAMS', ...want.map((s) => s.key), ...want.map((s) => s.fetched));
        const res = await client.call('XREAD', ...args) as Array<[string, Array<[string, string[]]>]> | null;
        failingSince = undefined;
        attempt = 0;
        for (const [key, entries] of res ?? []) {
          const s = want.find((x) => x.key === key);
          if (!s) continue;
          for (const e of entries) {
            if (s.end !== undefined && compareIds(e[0], s.end) > 0) { s.fetched = s.end; break; }
            s.buffer.push(e);
            s.fetched = e[0];
          }
          if (s.end !== undefined && entries.length < this.o.fetchSize) s.fetched = s.end; // read up to its end
        }
        // Bounded: a stream that XREAD returned nothing for has nothing up to its end (trimmed, deleted).
        if (this.o.bounded) for (const s of want) if (!(res ?? []).some(([key]) => key === s.key)) s.fetched = s.end!;
      } catch (e) {
        if (this.closed) return;
        const now = Date.now();
        failingSince ??= now;
        if (!isTransientRedisError(e) || now - failingSince >= this.o.retryTimeoutMs) {
          this.failure = this.fail(e, now - failingSince, isTransientRedisError(e));
          return;
        }
        const wait = backoff(attempt++);
        this.retryLog.warn({ host: hostPort(this.o.endpoint), attempt, waitMs: wait, error: describeRedisError(e) }, `${this.what}: XREAD failed (${describeRedisError(e)}), retrying in ${formatMs(wait)}`);
        this.slot.drop();
        await sleep(wait);
      }
    }
  }

  private fail(e: unknown, ms: number, transient: boolean): RlinkError {
    const host = hostPort(this.o.endpoint);
    return transient
      ? new RlinkError('RLINK_NETWORK', `redis stream source: cannot read from ${host} within ${formatMs(ms)}, retried with back-off: ${describeRedisError(e)}`, { retriable: true, context: { host }, cause: e })
      : new RlinkError('RLINK_TASK_FAILED', `redis stream source: cannot read from ${host}: ${describeRedisError(e)}`, { context: { host }, cause: e });
  }

  private retrying<R>(step: string, fn: () => Promise<R>): Promise<R> {
    const host = hostPort(this.o.endpoint);
    return withRetries(fn, {
      timeoutMs: this.o.retryTimeoutMs,
      closed: () => this.closed,
      isTransient: isTransientRedisError,
      onRetry: (e, attempt, waitMs) => {
        this.retryLog.warn({ host, attempt, waitMs, error: describeRedisError(e) }, `${this.what}: cannot connect (${describeRedisError(e)}), retrying in ${formatMs(waitMs)}`);
        this.slot.drop();
      },
      fail: (last, ms) => new RlinkError('RLINK_NETWORK', `redis stream source: cannot ${step} ${host} within ${formatMs(ms)}, retried with back-off: ${describeRedisError(last)}`,
        { retriable: true, context: { host }, cause: last }),
    }).catch((e: unknown) => {
      if (e instanceof RlinkError) throw e;
      throw new RlinkError('RLINK_CONFIG', `redis stream source: cannot connect to ${host}: ${describeRedisError(e)}`, { context: { host }, cause: e });
    });
  }
}

/** This subtask's positions: its own snapshot, or (after a rescale) every old subtask's merged. */
function restoredState(restored: unknown): RedisStreamSourceState | undefined {
  if (restored === undefined || restored === null) return undefined;
  const list = Array.isArray(restored) ? restored : [restored];
  const out: RedisStreamSourceState = {};
  for (const s of list) {
    if (!s || typeof s !== 'object') continue;
    for (const [k, v] of Object.entries(s as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
