/**
 * Throughput of the data plane (issue 10), each as a ratio to a baseline measured in the same run:
 *
 *   shuffle:  producer process                                    consumer process
 *             worker: NetworkOutputChannel (credits 32)            worker: its DataPlane → InputChannel,
 *               {key, ts, value} × 1024 → encodeBatch → frame        frame → decodeBatch → records (sums `value`)
 *             the worker's own WebSocket ══════════════════════════▶ the worker's own data server
 *                                       ◀══ credit frames ══
 *   baseline: producer process main: raw ws client ══▶ consumer process main: raw ws server (counts)
 *             the same frames, encoded beforehand, sent as fast as ws takes them (bufferedAmount ≤ 4 MiB);
 *             once with ws's default client (random masking keys: every byte XORed in JavaScript on
 *             both ends without the optional bufferutil), once with zero keys as the data plane sends.
 *   local:    two worker threads of one process (two slots of a task manager): the runtime's cross-slot
 *             channel (PortOutputChannel → bindPortInput: encode, transfer, decode into records);
 *   rawPort:  its baseline: the same encoded batches over a bare MessageChannel (transferred, counted);
 *   portCodec: not a floor, a breakdown: a bare MessageChannel with the record codec at both ends
 *             (encodeBatch of each batch's records, transferred, decodeBatch into records): 'local'
 *             minus this is what the runtime's channel itself costs or saves.
 *
 * Rates are measured by the consumer, from its first record (frame) to its last; cpuNsPerRecord is the
 * CPU time of both processes (all threads, worker start-up included) per record. Best of REPEAT. The
 * consumers check the record count and the sum of `value`.
 *
 *   npm run bench -- shuffle-throughput          (BENCH_RECORDS=1000000 BENCH_REPEAT=1 for a quick look)
 *   BENCH_MODES=raw,zero,records,local,rawPort,portCodec   a subset (prints the raw runs)
 *   BENCH_CREDITS=32 · BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" · BENCH_LOG_LEVEL=info
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BATCH, expectedSum } from './apps/shuffle-data';

const N = Number(process.env.BENCH_RECORDS ?? 5_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
/** Every run must end within this long (a hang is a failure, not a slow result). */
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_MS ?? 120_000);

interface Peer { child: ChildProcess; raw: string; messages: Array<Record<string, unknown>>; waiters: Array<() => void> }

async function start(script: string, role: 'producer' | 'consumer', token: string): Promise<Peer> {
  // BENCH_NODE_ARGS: extra node flags for the two peers (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const execArgv = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : [];
  const child = fork(script, [role], { env: { ...process.env, RLINK_TOKEN: token }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const peer: Peer = { child, raw: '', messages: [], waiters: [] };
  child.on('message', (m: Record<string, unknown>) => {
    if (m.type === 'error') process.stderr.write(`bench ${role}: ${String(m.message)}\n`);
    peer.messages.push(m);
    for (const w of peer.waiters.splice(0)) w();
  });
  child.on('exit', (code) => { peer.messages.push({ type: 'exit', code }); for (const w of peer.waiters.splice(0)) w(); });
  const ready = await next(peer, (m) => m.type === 'ready', 30_000);
  peer.raw = ready.raw as string;
  return peer;
}

/** The next message matching `pred` (failing on an error or exit of the child, or after `ms`). */
async function next(peer: Peer, pred: (m: Record<string, unknown>) => boolean, ms = RUN_TIMEOUT_MS): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const i = peer.messages.findIndex((m) => pred(m) || m.type === 'error' || m.type === 'exit');
    if (i >= 0) {
      const m = peer.messages.splice(i, 1)[0]!;
      if (m.type === 'error' || m.type === 'exit') throw new Error(`bench peer: ${JSON.stringify(m)}`);
      return m;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`bench peer: no answer within ${ms} ms`);
    await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); peer.waiters.push(() => { clearTimeout(t); resolve(); }); });
  }
}

/** ms: the consumer's first to last record; cpuMs: CPU time of both processes (all threads) meanwhile. */
interface Run { ms: number; wallMs: number; cpuMs: number }

async function cpu(peers: Peer[]): Promise<number> {
  let sum = 0;
  for (const p of peers) { p.child.send({ type: 'cpu' }); sum += (await next(p, (m) => m.type === 'cpu', 10_000)).ms as number; }
  return sum;
}

/** Runs `f` and adds the CPU time both peers spent (measured around it, so including set-up). */
async function measured(peers: Peer[], f: () => Promise<{ ms: number; wallMs: number }>): Promise<Run> {
  const c0 = await cpu(peers);
  const r = await f();
  await new Promise((res) => setTimeout(res, 50)); // let the producer finish its last writes
  return { ...r, cpuMs: (await cpu(peers)) - c0 };
}

async function shuffleRun(producer: Peer, consumer: Peer, k: number, sum: number): Promise<{ ms: number; wallMs: number }> {
  const run = `bench#${k}/shuffle`;
  const t0 = performance.now();
  consumer.child.send({ type: 'shuffle-in', run });
  const ready = await next(consumer, (m) => m.type === 'in-ready' && m.run === run, 30_000);
  producer.child.send({ type: 'shuffle-out', run, peer: ready.address, records: N });
  const done = await next(consumer, (m) => m.type === 'done' && m.run === run);
  const wallMs = performance.now() - t0;
  if (done.records !== N || done.sum !== sum) throw new Error(`shuffle run ${run}: got ${String(done.records)} records (sum ${String(done.sum)}), expected ${N} (sum ${sum})`);
  return { ms: done.ms as number, wallMs };
}

async function localRun(consumer: Peer, k: number, sum: number, raw: boolean | 'codec'): Promise<{ ms: number; wallMs: number }> {
  const run = `bench#${k}/${raw === 'codec' ? 'port-codec' : raw ? 'raw-port' : 'local'}`;
  const t0 = performance.now();
  consumer.child.send({ type: 'local', run, records: N, raw });
  const done = await next(consumer, (m) => m.type === 'done' && m.run === run);
  if (done.records !== N || done.sum !== sum) throw new Error(`${run}: got ${String(done.records)} records (sum ${String(done.sum)}), expected ${N} (sum ${sum})`);
  return { ms: done.ms as number, wallMs: performance.now() - t0 };
}

async function rawRun(producer: Peer, consumer: Peer, k: number, mask: 'random' | 'zero'): Promise<{ ms: number; wallMs: number }> {
  const run = `bench#${k}/raw-${mask}`;
  const frames = Math.ceil(N / BATCH);
  const t0 = performance.now();
  consumer.child.send({ type: 'raw-in', run, frames });
  producer.child.send({ type: 'raw-out', run, peer: consumer.raw, records: N, mask });
  const done = await next(consumer, (m) => m.type === 'done' && m.run === run);
  return { ms: done.ms as number, wallMs: performance.now() - t0 };
}

function best(runs: Run[]): Run { return runs.reduce((a, b) => (b.ms < a.ms ? b : a)); }

async function main(): Promise<void> {
  // The peers run as separate processes: bundle their script like run-bench bundles a bench.
  const script = join(import.meta.dirname, '..', 'dist', 'bench', 'shuffle-peer.js');
  await build({
    entryPoints: [join(import.meta.dirname, 'apps', 'shuffle-peer.ts')], outfile: script, bundle: true, format: 'esm',
    platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning',
  });
  const token = randomBytes(24).toString('base64url');
  const consumer = await start(script, 'consumer', token);
  const producer = await start(script, 'producer', token);
  const sum = expectedSum(N);
  const raw: Run[] = [];
  const rawZero: Run[] = [];
  const shuffle: Run[] = [];
  const local: Run[] = [];
  const rawPort: Run[] = [];
  const portCodec: Run[] = [];
  try {
    const modes = new Set((process.env.BENCH_MODES ?? 'raw,zero,records,local,rawPort,portCodec').split(','));
    for (let k = 0; k < REPEAT; k++) {
      const both = [producer, consumer];
      if (modes.has('raw')) raw.push(await measured(both, () => rawRun(producer, consumer, k, 'random')));
      if (modes.has('zero')) rawZero.push(await measured(both, () => rawRun(producer, consumer, k, 'zero')));
      if (modes.has('records')) shuffle.push(await measured(both, () => shuffleRun(producer, consumer, k, sum)));
      if (modes.has('local')) local.push(await measured(both, () => localRun(consumer, k, sum, false)));
      if (modes.has('rawPort')) rawPort.push(await measured(both, () => localRun(consumer, k, sum, true)));
      if (modes.has('portCodec')) portCodec.push(await measured(both, () => localRun(consumer, k, sum, 'codec')));
    }
    if (modes.size < 6) { process.stdout.write(`${JSON.stringify({ raw, rawZero, shuffle, local, rawPort, portCodec })}\n`); return; }
    const r = best(raw), z = best(rawZero), s = best(shuffle), l = best(local), rp = best(rawPort), pc = best(portCodec);
    const bytes = 35 * N; // about what the frames of N records occupy (35 bytes a record)
    const rate = (ms: number) => Math.round((N / ms) * 1000);
    const cpuNs = (runs: Run[]) => Math.round(Math.min(...runs.map((x) => x.cpuMs)) * 1e6 / N);
    const out = {
      records: N, batch: BATCH, repeat: REPEAT, credits: Number(process.env.BENCH_CREDITS ?? 32),
      rawWs: { ms: Math.round(r.ms), recordsPerSec: rate(r.ms), mbPerSec: Math.round(bytes / r.ms / 1000), cpuNsPerRecord: cpuNs(raw) },
      rawWsZeroMask: { ms: Math.round(z.ms), recordsPerSec: rate(z.ms), mbPerSec: Math.round(bytes / z.ms / 1000), cpuNsPerRecord: cpuNs(rawZero) },
      shuffle: { ms: Math.round(s.ms), recordsPerSec: rate(s.ms), mbPerSec: Math.round(bytes / s.ms / 1000), cpuNsPerRecord: cpuNs(shuffle), wallMs: Math.round(s.wallMs) },
      localPortChannel: { ms: Math.round(l.ms), recordsPerSec: rate(l.ms), cpuNsPerRecord: cpuNs(local) },
      rawMessageChannel: { ms: Math.round(rp.ms), recordsPerSec: rate(rp.ms), cpuNsPerRecord: cpuNs(rawPort) },
      messageChannelWithCodec: { ms: Math.round(pc.ms), recordsPerSec: rate(pc.ms), cpuNsPerRecord: cpuNs(portCodec) },
      ratioShuffleToRawWs: Number((r.ms / s.ms).toFixed(3)),
      ratioShuffleToRawWsZeroMask: Number((z.ms / s.ms).toFixed(3)),
      ratioLocalToRawMessageChannel: Number((rp.ms / l.ms).toFixed(3)),
      ratioLocalToMessageChannelWithCodec: Number((pc.ms / l.ms).toFixed(3)),
      floors: { shuffleToRawWsZeroMask: 0.5, localToRawMessageChannel: 0.8 },
      runs: {
        rawMs: raw.map((x) => Math.round(x.ms)), rawZeroMaskMs: rawZero.map((x) => Math.round(x.ms)),
        shuffleMs: shuffle.map((x) => Math.round(x.ms)), localMs: local.map((x) => Math.round(x.ms)), rawPortMs: rawPort.map((x) => Math.round(x.ms)), portCodecMs: portCodec.map((x) => Math.round(x.ms)),
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const p of [producer, consumer]) {
      p.child.disconnect();
      const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
      await new Promise((r) => (p.child.exitCode !== null ? r(undefined) : p.child.once('exit', r)));
      clearTimeout(t);
    }
  }
}

await main();
