import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../core/app/worker-scripts';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import type { Router } from './router';
import { HttpError } from './responses';

/**
 * The web dashboard (dashboard/): the page at `GET /`, its script and stylesheet under
 * `/dashboard/`. Open like the REST reads; the page itself asks for the token before it cancels,
 * takes a savepoint or stops a job, and sends it only with those calls.
 *
 *   GET /                    index.html    Cache-Control: no-store
 *   GET /dashboard/app.js    the script    ETag, Cache-Control: no-cache (revalidated)
 *   GET /dashboard/app.css   the styles
 *
 * Every answer carries a Content-Security-Policy that allows only this origin's script, styles and
 * REST calls: no inline script or style, no other origin, no frames, no form submissions.
 *
 * Where the files come from: the build embeds them (tools/build.mjs defines
 * RLINK_DASHBOARD_ASSETS, built by dashboard/build.mjs); when running from the sources (tests),
 * they are built from dashboard/ on first request.
 */
declare const RLINK_DASHBOARD_ASSETS: Record<string, string> | undefined;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

interface Asset { body: Buffer; type: string; etag: string }

let assets: Promise<Map<string, Asset>> | undefined;

/** The dashboard's files: embedded by the build, else built from the sources once. */
export function dashboardAssets(): Promise<Map<string, Asset>> {
  assets ??= load().catch((e: unknown) => { assets = undefined; throw e; });
  return assets;
}

async function load(): Promise<Map<string, Asset>> {
  let files: Record<string, string>;
  if (typeof RLINK_DASHBOARD_ASSETS !== 'undefined') {
    files = RLINK_DASHBOARD_ASSETS;
  } else {
    const script = join(packageRoot(), 'dashboard', 'build.mjs');
    if (!existsSync(script)) throw new HttpError(404, 'this build of rlink has no dashboard (the REST API is all there)');
    const mod = await import(pathToFileURL(script).href) as { buildDashboard(): Promise<Record<string, string>> };
    files = await mod.buildDashboard();
  }
  const out = new Map<string, Asset>();
  for (const [name, text] of Object.entries(files)) {
    const body = Buffer.from(text, 'utf8');
    out.set(name, { body, type: TYPES[name] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` });
  }
  return out;
}

export function dashboardRoutes(router: Router, deps: { log: Logger }): void {
  const serve = async (ctx: Parameters<Parameters<Router['get']>[1]>[0], name: string) => {
    let files: Map<string, Asset>;
    try {
      files = await dashboardAssets();
    } catch (e) {
      if (e instanceof HttpError) throw e;
      deps.log.error({ event: 'dashboard.build-failed', err: errorMessage(e) }, `cannot build the dashboard: ${errorMessage(e)}`);
      throw new HttpError(500, `the dashboard could not be built: ${errorMessage(e)}`);
    }
    const a = files.get(name);
    if (!a) throw new HttpError(404, `no such dashboard file: ${name.slice(0, 100)}`);
    const page = name === 'index.html';
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': a.type, 'Cache-Control': page ? 'no-store' : 'no-cache', ETag: a.etag };
    if (!page && ctx.req.headers['if-none-match'] === a.etag) {
      ctx.res.writeHead(304, headers);
      ctx.res.end();
      return;
    }
    ctx.res.writeHead(200, { ...headers, 'Content-Length': String(a.body.length) });
    ctx.res.end(a.body);
  };
  router.get('/', (ctx) => serve(ctx, 'index.html'));
  router.get('/dashboard/:file', (ctx) => serve(ctx, ctx.params.file ?? ''));
}
