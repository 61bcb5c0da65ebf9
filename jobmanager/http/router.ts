import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logging';
import { HttpError } from './responses';

/**
 * A small router: `METHOD /literal/:param` patterns, first match wins (register literal routes
 * before parameterised ones). Paths are matched segment by segment after percent-decoding each
 * segment, so an encoded `/` (`%2F`) never splits a segment and never reaches a handler as a path.
 *
 *   unknown path ───────────────▶ 404
 *   known path, other method ───▶ 405 (with Allow)
 *   route.auth without token ───▶ 401 (before the body is read; see server.ts)
 */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Decoded path parameters (validate them: they are the client's). */
  params: Record<string, string>;
  query: URLSearchParams;
  log: Logger;
  /** Call before reading the body: answers `Expect: 100-continue`. */
  readyForBody(): void;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: string;
  pattern: string;
  /** The cluster token is required. */
  auth: boolean;
  handler: Handler;
}

export type Match =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string[] };

interface CompiledRoute extends Route { segments: string[] }

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(method: string, pattern: string, handler: Handler, opts: { auth?: boolean } = {}): this {
    this.routes.push({ method, pattern, handler, auth: opts.auth ?? false, segments: splitPattern(pattern) });
    return this;
  }

  get(pattern: string, handler: Handler, opts: { auth?: boolean } = {}): this { return this.add('GET', pattern, handler, opts); }
  post(pattern: string, handler: Handler, opts: { auth?: boolean } = {}): this { return this.add('POST', pattern, handler, opts); }
  patch(pattern: string, handler: Handler, opts: { auth?: boolean } = {}): this { return this.add('PATCH', pattern, handler, opts); }

  /** Matches decoded path segments (see {@link parseTarget}). */
  match(method: string, segments: readonly string[]): Match {
    const allow = new Set<string>();
    for (const r of this.routes) {
      const params = matchSegments(r.segments, segments);
      if (!params) continue;
      if (r.method === method) return { kind: 'route', route: r, params };
      allow.add(r.method);
    }
    return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'not-found' };
  }
}

function splitPattern(pattern: string): string[] {
  return pattern.split('/').slice(1);
}

function matchSegments(pattern: readonly string[], path: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = path[i]!;
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      params[p.slice(1)] = s;
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

/**
 * Splits a request target (`/jobs/abc?mode=cancel`) into decoded path segments and the query.
 * Only origin-form targets are served (absolute-form and `*` are 400); one trailing slash is ignored.
 */
export function parseTarget(target: string | undefined): { segments: string[]; query: URLSearchParams; path: string } {
  const raw = target ?? '';
  if (!raw.startsWith('/')) throw new HttpError(400, 'malformed request target');
  const q = raw.indexOf('?');
  let path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the path');
  }
  return { segments, query, path };
}
