/**
 * One side of bench/shuffle-throughput.ts, run as a child process (bundled with esbuild by the bench):
 *
 *   node shuffle-peer.js consumer   a task manager: a consumer worker thread per run with its own data
 *                                   plane (as a slot has), and the baseline's raw `ws` server (counts
 *                                   frames, nothing else)
 *   node shuffle-peer.js producer   a producer worker thread per run with its own data plane, and the
 *                                   baseline's raw `ws` client sending the same frames, pre-encoded
 *
 * Worker runs: 'records' — the runtime's own channel ends across processes (NetworkOutputChannel:
 * encodeBatch into frames, the credit window; the consumer's DataPlane: decodeBatch into an
 * InputChannel); 'local' — two workers of one process, the runtime's cross-slot channel
 * (PortOutputChannel → bindPortInput over a MessageChannel); 'rawPort' — the same two workers moving
 * the same encoded batches over a bare MessageChannel (transferred, counted, not decoded); 'portCodec' —
 * a bare MessageChannel with the record codec at both ends (encodeBatch per batch sent, decodeBatch
 * into records), which says how much of 'local' is the codec and how much the channel.
 *
 * The parent drives it over the IPC channel: → commands; ← {ready}, {in-ready}, {done}, {cpu}.
 * Worker threads run this same file (workerData.role).
 */
import { MessageChannel, Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { DataPlane } from '../../taskmanager/data-plane/data-plane';
import { InputChannel, type OutputChannel } from '../../core/runtime/network/channel';
import { PortOutputChannel, bindPortInput } from '../../core/runtime/network/port-channel';
import { decodeBatch, encodeBatch, transferables, type EncodedBatch } from '../../core/runtime/network/batch-codec';
import { encodeFrame } from '../../core/protocol/data-frames';
import { createLogger } from '../../core/logging';
import { BATCH, POOL, batch, type Rec } from './shuffle-data';

type Command =
  | { type: 'shuffle-in'; run: string }
  | { type: 'shuffle-out'; run: string; peer: string; records: number }
  | { type: 'local'; run: string; records: number; raw: boolean | 'codec' }
  | { type: 'raw-in'; run: string; frames: number }
  | { type: 'raw-out'; run: string; records: number; peer: string; mask: 'random' | 'zero' }
  | { type: 'cpu' };

const send = (m: Record<string, unknown>): void => { process.send!(m); };
/** The producer's credit window (the runtime's channels use 32). */
const CREDITS = Number(process.env.BENCH_CREDITS ?? 32);
const token = process.env.RLINK_TOKEN!;
// Quiet by default: at the end each side sees the other stop (a lost peer, logged as an error).
const logger = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'fatal', name: 'bench-shuffle' });

// ───────────────────────────── worker threads ─────────────────────────────

/**
 * Sends `records` records with a watermark every 16 batches. The batches (records and timestamps)
 * come from a pool made before the clock starts, as the baselines' encoded batches do: what is
 * measured is the channel from send() on, not a source making arrays.
 */
async function produce(out: OutputChannel, records: number): Promise<void> {
  const pool = Array.from({ length: POOL }, (_, b) => { const values = batch(b); return { values, timestamps: values.map((r) => r.ts) }; });
  for (let k = 0; k * BATCH < records; k++) {
    const p = pool[k % POOL]!;
    const left = records - k * BATCH;
    const values = left >= BATCH ? p.values : p.values.slice(0, left);
    const timestamps = left >= BATCH ? p.timestamps : p.timestamps.slice(0, left);
    if (!out.writable) await out.whenWritable();
    out.send({ kind: 'records', values, timestamps });
    if ((k & 15) === 15) { if (!out.writable) await out.whenWritable(); out.send({ kind: 'watermark', timestamp: timestamps[timestamps.length - 1]! - 1 }); }
  }
  if (!out.writable) await out.whenWritable();
  out.send({ kind: 'watermark', timestamp: Infinity });
  if (!out.writable) await out.whenWritable();
  out.send({ kind: 'end' });
}

/** Takes every element of `input` as the task loop would, summing `value`; reports at the end. */
function consume(input: InputChannel, done: (m: { records: number; sum: number; ms: number }) => void): void {
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
      } else if (e.kind === 'end') { done({ records, sum, ms: performance.now() - t0 }); return; }
    }
  };
  input.onAvailable = () => { if (!scheduled) { scheduled = true; setImmediate(drain); } };
}

/** A producer slot on another task manager: its own data plane, a network channel to the consumer's slot. */
async function netProducer(channelId: string, peer: string, records: number): Promise<void> {
  const plane = new DataPlane({ taskManagerId: 'bench-producer', token, logger });
  await plane.start();
  await produce(plane.output(channelId, peer, CREDITS), records);
  parentPort!.postMessage({ sent: true });
}

async function netConsumer(channelId: string): Promise<void> {
  const plane = new DataPlane({ taskManagerId: 'bench-consumer', token, logger });
  const address = await plane.start();
  const input = new InputChannel(channelId, 0);
  plane.input(channelId, input);
  consume(input, (m) => parentPort!.postMessage({ done: m }));
  parentPort!.postMessage({ address });
}

/**
 * 'rawPort': the same encoded batches over a bare MessageChannel (fresh buffers per batch, transferred).
 * With `codec` ('portCodec'): each batch encoded from its records when sent, as a channel must, and
 * decoded into records by the consumer: the record codec's cost without the runtime's channel.
 */
async function rawPortProducer(port: MessagePort, records: number, codec = false): Promise<void> {
  const pool = Array.from({ length: POOL }, (_, b) => { const r = batch(b); return { values: r, timestamps: r.map((x) => x.ts), encoded: encodeBatch(r, r.map((x) => x.ts)) }; });
  let credits = CREDITS;
  let wake: (() => void) | undefined;
  port.on('message', (m: { c?: number }) => { if (m.c) { credits += m.c; const w = wake; wake = undefined; w?.(); } });
  for (let k = 0; k * BATCH < records; k++) {
    const p = pool[k % POOL]!;
    const n = Math.min(BATCH, records - k * BATCH);
    const e = p.encoded;
    const b: EncodedBatch = codec ? encodeBatch(n === BATCH ? p.values : p.values.slice(0, n), n === BATCH ? p.timestamps : p.timestamps.slice(0, n))
      : n === BATCH ? { ...e, ts: e.ts.slice(), nums: e.nums!.slice(), lens: e.lens!.slice() } : (() => { const r = batch(k % POOL).slice(0, n); return encodeBatch(r, r.map((x) => x.ts)); })();
    while (credits <= 0) await new Promise<void>((r) => { wake = r; });
    credits--;
    port.postMessage({ b }, transferables(b));
  }
  while (credits <= 0) await new Promise<void>((r) => { wake = r; });
  port.postMessage({ e: { kind: 'end' } });
  parentPort!.postMessage({ sent: true });
}

function rawPortConsumer(port: MessagePort, codec = false): void {
  let records = 0, sum = 0, t0 = 0, owed = 0;
  port.on('message', (m: { b?: EncodedBatch; e?: { kind: string } }) => {
    if (owed++ === 0) queueMicrotask(() => { port.postMessage({ c: owed }); owed = 0; });
    if (m.b) {
      if (t0 === 0) t0 = performance.now();
      records += m.b.n;
      if (codec) {
        const vs = decodeBatch(m.b).values as Rec[];
        for (let i = 0; i < vs.length; i++) sum += vs[i]!.value;
      } else {
        const nums = m.b.nums!; // fields key, ts, value: nums holds [ts, value] per record
        for (let i = 1; i < nums.length; i += 2) sum += nums[i]!;
      }
    } else if (m.e?.kind === 'end') {
      parentPort!.postMessage({ done: { records, sum, ms: performance.now() - t0 } });
      port.close();
    }
  });
}

// ───────────────────────────── processes ─────────────────────────────

async function main(role: 'producer' | 'consumer'): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const worker = (data: Record<string, unknown>, transfer: MessagePort[] = []) => {
    const w = new Worker(script, { workerData: data, transferList: transfer });
    w.once('error', (e) => send({ type: 'error', message: e.message }));
    return w;
  };

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
          const w = worker({ role: 'net-consumer', channelId: c.run });
          w.on('message', (m: { address?: string; done?: Record<string, unknown> }) => {
            if (m.address) send({ type: 'in-ready', run: c.run, address: m.address });
            if (m.done) { void w.terminate(); send({ type: 'done', run: c.run, ...m.done }); }
          });
          break;
        }
        case 'shuffle-out': {
          const w = worker({ role: 'net-producer', channelId: c.run, peer: c.peer, records: c.records });
          w.once('message', () => { setTimeout(() => void w.terminate(), 2000); }); // its last frames drain first
          break;
        }
        case 'local': {
          // Two slots of one task manager: the runtime's cross-slot channel, or a bare MessageChannel.
          const { port1, port2 } = new MessageChannel();
          const kind = c.raw === 'codec' ? 'codec-port' : c.raw ? 'raw-port' : 'port';
          const p = worker({ role: `${kind}-producer`, channelId: c.run, port: port1, records: c.records }, [port1]);
          const w = worker({ role: `${kind}-consumer`, channelId: c.run, port: port2 }, [port2]);
          p.once('message', () => void p.terminate());
          w.once('message', (m: { done: Record<string, unknown> }) => { void w.terminate(); send({ type: 'done', run: c.run, ...m.done }); });
          break;
        }
        case 'raw-in': rawExpect = { run: c.run, frames: c.frames, got: 0, t0: 0 }; break;
        case 'raw-out': {
          // ws's default client (a random masking key: every byte XORed on both ends), or zero keys
          // as the data plane uses (no masking work, no copy).
          let ws = rawClients.get(c.mask);
          if (!ws) {
            const client = new WebSocket(c.peer, { perMessageDeflate: false, ...(c.mask === 'zero' ? { generateMask: (m: Buffer) => { m.fill(0); } } : {}) });
            await new Promise((r, j) => { client.once('open', r); client.once('error', j); });
            rawClients.set(c.mask, client);
            ws = client;
          }
          // The same frames the data plane sends, encoded before the clock starts.
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
        case 'cpu': { const u = process.cpuUsage(); send({ type: 'cpu', ms: (u.user + u.system) / 1000 }); break; }
      }
    })().catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', raw: rawAddress });
}

if (isMainThread) {
  const role = process.argv[2];
  if (role !== 'producer' && role !== 'consumer') { process.stderr.write('usage: shuffle-peer.js producer|consumer\n'); process.exit(2); }
  await main(role);
} else {
  const d = workerData as { role: string; channelId: string; port: MessagePort; records?: number; peer?: string };
  switch (d.role) {
    case 'net-producer': await netProducer(d.channelId, d.peer!, d.records!); break;
    case 'net-consumer': await netConsumer(d.channelId); break;
    case 'port-producer': await produce(new PortOutputChannel(d.channelId, d.port, CREDITS), d.records!); parentPort!.postMessage({ sent: true }); break;
    case 'port-consumer': { const input = new InputChannel(d.channelId, 0); bindPortInput(d.port, input); consume(input, (m) => parentPort!.postMessage({ done: m })); break; }
    case 'raw-port-producer': await rawPortProducer(d.port, d.records!); break;
    case 'raw-port-consumer': rawPortConsumer(d.port); break;
    case 'codec-port-producer': await rawPortProducer(d.port, d.records!, true); break;
    case 'codec-port-consumer': rawPortConsumer(d.port, true); break;
  }
}
