/**
 * sources.redisStream against a real Redis server: streams dealt to subtasks, bounded reads that stop
 * at the end of the first start (also after a restore), snapshot and restore (at another parallelism
 * too), the json format with bad entries counted and skipped, an unbounded read that sees new entries,
 * a server restart survived by retries, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { SourceReader } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { testContext } from '../testing/context';
import { startRedis, storeTestGate, type StoreServer } from '../../test/stores/servers';
import { compareIds, redisStreamSource, type RedisStreamSourceOptions, type RedisStreamSourceState } from './source';

const gate = storeTestGate('redis');

/** Polls until `end` (bounded) or until `want` records came, bounded in time; returns records and splits finished. */
async function drain<T>(reader: SourceReader<T>, opts: { want?: number; timeoutMs?: number } = {}): Promise<{ values: T[]; timestamps: number[]; finished: string[]; ended: boolean }> {
  const out = { values: [] as T[], timestamps: [] as number[], finished: [] as string[], ended: false };
  const end = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < end) {
    if (opts.want !== undefined && out.values.length >= opts.want) break;
    const p = await reader.poll(100);
    if (p.kind === 'end') { out.ended = true; break; }
    if (p.kind === 'records') {
      out.values.push(...p.values);
      out.timestamps.push(...(p.timestamps ?? []));
      if (p.splitFinished) out.finished.push(p.split);
    } else if (p.kind === 'split-finished') out.finished.push(p.split);
    else await new Promise((r) => setTimeout(r, p.waitMs));
  }
  return out;
}

describe('entry ids', () => {
  it('compare by milliseconds, then sequence', () => {
    expect(compareIds('1-0', '0-5')).toBeGreaterThan(0);
    expect(compareIds('5-2', '5-10')).toBeLessThan(0);
    expect(compareIds('7-1', '7-1')).toBe(0);
  });

  it('bad options fail when the job is built', () => {
    expect(() => redisStreamSource({ url: 'redis://h', stream: [] })).toThrow(/option "stream" must be a stream key/);
    expect(() => redisStreamSource({ url: 'redis://h', stream: 's', bounded: 'yes' as 'latest' })).toThrow(/bounded must be 'latest'/);
    expect(() => redisStreamSource({ url: 'redis://h', stream: 's', format: 'csv' as 'json' })).toThrow(/format must be 'fields' or 'json'/);
    expect(redisStreamSource({ url: 'redis://h', stream: ['a', 'b', 'c'] }).maxParallelism).toBe(3);
  });
});

describe.skipIf(!gate.ok)('sources.redisStream (real server)', () => {
  let server: StoreServer;
  let r: Redis;
  const connect = async () => {
    r = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    await r.connect();
  };
  const source = (o: Omit<RedisStreamSourceOptions, 'url'>) => redisStreamSource<Record<string, unknown>>({ url: server.url, retryTimeout: '20s', ...o });
  const fill = async (stream: string, from: number, n: number, field = 'i') => {
    const p = r.pipeline();
    for (let i = from; i < from + n; i++) p.xadd(stream, `${1_000 + i}-0`, field, String(i));
    await p.exec();
  };

  beforeAll(async () => { server = await startRedis(); await connect(); }, 60_000);
  afterAll(async () => { r?.disconnect(); await server?.stop(); });

  it('bounded latest: each subtask reads its streams to their end at start, with the ids\' milliseconds as event time', async () => {
    await fill('b1', 0, 300);
    await fill('b2', 0, 10);
    await fill('b3', 0, 5);
    const src = source({ stream: ['b1', 'b2', 'b3'], bounded: 'latest', fetchSize: 64 });
    const r0 = src.createReader(testContext({ subtaskIndex: 0, parallelism: 2 }));
    const r1 = src.createReader(testContext({ subtaskIndex: 1, parallelism: 2 }));
    expect(await r0.open()).toEqual(['b1', 'b3']);
    expect(await r1.open()).toEqual(['b2']);
    await fill('b1', 300, 50); // after the start: beyond the bound
    const [a, b] = await Promise.all([drain(r0), drain(r1)]);
    expect(a.ended && b.ended).toBe(true);
    expect(a.values.length).toBe(305);
    expect(a.values.filter((v) => v.i === '299').length).toBe(1);
    expect(Math.max(...a.values.map((v) => Number(v.i)))).toBe(299); // nothing added after the start
    expect(b.values).toEqual(Array.from({ length: 10 }, (_, i) => ({ i: String(i) })));
    expect(b.timestamps).toEqual(Array.from({ length: 10 }, (_, i) => 1_000 + i));
    expect(a.finished.sort()).toEqual(['b1', 'b3']);
    await r0.close();
    await r1.close();
  });

  it('snapshot and restore: a restored reader goes on after the last entry handed out and stops at the first start\'s end', async () => {
    await fill('s1', 0, 100);
    const src = source({ stream: 's1', bounded: 'latest', fetchSize: 10 });
    const r0 = src.createReader(testContext());
    await r0.open();
    const first = await drain(r0, { want: 40 });
    const snap = r0.snapshot!() as RedisStreamSourceState;
    expect(snap).toEqual({ s1: `${1_000 + first.values.length - 1}-0`, 's1:end': '1099-0' });
    await r0.close();
    await fill('s1', 100, 20);
    const r1 = src.createReader(testContext({ attempt: 1 }));
    await r1.open(snap);
    const rest = await drain(r1);
    expect([...first.values, ...rest.values].map((v) => Number(v.i))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await r1.close();
    // At another parallelism: every old subtask's positions, each stream to its reader.
    await fill('s2', 0, 30);
    const two = source({ stream: ['s1', 's2'], bounded: 'latest' });
    const rr = two.createReader(testContext({ subtaskIndex: 1, parallelism: 2 }));
    await rr.open([snap, { s2: '1009-0', 's2:end': '1019-0' }]);
    const got = await drain(rr);
    expect(got.values.map((v) => Number(v.i))).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    await rr.close();
  });

  it('format json: the record from the field; an entry without it or not JSON is counted, logged and skipped', async () => {
    await r.xadd('j', '*', 'data', '{"user":"a","n":1}');
    await r.xadd('j', '*', 'data', 'not json');
    await r.xadd('j', '*', 'other', '1');
    await r.xadd('j', '*', 'data', '{"user":"b","n":2}');
    const ctx = testContext();
    const reader = source({ stream: 'j', bounded: 'latest', format: 'json' }).createReader(ctx);
    await reader.open();
    const got = await drain(reader);
    expect(got.values).toEqual([{ user: 'a', n: 1 }, { user: 'b', n: 2 }]);
    expect(ctx.metrics.recordsInvalid).toBe(2);
    await reader.close();
  });

  it('unbounded: new entries are read as they come; start latest skips what was there', async () => {
    await fill('u', 0, 5);
    const reader = source({ stream: 'u', start: 'latest' }).createReader(testContext());
    await reader.open();
    expect((await drain(reader, { timeoutMs: 300 })).values).toEqual([]);
    await fill('u', 5, 3);
    const got = await drain(reader, { want: 3, timeoutMs: 5_000 });
    expect(got.values.map((v) => v.i)).toEqual(['5', '6', '7']);
    await reader.close();
  });

  it('a server restart is survived by retries: nothing lost, nothing twice', async () => {
    await fill('rs', 0, 200);
    const reader = source({ stream: 'rs', fetchSize: 20 }).createReader(testContext());
    await reader.open();
    const before = await drain(reader, { want: 50 });
    r.disconnect();
    await server.restart(800);
    await connect();
    await fill('rs', 200, 100);
    const after = await drain(reader, { want: 300 - before.values.length, timeoutMs: 20_000 });
    expect([...before.values, ...after.values].map((v) => Number(v.i))).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await reader.close();
  }, 40_000);

  it('an unreachable server fails open after the retries, naming the host', async () => {
    const reader = redisStreamSource({ url: 'redis://127.0.0.1:1', stream: 's', retryTimeout: '1s' }).createReader(testContext());
    const err = await Promise.resolve(reader.open()).then(() => undefined, (e: unknown) => e) as RlinkError;
    expect(err.code).toBe('RLINK_NETWORK');
    expect(err.message).toMatch(/^redis stream source: cannot reach 127\.0\.0\.1:1 within 1(\.\d)? s, retried with back-off: connect ECONNREFUSED/);
    await reader.close();
  });
});
