/**
 * What the Redis sink and source share: an ioredis connection that never retries by itself (the
 * connectors bound their retries in time, see store/retry.ts), replaced when it breaks, and which
 * errors are worth a retry.
 */
import type { Redis as RedisClient } from 'ioredis';
import { RlinkError, errorMessage } from '../../core/errors';
import { parseEndpoint, type Endpoint } from '../store/endpoint';
import { isNetworkError } from '../store/retry';

type IoRedis = typeof import('ioredis');
let lib: Promise<IoRedis> | undefined;

/** ioredis, loaded on first use. */
export function ioredis(): Promise<IoRedis> {
  lib ??= import('ioredis').then((m) => (m as unknown as { default?: IoRedis }).default ?? m);
  return lib;
}

export const REDIS_DEFAULT_PORT = 6379;
const CONNECT_TIMEOUT_MS = 5_000;

/** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS), checked. */
export function parseRedisUrl(what: string, url: unknown): Endpoint {
  if (typeof url !== 'string') throw new RlinkError('RLINK_CONFIG', `${what}: option "url" is required: redis://[:password@]host:6379[/db]`);
  const e = parseEndpoint(what, url, ['redis', 'rediss'], REDIS_DEFAULT_PORT, 'url');
  if (e.database !== undefined && !/^\d+$/.test(e.database)) throw new RlinkError('RLINK_CONFIG', `${what}: the database in "url" must be a number (redis://host:6379/0), not '${e.database}'`);
  return e;
}

/** Opens a connection and waits until it is ready (rejects with the cause: refused, auth, timeout). */
export async function connectRedis(url: string, name: string): Promise<RedisClient> {
  const { Redis } = await ioredis();
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // No reconnects, no offline queue, no resends: a broken connection fails its commands at once and
    // is replaced by the connector, whose retries are bounded.
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    connectionName: name,
  });
  // Errors reach the commands; an 'error' event without a listener would crash the worker. While
  // connecting, the event has the cause (ECONNREFUSED, WRONGPASS) where connect() only says "Connection is closed".
  let cause: unknown;
  client.on('error', (e: unknown) => { cause ??= e; });
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw cause ?? e;
  }
  return client;
}

/** A connection opened on demand and replaced when it is no longer ready. */
export class RedisSlot {
  private client: RedisClient | undefined;

  constructor(private readonly url: string, private readonly name: string) {}

  async get(): Promise<RedisClient> {
    if (this.client && this.client.status === 'ready') return this.client;
    this.drop();
    this.client = await connectRedis(this.url, this.name);
    return this.client;
  }

  drop(): void {
    const c = this.client;
    this.client = undefined;
    c?.disconnect();
  }
}

/** Error replies that mean "not now": the server loading its data, busy with a script, failing over. */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN|NOREPLICAS)\b/;

export function isTransientRedisError(e: unknown): boolean {
  if (isNetworkError(e)) return true;
  const msg = e instanceof Error ? e.message : '';
  if (TRANSIENT_REPLIES.test(msg)) return true;
  // ioredis: "Connection is closed.", "Stream isn't writeable and enableOfflineQueue options is false",
  // "Reached the max retries per request limit", a connect timeout.
  return /Connection is closed|isn't writeable|max retries per request|connect ETIMEDOUT|Command timed out/i.test(msg);
}

/** `connect ECONNREFUSED 127.0.0.1:1`, `WRONGPASS invalid username-password pair …`. */
export function describeRedisError(e: unknown): string {
  const errors = (e as { errors?: unknown } | null)?.errors;
  if (e instanceof AggregateError && Array.isArray(errors) && errors.length > 0) return describeRedisError(errors[0]);
  return errorMessage(e) || String((e as { code?: unknown } | null)?.code ?? 'unknown error');
}
