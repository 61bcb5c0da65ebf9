import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { JobManager } from './job-manager';
import type { JobManagerToTaskManager, TaskManagerToJobManager } from '../core/protocol/messages';
import { PROTOCOL_VERSION } from '../core/protocol/messages';
import { bearerMatches } from '../core/security/token';
import type { Logger } from '../core/logging';
import { errorMessage } from '../core/errors';

export const TASKMANAGER_PATH = '/taskmanager';
/** Close code for a task manager speaking another protocol version: final, it must not retry. */
export const CLOSE_UNSUPPORTED_PROTOCOL = 4001;

export interface TaskManagerEndpointOptions {
  jobManager: JobManager;
  token: string;
  logger: Logger;
  /** A task manager silent for this long is lost (default 10 s). */
  heartbeatTimeoutMs?: number;
  /** Largest control message accepted (default 1 MiB). */
  maxMessageBytes?: number;
}

/**
 * The job manager's end of the control plane: task managers connect to `/taskmanager` with the
 * cluster token, register their slots and data address, send heartbeats, task states and metrics,
 * and receive deployments. One JSON message per WebSocket frame (core/protocol/messages.ts).
 *
 *   TM ── upgrade /taskmanager, Authorization: Bearer … ─▶ JM   (401 without the token)
 *   TM ── {type:'register', version, slots, dataAddress} ──▶ JM   (first message, else closed 1008)
 *   TM ── heartbeat / task-state / final-ready / metrics ─▶ JM
 *   TM ◀─ deploy / cancel / checkpoint-complete ─────────── JM
 *
 * A task manager is lost when its socket closes or it is silent longer than the heartbeat timeout;
 * the jobs that ran on it then restart by their strategy.
 */
export class TaskManagerEndpoint {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Map<string, WebSocket>();
  private readonly monitor: NodeJS.Timeout;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(private readonly opts: TaskManagerEndpointOptions) {
    this.log = opts.logger.child({ component: 'jobmanager.tm-endpoint' });
    this.timeoutMs = opts.heartbeatTimeoutMs ?? 10_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? 1 << 20 });
    this.monitor = setInterval(() => this.checkHeartbeats(), Math.max(50, Math.min(1000, this.timeoutMs / 4)));
    this.monitor.unref();
  }

  /** For the HTTP server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== TASKMANAGER_PATH) { reject(socket, 404, 'Not Found'); return; }
    if (!bearerMatches(req.headers.authorization, this.opts.token)) {
      this.log.warn({ event: 'taskmanager.unauthorized', remote: req.socket.remoteAddress }, 'a task manager connected without the cluster token: refused');
      reject(socket, 401, 'Unauthorized');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.socket.remoteAddress ?? '?'));
  }

  private accept(ws: WebSocket, remote: string): void {
    let tmId: string | undefined;
    let deliver: ((m: TaskManagerToJobManager) => void) | undefined;
    const send = (m: JobManagerToTaskManager) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m)); };
    ws.on('message', (data, isBinary) => {
      let msg: TaskManagerToJobManager;
      try {
        if (isBinary) throw new Error('binary frame on the control socket');
        msg = parseMessage(data.toString());
      } catch (e) {
        this.log.warn({ event: 'taskmanager.bad-frame', taskManager: tmId, remote, reason: errorMessage(e) }, `malformed control message from ${tmId ?? remote}: ${errorMessage(e)}`);
        ws.close(1007, 'malformed message');
        return;
      }
      if (!tmId) {
        if (msg.type !== 'register') { ws.close(1008, 'register first'); return; }
        if (msg.version !== PROTOCOL_VERSION) { ws.close(CLOSE_UNSUPPORTED_PROTOCOL, `protocol ${msg.version} not supported (expected ${PROTOCOL_VERSION})`); return; }
        tmId = msg.taskManagerId;
        const previous = this.sockets.get(tmId);
        if (previous && previous !== ws) previous.close(1008, 'replaced by a new connection');
        this.sockets.set(tmId, ws);
        deliver = this.opts.jobManager.connect(tmId, send);
      }
      deliver!(msg);
    });
    ws.on('close', (code, reason) => {
      if (tmId && this.sockets.get(tmId) === ws) {
        this.sockets.delete(tmId);
        this.opts.jobManager.taskManagerLost(tmId, `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      }
    });
    ws.on('error', (e) => this.log.warn({ event: 'taskmanager.socket-error', taskManager: tmId, err: e.message }, `control socket of ${tmId ?? remote}: ${e.message}`));
  }

  private checkHeartbeats(): void {
    for (const id of this.opts.jobManager.silentTaskManagers(this.timeoutMs)) {
      const ws = this.sockets.get(id);
      this.sockets.delete(id);
      this.opts.jobManager.taskManagerLost(id, `no heartbeat for ${this.timeoutMs} ms`);
      ws?.close(1001, 'heartbeat timeout');
    }
  }

  close(): void {
    clearInterval(this.monitor);
    for (const ws of this.sockets.values()) ws.close(1001, 'job manager shutting down');
    this.wss.close();
  }
}

const TYPES = new Set(['register', 'heartbeat', 'task-state', 'final-ready', 'metrics', 'checkpoint-ack', 'checkpoint-declined']);

function parseMessage(text: string): TaskManagerToJobManager {
  const m = JSON.parse(text) as { type?: unknown; taskManagerId?: unknown; jobId?: unknown; attempt?: unknown };
  if (!m || typeof m !== 'object' || typeof m.type !== 'string' || !TYPES.has(m.type)) throw new Error(`unknown message type ${JSON.stringify((m as { type?: unknown })?.type)}`);
  if ((m.type === 'register' || m.type === 'heartbeat') && typeof m.taskManagerId !== 'string') throw new Error(`${m.type} without taskManagerId`);
  if (m.type !== 'register' && m.type !== 'heartbeat' && (typeof m.jobId !== 'string' || typeof m.attempt !== 'number')) throw new Error(`${m.type} without jobId/attempt`);
  return m as TaskManagerToJobManager;
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
