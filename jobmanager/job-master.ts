import { Props } from '../core/api/props';
import type { StreamGraphJson } from '../core/graph/stream-graph';
import type { JobGraph } from '../core/graph/job-graph';
import { allSubtasks, subtaskId } from '../core/graph/execution-graph';
import { compileJobConfig, type JobConfig } from '../core/config/system-properties';
import type { AppRef, JobManagerToTaskManager, SubtaskMetrics, SubtaskRef, TaskManagerToJobManager } from '../core/protocol/control-messages';
import type { TaskState } from '../core/runtime/task';
import { FINAL_CHECKPOINT_ID } from '../core/runtime/task';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import { JobStatusMachine, type JobStatus } from './job-status';
import { schedule, slotsNeeded, type SlotOffer, type Placement } from './scheduler';
import { restartDelay } from './restart-strategy';
import { CheckpointCoordinator, type CompletedCheckpoint } from './checkpoint-coordinator';
import { MetricRates } from './metric-rates';
import { readCheckpointMetadata, METADATA_FILE } from '../core/protocol/checkpoint-metadata';
import { LocalCheckpointStorage, checkpointStorageFor, ensurePrivateDefaultCheckpointDir, type CheckpointStorage } from '../core/fs/checkpoint-storage';
import type { BuiltJob } from './build/built-job';
import { JOB_RECORD_VERSION, type JobRecord } from './ha/job-store';
import { basename, join } from 'node:path';
import { statSync } from 'node:fs';

/** What the job master needs from the cluster around it. */
export interface ClusterView {
  /** The slots this job may take now: free ones, and the ones it holds itself (a restart reuses them). */
  offers(): SlotOffer[];
  /** Every slot registered, free or held by other jobs. */
  capacity(): number;
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

/** A failure of one of the job's attempts (the dashboard's and REST's exception history). */
export interface JobException { attempt: number; timestamp: number; message: string; code: string; task?: string; taskManager?: string }

export interface JobMasterOptions {
  logger: Logger;
  onStatus?(jobId: string, s: JobStatus): void;
  /** Persists the job's record (HA); the job master calls it on every change that matters to a recovery. */
  persist?(rec: JobRecord): Promise<void>;
  /** The record of a job a previous leader ran: the job resumes from its latest completed checkpoint. */
  recovered?: JobRecord;
  /** The stored bundle's content hash and application, for the record. */
  bundleHash?: string | null;
  applicationId?: string | null;
  leaderEpoch?: () => number;
}

/**
 * Runs one job: places it on slots (waiting while other jobs hold them), deploys each attempt,
 * follows its subtasks, coordinates the final checkpoint (every sink commits only once all subtasks
 * consumed all input), and restarts it by the restart strategy when a subtask fails. Only messages of
 * the current attempt, about a subtask of the job placed on the task manager that sends them, count.
 * With a persisting job manager (HA), every change a recovery needs is written to its record.
 */
export class JobMaster {
  readonly status: JobStatusMachine;
  readonly job: JobGraph;
  readonly config: JobConfig;
  readonly props: Props;
  attempt = 0;
  restarts = 0;
  readonly startTime: number;
  endTime = -1;
  private failure: string | undefined;
  /** The error code of the first task failure of the attempt that failed the job. */
  private failureCode: string | undefined;
  private placement: Placement[] = [];
  /** Where each subtask of the current attempt runs: subtask id → task manager. */
  private locations = new Map<string, string>();
  private readonly states = new Map<string, TaskState>();
  private readonly finalReady = new Set<string>();
  readonly metrics = new Map<string, SubtaskMetrics>();
  /** Per-second rates of the subtasks, from their reports (REST, the dashboard, Prometheus). */
  readonly rates = new MetricRates();
  readonly exceptions: JobException[] = [];
  private readonly done: Promise<JobResult>;
  private resolveDone!: (r: JobResult) => void;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Waiting for slots: since when, and the timer of the next look. */
  private waiting: { since: number; timer: NodeJS.Timeout | undefined; logged: boolean } | undefined;
  private readonly log: Logger;
  readonly checkpoints: CheckpointCoordinator;
  /** What the next deployment restores from. */
  private restore: { checkpointId: number; metadataPath: string } | undefined;
  /** The savepoint the job was started from (execution.savepoint.path), if any. */
  private initialRestore: { checkpointId: number; metadataPath: string } | undefined;
  /** Stopped with a savepoint: the cancelled tasks end the job FINISHED, not CANCELED. */
  private stopping = false;
  /** Suspended: a new leader took the job over; this master neither acts nor persists any more. */
  private suspended = false;
  private readonly nodeKinds: Map<string, string>;

  constructor(
    readonly jobId: string,
    readonly built: BuiltJob,
    readonly appRef: AppRef,
    private readonly cluster: ClusterView,
    private readonly opts: JobMasterOptions,
  ) {
    this.log = opts.logger.child({ job: jobId });
    this.props = new Props(built.props);
    this.config = compileJobConfig(this.props);
    this.job = built.job;
    this.nodeKinds = new Map(built.graph.nodes.map((n) => [n.id, n.kind]));
    const rec = opts.recovered;
    this.startTime = rec?.startTime ?? Date.now();
    this.status = new JobStatusMachine((s) => {
      this.log.info({ event: 'job.status', status: s, attempt: this.attempt }, `job ${this.name} ${s}`);
      opts.onStatus?.(jobId, s);
      this.persist();
    });
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.checkpoints = new CheckpointCoordinator({
      jobId, jobName: this.name, job: this.job, logger: opts.logger,
      baseDir: this.config.checkpointDir ?? ensurePrivateDefaultCheckpointDir(),
      intervalMs: this.config.checkpointIntervalMs,
      trigger: (c) => this.broadcast({ type: 'trigger-checkpoint', jobId, attempt: this.attempt, ...c }),
      notifyComplete: (id) => this.broadcast({ type: 'checkpoint-complete', jobId, attempt: this.attempt, checkpointId: id }),
      canTrigger: () => this.status.status === 'RUNNING' && this.states.size > 0 && [...this.states.values()].every((s) => s === 'RUNNING'),
      storageFor: (path) => this.checkpointStorage(path),
      ...(opts.persist ? { beforeNotify: (c: CompletedCheckpoint) => this.persistNow({ completedNow: c }) } : {}),
    });
    if (rec) {
      // A new leader's view: the next attempt, the checkpoints the old leader completed.
      this.attempt = rec.attempt + 1;
      this.restarts = rec.restarts;
      this.initialRestore = rec.initialRestore ?? undefined;
      this.checkpoints.recover(rec.checkpoints);
    }
  }

  /** The storage of a checkpoint or savepoint path: local, or hdfs:// (WebHDFS address from checkpoint.webhdfs or RLINK_WEBHDFS). */
  private checkpointStorage(path: string): CheckpointStorage {
    return checkpointStorageFor(path, process.env, this.built.props);
  }

  get name(): string { return this.built.name; }
  result(): Promise<JobResult> { return this.done; }

  /** The kind of a stream node ('source', 'sink', …). */
  nodeKind(nodeId: string): string | undefined { return this.nodeKinds.get(nodeId); }

  start(): void {
    this.persist();
    const ready = this.opts.recovered ? this.prepareRecovery() : this.prepare();
    void ready.then(() => this.deploy(), (e: unknown) => this.fail(errorMessage(e), e instanceof RlinkError ? e.code : undefined));
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
    const ours = new Set(this.nodeKinds.keys());
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

  /** A recovered job resumes from its newest intact checkpoint (else the savepoint it started from, else the beginning). */
  private async prepareRecovery(): Promise<void> {
    await this.chooseRestore();
    this.log.info({ event: 'job.recovered', attempt: this.attempt, checkpointId: this.restore?.checkpointId ?? null },
      `job ${this.name} recovered from the metadata storage: ${this.restore ? `resuming from checkpoint ${this.restore.checkpointId}` : 'starting over'}`);
  }

  private async chooseRestore(): Promise<void> {
    const c = await this.checkpoints.latestIntact();
    if (c) {
      this.restore = { checkpointId: c.id, metadataPath: c.metadataPath };
      this.checkpoints.restoredCheckpoint(c.id, c.metadataPath);
      this.log.info({ event: 'job.restore', checkpointId: c.id }, `restoring from checkpoint ${c.id}`);
    } else {
      this.restore = this.initialRestore; // the savepoint it started from, or the beginning
      if (this.restore) this.checkpoints.restoredCheckpoint(this.restore.checkpointId, this.restore.metadataPath);
    }
  }

  /**
   * Places and deploys the current attempt. With too few free slots: a job whose slots other jobs hold
   * (or a recovered one, whose task managers are coming back) waits for them up to
   * slot.request.timeout, looking again whenever the cluster's slots change; a new job the whole
   * cluster is too small for fails at once; a restarting one retries by its restart strategy.
   */
  private deploy(): void {
    if (this.suspended || this.status.terminal) return;
    const offers = this.cluster.offers();
    let placement: Placement[];
    try {
      placement = schedule(this.job, offers);
    } catch (e) {
      const needed = slotsNeeded(this.job);
      const free = offers.reduce((n, o) => n + o.slots.length, 0);
      const capacity = this.cluster.capacity();
      if (capacity >= needed || this.opts.recovered) { this.waitForSlots(needed, free, capacity); return; }
      const delay = this.status.status === 'RESTARTING' ? restartDelay(this.config.restart, this.restarts) : undefined;
      if (delay === undefined) { this.fail(errorMessage(e), 'RLINK_GRAPH'); return; }
      this.restarts++;
      this.log.warn({ event: 'job.no-slots', reason: errorMessage(e), retryInMs: delay }, `${errorMessage(e)}: retrying in ${delay} ms`);
      this.restartTimer = setTimeout(() => { this.restartTimer = undefined; if (this.status.status === 'RESTARTING') { this.attempt++; this.deploy(); } }, delay);
      return;
    }
    this.stopWaiting();
    this.placement = placement;
    this.locations = this.subtaskLocations();
    this.states.clear();
    this.finalReady.clear();
    for (const s of allSubtasks(this.job)) this.states.set(subtaskId(s.vertex, s.index), 'DEPLOYING');
    this.status.transition('RUNNING');
    this.persist(); // the attempt number, before any task of it runs
    for (const p of this.placement) {
      this.cluster.send(p.taskManagerId, {
        type: 'deploy', jobId: this.jobId, attempt: this.attempt, app: this.appRef, props: this.built.props, slots: p.assignments,
        jobGraph: this.job, graphFingerprint: this.built.fingerprint, placement: this.placement, batchSize: this.config.batchSize,
        ...(this.restore ? { restore: this.restore } : {}),
        dataAddresses: Object.fromEntries(this.placement.map((x) => [x.taskManagerId, this.cluster.dataAddress(x.taskManagerId) ?? ''])),
      });
    }
  }

  private waitForSlots(needed: number, free: number, capacity: number): void {
    const now = Date.now();
    this.waiting ??= { since: now, timer: undefined, logged: false };
    const timeout = this.config.slotRequestTimeoutMs;
    if (now - this.waiting.since >= timeout) {
      this.stopWaiting();
      this.fail(`job '${this.name}' waited ${timeout} ms (slot.request.timeout) for ${needed} free slots: ${free} of the cluster's ${capacity} are free, the others are held by other jobs`, 'RLINK_GRAPH');
      return;
    }
    if (!this.waiting.logged) {
      this.waiting.logged = true;
      this.log.info({ event: 'job.waiting-for-slots', needed, free, capacity }, `job ${this.name} waits for ${needed} free slots (${free} of ${capacity} free now; at most ${timeout} ms)`);
    }
    if (this.waiting.timer) clearTimeout(this.waiting.timer);
    this.waiting.timer = setTimeout(() => { if (this.waiting) { this.waiting.timer = undefined; this.deploy(); } }, Math.min(1000, timeout - (now - this.waiting.since)));
  }

  private stopWaiting(): void {
    if (this.waiting?.timer) clearTimeout(this.waiting.timer);
    this.waiting = undefined;
  }

  /** True while the job waits for slots (queued behind other jobs, or for task managers after a failover). */
  get waitingForSlots(): boolean { return this.waiting !== undefined; }

  /** The cluster's slots changed (a task manager registered, a job ended): a waiting job looks again. */
  slotsChanged(): void {
    if (this.waiting && !this.status.terminal) this.deploy();
  }

  /**
   * A message of a task manager about this job. It counts only when it is of the current attempt and
   * about a subtask of the job that runs on that task manager; anything else is logged and dropped.
   */
  handle(msg: Exclude<TaskManagerToJobManager, { type: 'register' | 'heartbeat' }>, fromTaskManager?: string): void {
    if (this.suspended || msg.attempt !== this.attempt) return; // a message of an attempt already replaced
    if (msg.type === 'metrics') {
      for (const t of msg.tasks) {
        if (!this.owns(t.subtask, fromTaskManager)) continue;
        const id = subtaskId(t.subtask.vertex, t.subtask.index);
        this.metrics.set(id, t);
        this.rates.record(id, t.metrics);
      }
      return;
    }
    if (!this.owns(msg.subtask, fromTaskManager)) {
      this.log.warn({ event: 'job.foreign-message', type: msg.type, subtask: msg.subtask, from: fromTaskManager }, `ignoring ${msg.type} about ${subtaskId(msg.subtask.vertex, msg.subtask.index)} from ${fromTaskManager ?? '?'}: not a subtask of this job running there`);
      return;
    }
    switch (msg.type) {
      case 'task-state':
        if (msg.state === 'FAILED' && msg.error && this.failureCode === undefined) this.failureCode = msg.error.code;
        this.onTaskState(msg.subtask, msg.state, msg.error);
        break;
      case 'final-ready': this.onFinalReady(msg.subtask); break;
      case 'checkpoint-ack': this.checkpoints.acknowledge(msg.checkpointId, msg.subtask, msg.path, msg.bytes); break;
      case 'checkpoint-declined': this.checkpoints.decline(msg.checkpointId, msg.subtask, msg.reason); break;
      default: break;
    }
  }

  /** Whether `ref` is a subtask of the current attempt placed on `tm` (any task manager when unknown: in memory). */
  private owns(ref: SubtaskRef, tm: string | undefined): boolean {
    const at = this.locations.get(subtaskId(ref.vertex, ref.index));
    return at !== undefined && (tm === undefined || at === tm);
  }

  private onTaskState(ref: SubtaskRef, state: TaskState, error?: { code: string; message: string }): void {
    const id = subtaskId(ref.vertex, ref.index);
    this.states.set(id, state);
    if (state === 'RUNNING' && this.status.status === 'RUNNING' && [...this.states.values()].every((s) => s === 'RUNNING')) this.checkpoints.start();
    if (state !== 'RUNNING') this.checkpoints.stop(`task ${id} is ${state}`);
    const m = this.metrics.get(id);
    if (m) m.state = state;
    if (state === 'FAILED' && this.status.status === 'RUNNING') {
      const reason = `task ${this.taskName(ref)} failed: ${error?.message ?? 'unknown error'}`;
      // A build that differs between job manager and task manager cannot get better by restarting.
      this.onFailure(reason, error?.code ?? 'RLINK_TASK_FAILED', this.taskName(ref), error?.code === 'RLINK_NONDETERMINISTIC_GRAPH', this.locations.get(id));
    } else if (state === 'FINISHED' && this.status.status === 'RUNNING' && [...this.states.values()].every((s) => s === 'FINISHED')) this.finish('FINISHED');
    else if (this.status.status === 'CANCELLING' && [...this.states.values()].every((s) => ENDED.has(s))) this.finishCancelled();
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

  private onFailure(reason: string, code: string, task?: string, final = false, taskManager?: string): void {
    this.log.warn({ event: 'job.failure', reason, attempt: this.attempt }, reason);
    this.exceptions.push({ attempt: this.attempt, timestamp: Date.now(), message: reason, code, ...(task ? { task } : {}), ...(taskManager ? { taskManager } : {}) });
    if (this.exceptions.length > 100) this.exceptions.shift();
    this.status.transition('FAILING');
    this.broadcast({ type: 'cancel', jobId: this.jobId, attempt: this.attempt });
    const delay = final ? undefined : restartDelay(this.config.restart, this.restarts);
    if (delay === undefined) { this.fail(reason); return; }
    this.restarts++;
    this.status.transition('RESTARTING');
    this.failureCode = undefined;
    // Like Flink, the new attempt starts only once every task of the failed one has stopped: a task still
    // running (e.g. committing a checkpoint) must not race the new attempt's restore on the same files.
    // A task that ignores the cancel is ended by its task manager's watchdog after task.cancellation.timeout.
    const restartAt = Date.now() + delay;
    const stopDeadline = restartAt + Math.max(10_000, this.config.cancellationTimeoutMs + 5_000);
    this.restartTimer = setTimeout(() => void this.whenAttemptStopped(stopDeadline).then(async () => {
      this.restartTimer = undefined;
      if (this.status.status !== 'RESTARTING') return;
      await this.chooseRestore();
      if (this.status.status !== 'RESTARTING') return;
      this.attempt++;
      this.deploy();
    }), delay);
  }

  /** Takes a savepoint into `dir`; resolves with it once complete. */
  savepoint(dir: string): Promise<CompletedCheckpoint> {
    if (this.status.status !== 'RUNNING') return Promise.reject(new RlinkError('RLINK_WRONG_STATE', `job ${this.name} is ${this.status.status}: no savepoint`, { retriable: true }));
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
    if (this.suspended || !this.placement.some((p) => p.taskManagerId === taskManagerId)) return;
    // Its subtasks are gone with it: they count as ended when the restart waits for the attempt to stop.
    for (const [id, tm] of this.locations) if (tm === taskManagerId && !ENDED.has(this.states.get(id))) this.states.set(id, 'FAILED');
    if (this.status.status === 'RUNNING') this.onFailure(`task manager ${taskManagerId} lost: ${reason}`, 'RLINK_TASK_FAILED', undefined, false, taskManagerId);
    else if (this.status.status === 'CANCELLING') this.finishCancelled();
  }

  cancel(): void {
    if (this.suspended || this.status.terminal || this.status.status === 'CANCELLING') return;
    if (this.restartTimer) { clearTimeout(this.restartTimer); this.restartTimer = undefined; }
    this.stopWaiting();
    if (this.status.status === 'RESTARTING' || this.status.status === 'CREATED') { this.status.transition('CANCELLING'); this.finish('CANCELED'); return; }
    if (this.status.status === 'FAILING') return;
    this.status.transition('CANCELLING');
    this.broadcast({ type: 'cancel', jobId: this.jobId, attempt: this.attempt });
    if ([...this.states.values()].every((s) => ENDED.has(s))) this.finish('CANCELED');
  }

  /**
   * Leadership lost (Flink's SUSPENDED): stop acting on this job without a word to the task managers
   * or the metadata storage; the new leader recovers it. The result promise never settles.
   */
  suspend(): void {
    if (this.suspended) return;
    this.suspended = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopWaiting();
    this.checkpoints.stop('leadership lost');
    this.log.warn({ event: 'job.suspended', attempt: this.attempt }, `job ${this.name} suspended: another job manager leads it now`);
  }

  private fail(reason: string, code?: string): void {
    this.failure = reason;
    if (code !== undefined && this.failureCode === undefined) this.failureCode = code;
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
    this.persist();
    const r: JobResult = { jobId: this.jobId, name: this.name, status: this.status.status, restarts: this.restarts, durationMs: this.endTime - this.startTime };
    if (this.failure !== undefined) { r.error = this.failure; r.errorCode = this.failureCode ?? 'RLINK_TASK_FAILED'; }
    this.resolveDone(r);
  }

  private broadcast(msg: JobManagerToTaskManager): void {
    if (this.suspended) return;
    for (const p of this.placement) this.cluster.send(p.taskManagerId, msg);
  }

  /** The job's record for the metadata storage (HA). */
  record(extra: { completedNow?: CompletedCheckpoint } = {}): JobRecord {
    const completed = [...this.checkpoints.completed];
    if (extra.completedNow && !completed.includes(extra.completedNow)) completed.push(extra.completedNow);
    return {
      version: JOB_RECORD_VERSION, jobId: this.jobId, name: this.name, built: this.built,
      bundleHash: this.opts.bundleHash ?? null, applicationId: this.opts.applicationId ?? null,
      status: this.status.status, attempt: this.attempt, restarts: this.restarts, startTime: this.startTime, endTime: this.endTime,
      failure: this.failure === undefined ? null : { message: this.failure, code: this.failureCode ?? 'RLINK_TASK_FAILED' },
      initialRestore: this.initialRestore ?? null,
      checkpoints: {
        completed: completed.slice(-10),
        completedCount: this.checkpoints.completedCount + (extra.completedNow ? 1 : 0),
        restoredCount: this.checkpoints.restoredCount,
      },
      leaderEpoch: this.opts.leaderEpoch?.() ?? 0,
    };
  }

  /** Writes the record now; resolves once it is durable. */
  private persistNow(extra: { completedNow?: CompletedCheckpoint } = {}): Promise<void> {
    if (!this.opts.persist || this.suspended) return Promise.resolve();
    return this.opts.persist(this.record(extra));
  }

  /** Writes the record in the background (failures are logged: the next change writes it again). */
  private persist(): void {
    this.persistNow().catch((e: unknown) => this.log.error({ event: 'job.persist-failed', err: errorMessage(e) }, `cannot write job ${this.jobId}'s record to the metadata storage: ${errorMessage(e)}`));
  }

  /** The current attempt's subtask states, by subtask id (`vertex[index]`). */
  subtaskStates(): ReadonlyMap<string, TaskState> { return this.states; }

  /** Which task manager runs each subtask of the current attempt. */
  subtaskLocations(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of this.placement) for (const a of p.assignments) for (const s of a.subtasks) out.set(subtaskId(s.vertex, s.index), p.taskManagerId);
    return out;
  }

  /** Slots this job holds (while it has not ended), by task manager: their indexes. */
  slotsHeld(): Map<string, number[]> {
    if (this.status.terminal || this.suspended) return new Map();
    return new Map(this.placement.map((p) => [p.taskManagerId, p.assignments.map((a) => a.slot)]));
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
  graphJson(): StreamGraphJson { return this.built.graph; }
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
