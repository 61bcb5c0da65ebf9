import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import * as api from '../../index';
import { installApi } from '../../core/app/load';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import type { JobManager } from '../job-manager';
import { ApplicationStore } from './application-store';
import { applicationRoutes } from './application-routes';
import { checkServerToken, requireToken } from './auth';
import { clusterRoutes } from './cluster-routes';
import { dashboardRoutes } from './dashboard-routes';
import { jobRoutes } from './job-routes';
import { MetricsExporter } from './metrics';
import { HttpError, sendError, sendErrorAndClose, sendJson } from './responses';
import { CONTROL_SOCKET_PATH, LEADER_HEADER } from '../../core/protocol/control-socket';
import type { Leadership } from '../ha/leadership';
import { Router, parseTarget } from './router';

/**
 * The job manager's HTTP server: the REST API (rlink-rs's application endpoints and Flink-style
 * reads and operations) and, through `onUpgrade`, the task managers' control WebSocket on the same
 * port.
 *
 * ```ts
 * const http = createJobManagerServer({ jobManager, token, dataDir: '/data/rlink/jm', logger,
 *   onUpgrade: (req, socket, head) => endpoint.handleUpgrade(req, socket, head) });
 * const { url } = await http.listen(8770, '127.0.0.1');
 * ```
 *
 * The web dashboard is served at `GET /` (dashboard-routes.ts).
 *
 * Every request: route (404 / 405) → token when the route mutates (401, before the body is read)
 * → handler. Errors are `{ "errors": ["message"] }` with their status code.
 */
export interface JobManagerServerOptions {
  jobManager: JobManager;
  /** The cluster token (at least 16 characters): mutating endpoints and bundle downloads require it. */
  token: string;
  /** The job manager's data directory; uploaded bundles go to `<dataDir>/applications/`. */
  dataDir: string;
  logger: Logger;
  /** Largest bundle accepted by `POST /job/application`, in bytes. Default 64 MiB. */
  maxUploadBytes?: number;
  /** Largest JSON request body (job arguments), in bytes. Default 1 MiB. */
  maxJsonBytes?: number;
  /**
   * Receives WebSocket upgrades on {@link upgradePaths} (the task managers' control socket); it
   * authenticates them itself. Without it every upgrade is refused with 404.
   */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Paths whose upgrades go to `onUpgrade`. Default `['/taskmanager']`. */
  upgradePaths?: readonly string[];
  /** The store of uploaded bundles (default: one in `<dataDir>/applications`). */
  store?: ApplicationStore;
  /**
   * With several job managers (HA): while this one is a standby, every request but `GET /leader` is
   * answered 503 RLINK_NOT_LEADER with the leader's URL in `x-rlink-leader`, so clients try the next
   * address. Without it this job manager always leads.
   */
  leadership?: Leadership;
}


export interface JobManagerServer {
  server: Server;
  /** Listens on `host:port` (port 0: any free port); resolves with the bound port and the base URL. */
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting connections, ends idle ones (in-flight requests get a second) and stops timers. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
export const TASKMANAGER_UPGRADE_PATH = CONTROL_SOCKET_PATH;
/** Grace for in-flight requests at close, in ms. */
const CLOSE_GRACE_MS = 1_000;

let apiInstalled = false;

export function createJobManagerServer(opts: JobManagerServerOptions): JobManagerServer {
  checkServerToken(opts.token);
  if (!apiInstalled) { installApi(api); apiInstalled = true; }
  const log = opts.logger.child({ component: 'jobmanager.http' });
  const store = opts.store ?? new ApplicationStore(opts.dataDir, log);
  const metrics = new MetricsExporter(opts.jobManager);
  const router = new Router();
  const apps = applicationRoutes(router, {
    jobManager: opts.jobManager, store, log,
    maxUploadBytes: opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    maxJsonBytes: opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES,
  });
  jobRoutes(router, { jobManager: opts.jobManager, applicationOf: apps.applicationOf, maxJsonBytes: opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES });
  clusterRoutes(router, { jobManager: opts.jobManager, metrics });
  dashboardRoutes(router, { log });
  router.get('/leader', (ctx) => sendJson(ctx.res, 200, opts.leadership
    ? { leader: opts.leadership.isLeader, epoch: opts.leadership.epoch, leaderUrl: opts.leadership.leaderUrl ?? null, ha: true }
    : { leader: true, epoch: 0, leaderUrl: null, ha: false }));
  const upgradePaths = new Set(opts.upgradePaths ?? [TASKMANAGER_UPGRADE_PATH]);

  const dispatch = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    let path = '';
    let continued = false;
    const readyForBody = () => {
      if (expectsContinue && !continued) { continued = true; res.writeContinue(); }
    };
    try {
      const target = parseTarget(req.url);
      path = target.path;
      const lead = opts.leadership;
      if (lead && !lead.isLeader && path !== '/leader') {
        throw new HttpError(503, `this job manager is a standby${lead.leaderUrl ? `: the leader is ${lead.leaderUrl}` : ' (no leader elected yet)'}`,
          lead.leaderUrl ? { [LEADER_HEADER]: lead.leaderUrl, 'Retry-After': '1' } : { 'Retry-After': '1' }, 'RLINK_NOT_LEADER');
      }
      const m = router.match(method, target.segments);
      if (m.kind === 'not-found') throw new HttpError(404, `no such endpoint: ${method} ${shorten(path)}`);
      if (m.kind === 'method-not-allowed') {
        throw new HttpError(405, `${method} is not allowed on ${shorten(path)} (allowed: ${m.allow.join(', ')})`, { Allow: m.allow.join(', ') });
      }
      if (m.route.auth) requireToken(req, opts.token);
      await m.route.handler({ req, res, params: m.params, query: target.query, log, readyForBody });
    } catch (e) {
      respondError(req, res, e, log, `${method} ${shorten(path)}`);
    } finally {
      log.debug({ event: 'http.request', method, path: shorten(path), status: res.statusCode, ms: Date.now() - started }, `${method} ${shorten(path)} ${res.statusCode}`);
    }
  };

  const server = createServer();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => { void dispatch(req, res, false); });
  // With a listener, Node leaves `Expect: 100-continue` to us: a refused upload (no token, too large)
  // is answered before the client sends the body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => { void dispatch(req, res, true); });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    let path: string | undefined;
    try { path = parseTarget(req.url).path; } catch { path = undefined; }
    if (opts.onUpgrade && path !== undefined && upgradePaths.has(path)) {
      try {
        opts.onUpgrade(req, socket, head);
      } catch (e) {
        log.error({ event: 'http.upgrade-failed', err: errorMessage(e) }, `upgrade handler failed: ${errorMessage(e)}`);
        socket.destroy();
      }
      return;
    }
    const body = JSON.stringify({ errors: [path === undefined ? 'malformed request target' : `no WebSocket endpoint at ${shorten(path)}`] });
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
  });

  return {
    server,
    listen(port: number, host: string) {
      return new Promise((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const addr = server.address() as AddressInfo;
          const h = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
          log.info({ event: 'http.listening', host: addr.address, port: addr.port }, `job manager REST API on http://${h}:${addr.port}`);
          resolve({ port: addr.port, url: `http://${h}:${addr.port}` });
        });
      });
    },
    close() {
      apps.stop();
      return new Promise<void>((resolve) => {
        if (!server.listening) { resolve(); return; }
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => { clearTimeout(force); resolve(); });
        server.closeIdleConnections();
      });
    },
  };
}

function respondError(req: IncomingMessage, res: ServerResponse, e: unknown, log: Logger, what: string): void {
  const err = HttpError.from(e);
  if (err.status >= 500 && err.status !== 501) log.error({ event: 'http.error', request: what, code: err.code, err: errorMessage(e) }, `${what} failed: ${errorMessage(e)}`);
  if (res.headersSent || res.destroyed) { res.destroy(); return; }
  // A body not (fully) received must not be read as the next request: answer, drain briefly, close.
  if (!req.complete) sendErrorAndClose(req, res, err.status, err.message, err.headers, err.code);
  else sendError(res, err.status, err.message, err.headers, err.code);
}

function shorten(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
