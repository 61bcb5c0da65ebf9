import { Worker } from 'node:worker_threads';
import { workerScript } from '../../core/app/worker-scripts';
import { RlinkError, deserializeError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import type { BuiltJob } from './built-job';
import type { GraphBuildRequest } from './graph-builder-worker';

export interface GraphBuilderOptions {
  logger: Logger;
  /** job.build.timeout: a build that takes longer is stopped (its worker terminated). Default 30 s. */
  timeoutMs?: number;
  /** Heap limit of a build's worker, in MiB (default 1024): a build that allocates more fails, not the job manager. */
  maxHeapMb?: number;
  /** Builds at the same time (default 2); more wait their turn. */
  concurrency?: number;
}

export const DEFAULT_BUILD_TIMEOUT_MS = 30_000;

/**
 * Loads a job's bundle and runs its `prepareProperties` and `build` in a worker thread, never on the
 * job manager's event loop: a slow, hostile or crashing `build()` (or top-level code of the bundle)
 * cannot delay heartbeats, REST answers or other jobs. The worker is terminated after the time limit
 * (`job.build.timeout`) or when it exceeds its heap; either is a clear RLINK_APP_BUILD error.
 *
 *   POST /job/application/:id ─▶ GraphBuilder.build ─▶ worker: import bundle, build() ─▶ BuiltJob
 *                                        └── after timeoutMs: worker.terminate() ─▶ RLINK_APP_BUILD
 */
export class GraphBuilder {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly log: Logger;
  readonly timeoutMs: number;

  constructor(private readonly opts: GraphBuilderOptions) {
    this.log = opts.logger.child({ component: 'jobmanager.graph-builder' });
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
  }

  async build(req: GraphBuildRequest): Promise<BuiltJob> {
    if (this.running >= (this.opts.concurrency ?? 2)) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await this.buildInWorker(req);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private buildInWorker(req: GraphBuildRequest): Promise<BuiltJob> {
    const started = Date.now();
    return new Promise<BuiltJob>((resolve, reject) => {
      const worker = new Worker(workerScript('graph-builder'), {
        workerData: { role: 'graph-builder', request: req },
        resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? 1024 },
        stdout: false, stderr: false,
      });
      let settled = false;
      const settle = (f: () => void) => { if (!settled) { settled = true; clearTimeout(timer); f(); void worker.terminate(); } };
      const timer = setTimeout(() => settle(() => {
        this.log.warn({ event: 'build.timeout', app: req.displayName, timeoutMs: this.timeoutMs }, `build of ${req.displayName} stopped after ${this.timeoutMs} ms`);
        reject(new RlinkError('RLINK_APP_BUILD', `app ${req.displayName} did not finish loading and building within ${this.timeoutMs} ms (job.build.timeout): build() must only declare the dataflow`));
      }), this.timeoutMs);
      worker.once('message', (m: { ok?: BuiltJob; error?: unknown }) => settle(() => {
        if (m.ok) {
          this.log.debug({ event: 'build.done', app: req.displayName, ms: Date.now() - started }, `built ${m.ok.name} in ${Date.now() - started} ms`);
          resolve(m.ok);
        } else reject(deserializeError(m.error, 'RLINK_APP_BUILD'));
      }));
      worker.once('error', (e) => settle(() => reject(new RlinkError('RLINK_APP_BUILD', `app ${req.displayName} crashed while building: ${errorMessage(e)}`, { cause: e }))));
      worker.once('exit', (code) => settle(() => reject(new RlinkError('RLINK_APP_BUILD', `app ${req.displayName} ended its build without a graph (the worker exited with code ${code})`))));
    });
  }
}
