/**
 * The data plane between slot workers of different task managers: two DataPlanes (as two workers
 * would have them) with the runtime's own channel ends, a slot directory, and raw clients for
 * misbehaving peers.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import { DataPlane, type DataPlaneOptions, type PeerLostInfo } from './data-plane';
import { SlotDirectory } from './slot-directory';
import { InputChannel } from '../../core/runtime/network/channel';
import { encodeFrame } from '../../core/protocol/data-frames';
import type { StreamElement } from '../../core/runtime/elements';
import { silentLogger } from '../../core/logging';

const TOKEN = 'test-token-0123456789abcdef';
const stops: Array<() => Promise<void>> = [];

afterEach(async () => { await Promise.all(stops.splice(0).map((s) => s())); });

interface Lost { address: string; error: Error; info: PeerLostInfo }

async function plane(id: string, opts: Partial<DataPlaneOptions> = {}): Promise<{ p: DataPlane; address: string; lost: Lost[] }> {
  const lost: Lost[] = [];
  const p = new DataPlane({ taskManagerId: id, token: TOKEN, logger: silentLogger(), onPeerLost: (address, error, info) => lost.push({ address, error, info }), ...opts });
  stops.push(() => p.stop());
  return { p, address: await p.start(), lost };
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A consumer that takes everything as it arrives (each take returns a credit). */
function consumer(id: string): { input: InputChannel; got: StreamElement[] } {
  const input = new InputChannel(id, 0);
  const got: StreamElement[] = [];
  input.onAvailable = () => queueMicrotask(() => { for (let e = input.take(); e; e = input.take()) got.push(e); });
  return { input, got };
}

const records = (values: unknown[], timestamps: number[]): StreamElement => ({ kind: 'records', values, timestamps });

/** Two planes and channel `id` from tm-a to a consumer on tm-b (credit window `capacity`). */
async function connected(id: string, capacity?: number) {
  const a = await plane('tm-a');
  const b = await plane('tm-b');
  const c = consumer(id);
  b.p.input(id, c.input);
  return { a, b, c, producer: a.p.output(id, b.address, capacity) };
}

/** Sends `e` when the producer has credit, and records it as sent. */
async function sendPaced(producer: { whenWritable(): Promise<void>; send(e: StreamElement): void }, sent: StreamElement[], e: StreamElement): Promise<void> {
  await producer.whenWritable();
  producer.send(e);
  sent.push(e);
}

describe('DataPlane', () => {
  it('carries records and watermarks between two workers in order and exactly, with credits flowing back', async () => {
    const { a, b, c, producer } = await connected('job1#1/e1/0-0', 4);
    const sent: StreamElement[] = [];
    for (let i = 0; i < 200; i++) {
      const values = Array.from({ length: 1 + (i % 7) }, (_, j) => ({ key: `k${(i * 7 + j) % 13}`, n: i * 100 + j, ok: j % 2 === 0, s: 'é🙂' }));
      for (const e of [records(values, values.map((v) => v.n)), { kind: 'watermark', timestamp: i * 100 } as StreamElement]) await sendPaced(producer, sent, e);
    }
    for (const e of [{ kind: 'status', idle: true }, { kind: 'barrier', checkpointId: 7, timestamp: 123, savepoint: false, target: '/tmp/chk-7' }, { kind: 'watermark', timestamp: Infinity }, { kind: 'end' }] as StreamElement[]) await sendPaced(producer, sent, e);
    await waitFor(() => c.got.length === sent.length, 'all elements');
    expect(c.got).toEqual(sent);
    // 404 elements through a window of 4: credits came back; the window is whole again.
    await waitFor(() => producer.writable, 'credits');
    const sa = a.p.stats(), sb = b.p.stats();
    expect(sa.framesOut).toBe(sent.length);
    expect(sb.framesIn).toBe(sent.length);
    expect(sa.bytesOut).toBe(sb.bytesIn);
    expect(sb.framesOut).toBe(sa.framesIn); // credit frames
    expect(sb.framesOut).toBeGreaterThan(0);
    expect(sa.peers).toEqual([expect.objectContaining({ address: b.address, taskManagerId: 'tm-b', connections: 1 })]);
    expect(sb.peers).toEqual([expect.objectContaining({ address: a.address, taskManagerId: 'tm-a', connections: 1 })]);
    expect([a.lost, b.lost]).toEqual([[], []]);
  });

  it('carries Latin-1 batches encoded in place, their frame memory reused once written, exactly', async () => {
    const { a, b, c, producer } = await connected('job1#1/e1/0-0', 4);
    const sent: StreamElement[] = [];
    // 300 batches of 1–400 records, short and long strings: frames of several pool capacities, each
    // buffer written over many times while a window of 4 is in flight.
    for (let i = 0; i < 300; i++) {
      const long = i % 3 === 0;
      const values = Array.from({ length: 1 + ((i * 37) % 400) }, (_, j) => ({ key: `clé-${i}-${j}`, text: long ? `${'x'.repeat(40)}é${i}` : `${j}`, n: i * 1000 + j }));
      await sendPaced(producer, sent, records(values, values.map((v) => v.n)));
    }
    await sendPaced(producer, sent, { kind: 'end' });
    await waitFor(() => c.got.length === sent.length, 'all elements');
    expect(c.got).toEqual(sent);
    expect(a.p.stats().bytesOut).toBe(b.p.stats().bytesIn);
  });

  it('returns the credits a consumer gives in one event-loop turn as one frame, on the connection that brought the data', async () => {
    const a = await plane('tm-a');
    const b = await plane('tm-b');
    const input = new InputChannel('j#1/x', 0);
    b.p.input('j#1/x', input);
    const producer = a.p.output('j#1/x', b.address, 8);
    for (let i = 0; i < 5; i++) producer.send(records([i], [i]));
    await waitFor(() => input.size === 5, 'the batches');
    expect(producer.writable).toBe(true);
    for (let i = 0; i < 5; i++) producer.send(records([i], [i]));
    expect(producer.writable).toBe(false); // 10 sent, window 8
    const creditFrames = b.p.stats().framesOut;
    for (let e = input.take(); e; e = input.take()) { /* consume in one turn */ }
    await waitFor(() => producer.writable, 'credits');
    await new Promise((r) => setTimeout(r, 20));
    expect(b.p.stats().framesOut - creditFrames).toBe(1);
    expect(b.p.stats().peers[0]!.connections).toBe(1);
  });

  it('keeps frames that arrive before the consumer binds and delivers them, in order, on input()', async () => {
    const a = await plane('tm-a');
    const b = await plane('tm-b');
    const id = 'job#3/e/1-0';
    const producer = a.p.output(id, b.address);
    producer.send(records(['a', 'b'], [1, 2]));
    producer.send({ kind: 'watermark', timestamp: -Infinity });
    producer.send(records([{ x: [1] }], [3])); // the structured fallback
    await waitFor(() => b.p.stats().pendingFrames === 3, 'frames waiting');
    const c = consumer(id);
    b.p.input(id, c.input);
    expect(b.p.stats().pendingFrames).toBe(0);
    await waitFor(() => c.got.length === 3, 'delivery');
    expect(c.got).toEqual([records(['a', 'b'], [1, 2]), { kind: 'watermark', timestamp: -Infinity }, records([{ x: [1] }], [3])]);
    await waitFor(() => producer.writable && a.p.stats().framesIn === 1, 'one credit frame for the three');
  });

  it('closes a peer that floods a channel nobody binds (flow control broken)', async () => {
    const a = await plane('tm-a');
    const b = await plane('tm-b', { maxPendingFramesPerChannel: 5 });
    const producer = a.p.output('flood#1/e', b.address, 100);
    for (let i = 0; i < 6; i++) producer.send(records([i], [i]));
    await waitFor(() => b.lost.length === 1 && a.lost.length === 1, 'both sides to see the connection go');
    expect(b.lost[0]!.error.message).toMatch(/too many frames for channel flood#1\/e/);
    expect(b.lost[0]!.info).toEqual({ direction: 'in', taskManagerId: 'tm-a', channels: ['flood#1/e'] });
    expect(b.lost[0]!.address).toBe(a.address);
    expect(a.lost[0]!.address).toBe(b.address);
    expect(a.lost[0]!.info.channels).toEqual(['flood#1/e']);
    expect(b.p.stats().pendingFrames).toBe(0);
  });

  it('release keeps what was sent, forgets the channels, and drops late frames of the attempt silently', async () => {
    const id = 'job#1/e/0-0';
    const { a, b, c, producer } = await connected(id);
    producer.send(records([1], [1]));
    producer.send({ kind: 'end' });
    a.p.release({ jobId: 'job', attempt: 1 }); // the producer task ended at once
    await waitFor(() => c.got.length === 2, 'the last messages');
    expect(c.got).toEqual([records([1], [1]), { kind: 'end' }]);
    expect(a.p.stats().channelsOut).toBe(0);
    b.p.release({ jobId: 'job', attempt: 1 });
    expect(b.p.stats().channelsIn).toBe(0);
    a.p.output('job#1/e/1-0', b.address).send(records([2], [2])); // a late producer of that attempt
    await waitFor(() => b.p.stats().droppedFrames === 1, 'the late frame to be dropped');
    expect(b.p.stats().pendingFrames).toBe(0);
    // Other attempts are untouched.
    const c2 = consumer('job#2/e/0-0');
    b.p.input('job#2/e/0-0', c2.input);
    a.p.output('job#2/e/0-0', b.address).send(records([3], [3]));
    await waitFor(() => c2.got.length === 1, 'the next attempt');
    expect([a.lost, b.lost]).toEqual([[], []]);
  });

  it('refuses connections without the cluster token (the producer reports the peer lost), on another path, of another frame version', async () => {
    const b = await plane('tm-b');
    const c = await plane('tm-c', { token: 'another-token-0123456789' });
    c.p.output('job#1/e/0-0', b.address).send(records([1], [1]));
    await waitFor(() => c.lost.length === 1, 'onPeerLost');
    expect(c.lost[0]!.address).toBe(b.address);
    expect(c.lost[0]!.error.message).toMatch(/refused the data connection: HTTP 401 \(wrong or missing cluster token\)/);
    expect(c.lost[0]!.info).toEqual({ direction: 'out', channels: ['job#1/e/0-0'] });
    expect(b.lost).toEqual([]);
    expect(b.p.stats().peers).toEqual([]);
    const status = (path: string, headers: Record<string, string>) => new Promise<number>((resolve) => {
      const ws = new WebSocket(`${b.address}${path}`, { headers });
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
      ws.on('open', () => { resolve(101); ws.close(); });
      ws.on('error', () => {});
    });
    const ok = { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'x' };
    expect(await status('/data', {})).toBe(401);
    expect(await status('/data', { authorization: 'Bearer nope' })).toBe(401);
    expect(await status('/data', { authorization: `Bearer ${TOKEN}` })).toBe(400);
    expect(await status('/data', { ...ok, 'x-rlink-data-frames': '9' })).toBe(400);
    expect(await status('/elsewhere', ok)).toBe(404);
    expect(await status('/data', ok)).toBe(101);
  });

  it('reports a peer that cannot be reached, and a bad address', async () => {
    const a = await plane('tm-a');
    a.p.output('j#1/e', 'ws://127.0.0.1:1');
    await waitFor(() => a.lost.length === 1, 'onPeerLost');
    expect(a.lost[0]!.address).toBe('ws://127.0.0.1:1');
    expect(a.lost[0]!.error.message).toMatch(/ECONNREFUSED/);
    a.p.output('j#1/f', 'not a url');
    await waitFor(() => a.lost.length === 2, 'onPeerLost');
    expect(a.lost[1]!.error.message).toMatch(/bad data address/);
  });

  it('closes a connection that sends a malformed frame with 1002, and logs why', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const b = await plane('tm-b', { logger });
    const ws = new WebSocket(`${b.address}/data`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-evil', 'x-rlink-data-address': 'ws://evil:1' } });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.from('RL\x07\x01\x00\x00', 'latin1'));
    expect(await closed).toBe(1002);
    await waitFor(() => b.lost.length === 1, 'onPeerLost');
    expect(b.lost[0]!.address).toBe('ws://evil:1');
    expect(b.lost[0]!.error.message).toMatch(/data frame version 7 is not supported/);
    expect(lines.some((l) => l.event === 'data.bad-frame' && l.component === 'data-plane')).toBe(true);
    for (const bad of ['hello', Buffer.from([1, 2, 3])]) {
      const w = new WebSocket(`${b.address}/data`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-evil' } });
      await new Promise((r) => w.once('open', r));
      const c = new Promise<number>((r) => w.once('close', (code) => r(code)));
      w.send(bad);
      expect(await c).toBe(1002);
    }
    await waitFor(() => b.lost.length === 3, 'onPeerLost');
    expect(b.lost[2]!.address).toBe('tm:tm-evil');
    // A well-formed frame for an unknown channel is fine: it waits.
    const w = new WebSocket(`${b.address}/data`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-ok' } });
    await new Promise((r) => w.once('open', r));
    w.send(encodeFrame('z#1/e', { e: { kind: 'end' } }));
    await waitFor(() => b.p.stats().pendingFrames === 1, 'a waiting frame');
    w.close();
  });

  it('stop closes its connections and server; the peer reports the loss', async () => {
    const a = await plane('tm-a');
    const b = await plane('tm-b');
    const c = consumer('j#1/e');
    b.p.input('j#1/e', c.input);
    a.p.output('j#1/e', b.address).send(records([1], [1]));
    await waitFor(() => c.got.length === 1, 'delivery');
    await a.p.stop();
    expect(a.lost).toEqual([]); // stopping is not losing
    await waitFor(() => b.lost.length === 1, 'the peer to notice');
    expect(b.lost[0]!.address).toBe(a.address);
    expect(b.lost[0]!.info).toEqual({ direction: 'in', taskManagerId: 'tm-a', channels: ['j#1/e'] });
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${a.address}/data`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'x' } });
      ws.on('error', (e) => resolve(e.message));
      ws.on('open', () => resolve('open'));
    });
    expect(refused).toMatch(/ECONNREFUSED/);
    expect(() => a.p.input('j#2/e', new InputChannel('j#2/e', 0))).toThrow(/stopped/);
    await b.p.stop();
    await b.p.stop(); // idempotent
  });

  it('notices a peer that stops answering pings', async () => {
    const b = await plane('tm-b', { pingIntervalMs: 50 });
    const ws = new WebSocket(`${b.address}/data`, { autoPong: false, headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-mute' } });
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => b.lost.length === 1, 'the ping timeout', 5000);
    expect(b.lost[0]!.error.message).toMatch(/no answer to a ping/);
    ws.terminate();
  });
});

describe('the slot directory', () => {
  async function directory(slots: Map<number, Promise<string>>): Promise<{ d: SlotDirectory; address: string }> {
    const d = new SlotDirectory({ taskManagerId: 'tm-b', token: TOKEN, logger: silentLogger(), addressOf: (s) => slots.get(s) });
    stops.push(() => d.stop());
    return { d, address: await d.start() };
  }

  it('tells a producer where the consumer slot listens; the data then goes worker to worker', async () => {
    const a = await plane('tm-a');
    const b = await plane('tm-b');
    let ready!: (x: string) => void;
    const dir = await directory(new Map([[1, new Promise<string>((r) => { ready = r; })]]));
    const c = consumer('j#1/e/0-1');
    b.p.input('j#1/e/0-1', c.input);
    const producer = a.p.output('j#1/e/0-1', { taskManager: dir.address, slot: 1 });
    producer.send(records([{ v: 1 }], [1]));
    await new Promise((r) => setTimeout(r, 50));
    ready(b.address); // the slot's worker started only now
    await waitFor(() => c.got.length === 1, 'delivery through the slot found in the directory');
    expect(a.p.stats().peers[0]!.address).toBe(`${dir.address}/slots/1`);
  });

  it('answers 401 without the token and 404 for a slot it has not; a producer reports them as the peer lost', async () => {
    const dir = await directory(new Map([[0, Promise.resolve('ws://127.0.0.1:1')]]));
    const http = dir.address.replace('ws:', 'http:');
    expect((await fetch(`${http}/slots/0`)).status).toBe(401);
    const ok = await fetch(`${http}/slots/0`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([ok.status, await ok.json()]).toEqual([200, { address: 'ws://127.0.0.1:1' }]);
    expect((await fetch(`${http}/slots/7`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await fetch(`${http}/slots/x`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    const a = await plane('tm-a');
    a.p.output('j#1/e', { taskManager: dir.address, slot: 7 });
    await waitFor(() => a.lost.length === 1, 'onPeerLost');
    expect(a.lost[0]!.error.message).toBe(`task manager at ${dir.address} refused the data connection: it has no slot 7`);
  });
});
