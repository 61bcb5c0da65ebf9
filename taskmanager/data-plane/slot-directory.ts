import { createServer, type Server } from 'node:http';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { bearerMatches } from '../../core/security/token';
import { SLOT_DIRECTORY_PATH, TASKMANAGER_HEADER, headerSafe, type SlotAddress } from '../../core/protocol/data-socket';

export interface SlotDirectoryOptions {
  taskManagerId: string;
  token: string;
  /** Interface to listen on (default 127.0.0.1). */
  bind?: string;
  /** Port to listen on (`--data-port`); 0 picks a free one. */
  port?: number;
  /** Host name or address other task managers reach this one at (default: `bind`). */
  advertisedHost?: string;
  logger: Logger;
  /** The data address of slot `slot`'s worker (started if needed); undefined when there is no such slot. */
  addressOf(slot: number): Promise<string> | undefined;
}

/**
 * A task manager's data address: the directory of its slots' data servers. Each slot worker owns its
 * data sockets (data-plane.ts); a producer on another task manager asks here where the slot of its
 * consumer listens (core/protocol/data-socket.ts), then connects to that worker directly.
 *
 *   GET /slots/<n>   Authorization: Bearer <token>
 *     200 {"address":"ws://host:port"}  ·  401 without the token  ·  404 no such slot
 *     503 the slot's worker could not start (the producer retries for a while)
 */
export class SlotDirectory {
  private server?: Server;
  private addressValue?: string;
  private readonly log: Logger;

  constructor(private readonly opts: SlotDirectoryOptions) {
    this.log = opts.logger.child({ component: 'data-directory' });
  }

  get address(): string | undefined { return this.addressValue; }

  /** Listens; resolves with this task manager's data address, `ws://<advertisedHost or bind>:<port>`. */
  async start(): Promise<string> {
    if (this.addressValue) return this.addressValue;
    const bind = this.opts.bind ?? '127.0.0.1';
    const server = createServer((req, res) => {
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), [TASKMANAGER_HEADER]: headerSafe(this.opts.taskManagerId) }).end(text);
      };
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method !== 'GET' || !path.startsWith(SLOT_DIRECTORY_PATH)) { answer(404, { errors: [`no such endpoint: ${req.method} ${path}`] }); return; }
      if (!bearerMatches(req.headers.authorization, this.opts.token)) {
        this.log.warn({ event: 'data-directory.unauthorized', remote: req.socket.remoteAddress }, `refused a slot lookup from ${req.socket.remoteAddress}: no cluster token`);
        answer(401, { errors: ['the data plane needs the cluster token'] });
        return;
      }
      const rest = path.slice(SLOT_DIRECTORY_PATH.length);
      const slot = /^\d{1,6}$/.test(rest) ? Number(rest) : Number.NaN;
      const found = Number.isInteger(slot) ? this.opts.addressOf(slot) : undefined;
      if (!found) { answer(404, { errors: [`no slot ${rest}`] }); return; }
      found.then((address) => answer(200, { address } satisfies SlotAddress),
        (e: unknown) => answer(503, { errors: [`slot ${slot} is not ready: ${errorMessage(e)}`] }));
    });
    server.on('upgrade', (_req, socket) => {
      const text = `data connections go to a slot's own address: ask GET ${SLOT_DIRECTORY_PATH}<n> for it\n`;
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    });
    server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, bind, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (e) => this.log.error({ event: 'data-directory.error', err: errorMessage(e) }, `data directory error: ${errorMessage(e)}`));
    this.server = server;
    const port = (server.address() as { port: number }).port;
    const host = this.opts.advertisedHost ?? bind;
    this.addressValue = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.log.info({ event: 'shuffle.started', address: this.addressValue, bind }, `data plane listening at ${this.addressValue}`);
    return this.addressValue;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    this.log.info({ event: 'shuffle.stopped' }, 'data plane stopped');
  }
}
