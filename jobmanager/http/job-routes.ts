import type { JobManager } from '../job-manager';
import type { JobMaster } from '../job-master';
import { printable, type ApplicationOf } from './application-routes';
import type { Router } from './router';
import { HttpError, readJsonBody, sendJson } from './responses';
import { RlinkError, errorMessage } from '../../core/errors';
import { backpressureView, checkpointsView, exceptionsView, jobDetails, jobsList, jobsOverview } from './views';

/**
 * Flink-style job endpoints:
 *
 *   GET   /jobs                     { jobs: [{ id, status }] }
 *   GET   /jobs/overview            { jobs: [JobOverview] }
 *   GET   /jobs/:id                 job details (vertices, subtasks, metrics, plan)
 *   GET   /jobs/:id/checkpoints     Flink's checkpoint statistics (counts, latest, history)
 *   GET   /jobs/:id/exceptions      the failure causes of the job's attempts (Flink's exception history)
 *   GET   /jobs/:id/vertices/:vid/backpressure   busy / idle / backpressured per subtask, ok|low|high (Flink's)
 *   PATCH /jobs/:id?mode=cancel     cancel (Flink's)            ─▶ 202 {}     token
 *   POST  /jobs/:id/cancel          cancel                      ─▶ 202 {}     token
 *   POST  /jobs/:id/stop            { targetDirectory, drain }  ─▶ 200 { location } once the savepoint is taken   token
 *   POST  /jobs/:id/savepoints      { "target-directory" }      ─▶ 200 { location }                                 token
 */
export function jobRoutes(router: Router, deps: { jobManager: JobManager; applicationOf: ApplicationOf; maxJsonBytes: number }): void {
  const jm = deps.jobManager;
  const job = (id: string | undefined): JobMaster => {
    const m = id === undefined ? undefined : jm.jobs.get(id);
    if (!m) throw new HttpError(404, `job ${printable(id)} not found`);
    return m;
  };
  const cancel = (id: string | undefined) => {
    const m = job(id);
    jm.cancel(m.jobId);
  };

  router.get('/jobs', (ctx) => sendJson(ctx.res, 200, jobsList(jm)));
  router.get('/jobs/overview', (ctx) => sendJson(ctx.res, 200, jobsOverview(jm)));
  router.get('/jobs/:id', (ctx) => {
    const m = job(ctx.params.id);
    sendJson(ctx.res, 200, jobDetails(m, deps.applicationOf(m.jobId)));
  });
  router.get('/jobs/:id/checkpoints', (ctx) => {
    sendJson(ctx.res, 200, checkpointsView(job(ctx.params.id)));
  });
  router.get('/jobs/:id/exceptions', (ctx) => {
    sendJson(ctx.res, 200, exceptionsView(job(ctx.params.id)));
  });
  router.get('/jobs/:id/vertices/:vid/backpressure', (ctx) => {
    const m = job(ctx.params.id);
    const view = backpressureView(m, ctx.params.vid ?? '');
    if (!view) throw new HttpError(404, `job ${printable(ctx.params.id)} has no vertex ${printable(ctx.params.vid)}`);
    sendJson(ctx.res, 200, view);
  });
  router.patch('/jobs/:id', (ctx) => {
    const mode = ctx.query.get('mode') ?? 'cancel';
    if (mode !== 'cancel') throw new HttpError(400, `unsupported mode ${printable(mode)}: use mode=cancel (stop with a savepoint is POST /jobs/:id/stop)`);
    cancel(ctx.params.id);
    sendJson(ctx.res, 202, {});
  }, { auth: true });
  router.post('/jobs/:id/cancel', (ctx) => {
    cancel(ctx.params.id);
    sendJson(ctx.res, 202, {});
  }, { auth: true });
  // Savepoints answer once they are taken (or failed): the caller gets the location to resume from.
  const savepointRequest = async (ctx: Parameters<Parameters<Router['post']>[1]>[0], stop: boolean) => {
    const m = job(ctx.params.id);
    const body = (await readJsonBody(ctx.req, deps.maxJsonBytes, ctx.readyForBody) ?? {}) as Record<string, unknown>;
    const dir = body.targetDirectory ?? body['target-directory'];
    if (typeof dir !== 'string' || dir === '') throw new HttpError(400, 'a savepoint needs a target directory: { "targetDirectory": "/path" }');
    try {
      const sp = stop ? await m.stopWithSavepoint(dir, body.drain === true) : await m.savepoint(dir);
      sendJson(ctx.res, 200, { location: sp.dir, checkpointId: sp.id });
    } catch (e) {
      throw new HttpError(e instanceof RlinkError && e.retriable ? 409 : 500, errorMessage(e));
    }
  };
  router.post('/jobs/:id/stop', (ctx) => savepointRequest(ctx, true), { auth: true });
  router.post('/jobs/:id/savepoints', (ctx) => savepointRequest(ctx, false), { auth: true });
}
