import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { JobManager } from './job-manager';
import type { JobManagerToTaskManager, TaskManagerToJobManager } from '../core/protocol/control-messages';
import { PROTOCOL_VERSION, parseTaskManagerMessage, slotCountProblem } from '../core/protocol/control-messages';
import { CLOSE, CONTROL_SOCKET_PATH, LEADER_HEADER, closeReason } from '../core/protocol/control-socket';
import { SchemaViolation } from '../core/protocol/schema';
import { bearerMatches } from '../core/security/token';
import type { Logger } from '../core/logging';
import { errorMessage } from '../core/errors';
import type { Leadership } from './ha/leadership';

export const TASKMANAGER_PATH = CONTROL_SOCKET_PATH;

export interface TaskManagerEndpointOptions {
  jobManager: JobManager;
  token: string;
  logger: Logger;
  /** A task manager silent for this long is lost (default 10 s). */
  heartbeatTimeoutMs?: number;
  /** Largest control message accepted (default 1 MiB). */
  maxMessageBytes?: number;
  /** While this job manager is a standby (HA), upgrades are refused with 503 and the leader's URL. */
  leadership?: Leadership;
}

/**
 * The job manager's end of the control plane: task managers connect to `/taskmanager` with the
 * cluster token, register their slots and data address, send heartbeats, task states and metrics,
 * and receive deployments. One JSON message per WebSocket frame, each checked against its schema
 * (core/protocol/control-messages.ts) before anything acts on it; the wire contract (paths, close
 * codes) is core/protocol/control-socket.ts.
 *
 *   TM ── upgrade /taskmanager, Authorization: Bearer … ─▶ JM   (401 without the token; 503 on a standby)
 *   TM ── {type:'register', version, slots, dataAddress} ──▶ JM   (first message, else closed 1008)
 *   JM ── {type:'registered', leaderEpoch} ────────────────▶ TM
 *   TM ── heartbeat / task-state / final-ready / metrics ─▶ JM
 *   TM ◀─ deploy / cancel / checkpoint-complete ─────────── JM
 *
 * A frame that does not match its schema closes the socket with 1007 and a reason naming the field;
 * an error in a handler is logged and the job manager goes on serving. A task manager is lost when
 * its socket closes or it is silent longer than the heartbeat timeout; the jobs that ran on it then
 * restart by their strategy.
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
    const lead = this.opts.leadership;
    if (lead && !lead.isLeader) { reject(socket, 503, 'Service Unavailable', lead.leaderUrl ? { [LEADER_HEADER]: lead.leaderUrl } : {}); return; }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.socket.remoteAddress ?? '?'));
  }

  private accept(ws: WebSocket, remote: string): void {
    let tmId: string | undefined;
    let deliver: ((m: TaskManagerToJobManager) => void) | undefined;
    const send = (m: JobManagerToTaskManager) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m)); };
    const who = () => tmId ?? remote;
    ws.on('message', (data, isBinary) => {
      let msg: TaskManagerToJobManager;
      try {
        if (isBinary) throw new SchemaViolation('frame', 'a text frame', 'a binary frame');
        let json: unknown;
        try { json = JSON.parse(data.toString()); } catch (e) { throw new SchemaViolation('frame', 'JSON', `unparsable text (${errorMessage(e)})`); }
        msg = parseTaskManagerMessage(json);
      } catch (e) {
        const why = errorMessage(e);
        this.log.warn({ event: 'taskmanager.bad-frame', taskManager: tmId, remote, reason: why }, `malformed control message from ${who()}: ${why}`);
        ws.close(CLOSE.malformed, closeReason(`malformed message: ${why}`));
        return;
      }
      if (!tmId) {
        if (msg.type !== 'register') { ws.close(CLOSE.policy, 'register first'); return; }
        if (msg.version !== PROTOCOL_VERSION) { ws.close(CLOSE.unsupportedProtocol, closeReason(`protocol ${msg.version} not supported (expected ${PROTOCOL_VERSION})`)); return; }
        const problem = slotCountProblem(msg.slots);
        if (problem) {
          this.log.warn({ event: 'taskmanager.rejected', taskManager: msg.taskManagerId, remote, slots: msg.slots }, `task manager ${msg.taskManagerId} refused: ${problem}`);
          ws.close(CLOSE.slotsOutOfBounds, closeReason(`refused: ${problem}`));
          return;
        }
        tmId = msg.taskManagerId;
        const previous = this.sockets.get(tmId);
        if (previous && previous !== ws) previous.close(CLOSE.policy, 'replaced by a new connection');
        this.sockets.set(tmId, ws);
        deliver = this.opts.jobManager.connect(tmId, send);
      } else if (msg.type === 'register') {
        ws.close(CLOSE.policy, 'registered already: register once per connection');
        return;
      }
      try {
        deliver!(msg);
      } catch (e) {
        // A bug of ours, not the task manager's: log it and keep serving every other job.
        this.log.error({ event: 'taskmanager.handler-failed', taskManager: tmId, type: msg.type, err: errorMessage(e), stack: (e as Error).stack },
          `handling ${msg.type} from ${who()} failed: ${errorMessage(e)}`);
      }
    });
    ws.on('close', (code, reason) => {
      if (tmId && this.sockets.get(tmId) === ws) {
        this.sockets.delete(tmId);
        this.opts.jobManager.taskManagerLost(tmId, `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      }
    });
    ws.on('error', (e) => this.log.warn({ event: 'taskmanager.socket-error', taskManager: tmId, err: e.message }, `control socket of ${who()}: ${e.message}`));
  }

  private checkHeartbeats(): void {
    for (const id of this.opts.jobManager.silentTaskManagers(this.timeoutMs)) {
      const ws = this.sockets.get(id);
      this.sockets.delete(id);
      this.opts.jobManager.taskManagerLost(id, `no heartbeat for ${this.timeoutMs} ms`);
      ws?.close(CLOSE.goingAway, 'heartbeat timeout');
    }
  }

  /** Closes every task manager's socket (leadership lost: they go to the new leader). */
  disconnectAll(code: number, reason: string): void {
    for (const ws of this.sockets.values()) ws.close(code, closeReason(reason));
    this.sockets.clear();
  }

  close(): void {
    clearInterval(this.monitor);
    for (const ws of this.sockets.values()) ws.close(CLOSE.goingAway, 'job manager shutting down');
    this.wss.close();
  }
}

function reject(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
