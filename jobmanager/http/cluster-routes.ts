import type { JobManager } from '../job-manager';
import type { MetricsExporter } from './metrics';
import type { Router } from './router';
import { sendJson } from './responses';
import { clusterOverview } from './views';

/**
 *   GET /overview        the cluster at a glance (Flink's shape, with rlink's version)
 *   GET /taskmanagers    registered task managers and their slots
 *   GET /metrics         Prometheus text
 */
export function clusterRoutes(router: Router, deps: { jobManager: JobManager; metrics: MetricsExporter }): void {
  const jm = deps.jobManager;
  router.get('/overview', (ctx) => sendJson(ctx.res, 200, clusterOverview(jm)));
  router.get('/taskmanagers', (ctx) => sendJson(ctx.res, 200, { taskmanagers: jm.taskManagerList() }));
  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await deps.metrics.render();
    ctx.res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    ctx.res.end(body);
  });
}
