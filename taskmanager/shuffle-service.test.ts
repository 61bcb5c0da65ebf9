import { describe, it, expect, afterEach } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import { ShuffleService, type PeerLostInfo, type ShuffleServiceOptions } from './shuffle-service';
import { InputChannel } from '../core/runtime/network/channel';
import { PortOutputChannel, bindPortInput } from '../core/runtime/network/port-channel';
import { decodeBatch, encodeBatch, transferables, type EncodedBatch } from '../core/runtime/network/batch-codec';
import { encodeFrame, type PortMessage } from '../core/protocol/data-frames';
import type { StreamElement } from '../core/runtime/elements';
import { silentLogger } from '../core/logging';

const TOKEN = 'test-token-0123456789abcdef';
const services: ShuffleService[] = [];
const ports: MessagePort[] = [];

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  for (const p of ports.splice(0)) p.close();
});

interface Lost { address: string; error: Error; info: PeerLostInfo }

async function service(id: string, opts: Partial<ShuffleServiceOptions> = {}): Promise<{ s: ShuffleService; address: string; lost: Lost[] }> {
  const lost: Lost[] = [];
  const s = new ShuffleService({
    taskManagerId: id, token: TOKEN, logger: silentLogger(),
    onPeerLost: (address, error, info) => lost.push({ address, error, info }), ...opts,
  });
  services.push(s);
  return { s, address: await s.start(), lost };
}

function channel(): { worker: MessagePort; main: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  return { worker: port1, main: port2 };
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The consumer worker, as bindPortInput would see it: everything posted into its port, decoded. */
function collect(port: MessagePort): Array<{ values: unknown[]; timestamps: number[] } | StreamElement> {
  const got: Array<{ values: unknown[]; timestamps: number[] } | StreamElement> = [];
  port.on('message', (m: PortMessage) => {
    if ('b' in m) got.push(decodeBatch(m.b));
    else if ('e' in m) got.push(m.e);
  });
  return got;
}

function post(port: MessagePort, values: unknown[], timestamps: number[]): void {
  const b = encodeBatch(values, timestamps);
  port.postMessage({ b } satisfies PortMessage, transferables(b));
}

describe('ShuffleService', () => {
  it('carries records and watermarks between two task managers in order and exactly, with credits flowing back', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b');
    const out = channel();
    const inp = channel();
    const id = 'job1#1/e1/0-0';
    b.s.bridgeIn(id, inp.main);
    a.s.bridgeOut(id, out.main, b.address);

    // The real worker-side ends: a producer with a credit window of 4, a consumer that takes everything.
    const producer = new PortOutputChannel(id, out.worker, 4);
    const input = new InputChannel(id, 0);
    bindPortInput(inp.worker, input);
    const received: StreamElement[] = [];
    input.onAvailable = () => queueMicrotask(() => { for (let e = input.take(); e; e = input.take()) received.push(e); });

    const sent: StreamElement[] = [];
    for (let i = 0; i < 200; i++) {
      const values = Array.from({ length: 1 + (i % 7) }, (_, j) => ({ key: `k${(i * 7 + j) % 13}`, n: i * 100 + j, ok: j % 2 === 0, s: 'é🙂' }));
      const batch: StreamElement = { kind: 'records', values, timestamps: values.map((v) => v.n) };
      const wm: StreamElement = { kind: 'watermark', timestamp: i * 100 };
      for (const e of [batch, wm]) {
        await producer.whenWritable();
        producer.send(e);
        sent.push(e);
      }
    }
    for (const e of [{ kind: 'status', idle: true }, { kind: 'barrier', checkpointId: 7, timestamp: 123, savepoint: false, target: '/tmp/chk-7' }, { kind: 'watermark', timestamp: Infinity }, { kind: 'end' }] as StreamElement[]) {
      await producer.whenWritable();
      producer.send(e);
      sent.push(e);
    }
    await waitFor(() => received.length === sent.length, 'all elements');
    expect(received).toEqual(sent);
    // 404 elements through a window of 4: credits came back through both services; the window is whole again.
    await waitFor(() => producer.writable, 'credits');
    const sa = a.s.stats(), sb = b.s.stats();
    expect(sa.framesOut).toBe(sent.length);
    expect(sb.framesIn).toBe(sent.length);
    expect(sa.bytesOut).toBe(sb.bytesIn);
    expect(sb.framesOut).toBe(sa.framesIn); // credit frames
    expect(sb.framesOut).toBeGreaterThan(0);
    expect(sa.peers).toEqual([expect.objectContaining({ address: b.address, taskManagerId: 'tm-b', connections: 1 })]);
    expect(sb.peers).toEqual([expect.objectContaining({ address: a.address, taskManagerId: 'tm-a', connections: 1 })]);
    expect(a.lost).toEqual([]);
    expect(b.lost).toEqual([]);
  });

  it('returns every credit the consumer gives, on the connection that brought the data', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b');
    const out = channel();
    const inp = channel();
    a.s.bridgeOut('j#1/x', out.main, b.address);
    b.s.bridgeIn('j#1/x', inp.main);
    const credits: number[] = [];
    out.worker.on('message', (m: PortMessage) => { if ('c' in m) credits.push(m.c); });
    const got = collect(inp.worker);
    post(out.worker, [1, 2, 3], [10, 20, 30]);
    await waitFor(() => got.length === 1, 'the batch');
    expect(got[0]).toEqual({ values: [1, 2, 3], timestamps: [10, 20, 30] });
    inp.worker.postMessage({ c: 5 });
    inp.worker.postMessage({ c: 1 });
    const sum = () => credits.reduce((a, c) => a + c, 0);
    await waitFor(() => sum() === 6, 'credits');
    // Credits given in one turn of the event loop travel summed: one frame, one port message.
    expect(credits).toEqual([6]);
    inp.worker.postMessage({ c: 2 });
    await waitFor(() => sum() === 8, 'more credits');
    expect(credits).toEqual([6, 2]);
    // Nonsense from a consumer is ignored, not sent.
    inp.worker.postMessage({ c: -1 });
    inp.worker.postMessage({ c: 'x' });
    inp.worker.postMessage({ c: 1 });
    await waitFor(() => sum() === 9, 'the last credit');
    expect(a.lost).toEqual([]);
    expect(b.lost).toEqual([]);
  });

  it('keeps frames that arrive before the consumer is bridged and delivers them, in order, on bridgeIn', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b');
    const out = channel();
    const id = 'job#3/e/1-0';
    a.s.bridgeOut(id, out.main, b.address);
    post(out.worker, ['a', 'b'], [1, 2]);
    out.worker.postMessage({ e: { kind: 'watermark', timestamp: -Infinity } } satisfies PortMessage);
    post(out.worker, [{ x: [1] }], [3]); // the structured fallback
    await waitFor(() => b.s.stats().pendingFrames === 3, 'frames waiting');
    const inp = channel();
    const got = collect(inp.worker);
    b.s.bridgeIn(id, inp.main);
    expect(b.s.stats().pendingFrames).toBe(0);
    await waitFor(() => got.length === 3, 'delivery');
    expect(got).toEqual([
      { values: ['a', 'b'], timestamps: [1, 2] },
      { kind: 'watermark', timestamp: -Infinity },
      { values: [{ x: [1] }], timestamps: [3] },
    ]);
    // Credits go back on the connection the waiting frames came on.
    const credits: number[] = [];
    out.worker.on('message', (m: PortMessage) => { if ('c' in m) credits.push(m.c); });
    inp.worker.postMessage({ c: 3 });
    await waitFor(() => credits.length === 1, 'credit');
  });

  it('closes a peer that floods a channel nobody bridged (flow control broken)', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b', { maxPendingFramesPerChannel: 5 });
    const out = channel();
    a.s.bridgeOut('flood#1/e', out.main, b.address);
    for (let i = 0; i < 6; i++) post(out.worker, [i], [i]);
    await waitFor(() => b.lost.length === 1 && a.lost.length === 1, 'both sides to see the connection go');
    expect(b.lost[0]!.error.message).toMatch(/too many frames for channel flood#1\/e/);
    expect(b.lost[0]!.info).toEqual({ direction: 'in', taskManagerId: 'tm-a', channels: ['flood#1/e'] });
    expect(b.lost[0]!.address).toBe(a.address);
    expect(a.lost[0]!.address).toBe(b.address);
    expect(a.lost[0]!.info.channels).toEqual(['flood#1/e']);
    expect(b.s.stats().pendingFrames).toBe(0);
  });

  it('release sends what the producer posted before, closes the ports, and drops late frames silently', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b');
    const out = channel();
    const inp = channel();
    const id = 'job#1/e/0-0';
    b.s.bridgeIn(id, inp.main);
    a.s.bridgeOut(id, out.main, b.address);
    const got = collect(inp.worker);
    // Posted, then released at once (the producer task ended): the messages still in the port go out.
    post(out.worker, [1], [1]);
    out.worker.postMessage({ e: { kind: 'end' } } satisfies PortMessage);
    let outClosed = false;
    out.worker.on('close', () => { outClosed = true; });
    a.s.release('job#1/');
    await waitFor(() => got.length === 2, 'the last messages');
    expect(got).toEqual([{ values: [1], timestamps: [1] }, { kind: 'end' }]);
    await waitFor(() => outClosed, 'the producer port to close');
    expect(a.s.stats().channelsOut).toBe(0);

    // The consumer side releases; a late frame of that attempt (a second producer) is dropped, not kept.
    let inClosed = false;
    inp.worker.on('close', () => { inClosed = true; });
    b.s.release('job#1/');
    await waitFor(() => inClosed, 'the consumer port to close');
    const late = channel();
    a.s.bridgeOut('job#1/e/1-0', late.main, b.address);
    post(late.worker, [2], [2]);
    await waitFor(() => b.s.stats().droppedFrames === 1, 'the late frame to be dropped');
    expect(b.s.stats().pendingFrames).toBe(0);
    expect(b.s.stats().channelsIn).toBe(0);
    // Other attempts are untouched.
    const other = channel();
    const otherIn = channel();
    b.s.bridgeIn('job#2/e/0-0', otherIn.main);
    a.s.bridgeOut('job#2/e/0-0', other.main, b.address);
    const got2 = collect(otherIn.worker);
    post(other.worker, [3], [3]);
    await waitFor(() => got2.length === 1, 'the next attempt');
    expect(a.lost).toEqual([]);
    expect(b.lost).toEqual([]);
  });

  it('refuses connections without the cluster token: the producer side reports the peer lost', async () => {
    const b = await service('tm-b');
    const c = await service('tm-c', { token: 'another-token-0123456789' });
    const out = channel();
    c.s.bridgeOut('job#1/e/0-0', out.main, b.address);
    post(out.worker, [1], [1]);
    await waitFor(() => c.lost.length === 1, 'onPeerLost');
    expect(c.lost[0]!.address).toBe(b.address);
    expect(c.lost[0]!.error.message).toMatch(/refused the data connection: HTTP 401 \(wrong or missing cluster token\)/);
    expect(c.lost[0]!.info).toEqual({ direction: 'out', channels: ['job#1/e/0-0'] });
    expect(b.lost).toEqual([]);
    expect(b.s.stats().peers).toEqual([]);

    // Raw clients: no token → 401; a token but no task manager id → 400; another frame version → 400.
    const status = (headers: Record<string, string>) => new Promise<number>((resolve) => {
      const ws = new WebSocket(b.address, { headers });
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
      ws.on('open', () => { resolve(101); ws.close(); });
      ws.on('error', () => {});
    });
    expect(await status({})).toBe(401);
    expect(await status({ authorization: 'Bearer nope' })).toBe(401);
    expect(await status({ authorization: `Bearer ${TOKEN}` })).toBe(400);
    expect(await status({ authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'x', 'x-rlink-data-frames': '9' })).toBe(400);
    expect(await status({ authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'x' })).toBe(101);
  });

  it('reports a peer that cannot be reached', async () => {
    const a = await service('tm-a');
    const out = channel();
    a.s.bridgeOut('j#1/e', out.main, 'ws://127.0.0.1:1');
    await waitFor(() => a.lost.length === 1, 'onPeerLost');
    expect(a.lost[0]!.address).toBe('ws://127.0.0.1:1');
    expect(a.lost[0]!.error.message).toMatch(/ECONNREFUSED/);
    a.s.bridgeOut('j#1/f', channel().main, 'not a url');
    await waitFor(() => a.lost.length === 2, 'onPeerLost');
    expect(a.lost[1]!.error.message).toMatch(/bad data address/);
  });

  it('closes a connection that sends a malformed frame, and logs why', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const b = await service('tm-b', { logger });
    const ws = new WebSocket(b.address, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-evil', 'x-rlink-data-address': 'ws://evil:1' } });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.from('RL\x07\x01\x00\x00', 'latin1'));
    expect(await closed).toBe(1002);
    await waitFor(() => b.lost.length === 1, 'onPeerLost');
    expect(b.lost[0]!.address).toBe('ws://evil:1');
    expect(b.lost[0]!.error.message).toMatch(/data frame version 7 is not supported/);
    expect(lines.some((l) => l.event === 'shuffle.bad-frame' && l.component === 'shuffle')).toBe(true);
    // A text message, or garbage, the same.
    for (const bad of ['hello', Buffer.from([1, 2, 3])]) {
      const w = new WebSocket(b.address, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-evil' } });
      await new Promise((r) => w.once('open', r));
      const c = new Promise<number>((r) => w.once('close', (code) => r(code)));
      w.send(bad);
      expect(await c).toBe(1002);
    }
    await waitFor(() => b.lost.length === 3, 'onPeerLost');
    expect(b.lost[2]!.address).toBe('tm:tm-evil');
    // A well-formed frame for an unknown channel is fine: it waits.
    const w = new WebSocket(b.address, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-ok' } });
    await new Promise((r) => w.once('open', r));
    w.send(encodeFrame('z#1/e', { e: { kind: 'end' } }));
    await waitFor(() => b.s.stats().pendingFrames === 1, 'a waiting frame');
    w.close();
  });

  it('stop closes everything: ports, connections, the server; the peer reports the loss', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b');
    const out = channel();
    const inp = channel();
    b.s.bridgeIn('j#1/e', inp.main);
    a.s.bridgeOut('j#1/e', out.main, b.address);
    const got = collect(inp.worker);
    post(out.worker, [1], [1]);
    await waitFor(() => got.length === 1, 'delivery');
    let outClosed = false;
    out.worker.on('close', () => { outClosed = true; });
    await a.s.stop();
    await waitFor(() => outClosed, 'the producer port to close');
    expect(a.lost).toEqual([]); // stopping is not losing
    await waitFor(() => b.lost.length === 1, 'the peer to notice');
    expect(b.lost[0]!.address).toBe(a.address);
    expect(b.lost[0]!.info).toEqual({ direction: 'in', taskManagerId: 'tm-a', channels: ['j#1/e'] });
    // The server is gone.
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(a.address, { headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'x' } });
      ws.on('error', (e) => resolve(e.message));
      ws.on('open', () => resolve('open'));
    });
    expect(refused).toMatch(/ECONNREFUSED/);
    expect(() => a.s.bridgeIn('j#2/e', channel().main)).toThrow(/stopped/);
    await b.s.stop();
    await b.s.stop(); // idempotent
  });

  it('notices a peer that stops answering pings', async () => {
    const b = await service('tm-b', { pingIntervalMs: 50 });
    // A client that never answers pings (autoPong off) and carries data to b.
    const ws = new WebSocket(b.address, { autoPong: false, headers: { authorization: `Bearer ${TOKEN}`, 'x-rlink-taskmanager': 'tm-mute' } });
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => b.lost.length === 1, 'the ping timeout', 5000);
    expect(b.lost[0]!.error.message).toMatch(/no answer to a ping/);
    ws.terminate();
  });

  it('moves big batches without copying more than once (a typed-array view per column on one transferred buffer)', async () => {
    const a = await service('tm-a');
    const b = await service('tm-b');
    const out = channel();
    const inp = channel();
    b.s.bridgeIn('big#1/e', inp.main);
    a.s.bridgeOut('big#1/e', out.main, b.address);
    const batches: EncodedBatch[] = [];
    inp.worker.on('message', (m: PortMessage) => { if ('b' in m) batches.push(m.b); });
    const recs = Array.from({ length: 4096 }, (_, i) => ({ key: `key-${i}`, ts: i, value: i * 0.5 }));
    post(out.worker, recs, recs.map((r) => r.ts));
    await waitFor(() => batches.length === 1, 'the batch');
    const got = batches[0]!;
    expect(got.ts.buffer).toBe(got.nums!.buffer);
    expect(got.lens!.buffer).toBe(got.ts.buffer);
    expect(decodeBatch(got).values).toEqual(recs);
  });
});
