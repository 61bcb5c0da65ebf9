import { createReadStream } from 'node:fs';
import { Props } from '../../core/api/props';
import { RlinkError, errorMessage, type ErrorCode } from '../../core/errors';
import type { Logger } from '../../core/logging';
import type { JobManager } from '../job-manager';
import type { JobMaster } from '../job-master';
import type { ApplicationStore, StoredApplication } from './application-store';
import type { RequestContext, Router } from './router';
import { HttpError, readJsonBody, sendJson } from './responses';
import { receiveUpload } from './uploads';

/**
 * rlink-rs's application endpoints:
 *
 *   POST /job/application                 multipart file=@bundle ─▶ { application_id, hash, bytes }
 *   POST /job/application/:id             { "args": { k: v } }   ─▶ { jobid, application_id, name }
 *   POST /job/application/:id/shutdown                           ─▶ { application_id, canceled }
 *   GET  /job/application/:id/bundle      the bundle (task managers download it)
 *   GET  /bundles/:hash                   the same, by content hash (sha256, hex)
 *
 * All of them take the cluster token (checked by the server before the handler runs).
 */
export interface ApplicationRoutesDeps {
  jobManager: JobManager;
  store: ApplicationStore;
  log: Logger;
  /** Largest bundle accepted, in bytes. */
  maxUploadBytes: number;
  /** Largest JSON body accepted (job arguments), in bytes. */
  maxJsonBytes: number;
}

/** Errors of the user's app or its arguments: the client's to fix (400), not the cluster's. */
const CLIENT_ERRORS: ReadonlySet<ErrorCode> = new Set(['RLINK_APP_BUILD', 'RLINK_APP_BUNDLE', 'RLINK_MISSING_PROP', 'RLINK_CONFIG', 'RLINK_GRAPH']);

/** How often a shut-down application's jobs are checked (and cancelled again) until all ended, in ms. */
const SHUTDOWN_POLL_MS = 200;

export function applicationRoutes(router: Router, deps: ApplicationRoutesDeps): { applicationOf: ApplicationOf; stop(): void } {
  const { jobManager: jm, store, log } = deps;
  /** Which application each job came from (kept after the application is removed). */
  const owner = new Map<string, string>();
  const removals = new Map<string, NodeJS.Timeout>();

  const known = (id: string | undefined): StoredApplication => {
    const app = id === undefined ? undefined : store.get(id);
    if (!app) throw new HttpError(404, `application ${printable(id)} not found`);
    return app;
  };

  const upload = async (ctx: RequestContext) => {
    const tempPath = store.uploadPath();
    const received = await receiveUpload(ctx.req, { limitBytes: deps.maxUploadBytes, tempPath, readyForBody: ctx.readyForBody });
    const { app, existed } = await store.adopt(tempPath, received);
    log.info({ event: 'application.uploaded', id: app.id, bytes: app.bytes, existed }, existed
      ? `upload of ${app.bytes} bytes matches application ${app.id}`
      : `application ${app.id} uploaded (${app.bytes} bytes)`);
    sendJson(ctx.res, 200, { application_id: app.id, hash: app.hash, bytes: app.bytes });
  };

  const run = async (ctx: RequestContext) => {
    const app = known(ctx.params.id);
    if (app.removing) throw new HttpError(409, `application ${app.id} is shutting down: upload it again to run it`);
    const body = await readJsonBody(ctx.req, deps.maxJsonBytes, ctx.readyForBody);
    const props = propsFromBody(body);
    const master = await clientErrors(() => jm.submitBundle({ path: app.path, hash: app.hash, applicationId: app.id }, props.toJSON()));
    if (app.removing) { master.cancel(); throw new HttpError(409, `application ${app.id} was shut down while its job was being built: upload it again to run it`); }
    app.jobs.push(master.jobId);
    owner.set(master.jobId, app.id);
    log.info({ event: 'application.run', id: app.id, job: master.jobId }, `job ${master.jobId} (${master.name}) started from application ${app.id}`);
    sendJson(ctx.res, 200, { jobid: master.jobId, application_id: app.id, name: master.name });
  };

  const shutdown = (ctx: RequestContext) => {
    const app = known(ctx.params.id);
    const canceled: string[] = [];
    for (const jobId of app.jobs) {
      const master = jm.jobs.get(jobId);
      if (!master || master.status.terminal) continue;
      jm.cancel(jobId);
      canceled.push(jobId);
    }
    if (!app.removing) {
      app.removing = true;
      log.info({ event: 'application.shutdown', id: app.id, canceled }, `application ${app.id} shut down (${canceled.length} job(s) cancelled)`);
      removeWhenIdle(app);
    }
    sendJson(ctx.res, 200, { application_id: app.id, canceled });
  };

  /** Removes the application's files once none of its jobs runs; cancels again what came back (a restart raced the cancel). */
  const removeWhenIdle = (app: StoredApplication) => {
    const check = () => {
      const live = app.jobs.map((id) => jm.jobs.get(id)).filter((m): m is JobMaster => m !== undefined && !m.status.terminal);
      if (live.length > 0) {
        for (const m of live) if (m.status.status !== 'CANCELLING') m.cancel();
        return;
      }
      const timer = removals.get(app.id);
      if (timer) clearInterval(timer);
      removals.delete(app.id);
      store.remove(app.id).catch((e: unknown) => log.error({ event: 'application.remove-failed', id: app.id, err: errorMessage(e) }, `cannot remove application ${app.id}: ${errorMessage(e)}`));
    };
    const timer = setInterval(check, SHUTDOWN_POLL_MS);
    timer.unref();
    removals.set(app.id, timer);
    check();
  };

  const sendBundle = (ctx: RequestContext, app: StoredApplication) => {
    const etag = `"${app.hash}"`;
    if (ctx.req.headers['if-none-match'] === etag) {
      ctx.res.writeHead(304, { ETag: etag });
      ctx.res.end();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const file = createReadStream(app.path);
      file.once('open', () => {
        ctx.res.writeHead(200, {
          'Content-Type': 'application/javascript; charset=utf-8', 'Content-Length': app.bytes, ETag: etag,
          'X-Rlink-Application-Id': app.id, 'X-Rlink-Bundle-Sha256': app.hash, 'Cache-Control': 'no-store',
        });
        file.pipe(ctx.res);
      });
      file.once('error', (e) => {
        if (!ctx.res.headersSent) {
          // Removed by a shutdown between the lookup and the open.
          ctx.res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
          ctx.res.end(JSON.stringify({ errors: [`application ${app.id} has no bundle any more`] }));
        } else {
          log.warn({ event: 'bundle.read-failed', id: app.id, err: errorMessage(e) }, `cannot send bundle ${app.id}: ${errorMessage(e)}`);
          ctx.res.destroy();
        }
        resolve();
      });
      ctx.res.once('close', () => { file.destroy(); resolve(); });
    });
  };

  router.post('/job/application', upload, { auth: true });
  router.post('/job/application/:id', run, { auth: true });
  router.post('/job/application/:id/shutdown', shutdown, { auth: true });
  router.get('/job/application/:id/bundle', (ctx) => sendBundle(ctx, known(ctx.params.id)), { auth: true });
  // By the full sha256 or a unique prefix of at least 8 hex digits (task managers cache by it).
  router.get('/bundles/:hash', (ctx) => {
    const hash = ctx.params.hash ?? '';
    const found = /^[0-9a-f]{8,64}$/.test(hash) ? store.list().filter((a) => a.hash.startsWith(hash)) : [];
    const app = found.length === 1 ? found[0] : store.byHash(hash);
    if (!app) throw new HttpError(404, `no bundle with hash ${printable(hash)}`);
    return sendBundle(ctx, app);
  }, { auth: true });

  return {
    applicationOf: (jobId) => owner.get(jobId),
    stop() {
      for (const t of removals.values()) clearInterval(t);
      removals.clear();
    },
  };
}

/** The application a job was started from (for job details). */
export type ApplicationOf = (jobId: string) => string | undefined;

/**
 * Job arguments from the run request's body. Accepted, as rlink-rs and scripts send them:
 *
 *   { "args": { "input": "/data/in", "parallelism.default": 2 } }
 *   { "args": ["input=/data/in", "parallelism.default=2"] }
 *   { "input": "/data/in" }            (a plain map)
 *   ["input=/data/in"]                 (a plain list)
 *   empty body                         (no arguments)
 *
 * Values that are not strings are written as JSON (2 → "2", true → "true").
 */
export function propsFromBody(body: unknown): Props {
  if (body === undefined || body === null) return new Props();
  let args: unknown = body;
  if (typeof body === 'object' && !Array.isArray(body) && 'args' in body) {
    const a = (body as { args: unknown }).args;
    if (a !== null && typeof a === 'object') args = a;
    else if (a === null || a === undefined) args = {};
    else throw new HttpError(400, "'args' must be an object of key: value or an array of \"key=value\" strings");
  }
  if (Array.isArray(args)) {
    const bad = args.find((a) => typeof a !== 'string');
    if (bad !== undefined) throw new HttpError(400, `'args' must be "key=value" strings; got ${JSON.stringify(bad)}`);
    try {
      return Props.fromArgs(args as string[]);
    } catch (e) {
      throw new HttpError(400, errorMessage(e), {}, e instanceof RlinkError ? e.code : undefined);
    }
  }
  if (typeof args !== 'object') throw new HttpError(400, 'the body must be a JSON object of job arguments, e.g. { "args": { "input": "/data/in" } }');
  const props = new Props();
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    if (k === '') throw new HttpError(400, 'an argument has an empty key');
    props.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return props;
}

/** Runs `fn`; errors of the user's app or arguments become 400 with their one-line message. */
async function clientErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RlinkError && CLIENT_ERRORS.has(e.code)) throw new HttpError(400, errorMessage(e), {}, e.code);
    throw e;
  }
}

/** A client-supplied id, safe and short enough to echo in a message. */
export function printable(s: string | undefined): string {
  if (s === undefined) return "''";
  const clean = s.replace(/[^\w.\-~]/g, '?');
  return `'${clean.length > 80 ? `${clean.slice(0, 80)}…` : clean}'`;
}
