import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RlinkError, errorMessage } from '../core/errors';
import type { Logger } from '../core/logging';
import { bearer, bearerMatches } from '../core/security/token';
import {
  DATA_FRAME_VERSION, decodeFrameBody, decodeFrameHeader, encodeCreditFrame, encodeFrame,
  type FrameHeader, type PortMessage,
} from '../core/protocol/data-frames';

/**
 * The data plane between task managers (Flink's shuffle / netty layer). Slot workers know nothing of
 * it: a channel to another task manager is a MessagePort for the worker, as between two slots. In the
 * task manager's main thread this service bridges the other end of that port to a WebSocket to the
 * peer task manager, which bridges it to a port of the consumer worker there:
 *
 *   producer worker ─port─▶ ShuffleService ══ WebSocket (binary data frames) ══▶ ShuffleService ─port─▶ consumer worker
 *        (PortOutputChannel)   bridgeOut         data-frames.ts                      bridgeIn        (bindPortInput)
 *                       ◀──── {c: n} ◀══════════ credit frames ◀══════════════════════ {c: n} ◀────
 *
 * Credits travel back the same way, so the producer worker's credit window (PortOutputChannel's
 * capacity, elements in flight) bounds what is in flight end to end — in both ports, both services
 * and the socket (the service never looks at the socket's buffer: credits bound it). Credits given
 * in one event-loop turn are summed per channel: one frame back, one port message to the producer.
 *
 * Per batch: the producer's typed arrays are copied once into the frame; on receipt the frame is
 * copied once into a buffer of its own (not when ws already gave it one), the typed arrays become
 * views on it and it is transferred to the consumer worker. Client frames are not masked (a zero
 * masking key: see zeroMask).
 *
 * Connections: one WebSocket per peer data address, opened by the producer side on first use (frames
 * queue while it connects); data flows producer → consumer on it and credits flow back on it. A task
 * manager that both sends to and receives from a peer has two connections with it. The handshake
 * carries `Authorization: Bearer <cluster token>` (401 otherwise), `x-rlink-taskmanager: <id>` (400
 * without), this side's data address (`x-rlink-data-address`, so a lost incoming connection is
 * reported under the address the task executor knows) and the frame version.
 *
 * Frames for a channel whose consumer is not bridged yet (the peer deployed first) wait, per channel,
 * until bridgeIn; a compliant producer sends at most its credit window before then. A peer that
 * exceeds `maxPendingFramesPerChannel` frames or `maxPendingBytes` in all is breaking flow control: its
 * connection is closed. Waiting frames of a channel never bridged are dropped after `pendingTtlMs`.
 *
 * Failures never throw out of the service: a lost connection (error, close, no pong within a ping
 * interval, a malformed frame — which closes it) is logged and reported through `onPeerLost` with the
 * channels it carried, so the task executor can fail the attempts that used it.
 */

export interface ShuffleServiceOptions {
  taskManagerId: string;
  token: string;
  /** Interface to listen on (default 127.0.0.1). */
  bind?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Host name or address peers reach this task manager at (default: `bind`). */
  advertisedHost?: string;
  logger: Logger;
  /** A connection to a peer broke (or could not be opened): the channels listed lost data. */
  onPeerLost?: (address: string, error: Error, info: PeerLostInfo) => void;
  /** Liveness: every connection is pinged this often; one without a pong by the next ping is lost. Default 15 s. */
  pingIntervalMs?: number;
  /** Largest frame accepted (default 128 MiB). */
  maxFrameBytes?: number;
  /** Frames that may wait for a channel's bridgeIn (default 1024; a producer sends at most its credit window). */
  maxPendingFramesPerChannel?: number;
  /** Bytes that may wait for bridgeIn over all channels (default 256 MiB). */
  maxPendingBytes?: number;
  /** Waiting frames of a channel nobody bridges are dropped after this long (default 2 min). */
  pendingTtlMs?: number;
}

export interface PeerLostInfo {
  /** The peer task manager's id, when the handshake got that far. */
  taskManagerId?: string;
  /** 'out': a connection this side opened (it carried our producers' data); 'in': one the peer opened. */
  direction: 'out' | 'in';
  /** The channels whose data or credits it carried and that are not released. */
  channels: string[];
}

export interface PeerStats {
  /** The peer's data address (or `tm:<id>` for an incoming connection of a peer that did not say). */
  address: string;
  taskManagerId?: string;
  /** Connections open with this peer now. */
  connections: number;
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}

export interface ShuffleStats {
  peers: PeerStats[];
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
  /** Bridged channels now. */
  channelsOut: number;
  channelsIn: number;
  /** Frames waiting for a bridgeIn. */
  pendingFrames: number;
  /** Frames dropped: for released channels, on lost connections, waiting too long. */
  droppedFrames: number;
}

const TM_HEADER = 'x-rlink-taskmanager';
const ADDRESS_HEADER = 'x-rlink-data-address';
const VERSION_HEADER = 'x-rlink-data-frames';
/** How long a released prefix is remembered, so that its late frames are dropped, not kept waiting. */
const RELEASED_MEMORY_MS = 10 * 60_000;

interface Connection {
  /** Undefined only for an address that could not even be parsed. */
  readonly ws: WebSocket | undefined;
  readonly direction: 'out' | 'in';
  /** Stats and loss reports go under this key: the peer's data address, or tm:<id>. */
  key: string;
  peerId?: string;
  open: boolean;
  dead: boolean;
  /** Frames sent before the connection opened. */
  queue: Buffer[];
  alive: boolean;
  closedByUs: boolean;
  /** onPeerLost was called for it. */
  reported: boolean;
  error?: Error;
  /** Channels whose producers here send on it / whose data arrived on it. */
  readonly channelsOut: Set<string>;
  readonly channelsIn: Set<string>;
}

/** `credits`: granted by the peer, not yet posted to the producer (coalesced per event-loop turn). */
interface OutBridge { channelId: string; port: MessagePort; conn: Connection; credits: number }
/** `owed`: returned by the consumer, not yet sent to the peer (coalesced per event-loop turn). */
interface InBridge { channelId: string; port: MessagePort; conn?: Connection; owed: number }
interface Pending { frames: Buffer[]; bytes: number; since: number; conn: Connection }
interface Counters { address: string; taskManagerId?: string; bytesIn: number; bytesOut: number; framesIn: number; framesOut: number }

export class ShuffleService {
  private readonly log: Logger;
  private server?: Server;
  private wss?: WebSocketServer;
  private addressValue?: string;
  private readonly outgoing = new Map<string, Connection>();
  private readonly connections = new Set<Connection>();
  private readonly outBridges = new Map<string, OutBridge>();
  private readonly inBridges = new Map<string, InBridge>();
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;
  private readonly released = new Map<string, number>();
  private readonly counters = new Map<string, Counters>();
  private dropped = 0;
  /** Bridges with credits to pass on at the end of this event-loop turn. */
  private readonly creditsOut = new Set<OutBridge>();
  private readonly creditsIn = new Set<InBridge>();
  private creditFlush = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: ShuffleServiceOptions) {
    this.log = opts.logger.child({ component: 'shuffle' });
  }

  /** The address peers connect to (after start). */
  get address(): string | undefined { return this.addressValue; }

  /** Starts the data server; resolves with its address, `ws://<advertisedHost or bind>:<port>`. */
  async start(): Promise<string> {
    if (this.addressValue) return this.addressValue;
    const bind = this.opts.bind ?? '127.0.0.1';
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('rlink data plane: WebSocket only\n');
    });
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: this.maxFrameBytes, clientTracking: false });
    wss.on('headers', (headers) => { headers.push(`${TM_HEADER}: ${headerSafe(this.opts.taskManagerId)}`); });
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, bind, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (e) => this.log.error({ event: 'shuffle.server-error', err: errorMessage(e) }, `data server error: ${errorMessage(e)}`));
    this.server = server;
    this.wss = wss;
    const port = (server.address() as { port: number }).port;
    const host = this.opts.advertisedHost ?? bind;
    this.addressValue = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const interval = this.opts.pingIntervalMs ?? 15_000;
    this.timer = setInterval(() => this.tick(), Math.min(interval, 30_000));
    this.timer.unref();
    this.pingEvery = interval;
    this.log.info({ event: 'shuffle.started', address: this.addressValue, bind }, `data plane listening at ${this.addressValue}`);
    return this.addressValue;
  }

  private pingEvery = 15_000;
  private lastPing = 0;
  private get maxFrameBytes(): number { return this.opts.maxFrameBytes ?? 128 * 1024 * 1024; }

  // ───────────────────────────── bridges ─────────────────────────────

  /**
   * This task manager hosts the producer of `channelId`; `port` is the other end of the producer
   * worker's port. Its `{b}`/`{e}` messages go as frames to the task manager at `peerAddress`; credit
   * frames for the channel come back into `port`.
   */
  bridgeOut(channelId: string, port: MessagePort, peerAddress: string): void {
    if (this.stopped) throw new RlinkError('RLINK_INTERNAL', 'the shuffle service is stopped');
    if (this.outBridges.has(channelId)) throw new RlinkError('RLINK_INTERNAL', `channel ${channelId} is already bridged out`);
    const conn = this.connectionTo(peerAddress);
    const bridge: OutBridge = { channelId, port, conn, credits: 0 };
    this.outBridges.set(channelId, bridge);
    conn.channelsOut.add(channelId);
    port.on('message', (m: PortMessage) => this.fromProducer(bridge, m));
  }

  /**
   * This task manager hosts the consumer of `channelId`; `port` is the other end of the consumer
   * worker's port. Frames of the channel (from whichever connection) are posted into it; its `{c}`
   * messages go back as credit frames on the connection that brought the channel's data.
   */
  bridgeIn(channelId: string, port: MessagePort): void {
    if (this.stopped) throw new RlinkError('RLINK_INTERNAL', 'the shuffle service is stopped');
    if (this.inBridges.has(channelId)) throw new RlinkError('RLINK_INTERNAL', `channel ${channelId} is already bridged in`);
    const bridge: InBridge = { channelId, port, owed: 0 };
    this.inBridges.set(channelId, bridge);
    port.on('message', (m: PortMessage) => {
      if (m && typeof m === 'object' && 'c' in m) this.creditBack(bridge, m.c);
    });
    const waiting = this.pending.get(channelId);
    if (waiting) {
      this.pending.delete(channelId);
      this.pendingBytes -= waiting.bytes;
      this.attach(bridge, waiting.conn);
      for (const f of waiting.frames) {
        if (!this.inBridges.has(channelId)) break; // a malformed frame closed things meanwhile
        this.deliver(bridge, f, decodeFrameHeader(f), waiting.conn);
      }
    }
  }

  /**
   * Closes and forgets every bridge whose channel id starts with `prefix` (a job attempt ended):
   * what a producer posted before is still sent, then ports close; later frames are dropped.
   */
  release(prefix: string): void {
    const now = Date.now();
    this.released.set(prefix, now);
    for (const [p, t] of this.released) if (now - t > RELEASED_MEMORY_MS) this.released.delete(p);
    for (const [id, b] of this.outBridges) {
      if (!id.startsWith(prefix)) continue;
      // The producer's last messages may still wait in the port (its task ended meanwhile): send them.
      for (let m = receiveMessageOnPort(b.port); m; m = receiveMessageOnPort(b.port)) this.fromProducer(b, m.message as PortMessage);
      this.outBridges.delete(id);
      b.conn.channelsOut.delete(id);
      b.port.close();
    }
    for (const [id, b] of this.inBridges) {
      if (!id.startsWith(prefix)) continue;
      this.inBridges.delete(id);
      b.conn?.channelsIn.delete(id);
      b.port.close();
    }
    for (const [id, p] of this.pending) {
      if (!id.startsWith(prefix)) continue;
      this.pending.delete(id);
      this.pendingBytes -= p.bytes;
      this.dropped += p.frames.length;
    }
  }

  /** Closes every bridge and connection and the server. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const b of this.outBridges.values()) b.port.close();
    for (const b of this.inBridges.values()) b.port.close();
    this.outBridges.clear();
    this.inBridges.clear();
    this.creditsIn.clear();
    this.creditsOut.clear();
    this.pending.clear();
    this.pendingBytes = 0;
    const closing: Array<Promise<void>> = [];
    for (const c of this.connections) {
      c.closedByUs = true;
      const ws = c.ws;
      if (!ws || ws.readyState === WebSocket.CLOSED) continue;
      closing.push(new Promise<void>((resolve) => {
        const t = setTimeout(() => { ws.terminate(); resolve(); }, 2000);
        ws.once('close', () => { clearTimeout(t); resolve(); });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1001, 'task manager stopping');
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
    this.log.info({ event: 'shuffle.stopped' }, 'data plane stopped');
  }

  /** Counters per peer and in total (for the REST API and metrics). */
  stats(): ShuffleStats {
    const open = new Map<string, number>();
    for (const c of this.connections) if (c.open) open.set(c.key, (open.get(c.key) ?? 0) + 1);
    const peers: PeerStats[] = [...this.counters.values()].map((c) => ({
      address: c.address, ...(c.taskManagerId ? { taskManagerId: c.taskManagerId } : {}), connections: open.get(c.address) ?? 0,
      bytesIn: c.bytesIn, bytesOut: c.bytesOut, framesIn: c.framesIn, framesOut: c.framesOut,
    }));
    let pendingFrames = 0;
    for (const p of this.pending.values()) pendingFrames += p.frames.length;
    const sum = (k: 'bytesIn' | 'bytesOut' | 'framesIn' | 'framesOut') => peers.reduce((s, p) => s + p[k], 0);
    return {
      peers, bytesIn: sum('bytesIn'), bytesOut: sum('bytesOut'), framesIn: sum('framesIn'), framesOut: sum('framesOut'),
      channelsOut: this.outBridges.size, channelsIn: this.inBridges.size, pendingFrames, droppedFrames: this.dropped,
    };
  }

  // ───────────────────────────── producer side ─────────────────────────────

  private fromProducer(b: OutBridge, m: PortMessage): void {
    if (this.outBridges.get(b.channelId) !== b) return; // released or stopped
    if (!m || typeof m !== 'object' || !('b' in m || 'e' in m)) {
      this.log.warn({ event: 'shuffle.unexpected-message', channel: b.channelId }, `unexpected message from the producer of ${b.channelId}`);
      return;
    }
    let frame: Buffer;
    try { frame = encodeFrame(b.channelId, m); } catch (e) {
      // A programming error (e.g. an unserializable value): the consumer would wait forever; fail loudly.
      // Unreachable with PortOutputChannel's messages; the channel is broken, not the connection.
      this.log.error({ event: 'shuffle.encode-failed', channel: b.channelId, err: errorMessage(e) }, `cannot frame a message of ${b.channelId}: ${errorMessage(e)}`);
      this.report(b.conn, e instanceof Error ? e : new Error(String(e)), [b.channelId]);
      return;
    }
    this.send(b.conn, frame);
  }

  private send(conn: Connection, frame: Buffer): void {
    if (conn.dead || !conn.ws) { this.dropped++; return; }
    if (!conn.open) { conn.queue.push(frame); return; }
    conn.ws.send(frame, { binary: true, compress: false });
    const c = this.countersOf(conn);
    c.bytesOut += frame.length;
    c.framesOut++;
  }

  private connectionTo(address: string): Connection {
    const existing = this.outgoing.get(address);
    if (existing && !existing.dead) return existing;
    const headers: Record<string, string> = {
      authorization: bearer(this.opts.token),
      [TM_HEADER]: headerSafe(this.opts.taskManagerId),
      [VERSION_HEADER]: String(DATA_FRAME_VERSION),
    };
    if (this.addressValue) headers[ADDRESS_HEADER] = this.addressValue;
    let ws: WebSocket;
    try {
      ws = new WebSocket(address, { headers, perMessageDeflate: false, maxPayload: this.maxFrameBytes, handshakeTimeout: 10_000, generateMask: zeroMask });
    } catch (e) {
      // A bad address (no ws:// URL): a connection that is dead at once, reported like a lost one.
      const conn = this.newConnection(undefined, 'out', address);
      this.connections.delete(conn);
      conn.dead = true;
      queueMicrotask(() => this.lost(conn, new RlinkError('RLINK_CONFIG', `bad data address ${JSON.stringify(address)}: ${errorMessage(e)}`)));
      return conn;
    }
    const conn = this.newConnection(ws, 'out', address);
    this.outgoing.set(address, conn);
    ws.on('upgrade', (res) => {
      const id = res.headers[TM_HEADER];
      if (typeof id === 'string' && id) { conn.peerId = id; this.countersOf(conn).taskManagerId = id; }
    });
    ws.on('open', () => {
      conn.open = true;
      this.log.debug({ event: 'shuffle.connected', peer: address, peerTaskManager: conn.peerId }, `data connection to ${address} open`);
      const q = conn.queue;
      conn.queue = [];
      for (const f of q) this.send(conn, f);
    });
    this.wire(conn);
    return conn;
  }

  // ───────────────────────────── consumer side ─────────────────────────────

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string, extra = ''): void => {
      this.log.warn({ event: 'shuffle.refused', status, remote: req.socket.remoteAddress, reason: text }, `refused a data connection from ${req.socket.remoteAddress}: ${text}`);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Bad Request'}\r\n${extra}content-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text) + 1}\r\n\r\n${text}\n`);
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (this.stopped || !this.wss) { refuse(400, 'task manager stopping'); return; }
    if (!bearerMatches(req.headers.authorization, this.opts.token)) { refuse(401, 'a data connection needs the cluster token', 'www-authenticate: Bearer\r\n'); return; }
    const peerId = req.headers[TM_HEADER];
    if (typeof peerId !== 'string' || !peerId) { refuse(400, `a data connection needs the ${TM_HEADER} header`); return; }
    const version = req.headers[VERSION_HEADER];
    if (version !== undefined && version !== String(DATA_FRAME_VERSION)) {
      refuse(400, `data frame version ${String(version)} is not supported (this task manager speaks ${DATA_FRAME_VERSION}): run the same rlink version everywhere`);
      return;
    }
    const addr = req.headers[ADDRESS_HEADER];
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.stopped) { ws.terminate(); return; }
      const conn = this.newConnection(ws, 'in', typeof addr === 'string' && addr ? addr : `tm:${peerId}`);
      conn.peerId = peerId;
      conn.open = true;
      this.countersOf(conn).taskManagerId = peerId;
      this.log.debug({ event: 'shuffle.accepted', peer: conn.key, peerTaskManager: peerId }, `data connection from ${peerId} open`);
      this.wire(conn);
    });
  }

  private creditBack(b: InBridge, credits: number): void {
    if (this.inBridges.get(b.channelId) !== b) return;
    if (!Number.isSafeInteger(credits) || credits < 0) {
      this.log.warn({ event: 'shuffle.bad-credit', channel: b.channelId }, `bad credit ${String(credits)} from the consumer of ${b.channelId}`);
      return;
    }
    b.owed += credits;
    this.creditsIn.add(b);
    this.scheduleCredits();
  }

  /**
   * Credits are passed on once per event-loop turn, summed per channel: under load a consumer returns
   * one credit per element, and a frame (a syscall) or a port message (a wake-up of the worker) for
   * each would cost more than the data they pace.
   */
  private scheduleCredits(): void {
    if (this.creditFlush) return;
    this.creditFlush = true;
    setImmediate(() => this.flushCredits());
  }

  private flushCredits(): void {
    this.creditFlush = false;
    for (const b of this.creditsIn) {
      if (this.inBridges.get(b.channelId) !== b || b.owed === 0) continue;
      const conn = b.conn;
      if (!conn || conn.dead) { this.dropped++; b.owed = 0; continue; }
      while (b.owed > 0) {
        const c = Math.min(b.owed, 0xffffffff);
        b.owed -= c;
        this.send(conn, encodeCreditFrame(b.channelId, c));
      }
    }
    this.creditsIn.clear();
    for (const b of this.creditsOut) {
      if (this.outBridges.get(b.channelId) !== b || b.credits === 0) continue;
      b.port.postMessage({ c: b.credits } satisfies PortMessage);
      b.credits = 0;
    }
    this.creditsOut.clear();
  }

  private attach(b: InBridge, conn: Connection): void {
    if (b.conn === conn) return;
    b.conn?.channelsIn.delete(b.channelId);
    b.conn = conn;
    conn.channelsIn.add(b.channelId);
  }

  /** Posts a data frame into the consumer's port. False when the frame was malformed (the connection is closed). */
  private deliver(b: InBridge, frame: Buffer, h: FrameHeader, conn: Connection): boolean {
    this.attach(b, conn);
    try {
      if (h.kind === 'element') {
        b.port.postMessage(decodeFrameBody(frame, h));
        return true;
      }
      // A batch: its typed arrays become views on one buffer that is transferred to the worker. The
      // received Buffer is used as it is when it owns its whole (unpooled) ArrayBuffer — nothing else
      // can see it then — and copied once otherwise (several frames or other data share the buffer).
      const owns = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength && frame.byteLength > Buffer.poolSize
        && frame.buffer instanceof ArrayBuffer;
      const bytes = owns ? frame : copyOf(frame);
      const msg = decodeFrameBody(bytes, h);
      b.port.postMessage(msg, [bytes.buffer as ArrayBuffer]);
      return true;
    } catch (e) {
      this.protocolError(conn, e);
      return false;
    }
  }

  // ───────────────────────────── connections ─────────────────────────────

  private newConnection(ws: WebSocket | undefined, direction: 'out' | 'in', key: string): Connection {
    const conn: Connection = {
      ws, direction, key, open: false, dead: false, queue: [], alive: true, closedByUs: false, reported: false,
      channelsOut: new Set(), channelsIn: new Set(),
    };
    this.connections.add(conn);
    this.countersOf(conn);
    return conn;
  }

  private countersOf(conn: Connection): Counters {
    let c = this.counters.get(conn.key);
    if (!c) { c = { address: conn.key, bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 }; this.counters.set(conn.key, c); }
    return c;
  }

  private wire(conn: Connection): void {
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
      this.lost(conn, conn.error ?? new RlinkError('RLINK_INTERNAL', `data connection ${conn.direction === 'out' ? 'to' : 'from'} ${conn.key} ${wasOpen ? 'closed' : 'failed'} (code ${code}${why})`, { retriable: true }));
    });
  }

  private describe(conn: Connection, e: Error): Error {
    const m = /Unexpected server response: (\d+)/.exec(e.message);
    if (m) {
      const status = Number(m[1]);
      const why = status === 401 ? 'wrong or missing cluster token' : status === 400 ? 'bad handshake (task manager id or frame version)' : 'not an rlink data server?';
      return new RlinkError('RLINK_INTERNAL', `task manager at ${conn.key} refused the data connection: HTTP ${status} (${why})`, { cause: e });
    }
    return new RlinkError('RLINK_INTERNAL', `data connection ${conn.direction === 'out' ? 'to' : 'from'} ${conn.key}: ${e.message}`, { retriable: true, cause: e });
  }

  /**
   * Reports a connection as lost (once) and closes it: at once, or (`closeCode`) with a close frame
   * telling the peer why, then for good after a second.
   */
  private lost(conn: Connection, error: Error, closeCode?: number): void {
    if (conn.reported) return;
    conn.reported = true;
    conn.dead = true;
    conn.closedByUs = true; // the 'close' event that follows reports nothing more
    const ws = conn.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      if (closeCode !== undefined && ws.readyState === WebSocket.OPEN) {
        try { ws.close(closeCode, headerSafe(error.message).slice(0, 120)); } catch { /* terminated below */ }
        setTimeout(() => ws.terminate(), 1000).unref();
      } else ws.terminate();
    }
    if (this.outgoing.get(conn.key) === conn) this.outgoing.delete(conn.key);
    if (conn.queue.length > 0) { this.dropped += conn.queue.length; conn.queue = []; }
    const channels = [...conn.channelsOut, ...conn.channelsIn].filter((id) => this.outBridges.has(id) || this.inBridges.has(id));
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      this.pendingBytes -= p.bytes;
      this.dropped += p.frames.length;
      channels.push(id);
    }
    this.report(conn, error, channels);
  }

  private report(conn: Connection, error: Error, channels: string[]): void {
    const info: PeerLostInfo = { direction: conn.direction, channels, ...(conn.peerId ? { taskManagerId: conn.peerId } : {}) };
    this.log.error({ event: 'shuffle.peer-lost', peer: conn.key, peerTaskManager: conn.peerId, direction: conn.direction, channels: channels.length, err: error.message },
      `lost the data connection ${conn.direction === 'out' ? 'to' : 'from'} ${conn.key}: ${error.message}`);
    try { this.opts.onPeerLost?.(conn.key, error, info); } catch (e) {
      this.log.error({ event: 'shuffle.callback-failed', err: errorMessage(e) }, `onPeerLost threw: ${errorMessage(e)}`);
    }
  }

  /** A malformed frame: the connection cannot be trusted any more. */
  private protocolError(conn: Connection, e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this.log.error({ event: 'shuffle.bad-frame', peer: conn.key, err: error.message }, `closing the data connection with ${conn.key}: ${error.message}`);
    this.lost(conn, error, 1002);
  }

  private onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.dead) return;
    conn.alive = true;
    if (!isBinary || !Buffer.isBuffer(data)) { this.protocolError(conn, new RlinkError('RLINK_INTERNAL', 'malformed data frame: not a binary message')); return; }
    const c = this.countersOf(conn);
    c.bytesIn += data.length;
    c.framesIn++;
    let h: FrameHeader;
    try { h = decodeFrameHeader(data); } catch (e) { this.protocolError(conn, e); return; }
    if (h.kind === 'credit') {
      const b = this.outBridges.get(h.channelId);
      if (!b) { this.dropped++; return; } // released: late credits mean nothing
      let m: PortMessage;
      try { m = decodeFrameBody(data, h); } catch (e) { this.protocolError(conn, e); return; }
      b.credits += (m as { c: number }).c;
      this.creditsOut.add(b);
      this.scheduleCredits();
      return;
    }
    const b = this.inBridges.get(h.channelId);
    if (b) { this.deliver(b, data, h, conn); return; }
    if (this.isReleased(h.channelId)) { this.dropped++; return; }
    this.park(conn, h.channelId, data);
  }

  /** A frame for a channel not bridged in yet: it waits (bounded) for bridgeIn. */
  private park(conn: Connection, channelId: string, frame: Buffer): void {
    let p = this.pending.get(channelId);
    if (!p) { p = { frames: [], bytes: 0, since: Date.now(), conn }; this.pending.set(channelId, p); }
    const maxFrames = this.opts.maxPendingFramesPerChannel ?? 1024;
    const maxBytes = this.opts.maxPendingBytes ?? 256 * 1024 * 1024;
    if (p.frames.length >= maxFrames || this.pendingBytes + frame.length > maxBytes) {
      this.protocolError(conn, new RlinkError('RLINK_INTERNAL', `too many frames for channel ${channelId} before its consumer was deployed (${p.frames.length} frames, ${this.pendingBytes} bytes waiting): the peer ignores flow control`));
      return;
    }
    p.conn = conn;
    p.frames.push(frame);
    p.bytes += frame.length;
    this.pendingBytes += frame.length;
  }

  private isReleased(channelId: string): boolean {
    for (const prefix of this.released.keys()) if (channelId.startsWith(prefix)) return true;
    return false;
  }

  /** Pings (liveness) and drops frames that waited too long for a consumer. */
  private tick(): void {
    const now = Date.now();
    if (now - this.lastPing >= this.pingEvery) {
      this.lastPing = now;
      for (const c of [...this.connections]) {
        if (!c.open || c.dead) continue;
        if (!c.alive) { this.lost(c, new RlinkError('RLINK_INTERNAL', `data connection ${c.direction === 'out' ? 'to' : 'from'} ${c.key}: no answer to a ping within ${this.pingEvery} ms`, { retriable: true })); continue; }
        c.alive = false;
        try { c.ws?.ping(); } catch { /* the close event reports it */ }
      }
    }
    const ttl = this.opts.pendingTtlMs ?? 120_000;
    for (const [id, p] of this.pending) {
      if (now - p.since < ttl) continue;
      this.pending.delete(id);
      this.pendingBytes -= p.bytes;
      this.dropped += p.frames.length;
      this.log.warn({ event: 'shuffle.pending-expired', channel: id, frames: p.frames.length }, `dropped ${p.frames.length} frames of ${id}: no consumer was deployed for it within ${ttl} ms`);
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

/** A copy in a plain ArrayBuffer of its own (cheaper to transfer than a Buffer's). */
function copyOf(frame: Buffer): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(frame.length));
  out.set(frame);
  return out;
}

/** Header values must be plain printable ASCII. */
function headerSafe(s: string): string { return s.replace(/[^\x20-\x7e]/g, '_'); }
