import type { AppDefinition } from '../core/api/app';
import { buildStreamGraph } from '../core/api/app';
import type { Props } from '../core/api/props';
import type { StreamGraph, StreamGraphJson } from '../core/graph/stream-graph';
import { buildJobGraph, type JobGraph } from '../core/graph/job-graph';
import { allSubtasks, subtaskId } from '../core/graph/execution-graph';
import type { JobConfig } from '../core/config/system-properties';
import type { AppRef, JobManagerToTaskManager, SubtaskMetrics, SubtaskRef, TaskManagerToJobManager } from '../core/protocol/messages';
import type { TaskState } from '../core/runtime/task';
import { FINAL_CHECKPOINT_ID } from '../core/runtime/task';
import type { Logger } from '../core/logging';
import { errorMessage } from '../core/errors';
import { JobStatusMachine, type JobStatus } from './job-status';
import { schedule, type SlotOffer, type Placement } from './scheduler';
import { restartDelay } from './restart-strategy';
import { CheckpointCoordinator, type CompletedCheckpoint } from './checkpoint-coordinator';
import { readCheckpointMetadata, METADATA_FILE } from '../core/protocol/checkpoint-metadata';
import { RlinkError } from '../core/errors';
import { LocalCheckpointStorage, checkpointStorageFor, type CheckpointStorage } from '../core/fs/checkpoint-storage';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { statSync } from 'node:fs';

/** What the job master needs from the cluster around it. */
export interface ClusterView {
  offers(): SlotOffer[];
  /** The data address of a task manager (for channels between task managers). */
  dataAddress(taskManagerId: string): string | undefined;
  send(taskManagerId: string, msg: JobManagerToTaskManager): void;
}

export interface JobResult {
  jobId: string;
  name: string;
  status: JobStatus;
  error?: string;
  /** The failing task's error code (RLINK_TASK_FAILED, RLINK_APP_BUILD, …). */
  errorCode?: string;
  restarts: number;
  durationMs: number;
}

export interface JobOverview {
  jid: string;
  name: string;
  state: JobStatus;
  'start-time': number;
  'end-time': number;
  duration: number;
  attempt: number;
  restarts: number;
  error?: string;
  errorCode?: string;
  tasks: Record<string, number>;
}

/**
 * Runs one job: plans it onto slots, deploys each attempt, follows its subtasks, coordinates the
 * final checkpoint (every sink commits only once all subtasks consumed all input), and restarts it
 * by the restart strategy when a subtask fails. Messages from an older attempt are ignored.
 */
export class JobMaster {
  readonly status: JobStatusMachine;
  readonly graph: StreamGraph;
  readonly job: JobGraph;
  readonly config: JobConfig;
  attempt = 0;
  restarts = 0;
  readonly startTime = Date.now();
  endTime = -1;
  private failure: string | undefined;
  /** The error code of the first task failure of the attempt that failed the job. */
  private failureCode: string | undefined;
  private placement: Placement[] = [];
  private readonly states = new Map<string, TaskState>();
  private readonly finalReady = new Set<string>();
  readonly metrics = new Map<string, SubtaskMetrics>();
  private readonly done: Promise<JobResult>;
  private resolveDone!: (r: JobResult) => void;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  readonly checkpoints: CheckpointCoordinator;
  /** What the next deployment restores from. */
  private restore: { checkpointId: number; metadataPath: string } | undefined;
  /** The savepoint the job was started from (execution.savepoint.path), if any. */
  private initialRestore: { checkpointId: number; metadataPath: string } | undefined;
  /** Stopped with a savepoint: the cancelled tasks end the job FINISHED, not CANCELED. */
  private stopping = false;

  constructor(
    readonly jobId: string,
    readonly app: AppDefinition,
    readonly appRef: AppRef,
    readonly props: Props,
    private readonly cluster: ClusterView,
    logger: Logger,
    onStatus: (jobId: string, s: JobStatus) => void = () => {},
  ) {
    this.log = logger.child({ job: jobId });
    const built = buildStreamGraph(app, props);
    this.graph = built.graph;
    this.config = built.config;
    this.job = buildJobGraph(built.graph);
    this.status = new JobStatusMachine((s) => { this.log.info({ event: 'job.status', status: s, attempt: this.attempt }, `job ${app.name} ${s}`); onStatus(jobId, s); });
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.checkpoints = new CheckpointCoordinator({
      jobId, jobName: app.name, job: this.job, logger,
      baseDir: this.config.checkpointDir ?? join(tmpdir(), 'rlink-checkpoints'),
      intervalMs: this.config.checkpointIntervalMs,
      trigger: (c) => this.broadcast({ type: 'trigger-checkpoint', jobId, attempt: this.attempt, ...c }),
      notifyComplete: (id) => this.broadcast({ type: 'checkpoint-complete', jobId, attempt: this.attempt, checkpointId: id }),
      canTrigger: () => this.status.status === 'RUNNING' && this.states.size > 0 && [...this.states.values()].every((s) => s === 'RUNNING'),
      storageFor: (path) => this.checkpointStorage(path),
    });
  }

  /** The storage of a checkpoint or savepoint path: local, or hdfs:// (WebHDFS address from checkpoint.webhdfs or RLINK_WEBHDFS). */
  private checkpointStorage(path: string): CheckpointStorage {
    return checkpointStorageFor(path, process.env, this.props.toJSON());
  }

  get name(): string { return this.app.name; }
  result(): Promise<JobResult> { return this.done; }

  start(): void {
    void this.prepare().then(() => this.deploy(), (e: unknown) => this.fail(errorMessage(e)));
  }

  /** Before the first deployment: checkpoint.dir must be writable; a savepoint to start from must fit. */
  private async prepare(): Promise<void> {
    const dir = this.config.checkpointDir;
    if (dir) this.checkpointStorage(dir); // a scheme other than hdfs://, or hdfs:// without a WebHDFS address: a clear error now
    if (this.config.checkpointIntervalMs !== undefined) await this.checkpoints.checkWritable();
    const from = this.props.has('execution.savepoint.path') ? this.props.get('execution.savepoint.path') : undefined;
    if (from === undefined) return;
    const storage = this.checkpointStorage(from);
    const local = storage instanceof LocalCheckpointStorage;
    // A savepoint is named by its directory or its _metadata file (in HDFS: by name, without a look).
    const metadataPath = (local ? isDirectory(from) : basename(from) !== METADATA_FILE) ? storage.join(from, METADATA_FILE) : from;
    const meta = await readCheckpointMetadata(metadataPath, storage);
    const ours = new Set(this.graph.nodes.keys());
    const shared = Object.keys(meta.operators).filter((id) => ours.has(id));
    if (shared.length === 0) {
      throw new RlinkError('RLINK_CONFIG', `savepoint ${from} belongs to job '${meta.jobName}' and shares no operator with job '${this.name}' (operators are matched by uid)`);
    }
    const missing = Object.keys(meta.operators).filter((id) => !ours.has(id));
    if (missing.length > 0) this.log.warn({ event: 'savepoint.unmatched', operators: missing }, `savepoint ${from}: no operator of this job for ${missing.join(', ')}: their state is not restored`);
    this.restore = { checkpointId: meta.checkpointId, metadataPath };
    this.initialRestore = this.restore;
    this.checkpoints.restoredCheckpoint(meta.checkpointId, metadataPath);
  }

  private deploy(): void {
    try {
      this.placement = schedule(this.job, this.cluster.offers());
    } catch (e) {
      // Too few slots (e.g. a task manager was lost): retry by the restart strategy, then give up.
      const delay = this.status.status === 'RESTARTING' ? restartDelay(this.config.restart, this.restarts) : undefined;
      if (delay === undefined) { this.fail(errorMessage(e)); return; }
      this.restarts++;
      this.log.warn({ event: 'job.no-slots', reason: errorMessage(e), retryInMs: delay }, `${errorMessage(e)}: retrying in ${delay} ms`);
      this.restartTimer = setTimeout(() => { this.restartTimer = undefined; if (this.status.status === 'RESTARTING') { this.attempt++; this.deploy(); } }, delay);
      return;
    }
    this.states.clear();
    this.finalReady.clear();
    for (const s of allSubtasks(this.job)) this.states.set(subtaskId(s.vertex, s.index), 'DEPLOYING');
    this.status.transition('RUNNING');
    for (const p of this.placement) {
      this.cluster.send(p.taskManagerId, {
        type: 'deploy', jobId: this.jobId, attempt: this.attempt, app: this.appRef, props: this.props.toJSON(), slots: p.assignments,
        jobGraph: this.job, placement: this.placement, batchSize: this.config.batchSize,
        ...(this.restore ? { restore: this.restore } : {}),
        dataAddresses: Object.fromEntries(this.placement.map((x) => [x.taskManagerId, this.cluster.dataAddress(x.taskManagerId) ?? ''])),
      });
    }
  }

  handle(msg: TaskManagerToJobManager): void {
    if ('attempt' in msg && msg.attempt !== this.attempt) return; // a message of an attempt already replaced
    switch (msg.type) {
      case 'task-state':
        if (msg.state === 'FAILED' && msg.error && this.failureCode === undefined) this.failureCode = msg.error.code;
        this.onTaskState(msg.subtask, msg.state, msg.error?.message);
        break;
      case 'final-ready': this.onFinalReady(msg.subtask); break;
      case 'metrics': for (const t of msg.tasks) this.metrics.set(subtaskId(t.subtask.vertex, t.subtask.index), t); break;
      case 'checkpoint-ack': this.checkpoints.acknowledge(msg.checkpointId, msg.subtask, msg.path, msg.bytes); break;
      case 'checkpoint-declined': this.checkpoints.decline(msg.checkpointId, msg.subtask, msg.reason); break;
      default: break;
    }
  }

  private onTaskState(ref: SubtaskRef, state: TaskState, error?: string): void {
    const id = subtaskId(ref.vertex, ref.index);
    this.states.set(id, state);
    if (state === 'RUNNING' && this.status.status === 'RUNNING' && [...this.states.values()].every((s) => s === 'RUNNING')) this.checkpoints.start();
    if (state !== 'RUNNING') this.checkpoints.stop(`task ${id} is ${state}`);
    const m = this.metrics.get(id);
    if (m) m.state = state;
    if (state === 'FAILED' && this.status.status === 'RUNNING') this.onFailure(`task ${this.taskName(ref)} failed: ${error ?? 'unknown error'}`);
    else if (state === 'FINISHED' && this.status.status === 'RUNNING' && [...this.states.values()].every((s) => s === 'FINISHED')) this.finish('FINISHED');
    else if (this.status.status === 'CANCELLING' && [...this.states.values()].every((s) => s !== 'RUNNING' && s !== 'DEPLOYING' && s !== 'CANCELING')) this.finishCancelled();
  }

  /** Resolves when every subtask of the current attempt has ended (or at `deadline`, logged). */
  private async whenAttemptStopped(deadline: number): Promise<void> {
    while ([...this.states.values()].some((s) => !ENDED.has(s))) {
      if (Date.now() > deadline) {
        this.log.warn({ event: 'job.restart-without-stop', attempt: this.attempt }, 'restarting although some tasks of the failed attempt did not report that they stopped');
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** "Source: file → Map (2/4)", as the user named the operators. */
  private taskName(ref: SubtaskRef): string {
    const v = this.job.vertices.find((x) => x.id === ref.vertex);
    return v ? `${v.name} (${ref.index + 1}/${v.parallelism})` : subtaskId(ref.vertex, ref.index);
  }

  /** All subtasks consumed their input and prepared: the final checkpoint is complete, sinks may commit. */
  private onFinalReady(ref: SubtaskRef): void {
    this.finalReady.add(subtaskId(ref.vertex, ref.index));
    if (this.finalReady.size === this.states.size) {
      this.log.info({ event: 'checkpoint.final' }, 'all subtasks reached the end of input: committing');
      this.broadcast({ type: 'checkpoint-complete', jobId: this.jobId, attempt: this.attempt, checkpointId: FINAL_CHECKPOINT_ID });
    }
  }

  private onFailure(reason: string): void {
    this.log.warn({ event: 'job.failure', reason, attempt: this.attempt }, reason);
    this.status.transition('FAILING');
    this.broadcast({ type: 'cancel', jobId: this.jobId, attempt: this.attempt });
    const delay = restartDelay(this.config.restart, this.restarts);
    if (delay === undefined) { this.fail(reason); return; }
    this.restarts++;
    this.status.transition('RESTARTING');
    this.failureCode = undefined;
    // Like Flink, the new attempt starts only once every task of the failed one has stopped: a task still
    // running (e.g. committing a checkpoint) must not race the new attempt's restore on the same files.
    const restartAt = Date.now() + delay;
    this.restartTimer = setTimeout(() => void this.whenAttemptStopped(restartAt + 10_000).then(() => {
      this.restartTimer = undefined;
      if (this.status.status !== 'RESTARTING') return;
      void this.checkpoints.latestIntact().then((c) => {
        if (this.status.status !== 'RESTARTING') return;
        if (c) {
          this.restore = { checkpointId: c.id, metadataPath: c.metadataPath };
          this.checkpoints.restoredCheckpoint(c.id, c.metadataPath);
          this.log.info({ event: 'job.restore', checkpointId: c.id }, `restarting from checkpoint ${c.id}`);
        } else {
          this.restore = this.initialRestore; // the savepoint it started from, or the beginning
          if (this.restore) this.checkpoints.restoredCheckpoint(this.restore.checkpointId, this.restore.metadataPath);
        }
        this.attempt++;
        this.deploy();
      });
    }), delay);
  }

  /** Takes a savepoint into `dir`; resolves with it once complete. */
  savepoint(dir: string): Promise<CompletedCheckpoint> {
    if (this.status.status !== 'RUNNING') return Promise.reject(new RlinkError('RLINK_CONFIG', `job ${this.name} is ${this.status.status}: no savepoint`, { retriable: true }));
    return this.checkpoints.trigger(true, dir);
  }

  /**
   * Stop with a savepoint (Flink's `stop`): the savepoint is taken, then the job ends FINISHED. With
   * `drain`, the sources then end their input, so every window fires and every sink commits; without,
   * the tasks stop at once and the savepoint holds the open windows (sinks commit what it prepared when
   * a job resumes from it).
   */
  async stopWithSavepoint(dir: string, drain: boolean): Promise<CompletedCheckpoint> {
    const sp = await this.savepoint(dir);
    if (this.status.status !== 'RUNNING') return sp;
    this.stopping = true;
    if (drain) this.broadcast({ type: 'end-input', jobId: this.jobId, attempt: this.attempt });
    else {
      this.status.transition('CANCELLING');
      this.broadcast({ type: 'cancel', jobId: this.jobId, attempt: this.attempt });
    }
    return sp;
  }

  /** A task manager is gone (socket lost, heartbeats missed): the subtasks it ran failed. */
  taskManagerLost(taskManagerId: string, reason: string): void {
    if (!this.placement.some((p) => p.taskManagerId === taskManagerId)) return;
    // Its subtasks are gone with it: they count as ended when the restart waits for the attempt to stop.
    for (const [id, tm] of this.subtaskLocations()) if (tm === taskManagerId && !ENDED.has(this.states.get(id)!)) this.states.set(id, 'FAILED');
    if (this.status.status === 'RUNNING') this.onFailure(`task manager ${taskManagerId} lost: ${reason}`);
    else if (this.status.status === 'CANCELLING') this.finish('CANCELED');
  }

  cancel(): void {
    if (this.status.terminal || this.status.status === 'CANCELLING') return;
    if (this.restartTimer) { clearTimeout(this.restartTimer); this.restartTimer = undefined; }
    if (this.status.status === 'RESTARTING' || this.status.status === 'CREATED') { this.status.transition('CANCELLING'); this.finish('CANCELED'); return; }
    if (this.status.status === 'FAILING') return;
    this.status.transition('CANCELLING');
    this.broadcast({ type: 'cancel', jobId: this.jobId, attempt: this.attempt });
    if ([...this.states.values()].every((s) => s !== 'RUNNING' && s !== 'DEPLOYING')) this.finish('CANCELED');
  }

  private fail(reason: string): void {
    this.failure = reason;
    if (this.status.status === 'CREATED' || this.status.status === 'FAILING' || this.status.status === 'RESTARTING') this.status.transition('FAILED');
    else if (this.status.can('FAILING')) { this.status.transition('FAILING'); this.status.transition('FAILED'); }
    this.complete();
  }

  private finish(s: 'FINISHED' | 'CANCELED'): void {
    this.status.transition(s);
    this.complete();
  }

  /** All tasks stopped after a cancel: CANCELED, or FINISHED when it was a stop with a savepoint. */
  private finishCancelled(): void {
    this.finish(this.stopping ? 'FINISHED' : 'CANCELED');
  }

  private complete(): void {
    this.checkpoints.stop(`job ${this.status.status}`);
    this.endTime = Date.now();
    const r: JobResult = { jobId: this.jobId, name: this.name, status: this.status.status, restarts: this.restarts, durationMs: this.endTime - this.startTime };
    if (this.failure !== undefined) { r.error = this.failure; r.errorCode = this.failureCode ?? 'RLINK_TASK_FAILED'; }
    this.resolveDone(r);
  }

  private broadcast(msg: JobManagerToTaskManager): void {
    for (const p of this.placement) this.cluster.send(p.taskManagerId, msg);
  }

  /** The current attempt's subtask states, by subtask id (`vertex[index]`). */
  subtaskStates(): ReadonlyMap<string, TaskState> { return this.states; }

  /** Which task manager runs each subtask of the current attempt. */
  subtaskLocations(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of this.placement) for (const a of p.assignments) for (const s of a.subtasks) out.set(subtaskId(s.vertex, s.index), p.taskManagerId);
    return out;
  }

  /** Slots this job holds per task manager (for free-slot accounting). */
  slotsInUse(): Map<string, number> {
    return new Map(this.placement.map((p) => [p.taskManagerId, p.assignments.length]));
  }

  overview(): JobOverview {
    const tasks: Record<string, number> = {};
    for (const s of this.states.values()) tasks[s] = (tasks[s] ?? 0) + 1;
    const end = this.endTime;
    const o: JobOverview = {
      jid: this.jobId, name: this.name, state: this.status.status, 'start-time': this.startTime, 'end-time': end,
      duration: (end > 0 ? end : Date.now()) - this.startTime, attempt: this.attempt, restarts: this.restarts, tasks,
    };
    if (this.failure !== undefined) { o.error = this.failure; o.errorCode = this.failureCode ?? 'RLINK_TASK_FAILED'; }
    return o;
  }

  /** The stream graph as JSON (for REST and the dashboard). */
  graphJson(): StreamGraphJson { return this.graph.toJSON(); }
}

export function newJobId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

const ENDED: ReadonlySet<TaskState | undefined> = new Set<TaskState | undefined>(['FINISHED', 'CANCELED', 'FAILED']);

function isDirectory(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}
