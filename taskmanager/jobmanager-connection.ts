import WebSocket from 'ws';
import { freemem, totalmem } from 'node:os';
import type { JobManagerToTaskManager, MemoryReport, TaskManagerToJobManager } from '../core/protocol/control-messages';
import { parseJobManagerMessage } from '../core/protocol/control-messages';
import { CLOSE, CONTROL_SOCKET_PATH, FINAL_CLOSE_CODES, TASKMANAGER_ID_HEADER, closeReason } from '../core/protocol/control-socket';
import { SchemaViolation } from '../core/protocol/schema';
import { bearer } from '../core/security/token';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import { Backoff } from '../core/util/retry';

export interface JobManagerConnectionOptions {
  /**
   * The job managers' URLs, http(s)://host:port, in order: the leader and its standbys (HA). The
   * control socket is ws(s)://host:port/taskmanager.
   */
  jobManagerUrls: readonly string[];
  token: string;
  taskManagerId: string;
  logger: Logger;
  /** Heartbeat period (default 1 s). */
  heartbeatMs?: number;
  /** Reconnect backoff bounds (default 100 ms … 5 s, doubling, with jitter), after a round of every address failed. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called on every (re)connection: returns the handler of the job manager's messages. */
  onConnected(send: (m: TaskManagerToJobManager) => void, jobManagerUrl: string): (m: JobManagerToTaskManager) => void;
  /** Called when the connection is lost (before reconnecting). */
  onDisconnected?(reason: string): void;
  /** Called when a job manager refuses this task manager for good (wrong token, protocol, slots): no retry. */
  onRefused?(error: RlinkError): void;
}

/**
 * The task manager's control connection to the job manager: connects with the cluster token,
 * registers, sends heartbeats, and reconnects when the socket drops. With several job manager
 * addresses (HA) each round tries them in order: a standby refuses with 503, and the leader answers.
 * Every message from the job manager is checked against its schema; one that does not match closes
 * the socket (1007, naming the field) and the task manager reconnects. The leader epoch of
 * `registered` fences old leaders: a job manager of a lower epoch than one seen before is left (4003).
 * A 401, another protocol version or refused slots are final: retrying cannot help.
 */
export class JobManagerConnection {
  private ws: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private closed = false;
  private readonly log: Logger;
  private readonly urls: string[];
  /** The address tried now (index into jobManagerUrls). */
  private index = 0;
  /** The highest leader epoch seen: a job manager announcing a lower one is a deposed leader. */
  private highestEpoch = 0;
  private connectedUrl: string | undefined;

  constructor(private readonly opts: JobManagerConnectionOptions) {
    this.log = opts.logger.child({ component: 'taskmanager.jm-connection' });
    if (opts.jobManagerUrls.length === 0) throw new RlinkError('RLINK_CONFIG', 'no job manager address given');
    this.urls = opts.jobManagerUrls.map((x) => {
      const u = new URL(x);
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      u.pathname = CONTROL_SOCKET_PATH;
      return u.toString();
    });
    this.backoff = new Backoff({ initialMs: opts.minBackoffMs ?? 100, maxMs: opts.maxBackoffMs ?? 5000, jitter: 0.25 });
  }

  /** The job manager this task manager is connected to (its http URL), if any. */
  get jobManagerUrl(): string { return this.connectedUrl ?? this.opts.jobManagerUrls[this.index]!; }

  start(): void { this.connect(); }

  private connect(): void {
    if (this.closed) return;
    const url = this.urls[this.index]!;
    const httpUrl = this.opts.jobManagerUrls[this.index]!;
    const ws = new WebSocket(url, { headers: { authorization: bearer(this.opts.token), [TASKMANAGER_ID_HEADER]: this.opts.taskManagerId }, handshakeTimeout: 10_000 });
    this.ws = ws;
    let handler: ((m: JobManagerToTaskManager) => void) | undefined;
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      ws.terminate();
      if (status === 401) {
        this.refuse(new RlinkError('RLINK_UNAUTHORIZED', `job manager ${httpUrl} refused the cluster token (401): check RLINK_TOKEN or --token-file`), status);
      } else if (status === 503) this.log.info({ event: 'jm.standby', url: httpUrl }, `job manager ${httpUrl} is a standby: trying the next address`);
      else this.log.warn({ event: 'jm.unexpected-response', status }, `job manager answered ${status} on ${url}`);
    });
    ws.on('open', () => {
      this.log.info({ event: 'jm.connected', url }, `connected to the job manager at ${httpUrl}`);
      this.connectedUrl = httpUrl;
      const send = (m: TaskManagerToJobManager) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };
      handler = this.opts.onConnected(send, httpUrl);
      this.heartbeat = setInterval(() => send({ type: 'heartbeat', taskManagerId: this.opts.taskManagerId, memory: memoryReport() }), this.opts.heartbeatMs ?? 1000);
    });
    ws.on('message', (data, isBinary) => {
      let msg: JobManagerToTaskManager;
      try {
        if (isBinary) throw new SchemaViolation('frame', 'a text frame', 'a binary frame');
        let json: unknown;
        try { json = JSON.parse(data.toString()); } catch (e) { throw new SchemaViolation('frame', 'JSON', `unparsable text (${errorMessage(e)})`); }
        msg = parseJobManagerMessage(json);
      } catch (e) {
        this.log.warn({ event: 'jm.bad-frame', reason: errorMessage(e) }, `malformed message from the job manager: ${errorMessage(e)}`);
        ws.close(CLOSE.malformed, closeReason(`malformed message: ${errorMessage(e)}`));
        return;
      }
      if (msg.type === 'registered') {
        if (msg.leaderEpoch < this.highestEpoch) {
          this.log.warn({ event: 'jm.stale-leader', epoch: msg.leaderEpoch, highest: this.highestEpoch }, `job manager ${httpUrl} leads epoch ${msg.leaderEpoch}, but epoch ${this.highestEpoch} was seen: leaving it`);
          ws.close(CLOSE.staleLeader, closeReason(`leader epoch ${msg.leaderEpoch} is older than ${this.highestEpoch}`));
          return;
        }
        this.highestEpoch = msg.leaderEpoch;
        this.backoff.reset(); // registered: the next loss starts the backoff afresh
      }
      try { handler?.(msg); } catch (e) {
        this.log.error({ event: 'jm.handler-failed', type: msg.type, err: errorMessage(e), stack: (e as Error).stack }, `handling ${msg.type} from the job manager failed: ${errorMessage(e)}`);
      }
    });
    ws.on('error', (e) => this.log.debug({ event: 'jm.socket-error', err: e.message }, e.message));
    ws.on('close', (code, reason) => {
      if (this.heartbeat) { clearInterval(this.heartbeat); this.heartbeat = undefined; }
      if (handler) this.opts.onDisconnected?.(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      const wasConnected = handler !== undefined;
      handler = undefined;
      this.connectedUrl = undefined;
      if (FINAL_CLOSE_CODES.has(code)) {
        this.refuse(new RlinkError(code === CLOSE.slotsOutOfBounds ? 'RLINK_LIMIT' : 'RLINK_PROTOCOL', `job manager ${httpUrl} refused this task manager: ${reason.toString()}`), code);
        return;
      }
      if (this.closed) return;
      this.next(wasConnected);
    });
  }

  /** Tries the next address; after a whole round without a registration, waits (backoff) first. */
  private next(wasConnected: boolean): void {
    // A lost connection starts a round at the first address (the order is the user's preference).
    this.index = wasConnected ? 0 : this.index + 1;
    const roundDone = this.index >= this.urls.length;
    if (roundDone) this.index = 0;
    if (!roundDone && !wasConnected) { this.connect(); return; }
    const wait = this.backoff.next();
    this.log.info({ event: 'jm.reconnect', inMs: wait }, `job manager unreachable: retrying in ${wait} ms`);
    this.retry = setTimeout(() => this.connect(), wait);
  }

  private refuse(err: RlinkError, status: number): void {
    this.closed = true;
    this.log.error({ event: 'jm.refused', status }, err.message);
    this.opts.onRefused?.(err);
  }

  /** Stops heartbeats only (tests: make the job manager declare this task manager lost). */
  pauseHeartbeats(): void { if (this.heartbeat) { clearInterval(this.heartbeat); this.heartbeat = undefined; } }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.ws?.close(CLOSE.normal, 'task manager stopping');
  }
}

/** This process's memory for the heartbeat (the dashboard's and GET /taskmanagers' memory columns). */
function memoryReport(): MemoryReport {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, physical: totalmem(), free: freemem() };
}
