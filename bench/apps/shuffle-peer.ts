/**
 * One side of bench/shuffle-throughput.ts, run as a child process (bundled with esbuild by the bench):
 *
 *   node shuffle-peer.js consumer   a task manager's data plane: a ShuffleService with a consumer
 *                                   worker thread per run, and the baseline's raw `ws` server (counts
 *                                   frames, nothing else)
 *   node shuffle-peer.js producer   a ShuffleService with a producer worker thread per run, and the
 *                                   baseline's raw `ws` client sending the same frames, pre-encoded
 *
 * Worker modes: 'records' — the runtime's own channel ends (PortOutputChannel: encodeBatch and the
 * credit window; bindPortInput: decodeBatch into records); 'frames' — batches encoded once and
 * copied per send, counted without decoding (the data plane alone). 'local' connects a producer and
 * a consumer worker of one process directly (two slots of one task manager: no network).
 *
 * The parent drives it over the IPC channel: → commands; ← {ready}, {done}, {cpu}, {stats}. Worker
 * threads run this same file (workerData.role).
 */
import { MessageChannel, Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { ShuffleService } from '../../taskmanager/shuffle-service';
import { InputChannel } from '../../core/runtime/network/channel';
import { PortOutputChannel, bindPortInput } from '../../core/runtime/network/port-channel';
import { encodeBatch, transferables, type EncodedBatch } from '../../core/runtime/network/batch-codec';
import { encodeFrame } from '../../core/protocol/data-frames';
import { createLogger } from '../../core/logging';
import { BATCH, POOL, batch, type Rec } from './shuffle-data';

type Parent = { type: 'ready'; address: string; raw: string } | { type: 'done'; run: string; records: number; sum: number; ms: number } | { type: 'error'; message: string };
type Mode = 'records' | 'frames';
type Command =
  | { type: 'shuffle-in'; run: string; mode: Mode }
  | { type: 'shuffle-out'; run: string; peer: string; records: number; mode: Mode }
  | { type: 'local'; run: string; records: number }
  | { type: 'raw-in'; run: string; frames: number }
  | { type: 'raw-out'; run: string; records: number; peer: string; mask: 'random' | 'zero' }
  | { type: 'stats' }
  | { type: 'cpu' };

const send = (m: Parent | Record<string, unknown>): void => { process.send!(m); };
/** The producer's credit window (PortOutputChannel's default capacity is 32). */
const CREDITS = Number(process.env.BENCH_CREDITS ?? 32);

// ───────────────────────────── worker threads ─────────────────────────────

/**
 * 'frames' mode: batches encoded once, copied per send (what encodeBatch costs is left out), credits
 * kept as PortOutputChannel keeps them; the consumer counts without decoding. The data plane alone.
 */
async function producerWorkerFrames(port: MessagePort, records: number): Promise<void> {
  const pool = Array.from({ length: POOL }, (_, b) => { const r = batch(b); return encodeBatch(r, r.map((x) => x.ts)); });
  let credits = CREDITS;
  let wake: (() => void) | undefined;
  port.on('message', (m: { c?: number }) => { if (m.c) { credits += m.c; const w = wake; wake = undefined; w?.(); } });
  const post = async (m: object, transfer: ArrayBuffer[] = []): Promise<void> => {
    while (credits <= 0) await new Promise<void>((r) => { wake = r; });
    credits--;
    port.postMessage(m, transfer);
  };
  for (let k = 0; k * BATCH < records; k++) {
    const e = pool[k % POOL]!;
    const n = Math.min(BATCH, records - k * BATCH);
    const b = n === BATCH
      ? { ...e, ts: e.ts.slice(), nums: e.nums!.slice(), lens: e.lens!.slice() }
      : encodeBatch(batch(k % POOL).slice(0, n), batch(k % POOL).slice(0, n).map((x) => x.ts));
    await post({ b }, transferables(b));
  }
  await post({ e: { kind: 'end' } });
  parentPort!.postMessage({ sent: true });
}

function consumerWorkerFrames(port: MessagePort): void {
  let records = 0, sum = 0, t0 = 0, owed = 0;
  port.on('message', (m: { b?: EncodedBatch; e?: { kind: string } }) => {
    if (owed++ === 0) queueMicrotask(() => { port.postMessage({ c: owed }); owed = 0; });
    if (m.b) {
      if (t0 === 0) t0 = performance.now();
      records += m.b.n;
      const nums = m.b.nums!; // fields key, ts, value: nums holds [ts, value] per record
      for (let i = 1; i < nums.length; i += 2) sum += nums[i]!;
    } else if (m.e?.kind === 'end') {
      parentPort!.postMessage({ records, sum, ms: performance.now() - t0 });
      port.close();
    }
  });
}

async function producerWorker(port: MessagePort, channelId: string, records: number): Promise<void> {
  const pool = Array.from({ length: POOL }, (_, b) => batch(b));
  const out = new PortOutputChannel(channelId, port, CREDITS);
  for (let k = 0; k * BATCH < records; k++) {
    const recs = pool[k % POOL]!;
    const values = records - k * BATCH >= BATCH ? recs.slice() : recs.slice(0, records - k * BATCH);
    if (!out.writable) await out.whenWritable();
    out.send({ kind: 'records', values, timestamps: values.map((r) => r.ts) });
    if ((k & 15) === 15) { if (!out.writable) await out.whenWritable(); out.send({ kind: 'watermark', timestamp: values[values.length - 1]!.ts - 1 }); }
  }
  if (!out.writable) await out.whenWritable();
  out.send({ kind: 'watermark', timestamp: Infinity });
  if (!out.writable) await out.whenWritable();
  out.send({ kind: 'end' });
  parentPort!.postMessage({ sent: true });
}

function consumerWorker(port: MessagePort, channelId: string): void {
  const input = new InputChannel(channelId, 0);
  bindPortInput(port, input);
  let records = 0, sum = 0, t0 = 0;
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    for (let e = input.take(); e; e = input.take()) {
      if (e.kind === 'records') {
        if (t0 === 0) t0 = performance.now();
        const vs = e.values as Rec[];
        records += vs.length;
        for (let i = 0; i < vs.length; i++) sum += vs[i]!.value;
      } else if (e.kind === 'end') {
        parentPort!.postMessage({ records, sum, ms: performance.now() - t0 });
        port.close();
        return;
      }
    }
  };
  input.onAvailable = () => { if (!scheduled) { scheduled = true; setImmediate(drain); } };
}

// ───────────────────────────── processes ─────────────────────────────

async function main(role: 'producer' | 'consumer'): Promise<void> {
  const token = process.env.RLINK_TOKEN!;
  // Quiet by default: at the end each process sees the other stop (a lost peer, logged as an error).
  const logger = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'fatal', name: `bench-${role}` });
  const shuffle = new ShuffleService({
    taskManagerId: `bench-${role}`, token, logger,
    onPeerLost: (address, error, info) => { if (info.channels.length > 0) send({ type: 'error', message: `peer ${address} lost: ${error.message}` }); },
  });
  const address = await shuffle.start();
  const script = fileURLToPath(import.meta.url);

  // The baseline's raw ws server (consumer) — counts frames, nothing else.
  let rawExpect: { run: string; frames: number; got: number; t0: number } | undefined;
  let rawAddress = '';
  if (role === 'consumer') {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    rawAddress = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    wss.on('connection', (ws) => ws.on('message', () => {
      const e = rawExpect;
      if (!e) return;
      if (e.got++ === 0) e.t0 = performance.now();
      if (e.got === e.frames) { rawExpect = undefined; send({ type: 'done', run: e.run, records: e.frames, sum: 0, ms: performance.now() - e.t0 }); }
    }));
  }
  const rawClients = new Map<string, WebSocket>();

  process.on('message', (c: Command) => {
    void (async () => {
      switch (c.type) {
        case 'shuffle-in': {
          const { port1, port2 } = new MessageChannel();
          shuffle.bridgeIn(c.run, port2);
          const w = new Worker(script, { workerData: { role: 'consumer-worker', mode: c.mode, channelId: c.run, port: port1 }, transferList: [port1] });
          w.once('message', (m: { records: number; sum: number; ms: number }) => {
            shuffle.release(c.run);
            void w.terminate();
            send({ type: 'done', run: c.run, ...m });
          });
          w.once('error', (e) => send({ type: 'error', message: e.message }));
          break;
        }
        case 'shuffle-out': {
          const { port1, port2 } = new MessageChannel();
          shuffle.bridgeOut(c.run, port2, c.peer);
          const w = new Worker(script, { workerData: { role: 'producer-worker', mode: c.mode, channelId: c.run, port: port1, records: c.records }, transferList: [port1] });
          // All sent: the task ended. Release as the task executor does (what is still in the port goes out).
          w.once('message', () => { shuffle.release(c.run); void w.terminate(); });
          w.once('error', (e) => send({ type: 'error', message: e.message }));
          break;
        }
        case 'local': {
          // The same producer and consumer workers, connected directly (two slots of one task manager).
          const { port1, port2 } = new MessageChannel();
          const p = new Worker(script, { workerData: { role: 'producer-worker', mode: 'records', channelId: c.run, port: port1, records: c.records }, transferList: [port1] });
          const w = new Worker(script, { workerData: { role: 'consumer-worker', mode: 'records', channelId: c.run, port: port2 }, transferList: [port2] });
          p.once('message', () => void p.terminate());
          w.once('message', (m: { records: number; sum: number; ms: number }) => { void w.terminate(); send({ type: 'done', run: c.run, ...m }); });
          for (const x of [p, w]) x.once('error', (e) => send({ type: 'error', message: e.message }));
          break;
        }
        case 'raw-in': rawExpect = { run: c.run, frames: c.frames, got: 0, t0: 0 }; break;
        case 'raw-out': {
          // ws's default client (a random masking key: every byte XORed on both ends), or zero keys
          // as the ShuffleService uses (no masking work, no copy).
          let ws = rawClients.get(c.mask);
          if (!ws) {
            const client = new WebSocket(c.peer, { perMessageDeflate: false, ...(c.mask === 'zero' ? { generateMask: (m: Buffer) => { m.fill(0); } } : {}) });
            await new Promise((r, j) => { client.once('open', r); client.once('error', j); });
            rawClients.set(c.mask, client);
            ws = client;
          }
          // The same frames the shuffle sends, encoded before the clock starts.
          const pool = Array.from({ length: POOL }, (_, b) => { const recs = batch(b); return encodeFrame(c.run, { b: encodeBatch(recs, recs.map((r) => r.ts)) }); });
          const frames = Math.ceil(c.records / BATCH);
          const HIGH = 4 * 1024 * 1024;
          let i = 0;
          await new Promise<void>((resolve) => {
            // As fast as ws takes them: while its buffer is below HIGH; above, wait until a frame is written.
            const pump = (): void => {
              while (i < frames) {
                const frame = pool[i % POOL]!;
                const last = ++i === frames;
                if (last || ws.bufferedAmount >= HIGH) { ws.send(frame, { binary: true, compress: false }, () => (last ? resolve() : pump())); return; }
                ws.send(frame, { binary: true, compress: false });
              }
            };
            pump();
          });
          break;
        }
        case 'stats': send({ type: 'stats', stats: shuffle.stats() }); break;
        case 'cpu': { const u = process.cpuUsage(); send({ type: 'cpu', ms: (u.user + u.system) / 1000 }); break; }
      }
    })().catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
  });
  process.on('disconnect', () => { void shuffle.stop().then(() => process.exit(0)); });
  send({ type: 'ready', address, raw: rawAddress });
}

if (isMainThread) {
  const role = process.argv[2];
  if (role !== 'producer' && role !== 'consumer') { process.stderr.write('usage: shuffle-peer.js producer|consumer\n'); process.exit(2); }
  await main(role);
} else {
  const d = workerData as { role: string; mode: Mode; channelId: string; port: MessagePort; records?: number };
  if (d.role === 'producer-worker') await (d.mode === 'frames' ? producerWorkerFrames(d.port, d.records!) : producerWorker(d.port, d.channelId, d.records!));
  else if (d.mode === 'frames') consumerWorkerFrames(d.port);
  else consumerWorker(d.port, d.channelId);
}
