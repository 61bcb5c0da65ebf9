import type { IncomingMessage, ServerResponse } from 'node:http';
import { RlinkError, codeOfStatus, errorMessage, isErrorCode, type ErrorCode } from '../../core/errors';

/**
 * JSON responses and errors of the job manager's REST API. Errors have Flink's REST shape,
 * `{ "errors": ["message"] }`, with a proper status code.
 */

/**
 * An RlinkError that ends a request with `status` and `{ errors: [message], code }`. The status is
 * the code's (core/errors.ts ERROR_CODES) unless the request needs a more precise one (405, 415).
 */
export class HttpError extends RlinkError {
  private readonly httpStatus: number;

  constructor(
    status: number,
    message: string,
    /** Extra response headers (`Allow`, `WWW-Authenticate`, …). */
    readonly headers: Record<string, string> = {},
    /** The stable error code; by default the one of the status. */
    code?: ErrorCode | string,
  ) {
    super(isErrorCode(code) ? code : codeOfStatus(status), message);
    this.name = 'HttpError';
    this.httpStatus = status;
  }

  override get status(): number { return this.httpStatus; }

  /** Any error as an HttpError: an RlinkError keeps its code and gets its status; anything else is a 500. */
  static from(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    if (e instanceof RlinkError) return new HttpError(e.status, errorMessage(e), {}, e.code);
    return new HttpError(500, `internal error: ${errorMessage(e)}`, {}, 'RLINK_INTERNAL');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Flink's error shape, `{ "errors": [message] }`, plus rlink's error code when there is one. */
export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code?: string): void {
  sendJson(res, status, code === undefined ? { errors: [message] } : { errors: [message], code }, headers);
}

/**
 * Answers an error whose request body was not read to the end. The connection is closed after the
 * response; the unread rest is discarded for a short while first, so that the client (still
 * sending) reads the response instead of a connection reset.
 */
export function sendErrorAndClose(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code?: string): void {
  sendError(res, status, message, { ...headers, Connection: 'close' }, code);
  discardRest(req);
}

/** How long an unread request body is drained after an early error response, in ms. */
const DRAIN_MS = 2_000;

function discardRest(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  req.unpipe();
  req.removeAllListeners('data');
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/**
 * Reads a JSON request body of at most `limitBytes`. An empty body is `undefined`; malformed JSON
 * is 400, a larger body 413.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number, readyForBody: () => void): Promise<unknown> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limitBytes) {
    throw new HttpError(413, `request body of ${declared} bytes is larger than the limit of ${limitBytes} bytes`);
  }
  readyForBody();
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) {
        cleanup();
        reject(new HttpError(413, `request body is larger than the limit of ${limitBytes} bytes`));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => { cleanup(); resolve(); };
    const onError = (e: Error) => { cleanup(); reject(e); };
    const onClose = () => { if (!req.readableEnded) { cleanup(); reject(new Error('the client closed the connection before the body ended')); } };
    const cleanup = () => {
      req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `malformed JSON body: ${errorMessage(e)}`);
  }
}

/** The declared Content-Length, or undefined (chunked, absent or unparsable). */
export function contentLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}
