import WebSocket from 'ws';
import type { JobManagerToTaskManager, TaskManagerToJobManager } from '../core/protocol/messages';
import { bearer } from '../core/security/token';
import type { Logger } from '../core/logging';
import { RlinkError } from '../core/errors';

export interface JobManagerConnectionOptions {
  /** The job manager's URL, http(s)://host:port (the control socket is ws(s)://host:port/taskmanager). */
  jobManagerUrl: string;
  token: string;
  taskManagerId: string;
  logger: Logger;
  /** Heartbeat period (default 1 s). */
  heartbeatMs?: number;
  /** Reconnect backoff bounds (default 100 ms … 5 s, doubling, with jitter). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called on every (re)connection: returns the handler of the job manager's messages. */
  onConnected(send: (m: TaskManagerToJobManager) => void): (m: JobManagerToTaskManager) => void;
  /** Called when the connection is lost (before reconnecting). */
  onDisconnected?(reason: string): void;
  /** Called when the job manager refuses this task manager for good (wrong token): no retry. */
  onRefused?(error: RlinkError): void;
}

/**
 * The task manager's control connection to the job manager: connects with the cluster token,
 * registers, sends heartbeats, and reconnects with exponential backoff when the socket drops. A 401
 * is final: a task manager with the wrong token must not hammer the job manager.
 */
export class JobManagerConnection {
  private ws: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoff: number;
  private closed = false;
  private readonly log: Logger;
  readonly url: string;

  constructor(private readonly opts: JobManagerConnectionOptions) {
    this.log = opts.logger.child({ component: 'taskmanager.jm-connection' });
    const u = new URL(opts.jobManagerUrl);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = '/taskmanager';
    this.url = u.toString();
    this.backoff = opts.minBackoffMs ?? 100;
  }

  start(): void { this.connect(); }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url, { headers: { authorization: bearer(this.opts.token), 'x-rlink-taskmanager': this.opts.taskManagerId }, handshakeTimeout: 10_000 });
    this.ws = ws;
    let handler: ((m: JobManagerToTaskManager) => void) | undefined;
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      ws.terminate();
      if (status === 401) {
        this.closed = true;
        const err = new RlinkError('RLINK_CONFIG', `job manager ${this.opts.jobManagerUrl} refused the cluster token (401): check RLINK_TOKEN or --token-file`);
        this.log.error({ event: 'jm.refused', status }, err.message);
        this.opts.onRefused?.(err);
      } else this.log.warn({ event: 'jm.unexpected-response', status }, `job manager answered ${status} on ${this.url}`);
    });
    ws.on('open', () => {
      this.backoff = this.opts.minBackoffMs ?? 100;
      this.log.info({ event: 'jm.connected', url: this.url }, `connected to the job manager at ${this.opts.jobManagerUrl}`);
      const send = (m: TaskManagerToJobManager) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };
      handler = this.opts.onConnected(send);
      this.heartbeat = setInterval(() => send({ type: 'heartbeat', taskManagerId: this.opts.taskManagerId }), this.opts.heartbeatMs ?? 1000);
    });
    ws.on('message', (data) => {
      let msg: JobManagerToTaskManager;
      try { msg = JSON.parse(data.toString()) as JobManagerToTaskManager; } catch {
        this.log.warn({ event: 'jm.bad-frame' }, 'malformed message from the job manager: ignored');
        return;
      }
      handler?.(msg);
    });
    ws.on('error', (e) => this.log.debug({ event: 'jm.socket-error', err: e.message }, e.message));
    ws.on('close', (code, reason) => {
      if (this.heartbeat) { clearInterval(this.heartbeat); this.heartbeat = undefined; }
      if (handler) this.opts.onDisconnected?.(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      handler = undefined;
      if (code === 4001) { // the job manager speaks another protocol version: retrying cannot help
        this.closed = true;
        const err = new RlinkError('RLINK_PROTOCOL', `job manager ${this.opts.jobManagerUrl} refused this task manager: ${reason.toString()}`);
        this.log.error({ event: 'jm.refused', code }, err.message);
        this.opts.onRefused?.(err);
        return;
      }
      if (this.closed) return;
      const wait = Math.round(this.backoff * (0.75 + Math.random() * 0.5));
      this.backoff = Math.min(this.opts.maxBackoffMs ?? 5000, this.backoff * 2);
      this.log.info({ event: 'jm.reconnect', inMs: wait }, `job manager unreachable: retrying in ${wait} ms`);
      this.retry = setTimeout(() => this.connect(), wait);
    });
  }

  /** Stops heartbeats only (tests: make the job manager declare this task manager lost). */
  pauseHeartbeats(): void { if (this.heartbeat) { clearInterval(this.heartbeat); this.heartbeat = undefined; } }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.ws?.close(1000, 'task manager stopping');
  }
}
