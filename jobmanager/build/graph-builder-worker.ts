/**
 * Entry point of the job manager's graph-builder worker thread (built to dist/graph-builder.js):
 * loads one bundle, runs `prepareProperties` and `build`, posts the built job (or the error) back and
 * ends. The user's code never runs on the job manager's event loop (graph-builder.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as api from '../../index';
import { installApi, loadAppBundle } from '../../core/app/load';
import { serializeError } from '../../core/errors';
import { buildJob } from './built-job';

export interface GraphBuildRequest { bundlePath: string; displayName: string; args: Record<string, string>; defaults: Record<string, string>; prepared: boolean }

installApi(api);
const req = (workerData as { request: GraphBuildRequest }).request;
try {
  const app = await loadAppBundle(req.bundlePath, req.displayName);
  parentPort!.postMessage({ ok: buildJob(app, req.args, { defaults: req.defaults, prepared: req.prepared }) });
} catch (e) {
  parentPort!.postMessage({ error: serializeError(e, 'RLINK_APP_BUILD') });
}
