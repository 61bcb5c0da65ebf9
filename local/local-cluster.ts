import { availableParallelism } from 'node:os';
import type { AppDefinition } from '../core/api/app';
import type { Props } from '../core/api/props';
import type { AppRef } from '../core/protocol/control-messages';
import type { Logger } from '../core/logging';
import { loadAppBundle } from '../core/app/load';
import { JobManager } from '../jobmanager/job-manager';
import { buildJob, type BuiltJob } from '../jobmanager/build/built-job';
import { RlinkError } from '../core/errors';
import { slotsNeeded } from '../jobmanager/scheduler';
import type { JobMaster, JobResult } from '../jobmanager/job-master';
import { TaskExecutor } from '../taskmanager/task-executor';
import { workerScript } from '../core/app/worker-scripts';

export interface LocalRunOptions {
  app: AppDefinition;
  /** How task managers find the app: a bundle (threads mode) or the in-process object (inline mode). */
  appRef: AppRef;
  props: Props;
  logger: Logger;
  /** Slots (worker threads); default: the job's largest parallelism. */
  slots?: number;
  mode?: 'threads' | 'inline';
  /** Called about every `progressIntervalMs` while the job runs. */
  onProgress?: (p: JobProgress) => void;
  progressIntervalMs?: number;
  /** Called once the job is submitted: `cancel` cancels it (Ctrl-C). */
  onStarted?: (job: { jobId: string; cancel: () => void }) => void;
}

export interface JobProgress {
  jobId: string;
  status: string;
  /** Records read by the sources. */
  recordsIn: number;
  /** Records written by the sinks. */
  recordsOut: number;
  /** The lowest watermark among tasks after the sources (null before any). */
  watermark: number | null;
  invalidRecords: number;
  lateRecordsDropped: number;
  elapsedMs: number;
}

export interface LocalRunResult extends JobResult { progress: JobProgress; checkpoints: { completed: number; failed: number } }

/**
 * The embedded cluster behind `rlink run` (Flink's MiniCluster): a job manager and one task manager
 * in this process, connected in memory, the task manager's slots on worker threads started up front.
 * `runLocal` starts one for a job and stops it after; benchmarks keep one across jobs (warm slots).
 */
export class LocalCluster {
  private constructor(readonly jobManager: JobManager, private readonly taskManager: TaskExecutor, readonly slots: number) {}

  static async start(opts: { slots: number; mode?: 'threads' | 'inline'; logger: Logger; resolveInline?: (ref: AppRef) => AppDefinition }): Promise<LocalCluster> {
    const mode = opts.mode ?? 'threads';
    const jm = new JobManager(opts.logger);
    const tm = new TaskExecutor({
      id: 'local-tm', slots: opts.slots, mode, logger: opts.logger,
      workerScript: mode === 'threads' ? workerScript('slot') : undefined,
      resolveApp: async (ref) => {
        if (ref.kind === 'inline') {
          const app = opts.resolveInline?.(ref);
          if (!app) throw new RlinkError('RLINK_INTERNAL', `no inline app '${ref.key}' in this embedded cluster`);
          return app;
        }
        return loadAppBundle(ref.path);
      },
    });
    await tm.startSlots();
    let toTm: (m: Parameters<ReturnType<TaskExecutor['connect']>>[0]) => void = () => {};
    const toJm = jm.connect(tm.id, (m) => queueMicrotask(() => toTm(m)));
    toTm = tm.connect((m) => queueMicrotask(() => toJm(m)));
    await new Promise((r) => setImmediate(r)); // let the registration land
    return new LocalCluster(jm, tm, opts.slots);
  }

  /** Runs a built job to its end (or until `onStarted`'s cancel), reporting progress on the way. */
  async run(built: BuiltJob, appRef: AppRef, opts: Pick<LocalRunOptions, 'onProgress' | 'progressIntervalMs' | 'onStarted'> = {}): Promise<LocalRunResult> {
    const master = this.jobManager.submitBuilt(built, appRef);
    opts.onStarted?.({ jobId: master.jobId, cancel: () => master.cancel() });
    const interval = opts.progressIntervalMs ?? 1000;
    const timer = opts.onProgress ? setInterval(() => opts.onProgress!(progressOf(master)), interval) : undefined;
    try {
      const result = await master.result();
      // Let the last metrics reports arrive before summarising, and an aborted checkpoint's files go.
      await Promise.all([new Promise((r) => setTimeout(r, 20)), master.checkpoints.whenDiscarded()]);
      return { ...result, progress: progressOf(master), checkpoints: { completed: master.checkpoints.completedCount, failed: master.checkpoints.failed.length } };
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  async stop(): Promise<void> { await this.taskManager.shutdown(); }
}

/** Runs one job on an embedded cluster of its own, sized to the job (or `slots`). */
export async function runLocal(opts: LocalRunOptions): Promise<LocalRunResult> {
  const built = buildJob(opts.app, opts.props.toJSON());
  const slots = Math.max(slotsNeeded(built.job), opts.slots ?? 0);
  const cluster = await LocalCluster.start({ slots, mode: opts.mode, logger: opts.logger, resolveInline: () => opts.app });
  try {
    return await cluster.run(built, opts.appRef, opts);
  } finally {
    await cluster.stop();
  }
}

export function progressOf(master: JobMaster): JobProgress {
  const sources = new Set(master.job.vertices.filter((v) => master.nodeKind(v.nodes[0]!) === 'source').map((v) => v.id));
  const sinks = new Set(master.job.vertices.filter((v) => v.nodes.some((n) => master.nodeKind(n) === 'sink')).map((v) => v.id));
  let recordsIn = 0, recordsOut = 0, invalid = 0, late = 0;
  let wm: number | null = null;
  for (const t of master.metrics.values()) {
    if (sources.has(t.subtask.vertex)) recordsIn += t.metrics.recordsIn;
    if (sinks.has(t.subtask.vertex)) recordsOut += t.metrics.recordsWritten;
    invalid += t.metrics.recordsInvalid;
    late += t.metrics.lateRecordsDropped;
    if (!sources.has(t.subtask.vertex) && t.metrics.watermark !== null) wm = wm === null ? t.metrics.watermark : Math.min(wm, t.metrics.watermark);
  }
  return {
    jobId: master.jobId, status: master.status.status, recordsIn, recordsOut, watermark: wm,
    invalidRecords: invalid, lateRecordsDropped: late, elapsedMs: Date.now() - master.startTime,
  };
}

export { availableParallelism };
