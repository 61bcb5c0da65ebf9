import type { ChainableCommander } from 'ioredis';
import type { ConnectorContext, Sink, SinkWriter } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { toMillis, type Duration } from '../../core/time/duration';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { Batcher } from '../store/batcher';
import { rowKind, withoutOp } from '../store/changelog';
import { describeEndpoint, hostPort, type Endpoint } from '../store/endpoint';
import { resolveBatchOptions, type ResolvedBatchOptions, type StoreBatchOptions } from '../store/options';
import { formatMs, withRetries } from '../store/retry';
import { RedisSlot, describeRedisError, isTransientRedisError, parseRedisUrl } from './client';

/** Options of {@link redisSink} (`sinks.redis`). */
export interface RedisSinkOptions<T = unknown> extends StoreBatchOptions {
  /** `redis://[user:password@]host:6379[/db]`, or `rediss://…` for TLS. */
  url: string;
  /**
   * - `set`: `SET <key> <record as JSON>` — the key's value is the latest record;
   * - `hset`: `HSET <key> <field> <value> …` — one hash field per record field (strings as they are,
   *   other values as JSON), or with `field`, `HSET <key> <field> <record as JSON>`;
   * - `xadd`: `XADD <key> * <field> <value> …` — one stream entry per record (fields as for hset, or
   *   the record as JSON under `field`);
   * - `publish`: `PUBLISH <key> <record as JSON>` — to the channel `key`.
   */
  command: 'set' | 'hset' | 'xadd' | 'publish';
  /**
   * The key (for `publish`, the channel): a template in which `{field}` stands for that field of the
   * record (`'clicks:{user}:{windowStart}'`), or a function of the record. For `set` and `hset` it is
   * what makes the writes idempotent: give it the fields that identify a result (e.g. key and window).
   */
  key: string | ((record: T) => string);
  /** `hset`: the hash field (a template like `key`) that holds the record as JSON; `xadd`: the one entry field that does. */
  field?: string | ((record: T) => string);
  /** Expiry of the key: `set` with `PX`; `hset` and `xadd` with `PEXPIRE` after each batch. Not for `publish`. */
  ttl?: Duration;
}

type Command = RedisSinkOptions['command'];
const COMMANDS: readonly Command[] = ['set', 'hset', 'xadd', 'publish'];

interface ResolvedRedisSink {
  endpoint: Endpoint;
  url: string;
  command: Command;
  key: (r: Record<string, unknown>) => string;
  keyText: string;
  field: ((r: Record<string, unknown>) => string) | undefined;
  ttlMs: number | undefined;
  batch: ResolvedBatchOptions;
}

/**
 * `sinks.redis`: writes each record with one Redis command, in pipelined batches, retrying transient
 * failures (the server unreachable or restarting, a lost connection, LOADING/BUSY replies) with
 * back-off. `set` and `hset` overwrite by key, so a replay after a restore writes the same values
 * again: exactly-once in effect when the key identifies a result. `xadd` and `publish` append:
 * at-least-once (a replay adds the records after the restored checkpoint again).
 *
 * Updating streams (records with an `op` row kind, see store/changelog.ts): with `set` and `hset`,
 * `-D` deletes the key (`DEL`; with `field`, `HDEL key field`), `-U` is skipped, `+I`/`+U` are written
 * without their `op`; `xadd` and `publish` write every record as it is, `op` included (a changelog).
 */
export function redisSink<T = unknown>(opts: RedisSinkOptions<T>): Sink<T> {
  const what = 'redis sink';
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { url, command, key } are required`);
  const endpoint = parseRedisUrl(what, opts.url);
  if (!COMMANDS.includes(opts.command)) {
    throw new RlinkError('RLINK_CONFIG', `${what}: command must be 'set', 'hset', 'xadd' or 'publish', not ${JSON.stringify(opts.command)}`);
  }
  const key = compileTemplate(what, 'key', opts.key as string | ((r: Record<string, unknown>) => string) | undefined);
  if (!key) throw new RlinkError('RLINK_CONFIG', `${what}: option "key" is required: a template like 'counts:{user}:{windowStart}' or a function of the record`);
  const field = compileTemplate(what, 'field', opts.field as string | ((r: Record<string, unknown>) => string) | undefined);
  if (field && (opts.command === 'set' || opts.command === 'publish')) throw new RlinkError('RLINK_CONFIG', `${what}: option "field" is for hset and xadd, not ${opts.command}`);
  let ttlMs: number | undefined;
  if (opts.ttl !== undefined) {
    if (opts.command === 'publish') throw new RlinkError('RLINK_CONFIG', `${what}: ttl does not apply to publish (a channel has no expiry)`);
    ttlMs = toMillis(opts.ttl, `${what}: ttl`);
    if (ttlMs < 1) throw new RlinkError('RLINK_CONFIG', `${what}: ttl must be at least 1ms`);
  }
  const r: ResolvedRedisSink = {
    endpoint, url: opts.url, command: opts.command, key, keyText: typeof opts.key === 'string' ? opts.key : '(function)', field, ttlMs,
    batch: resolveBatchOptions(what, opts),
  };
  // set/hset apply an update stream by key; xadd/publish take its records as they are (op included).
  const sink: Sink<T> = {
    kind: 'redis',
    ...(r.command === 'set' || r.command === 'hset' ? { acceptsUpdates: true } : {}),
    describe: () => ({
      kind: 'redis', url: describeEndpoint(endpoint), command: r.command, key: r.keyText,
      field: typeof opts.field === 'string' ? opts.field : opts.field ? '(function)' : null, ttlMs: ttlMs ?? null,
      guarantee: r.command === 'set' || r.command === 'hset' ? 'exactly-once (idempotent writes by key)' : 'at-least-once',
      batchSize: r.batch.batchSize, flushIntervalMs: r.batch.flushIntervalMs,
    }),
    createWriter: (ctx) => new RedisSinkWriter<T>(r, ctx),
  };
  return sink;
}

/**
 * A key template: `{name}` is replaced by the record's field `name` (strings as they are, other values
 * with `String`); `{{` and `}}` are literal braces. A function is used as it is.
 */
export function compileTemplate(what: string, option: string, t: string | ((r: Record<string, unknown>) => string) | undefined): ((r: Record<string, unknown>) => string) | undefined {
  if (t === undefined) return undefined;
  if (typeof t === 'function') {
    return (r) => {
      const v = t(r);
      if (typeof v !== 'string' && typeof v !== 'number') throw new RlinkError('RLINK_TASK_FAILED', `${what}: the "${option}" function returned ${JSON.stringify(v)}, not a string`);
      return String(v);
    };
  }
  if (typeof t !== 'string' || t === '') throw new RlinkError('RLINK_CONFIG', `${what}: option "${option}" must be a non-empty template string or a function`);
  const parts: Array<string | { field: string }> = [];
  const re = /\{\{|\}\}|\{([^{}]+)\}|[^{}]+|[{}]/g;
  for (const m of t.matchAll(re)) {
    const s = m[0];
    if (s === '{{') parts.push('{');
    else if (s === '}}') parts.push('}');
    else if (m[1] !== undefined) parts.push({ field: m[1] });
    else if (s === '{' || s === '}') throw new RlinkError('RLINK_CONFIG', `${what}: option "${option}" has an unmatched '${s}' in ${JSON.stringify(t)} (write {{ or }} for a literal brace)`);
    else parts.push(s);
  }
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return () => constant;
  }
  return (r) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') { out += p; continue; }
      const v = r[p.field];
      if (v === undefined || v === null) throw new RlinkError('RLINK_TASK_FAILED', `${what}: a record has no field '${p.field}' for the ${option} template ${JSON.stringify(t)}: ${JSON.stringify(r).slice(0, 200)}`);
      out += typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    return out;
  };
}

/** Field/value pairs of a record, for HSET and XADD: strings as they are, other values as JSON. */
function fieldsOf(r: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    out.push(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return out;
}

export class RedisSinkWriter<T> implements SinkWriter<T> {
  private readonly slot: RedisSlot;
  private readonly batcher: Batcher<T>;
  private readonly retryLog: RateLimitedLog;
  private readonly target: string;
  private closed = false;

  constructor(private readonly r: ResolvedRedisSink, private readonly ctx: ConnectorContext) {
    this.slot = new RedisSlot(r.url, `rlink-sink-${ctx.subtaskIndex}`);
    this.target = `redis sink (${r.command} ${r.keyText} on ${describeEndpoint(r.endpoint)})`;
    this.retryLog = new RateLimitedLog(ctx.logger, 'store.retry', 5, 10_000);
    this.batcher = new Batcher<T>({ batchSize: r.batch.batchSize, flushIntervalMs: r.batch.flushIntervalMs, flush: (b) => this.flush(b) });
  }

  async open(): Promise<void> {
    await this.retrying('connect', async () => { await this.slot.get(); });
    this.ctx.logger.info({ event: 'sink.open', host: hostPort(this.r.endpoint), command: this.r.command, key: this.r.keyText },
      `${this.target}: batches of ${this.r.batch.batchSize}`);
  }

  write(values: T[]): Promise<void> | void { return this.batcher.add(values); }

  async prepareCommit(): Promise<null> {
    await this.batcher.drain();
    return null;
  }

  commit(): void {}

  async close(): Promise<void> {
    this.closed = true;
    await this.batcher.close();
    this.slot.drop();
  }

  /** One pipeline per batch; retried as a whole (set/hset: the same values again). */
  private async flush(batch: T[]): Promise<void> {
    const commands = this.commands(batch);
    if (commands.length === 0) return;
    await this.retrying('write', async () => {
      const client = await this.slot.get();
      const p: ChainableCommander = client.pipeline();
      for (const c of commands) p.call(c[0]!, ...c.slice(1));
      const results = await p.exec();
      if (!results) throw new Error('Connection is closed.');
      for (const [err] of results) if (err) throw err;
    });
  }

  /** The commands of a batch, in order. */
  private commands(batch: T[]): string[][] {
    const { command, key, field, ttlMs } = this.r;
    const out: string[][] = [];
    const expire = new Set<string>();
    for (const v of batch) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        if (command === 'publish' || command === 'set') {
          // Any JSON value can be published or set, under a constant key.
          const k = key({});
          out.push(command === 'set' ? setCommand(k, JSON.stringify(v) ?? 'null', ttlMs) : ['PUBLISH', k, typeof v === 'string' ? v : JSON.stringify(v) ?? 'null']);
          continue;
        }
        throw new RlinkError('RLINK_TASK_FAILED', `${this.target}: ${command} needs records that are objects, not ${JSON.stringify(v)?.slice(0, 80)}`);
      }
      const rec = v as Record<string, unknown>;
      const kind = rowKind(rec);
      const k = key(rec);
      switch (command) {
        case 'set':
          if (kind === '-U') break;
          out.push(kind === '-D' ? ['DEL', k] : setCommand(k, JSON.stringify(withoutOp(rec)), ttlMs));
          break;
        case 'hset': {
          if (kind === '-U') break;
          if (kind === '-D') { out.push(field ? ['HDEL', k, field(rec)] : ['DEL', k]); break; }
          const data = withoutOp(rec);
          const pairs = field ? [field(rec), JSON.stringify(data)] : fieldsOf(data);
          if (pairs.length === 0) break;
          out.push(['HSET', k, ...pairs]);
          if (ttlMs !== undefined) expire.add(k);
          break;
        }
        case 'xadd': {
          const pairs = field ? [field(rec), JSON.stringify(rec)] : fieldsOf(rec);
          if (pairs.length === 0) break;
          out.push(['XADD', k, '*', ...pairs]);
          if (ttlMs !== undefined) expire.add(k);
          break;
        }
        case 'publish':
          out.push(['PUBLISH', k, JSON.stringify(rec)]);
          break;
      }
    }
    for (const k of expire) out.push(['PEXPIRE', k, String(ttlMs)]);
    return out;
  }

  private retrying(step: 'connect' | 'write', fn: () => Promise<void>): Promise<void> {
    const host = hostPort(this.r.endpoint);
    return withRetries(fn, {
      timeoutMs: this.r.batch.retryTimeoutMs,
      closed: () => this.closed,
      isTransient: isTransientRedisError,
      onRetry: (e, attempt, waitMs) => {
        this.retryLog.warn({ host, attempt, waitMs, error: describeRedisError(e) }, `${this.target}: ${step} failed (${describeRedisError(e)}), retrying in ${formatMs(waitMs)}`);
        this.slot.drop();
      },
      fail: (last, ms) => new RlinkError('RLINK_NETWORK',
        `redis sink: cannot ${step === 'connect' ? 'reach' : 'write to'} ${host} within ${formatMs(ms)}, retried with back-off: ${describeRedisError(last)}`,
        { retriable: true, context: { host }, cause: last }),
    }).catch((e: unknown) => {
      if (e instanceof RlinkError) throw e;
      throw new RlinkError(step === 'connect' ? 'RLINK_CONFIG' : 'RLINK_TASK_FAILED', `redis sink: ${step === 'connect' ? 'cannot connect to' : 'cannot write to'} ${host}: ${describeRedisError(e)}`,
        { context: { host }, cause: e });
    });
  }
}

function setCommand(key: string, value: string, ttlMs: number | undefined): string[] {
  return ttlMs === undefined ? ['SET', key, value] : ['SET', key, value, 'PX', String(ttlMs)];
}
