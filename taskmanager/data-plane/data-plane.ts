import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RlinkError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { bearer, bearerMatches } from '../../core/security/token';
import { DATA_FRAME_VERSION, decodeFrameBody, decodeFrameHeader, encodeCreditFrame, type FrameHeader } from '../../core/protocol/data-frames';
import {
  DATA_ADDRESS_HEADER, DATA_CLOSE, DATA_SOCKET_PATH, FRAME_VERSION_HEADER, SLOT_DIRECTORY_PATH, TASKMANAGER_HEADER, headerSafe, slotDirectoryUrl,
} from '../../core/protocol/data-socket';
import { EAGER_CREDITS, type InputChannel } from '../../core/runtime/network/channel';
import { attemptPrefix, isOfAttempt, parseWireChannelId, type AttemptRef } from '../../core/protocol/channel-ids';
import { decodeBatch, encodedBytes } from '../../core/runtime/network/batch-codec';
import { NetworkOutputChannel } from './network-output-channel';
import { ParkedFrames } from './parked-frames';
import { newConnection, type PeerConnection, type PeerCounters, type PeerStats } from './peer-connection';
import { poll } from '../../core/util/retry';

/**
 * A slot worker's end of the shuffle between task managers (Flink's netty layer): its own data
 * server and its own connections to the workers of other task managers, so that a batch goes from the
 * producer's thread into its socket and from the consumer's socket into its input channel, without
 * crossing any other thread (the handshake and slot directory: core/protocol/data-socket.ts; the
 * frames: data-frames.ts).
 *
 *   producer task ─ NetworkOutputChannel ─ encode ══ WebSocket ══▶ decode ─ InputChannel ─ consumer task
 *                 ◀──────── grant(n) ◀═════════════ credit frames ◀═══════ consumed(n) ◀─
 *
 * Credits bound what is in flight end to end (the producer's window: elements in both sockets' buffers
 * and on the wire); the credits a consumer returns in one event-loop turn go back as one frame per
 * channel. Client frames are not masked (a zero masking key: see zeroMask).
 *
 * Frames for a channel whose consumer is not bound yet (the peer deployed first) wait, per channel,
 * in ParkedFrames until `input()`; a compliant producer sends at most its credit window before then.
 *
 * Failures never throw out of the data plane: a lost connection (error, close, no pong within a ping
 * interval, a malformed frame — which closes it) is logged and reported through `onPeerLost` with the
 * channels it carried, so the slot can fail the attempts that used them.
 */

/** Another task manager's slot (found through its slot directory), or a data plane's own address. */
export type PeerRef = string | { taskManager: string; slot: number };

export interface DataPlaneOptions {
  taskManagerId: string;
  token: string;
  /** Interface to listen on (default 127.0.0.1). */
  bind?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Host name or address peers reach this worker at (default: `bind`). */
  advertisedHost?: string;
  logger: Logger;
  /** A connection to a peer broke (or could not be opened): the channels listed lost data. */
  onPeerLost?: (address: string, error: Error, info: PeerLostInfo) => void;
  /** Where another task manager's slot listens (default: ask its slot directory). */
  resolveSlot?: (taskManagerAddress: string, slot: number) => Promise<string>;
  /** Liveness: every connection is pinged this often; one without a pong by the next ping is lost. Default 15 s. */
  pingIntervalMs?: number;
  /** Largest frame accepted (default 128 MiB). */
  maxFrameBytes?: number;
  /** Frames that may wait for a channel's consumer (default 1024; a producer sends at most its credit window). */
  maxPendingFramesPerChannel?: number;
  /** Bytes that may wait for consumers over all channels (default 256 MiB). */
  maxPendingBytes?: number;
  /** Waiting frames of a channel nobody binds are dropped after this long (default 2 min). */
  pendingTtlMs?: number;
}

export interface PeerLostInfo {
  /** The peer task manager's id, when the handshake got that far. */
  taskManagerId?: string;
  direction: 'out' | 'in';
  /** The channels whose data or credits it carried and that are not released. */
  channels: string[];
}

export type { PeerStats } from './peer-connection';

export interface DataPlaneStats {
  peers: PeerStats[];
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
  /** Bound channels now. */
  channelsOut: number;
  channelsIn: number;
  /** Frames waiting for their consumer. */
  pendingFrames: number;
  /** Frames dropped: for released channels, on lost connections, waiting too long. */
  droppedFrames: number;
}

interface Output { channel: NetworkOutputChannel; conn: PeerConnection }
/** `owed`: credits the consumer returned, not yet sent to the producer (coalesced per event-loop turn). */
interface Input { channelId: string; input: InputChannel; conn?: PeerConnection; owed: number; onBytes: (n: number) => void }

/** How long a released prefix is remembered, so that its late frames are dropped, not parked. */
const RELEASED_MEMORY_MS = 10 * 60_000;
/** How long a slot directory may answer "starting" (503) before the peer counts as unreachable. */
const RESOLVE_TIMEOUT_MS = 30_000;

export class DataPlane {
  private readonly log: Logger;
  private server?: Server;
  private wss?: WebSocketServer;
  private addressValue?: string;
  private readonly outgoing = new Map<string, PeerConnection>();
  private readonly connections = new Set<PeerConnection>();
  private readonly outputs = new Map<string, Output>();
  private readonly inputs = new Map<string, Input>();
  private readonly parked: ParkedFrames;
  private readonly released = new Map<string, AttemptRef & { at: number }>();
  private readonly counters = new Map<string, PeerCounters>();
  private readonly creditsOwed = new Set<Input>();
  private creditFlush = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private pingEvery = 15_000;
  private lastPing = 0;

  constructor(private readonly opts: DataPlaneOptions) {
    this.log = opts.logger.child({ component: 'data-plane' });
    this.parked = new ParkedFrames({ maxFramesPerChannel: opts.maxPendingFramesPerChannel ?? 1024, maxBytes: opts.maxPendingBytes ?? 256 * 1024 * 1024 });
  }

  /** The address peers connect to (after start). */
  get address(): string | undefined { return this.addressValue; }

  private get maxFrameBytes(): number { return this.opts.maxFrameBytes ?? 128 * 1024 * 1024; }

  /** Starts the data server; resolves with its address, `ws://<advertisedHost or bind>:<port>`. */
  async start(): Promise<string> {
    if (this.addressValue) return this.addressValue;
    const bind = this.opts.bind ?? '127.0.0.1';
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('rlink data plane: WebSocket only\n');
    });
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: this.maxFrameBytes, clientTracking: false });
    wss.on('headers', (headers) => { headers.push(`${TASKMANAGER_HEADER}: ${headerSafe(this.opts.taskManagerId)}`); });
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, bind, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (e) => this.log.error({ event: 'data.server-error', err: errorMessage(e) }, `data server error: ${errorMessage(e)}`));
    this.server = server;
    this.wss = wss;
    const port = (server.address() as { port: number }).port;
    const host = this.opts.advertisedHost ?? bind;
    this.addressValue = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.pingEvery = this.opts.pingIntervalMs ?? 15_000;
    this.timer = setInterval(() => this.tick(), Math.min(this.pingEvery, 30_000));
    this.timer.unref();
    this.log.debug({ event: 'data.started', address: this.addressValue, bind }, `data plane listening at ${this.addressValue}`);
    return this.addressValue;
  }

  // ───────────────────────────── channels ─────────────────────────────

  /**
   * The producer end of channel `channelId` (its id on the wire: attempt-scoped) to a consumer at
   * `peer`. Frames queue while the connection is being opened.
   */
  output(channelId: string, peer: PeerRef, capacity = 32): NetworkOutputChannel {
    if (this.stopped) throw new RlinkError('RLINK_INTERNAL', 'the data plane is stopped');
    if (this.outputs.has(channelId)) throw new RlinkError('RLINK_INTERNAL', `channel ${channelId} has a producer already`);
    const conn = this.connectionTo(peer);
    const channel = new NetworkOutputChannel(channelId, channelId, (frame, written) => this.send(conn, frame, written), capacity);
    this.outputs.set(channelId, { channel, conn });
    conn.channelsOut.add(channelId);
    return channel;
  }

  /**
   * The consumer end of `channelId`: its frames (from whichever connection) go into `input`, and what
   * the input's consumer takes goes back as credits on the connection that brought the data.
   */
  input(channelId: string, input: InputChannel, onBytes: (n: number) => void = () => {}): void {
    if (this.stopped) throw new RlinkError('RLINK_INTERNAL', 'the data plane is stopped');
    if (this.inputs.has(channelId)) throw new RlinkError('RLINK_INTERNAL', `channel ${channelId} has a consumer already`);
    const binding: Input = { channelId, input, owed: 0, onBytes };
    this.inputs.set(channelId, binding);
    input.onConsumed = (n) => {
      binding.owed += n;
      // A consumer working through a burst returns credit as it goes (channel.ts: EAGER_CREDITS).
      if (binding.owed >= EAGER_CREDITS) { this.sendCredits(binding); return; }
      this.creditsOwed.add(binding);
      this.scheduleCredits();
    };
    const waiting = this.parked.take(channelId);
    if (waiting) {
      this.attach(binding, waiting.conn);
      for (const f of waiting.frames) {
        if (this.inputs.get(channelId) !== binding) break; // a malformed frame closed things meanwhile
        this.deliver(binding, f, decodeFrameHeader(f), waiting.conn);
      }
    }
  }

  /**
   * Forgets every channel of job attempt `a` (it ended here): what its producers sent is still
   * delivered; later frames and credits for it are dropped.
   */
  release(a: AttemptRef): void {
    const now = Date.now();
    this.released.set(attemptPrefix(a.jobId, a.attempt), { ...a, at: now });
    for (const [p, r] of this.released) if (now - r.at > RELEASED_MEMORY_MS) this.released.delete(p);
    for (const [id, o] of this.outputs) if (isOfAttempt(id, a)) { this.outputs.delete(id); o.conn.channelsOut.delete(id); }
    for (const [id, b] of this.inputs) {
      if (!isOfAttempt(id, a)) continue;
      this.inputs.delete(id);
      this.creditsOwed.delete(b);
      b.conn?.channelsIn.delete(id);
    }
    this.parked.release((id) => isOfAttempt(id, a));
  }

  /** Closes every connection and the server. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.outputs.clear();
    this.inputs.clear();
    this.creditsOwed.clear();
    this.parked.clear();
    const closing: Array<Promise<void>> = [];
    for (const c of this.connections) {
      c.closedByUs = true;
      const ws = c.ws;
      if (!ws || ws.readyState === WebSocket.CLOSED) continue;
      closing.push(new Promise<void>((resolve) => {
        const t = setTimeout(() => { ws.terminate(); resolve(); }, 2000);
        ws.once('close', () => { clearTimeout(t); resolve(); });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(DATA_CLOSE.goingAway, 'slot stopping');
      }));
    }
    await Promise.all(closing);
    this.connections.clear();
    this.outgoing.clear();
    this.wss?.close();
    if (this.server) {
      const server = this.server;
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    }
    this.log.debug({ event: 'data.stopped' }, 'data plane stopped');
  }

  stats(): DataPlaneStats {
    const open = new Map<string, number>();
    for (const c of this.connections) if (c.open) open.set(c.key, (open.get(c.key) ?? 0) + 1);
    const peers: PeerStats[] = [...this.counters.values()].map((c) => ({ ...c, connections: open.get(c.address) ?? 0 }));
    const sum = (k: 'bytesIn' | 'bytesOut' | 'framesIn' | 'framesOut') => peers.reduce((s, p) => s + p[k], 0);
    return {
      peers, bytesIn: sum('bytesIn'), bytesOut: sum('bytesOut'), framesIn: sum('framesIn'), framesOut: sum('framesOut'),
      channelsOut: this.outputs.size, channelsIn: this.inputs.size, pendingFrames: this.parked.frameCount, droppedFrames: this.parked.dropped,
    };
  }

  // ───────────────────────────── producer side ─────────────────────────────

  /** `written`: called once the socket has written the frame (its memory may then be reused). */
  private send(conn: PeerConnection, frame: Buffer, written?: () => void): void {
    if (conn.dead) { this.parked.dropped++; return; }
    if (!conn.open || !conn.ws) { conn.queue.push({ frame, written }); return; }
    conn.ws.send(frame, { binary: true, compress: false }, written && ((err) => { if (!err) written(); }));
    const c = this.countersOf(conn);
    c.bytesOut += frame.length;
    c.framesOut++;
  }

  private connectionTo(peer: PeerRef): PeerConnection {
    const key = typeof peer === 'string' ? peer : `${peer.taskManager}${SLOT_DIRECTORY_PATH}${peer.slot}`;
    const existing = this.outgoing.get(key);
    if (existing && !existing.dead) return existing;
    const conn = newConnection(undefined, 'out', key);
    this.connections.add(conn);
    this.countersOf(conn);
    this.outgoing.set(key, conn);
    const address = typeof peer === 'string' ? Promise.resolve(peer) : this.resolve(peer.taskManager, peer.slot);
    address.then((a) => this.open(conn, a), (e: unknown) => this.lost(conn, e instanceof Error ? e : new Error(String(e))));
    return conn;
  }

  /** Asks the task manager's slot directory where `slot` listens (retrying while the slot starts). */
  private async resolve(taskManager: string, slot: number): Promise<string> {
    if (this.opts.resolveSlot) return this.opts.resolveSlot(taskManager, slot);
    let url: string;
    try { url = slotDirectoryUrl(taskManager, slot); } catch (e) {
      throw new RlinkError('RLINK_CONFIG', `bad data address ${JSON.stringify(taskManager)}: ${errorMessage(e)}`);
    }
    // 503 while the slot's worker starts: asked again, with back-off, until RESOLVE_TIMEOUT_MS.
    return poll(async () => {
      let res: Response;
      try {
        res = await fetch(url, { headers: { authorization: bearer(this.opts.token) }, signal: AbortSignal.timeout(10_000) });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? errorMessage(e);
        throw new RlinkError('RLINK_NETWORK', `task manager at ${taskManager} is unreachable (${cause})`, { retriable: true, context: { host: new URL(url).host } });
      }
      if (res.ok) {
        const body = await res.json().catch(() => undefined) as { address?: unknown } | undefined;
        if (typeof body?.address === 'string') return body.address;
        throw new RlinkError('RLINK_PROTOCOL', `task manager at ${taskManager} answered its slot directory without an address`);
      }
      if (res.status === 503) { await res.body?.cancel(); return undefined; }
      const why = res.status === 401 ? 'wrong or missing cluster token' : res.status === 404 ? `it has no slot ${slot}` : `HTTP ${res.status}`;
      throw new RlinkError(res.status === 401 ? 'RLINK_UNAUTHORIZED' : 'RLINK_NETWORK', `task manager at ${taskManager} refused the data connection: ${why}`);
    }, {
      timeoutMs: RESOLVE_TIMEOUT_MS, backoff: { initialMs: 20, maxMs: 500 }, closed: () => this.stopped,
      fail: (ms) => (this.stopped
        ? new RlinkError('RLINK_INTERNAL', 'the data plane is stopped')
        : new RlinkError('RLINK_NETWORK', `task manager at ${taskManager} refused the data connection: slot ${slot} was still starting after ${ms} ms (HTTP 503)`, { retriable: true })),
    });
  }

  private open(conn: PeerConnection, address: string): void {
    if (conn.dead || this.stopped) return;
    const headers: Record<string, string> = {
      authorization: bearer(this.opts.token),
      [TASKMANAGER_HEADER]: headerSafe(this.opts.taskManagerId),
      [FRAME_VERSION_HEADER]: String(DATA_FRAME_VERSION),
    };
    if (this.addressValue) headers[DATA_ADDRESS_HEADER] = this.addressValue;
    let ws: WebSocket;
    try {
      const url = new URL(address);
      url.pathname = DATA_SOCKET_PATH;
      ws = new WebSocket(url, { headers, perMessageDeflate: false, maxPayload: this.maxFrameBytes, handshakeTimeout: 10_000, generateMask: zeroMask });
    } catch (e) {
      this.lost(conn, new RlinkError('RLINK_CONFIG', `bad data address ${JSON.stringify(address)}: ${errorMessage(e)}`));
      return;
    }
    conn.ws = ws;
    ws.on('upgrade', (res) => {
      const id = res.headers[TASKMANAGER_HEADER];
      if (typeof id === 'string' && id) { conn.peerId = id; this.countersOf(conn).taskManagerId = id; }
    });
    ws.on('open', () => {
      conn.open = true;
      this.log.debug({ event: 'data.connected', peer: conn.key, address, peerTaskManager: conn.peerId }, `data connection to ${conn.key} open`);
      const q = conn.queue;
      conn.queue = [];
      for (const f of q) this.send(conn, f.frame, f.written);
    });
    this.wire(conn);
  }

  // ───────────────────────────── consumer side ─────────────────────────────

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string, extra = ''): void => {
      this.log.warn({ event: 'data.refused', status, remote: req.socket.remoteAddress, reason: text }, `refused a data connection from ${req.socket.remoteAddress}: ${text}`);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Bad Request'}\r\n${extra}content-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text) + 1}\r\n\r\n${text}\n`);
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (this.stopped || !this.wss) { refuse(400, 'slot stopping'); return; }
    if (new URL(req.url ?? '/', 'http://x').pathname !== DATA_SOCKET_PATH) { refuse(404, `data connections go to ${DATA_SOCKET_PATH}`); return; }
    if (!bearerMatches(req.headers.authorization, this.opts.token)) { refuse(401, 'a data connection needs the cluster token', 'www-authenticate: Bearer\r\n'); return; }
    const peerId = req.headers[TASKMANAGER_HEADER];
    if (typeof peerId !== 'string' || !peerId) { refuse(400, `a data connection needs the ${TASKMANAGER_HEADER} header`); return; }
    const version = req.headers[FRAME_VERSION_HEADER];
    if (version !== undefined && version !== String(DATA_FRAME_VERSION)) {
      refuse(400, `data frame version ${String(version)} is not supported (this task manager speaks ${DATA_FRAME_VERSION}): run the same rlink version everywhere`);
      return;
    }
    const addr = req.headers[DATA_ADDRESS_HEADER];
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.stopped) { ws.terminate(); return; }
      const conn = newConnection(ws, 'in', typeof addr === 'string' && addr ? addr : `tm:${peerId}`);
      this.connections.add(conn);
      conn.peerId = peerId;
      conn.open = true;
      this.countersOf(conn).taskManagerId = peerId;
      this.log.debug({ event: 'data.accepted', peer: conn.key, peerTaskManager: peerId }, `data connection from ${peerId} open`);
      this.wire(conn);
    });
  }

  /** Credits go back once per event-loop turn, summed per channel (a frame per credit would cost more than the data it paces). */
  private scheduleCredits(): void {
    if (this.creditFlush) return;
    this.creditFlush = true;
    setImmediate(() => this.flushCredits());
  }

  private flushCredits(): void {
    this.creditFlush = false;
    for (const b of this.creditsOwed) this.sendCredits(b);
    this.creditsOwed.clear();
  }

  private sendCredits(b: Input): void {
    if (this.inputs.get(b.channelId) !== b || b.owed === 0) return;
    const conn = b.conn;
    if (!conn || conn.dead) { b.owed = 0; return; }
    while (b.owed > 0) {
      const c = Math.min(b.owed, 0xffffffff);
      b.owed -= c;
      this.send(conn, encodeCreditFrame(b.channelId, c));
    }
  }

  private attach(b: Input, conn: PeerConnection): void {
    if (b.conn === conn) return;
    b.conn?.channelsIn.delete(b.channelId);
    b.conn = conn;
    conn.channelsIn.add(b.channelId);
  }

  /** Decodes a data frame into the consumer's input. False when it was malformed (the connection is closed). */
  private deliver(b: Input, frame: Buffer, h: FrameHeader, conn: PeerConnection): boolean {
    this.attach(b, conn);
    try {
      const m = decodeFrameBody(frame, h);
      if ('b' in m) {
        b.onBytes(encodedBytes(m.b));
        // Validated now; its records are made when the task takes the batch (channel.ts: PendingRecords).
        const batch = m.b;
        b.input.push(() => { const { values, timestamps } = decodeBatch(batch); return { kind: 'records', values, timestamps }; });
      } else if ('e' in m) b.input.push(m.e);
      return true;
    } catch (e) {
      this.protocolError(conn, e);
      return false;
    }
  }

  // ───────────────────────────── connections ─────────────────────────────

  private countersOf(conn: PeerConnection): PeerCounters {
    let c = this.counters.get(conn.key);
    if (!c) { c = { address: conn.key, bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 }; this.counters.set(conn.key, c); }
    return c;
  }

  private wire(conn: PeerConnection): void {
    const ws = conn.ws!;
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(conn, data, isBinary));
    ws.on('pong', () => { conn.alive = true; });
    ws.on('error', (e: Error) => { conn.error ??= this.describe(conn, e); });
    ws.on('close', (code: number, reason: Buffer) => {
      const wasOpen = conn.open;
      conn.open = false;
      this.connections.delete(conn);
      if (conn.closedByUs || this.stopped) { conn.dead = true; return; }
      const why = reason.length > 0 ? `: ${reason.toString()}` : '';
      this.lost(conn, conn.error ?? new RlinkError('RLINK_NETWORK', `data connection ${conn.direction === 'out' ? 'to' : 'from'} ${conn.key} ${wasOpen ? 'closed' : 'failed'} (code ${code}${why})`, { retriable: true }));
    });
  }

  private describe(conn: PeerConnection, e: Error): Error {
    const m = /Unexpected server response: (\d+)/.exec(e.message);
    if (m) {
      const status = Number(m[1]);
      const why = status === 401 ? 'wrong or missing cluster token' : status === 400 ? 'bad handshake (task manager id or frame version)' : 'not an rlink data server?';
      return new RlinkError(status === 401 ? 'RLINK_UNAUTHORIZED' : 'RLINK_NETWORK', `task manager at ${conn.key} refused the data connection: HTTP ${status} (${why})`, { cause: e });
    }
    return new RlinkError('RLINK_NETWORK', `data connection ${conn.direction === 'out' ? 'to' : 'from'} ${conn.key}: ${e.message}`, { retriable: true, cause: e });
  }

  /** Reports a connection as lost (once) and closes it: at once, or (`closeCode`) with a close frame saying why. */
  private lost(conn: PeerConnection, error: Error, closeCode?: number): void {
    if (conn.reported) return;
    conn.reported = true;
    conn.dead = true;
    conn.closedByUs = true; // the 'close' event that follows reports nothing more
    this.connections.delete(conn);
    const ws = conn.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      if (closeCode !== undefined && ws.readyState === WebSocket.OPEN) {
        try { ws.close(closeCode, headerSafe(error.message).slice(0, 120)); } catch { /* terminated below */ }
        setTimeout(() => ws.terminate(), 1000).unref();
      } else ws.terminate();
    }
    if (this.outgoing.get(conn.key) === conn) this.outgoing.delete(conn.key);
    if (conn.queue.length > 0) { this.parked.dropped += conn.queue.length; conn.queue = []; }
    const channels = [...conn.channelsOut, ...conn.channelsIn].filter((id) => this.outputs.has(id) || this.inputs.has(id));
    channels.push(...this.parked.dropConnection(conn));
    const info: PeerLostInfo = { direction: conn.direction, channels, ...(conn.peerId ? { taskManagerId: conn.peerId } : {}) };
    this.log.error({ event: 'data.peer-lost', peer: conn.key, peerTaskManager: conn.peerId, direction: conn.direction, channels: channels.length, err: error.message },
      `lost the data connection ${conn.direction === 'out' ? 'to' : 'from'} ${conn.key}: ${error.message}`);
    try { this.opts.onPeerLost?.(conn.key, error, info); } catch (e) {
      this.log.error({ event: 'data.callback-failed', err: errorMessage(e) }, `onPeerLost threw: ${errorMessage(e)}`);
    }
  }

  /** A malformed frame, or a peer breaking flow control: the connection cannot be trusted any more. */
  private protocolError(conn: PeerConnection, e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this.log.error({ event: 'data.bad-frame', peer: conn.key, err: error.message }, `closing the data connection with ${conn.key}: ${error.message}`);
    this.lost(conn, error, DATA_CLOSE.malformed);
  }

  private onFrame(conn: PeerConnection, data: RawData, isBinary: boolean): void {
    if (conn.dead) return;
    conn.alive = true;
    if (!isBinary || !Buffer.isBuffer(data)) { this.protocolError(conn, new RlinkError('RLINK_PROTOCOL', 'malformed data frame: not a binary message')); return; }
    const c = this.countersOf(conn);
    c.bytesIn += data.length;
    c.framesIn++;
    let h: FrameHeader;
    try { h = decodeFrameHeader(data); } catch (e) { this.protocolError(conn, e); return; }
    if (h.kind === 'credit') {
      const o = this.outputs.get(h.channelId);
      if (!o) { this.parked.dropped++; return; } // released: late credits mean nothing
      let m;
      try { m = decodeFrameBody(data, h); } catch (e) { this.protocolError(conn, e); return; }
      o.channel.grant((m as { c: number }).c);
      return;
    }
    const b = this.inputs.get(h.channelId);
    if (b) { this.deliver(b, data, h, conn); return; }
    if (this.isReleased(h.channelId)) { this.parked.dropped++; return; }
    const problem = this.parked.park(conn, h.channelId, data);
    if (problem) this.protocolError(conn, new RlinkError('RLINK_PROTOCOL', problem));
  }

  private isReleased(channelId: string): boolean {
    const a = parseWireChannelId(channelId);
    return a !== undefined && this.released.has(attemptPrefix(a.jobId, a.attempt));
  }

  /** Pings (liveness) and drops frames that waited too long for a consumer. */
  private tick(): void {
    const now = Date.now();
    if (now - this.lastPing >= this.pingEvery) {
      this.lastPing = now;
      for (const c of [...this.connections]) {
        if (!c.open || c.dead) continue;
        if (!c.alive) { this.lost(c, new RlinkError('RLINK_NETWORK', `data connection ${c.direction === 'out' ? 'to' : 'from'} ${c.key}: no answer to a ping within ${this.pingEvery} ms`, { retriable: true })); continue; }
        c.alive = false;
        try { c.ws?.ping(); } catch { /* the close event reports it */ }
      }
    }
    const ttl = this.opts.pendingTtlMs ?? 120_000;
    for (const x of this.parked.expire(now, ttl)) {
      this.log.warn({ event: 'data.pending-expired', channel: x.channelId, frames: x.frames }, `dropped ${x.frames} frames of ${x.channelId}: no consumer was deployed for it within ${ttl} ms`);
    }
  }
}

/**
 * Client frames carry a masking key (RFC 6455 §5.3) so that script in a browser cannot make a proxy
 * cache attacker-chosen bytes. Between two task managers there is no browser and no script: the key
 * is all zeros, which ws treats as "no masking" — it neither XORs every byte on send (a byte loop in
 * JavaScript without the optional native bufferutil, ~150 MB/s) nor on receipt, and sends the frame
 * without copying it.
 */
function zeroMask(mask: Buffer): void { mask.fill(0); }
