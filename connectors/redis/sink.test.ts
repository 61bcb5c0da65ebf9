/**
 * sinks.redis against a real Redis server (test/stores/servers.ts): the four commands, key templates,
 * ttl, the updating-stream row kinds, batching, retries across a server restart, and the errors.
 * Results are read back through a connection of the test's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { SinkWriter } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { testContext } from '../testing/context';
import { startRedis, storeTestGate, type StoreServer } from '../../test/stores/servers';
import { compileTemplate, redisSink, type RedisSinkOptions } from './sink';

const gate = storeTestGate('redis');

describe('key templates', () => {
  it('replaces {field} with the record\'s field; {{ }} are braces; a missing field is an error naming it', () => {
    const t = compileTemplate('redis sink', 'key', 'clicks:{user}:{windowStart}:{{x}}')!;
    expect(t({ user: 'ann', windowStart: 60_000 })).toBe('clicks:ann:60000:{x}');
    expect(() => t({ user: 'ann' })).toThrow("redis sink: a record has no field 'windowStart' for the key template \"clicks:{user}:{windowStart}:{{x}}\"");
    expect(compileTemplate('redis sink', 'key', 'events')!({})).toBe('events');
    expect(() => compileTemplate('redis sink', 'key', 'a{b')).toThrow(/unmatched '\{'/);
  });

  it('bad options fail when the job is built', () => {
    expect(() => redisSink({ url: 'http://h', command: 'set', key: 'k' })).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => redisSink({ url: 'redis://h', command: 'lpush' as 'set', key: 'k' })).toThrow(/command must be 'set', 'hset', 'xadd' or 'publish'/);
    expect(() => redisSink({ url: 'redis://h', command: 'publish', key: 'k', ttl: '1m' })).toThrow(/ttl does not apply to publish/);
    expect(() => redisSink({ url: 'redis://h', command: 'set', key: '' })).toThrow(/option "key"/);
    expect(redisSink({ url: 'redis://:pw@h', command: 'xadd', key: 'k' }).describe()).toMatchObject({ url: 'h:6379', guarantee: 'at-least-once' });
  });
});

describe.skipIf(!gate.ok)('sinks.redis (real server)', () => {
  let server: StoreServer;
  let r: Redis;
  const connect = async () => {
    r = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    await r.connect();
  };
  const writer = (o: Omit<RedisSinkOptions, 'url'>) =>
    redisSink({ url: server.url, retryTimeout: '20s', ...o }).createWriter(testContext()) as SinkWriter<Record<string, unknown>>;
  const run = async (o: Omit<RedisSinkOptions, 'url'>, records: Array<Record<string, unknown>>) => {
    const w = writer(o);
    await w.open();
    await w.write(records, []);
    await w.prepareCommit(1);
    await w.close();
  };

  beforeAll(async () => { server = await startRedis(); await connect(); }, 60_000);
  afterAll(async () => { r?.disconnect(); await server?.stop(); });

  it('set: the record as JSON under its key; a replay overwrites; ttl sets an expiry', async () => {
    const recs = [{ user: 'a', windowStart: 0, n: 1 }, { user: 'b', windowStart: 0, n: 2 }];
    await run({ command: 'set', key: 'w:{user}:{windowStart}', ttl: '1h' }, recs);
    await run({ command: 'set', key: 'w:{user}:{windowStart}', ttl: '1h' }, recs);
    expect((await r.keys('w:*')).sort()).toEqual(['w:a:0', 'w:b:0']);
    expect(JSON.parse((await r.get('w:a:0'))!)).toEqual(recs[0]);
    const ttl = await r.pttl('w:b:0');
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('hset: one hash field per record field, or the record as JSON under a field template', async () => {
    await run({ command: 'hset', key: 'h:{user}' }, [{ user: 'a', n: 1, tags: ['x'] }]);
    expect(await r.hgetall('h:a')).toEqual({ user: 'a', n: '1', tags: '["x"]' });
    await run({ command: 'hset', key: 'win:{windowStart}', field: '{user}' }, [{ user: 'a', windowStart: 0, n: 1 }, { user: 'b', windowStart: 0, n: 2 }]);
    expect(await r.hgetall('win:0')).toEqual({ a: '{"user":"a","windowStart":0,"n":1}', b: '{"user":"b","windowStart":0,"n":2}' });
  });

  it('an updating stream: -D deletes the key (hset with field: the field), -U is skipped, op is not written', async () => {
    await run({ command: 'set', key: 'page:{page}' }, [
      { op: '+I', page: 'a', clicks: 1 }, { op: '+I', page: 'b', clicks: 1 }, { op: '-U', page: 'a', clicks: 1 },
      { op: '+U', page: 'a', clicks: 2 }, { op: '-D', page: 'b', clicks: 1 },
    ]);
    expect((await r.keys('page:*'))).toEqual(['page:a']);
    expect(JSON.parse((await r.get('page:a'))!)).toEqual({ page: 'a', clicks: 2 });
    await run({ command: 'hset', key: 'pages', field: '{page}' }, [{ op: '+I', page: 'a', clicks: 1 }, { op: '+I', page: 'b', clicks: 1 }, { op: '-D', page: 'a', clicks: 1 }]);
    expect(await r.hgetall('pages')).toEqual({ b: '{"page":"b","clicks":1}' });
  });

  it('xadd: one entry per record, in order (fields, or JSON under field); publish: JSON messages', async () => {
    await run({ command: 'xadd', key: 'events', batchSize: 3 }, Array.from({ length: 10 }, (_, i) => ({ i, s: `v${i}` })));
    const entries = await r.xrange('events', '-', '+');
    expect(entries.map(([, f]) => f)).toEqual(Array.from({ length: 10 }, (_, i) => ['i', String(i), 's', `v${i}`]));
    await run({ command: 'xadd', key: 'json-events', field: 'data' }, [{ op: '-D', page: 'a' }]);
    expect((await r.xrange('json-events', '-', '+'))[0]![1]).toEqual(['data', '{"op":"-D","page":"a"}']);

    const sub = new Redis(server.url);
    sub.on('error', () => undefined);
    const got: string[] = [];
    await sub.subscribe('chan-a');
    sub.on('message', (_c: string, m: string) => got.push(m));
    await run({ command: 'publish', key: 'chan-{user}' }, [{ user: 'a', n: 1 }, { user: 'b', n: 2 }, { user: 'a', n: 3 }]);
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((res) => setTimeout(res, 20));
    sub.disconnect();
    expect(got.map((m) => JSON.parse(m))).toEqual([{ user: 'a', n: 1 }, { user: 'a', n: 3 }]);
  });

  it('retries across a server restart: every record arrives', async () => {
    const w = writer({ command: 'set', key: 'rs:{k}', batchSize: 20, flushInterval: '20ms' });
    await w.open();
    await w.write(Array.from({ length: 50 }, (_, k) => ({ k })), []);
    await w.prepareCommit(1);
    r.disconnect();
    const restarted = server.restart(1_000);
    await new Promise((res) => setTimeout(res, 300));
    await w.write(Array.from({ length: 50 }, (_, i) => ({ k: 50 + i })), []); // written while the server is down
    await w.prepareCommit(2);
    await restarted;
    await w.close();
    await connect();
    expect((await r.keys('rs:*')).length).toBe(100);
  }, 30_000);

  describe('errors name the host and the cause', () => {
    it('nothing listening: RLINK_NETWORK after the retries, within the bound', async () => {
      const w = redisSink({ url: 'redis://127.0.0.1:1', command: 'set', key: 'k', retryTimeout: '1s' }).createWriter(testContext());
      const err = await Promise.resolve(w.open()).then(() => undefined, (e: unknown) => e) as RlinkError;
      expect(err.code).toBe('RLINK_NETWORK');
      expect(err.context.host).toBe('127.0.0.1:1');
      expect(err.message).toMatch(/^redis sink: cannot reach 127\.0\.0\.1:1 within 1(\.\d)? s, retried with back-off: connect ECONNREFUSED 127\.0\.0\.1:1/);
    });

    it('a wrong password fails at once with Redis\'s reason', async () => {
      const w = redisSink({ url: `redis://:wrong@127.0.0.1:${server.port}`, command: 'set', key: 'k' }).createWriter(testContext());
      const t0 = Date.now();
      await expect(Promise.resolve(w.open())).rejects.toThrow(new RegExp(`^redis sink: cannot connect to 127\\.0\\.0\\.1:${server.port}: WRONGPASS`));
      expect(Date.now() - t0).toBeLessThan(3_000);
    });

    it('a command on a key of another type fails the write, naming Redis\'s reply', async () => {
      await r.set('typed', 'x');
      const w = writer({ command: 'hset', key: 'typed' });
      await w.open();
      await w.write([{ a: 1 }], []);
      await expect(Promise.resolve(w.prepareCommit(1))).rejects.toThrow(`redis sink: cannot write to 127.0.0.1:${server.port}: WRONGTYPE`);
      await w.close();
    });
  });
});
