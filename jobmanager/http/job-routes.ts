import type { JobManager } from '../job-manager';
import type { JobMaster } from '../job-master';
import { printable, type ApplicationOf } from './application-routes';
import type { Router } from './router';
import { HttpError, sendJson } from './responses';
import { checkpointsView, jobDetails, jobsList, jobsOverview } from './views';

/**
 * Flink-style job endpoints:
 *
 *   GET   /jobs                     { jobs: [{ id, status }] }
 *   GET   /jobs/overview            { jobs: [JobOverview] }
 *   GET   /jobs/:id                 job details (vertices, subtasks, metrics, plan)
 *   GET   /jobs/:id/checkpoints     Flink's checkpoint statistics (empty until checkpoints exist)
 *   PATCH /jobs/:id?mode=cancel     cancel (Flink's)            ─▶ 202 {}     token
 *   POST  /jobs/:id/cancel          cancel                      ─▶ 202 {}     token
 *   POST  /jobs/:id/stop            stop with a savepoint       ─▶ 501 for now token
 */
export function jobRoutes(router: Router, deps: { jobManager: JobManager; applicationOf: ApplicationOf }): void {
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
    job(ctx.params.id);
    // Checkpoints arrive with issue 4; until then Flink's shape with nothing in it.
    sendJson(ctx.res, 200, checkpointsView());
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
  router.post('/jobs/:id/stop', (ctx) => {
    job(ctx.params.id);
    // Body: { targetDirectory, drain } (Flink's); savepoints come with checkpoints.
    throw new HttpError(501, 'stop with savepoint arrives with checkpoints (issue 4)');
  }, { auth: true });
}
