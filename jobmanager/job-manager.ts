import type { AppDefinition } from '../core/api/app';
import type { Props } from '../core/api/props';
import type { AppRef, JobManagerToTaskManager, MemoryReport, TaskManagerToJobManager } from '../core/protocol/control-messages';
import { PROTOCOL_VERSION, slotCountProblem } from '../core/protocol/control-messages';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import { JobMaster, newJobId, type JobOverview } from './job-master';
import type { JobStatus } from './job-status';
import type { SlotOffer } from './scheduler';
import { buildJob, type BuiltJob } from './build/built-job';
import { GraphBuilder } from './build/graph-builder';
import { readFile } from 'node:fs/promises';
import { Props as PropsClass } from '../core/api/props';
import { SYSTEM_PROPERTIES } from '../core/config/system-properties';
import { MEMORY_JOB_STORE, type JobRecord, type JobStore } from './ha/job-store';

export { prepareProperties } from './build/built-job';

/** Ended jobs the job manager remembers for REST (older ones are forgotten). */
export const MAX_FINISHED_JOBS = 100;

interface RegisteredTaskManager {
  id: string;
  slots: number;
  /** Where other task managers reach its data (shuffle) server, e.g. ws://10.0.0.5:40123. */
  dataAddress?: string;
  send: (msg: JobManagerToTaskManager) => void;
  registeredAt: number;
  lastHeartbeat: number;
  /** The memory its latest heartbeat reported. */
  memory?: MemoryReport;
}

/** A registered task manager as REST shows it (Flink's /taskmanagers). */
export interface TaskManagerInfo {
  id: string;
  slotsNumber: number;
  freeSlots: number;
  dataAddress: string | null;
  timeSinceLastHeartbeat: number;
  registeredAt: number;
  /** Its memory as its latest heartbeat reported it (bytes); null before the first such heartbeat. */
  memory: MemoryReport | null;
}

export interface JobManagerOptions {
  /** Cluster defaults for system properties (a job's own value wins), as Flink's flink-conf.yaml. */
  defaultProperties?: Record<string, string>;
  onJobStatus?(jobId: string, status: JobStatus): void;
  /** Where job records go (HA); default: memory only. */
  store?: JobStore;
  /** The leader epoch, sent to task managers at registration (0 without HA). */
  leaderEpoch?(): number;
  /** This job manager's id, sent at registration. */
  id?: string;
  /** Builds submitted bundles off the event loop; default: a GraphBuilder with the cluster's job.build.timeout. */
  builder?: GraphBuilder;
}

/** What a submission says beyond the built job. */
export interface SubmitOptions { jobId?: string; bundleHash?: string | null; applicationId?: string | null }

/**
 * The job manager: registered task managers and their slots, and one {@link JobMaster} per job.
 * Transport-agnostic: the embedded cluster connects task managers in memory; the daemon connects
 * them over WebSocket, after checking every message against its schema. Every message from a task
 * manager enters through the handler {@link connect} returns. Jobs do not share slots: a job whose
 * slots are held by other jobs waits for them (Flink's behaviour).
 */
export class JobManager {
  private readonly taskManagers = new Map<string, RegisteredTaskManager>();
  readonly jobs = new Map<string, JobMaster>();
  private readonly log: Logger;
  readonly id: string;
  private readonly store: JobStore;
  private builderInstance: GraphBuilder | undefined;

  constructor(private readonly logger: Logger, private readonly opts: JobManagerOptions = {}) {
    this.log = logger.child({ component: 'jobmanager' });
    this.id = opts.id ?? `jm-${newJobId().slice(0, 8)}`;
    this.store = opts.store ?? MEMORY_JOB_STORE;
  }

  private get builder(): GraphBuilder {
    this.builderInstance ??= this.opts.builder ?? new GraphBuilder({ logger: this.logger, timeoutMs: buildTimeout(this.defaultProperties) });
    return this.builderInstance;
  }

  get defaultProperties(): Record<string, string> { return this.opts.defaultProperties ?? {}; }

  /** Connects a task manager's outbound channel; its `register` message completes the registration. */
  connect(taskManagerId: string, send: (msg: JobManagerToTaskManager) => void): (msg: TaskManagerToJobManager) => void {
    return (msg) => this.handle(taskManagerId, send, msg);
  }

  private handle(tmId: string, send: (msg: JobManagerToTaskManager) => void, msg: TaskManagerToJobManager): void {
    if (msg.type === 'register') {
      if (msg.version !== PROTOCOL_VERSION) {
        this.log.warn({ event: 'taskmanager.rejected', taskManager: tmId, version: msg.version }, `task manager ${tmId} speaks protocol ${msg.version}, expected ${PROTOCOL_VERSION}`);
        return;
      }
      const problem = slotCountProblem(msg.slots);
      if (problem) { this.log.warn({ event: 'taskmanager.rejected', taskManager: tmId, slots: msg.slots }, `task manager ${tmId} refused: ${problem}`); return; }
      const now = Date.now();
      const tm: RegisteredTaskManager = { id: tmId, slots: msg.slots, send, registeredAt: now, lastHeartbeat: now };
      if (msg.dataAddress !== undefined) tm.dataAddress = msg.dataAddress;
      this.taskManagers.set(tmId, tm);
      this.log.info({ event: 'taskmanager.registered', taskManager: tmId, slots: msg.slots }, `task manager ${tmId} registered with ${msg.slots} slots`);
      send({ type: 'registered', leaderEpoch: this.opts.leaderEpoch?.() ?? 0, jobManagerId: this.id });
      this.slotsChanged();
      return;
    }
    const tm = this.taskManagers.get(tmId);
    if (!tm) return; // not (or no longer) registered
    if (msg.type === 'heartbeat') {
      // Only heartbeats count: a task manager whose heartbeat loop is stuck is lost even if its
      // slots still report (Flink's HeartbeatManager works the same way).
      tm.lastHeartbeat = Date.now();
      if (msg.memory) tm.memory = msg.memory;
      return;
    }
    const job = this.jobs.get(msg.jobId);
    if (job) job.handle(msg, tmId);
  }

  /** Free slot indexes per task manager, leaving out those held by other unfinished jobs. */
  private offersFor(jobId: string | undefined): SlotOffer[] {
    const held = new Map<string, Set<number>>();
    for (const j of this.jobs.values()) {
      if (j.jobId === jobId) continue;
      for (const [tm, slots] of j.slotsHeld()) {
        const set = held.get(tm) ?? new Set<number>();
        for (const s of slots) set.add(s);
        held.set(tm, set);
      }
    }
    return [...this.taskManagers.values()].map((t) => {
      const taken = held.get(t.id);
      const free: number[] = [];
      for (let i = 0; i < t.slots; i++) if (!taken?.has(i)) free.push(i);
      return { taskManagerId: t.id, slots: free };
    });
  }

  /** Registered task managers, for REST. */
  taskManagerList(): TaskManagerInfo[] {
    const now = Date.now();
    const free = new Map(this.offersFor(undefined).map((o) => [o.taskManagerId, o.slots.length]));
    return [...this.taskManagers.values()].map((t) => ({
      id: t.id, slotsNumber: t.slots, freeSlots: free.get(t.id) ?? 0, dataAddress: t.dataAddress ?? null,
      timeSinceLastHeartbeat: now - t.lastHeartbeat, registeredAt: t.registeredAt, memory: t.memory ?? null,
    }));
  }

  /** A task manager left (socket closed, heartbeats missed): forget it and fail what ran there. */
  taskManagerLost(taskManagerId: string, reason: string): void {
    if (!this.taskManagers.delete(taskManagerId)) return;
    this.log.warn({ event: 'taskmanager.lost', taskManager: taskManagerId, reason }, `task manager ${taskManagerId} lost: ${reason}`);
    for (const job of this.jobs.values()) if (!job.status.terminal) job.taskManagerLost(taskManagerId, reason);
  }

  /** Task managers whose last heartbeat is older than `timeoutMs`. */
  silentTaskManagers(timeoutMs: number): string[] {
    const now = Date.now();
    return [...this.taskManagers.values()].filter((t) => now - t.lastHeartbeat > timeoutMs).map((t) => t.id);
  }

  has(taskManagerId: string): boolean { return this.taskManagers.has(taskManagerId); }

  /** Builds an app in this thread and starts it (the embedded cluster and trusted callers). */
  submit(app: AppDefinition, appRef: AppRef, props: Props, jobId = newJobId(), opts: { prepared?: boolean } = {}): JobMaster {
    return this.submitBuilt(buildJob(app, props.toJSON(), { defaults: this.defaultProperties, prepared: opts.prepared ?? false }), appRef, { jobId });
  }

  /**
   * Builds a stored bundle with its arguments in a worker thread (job.build.timeout), keeps the bundle
   * in the metadata storage when there is one (HA), and starts the job.
   */
  async submitBundle(bundle: { path: string; hash: string; applicationId?: string }, args: Record<string, string>): Promise<JobMaster> {
    const built = await this.builder.build({ bundlePath: bundle.path, displayName: bundle.applicationId ?? bundle.path, args, defaults: this.defaultProperties, prepared: false });
    if (this.store.durable) await this.store.saveBundle(bundle.hash, await readFile(bundle.path));
    return this.submitBuilt(built, { kind: 'bundle', path: bundle.path, hash: bundle.hash }, { bundleHash: bundle.hash, applicationId: bundle.applicationId ?? null });
  }

  /** Starts a job that is built already (the daemon builds bundles in a worker thread). */
  submitBuilt(built: BuiltJob, appRef: AppRef, opts: SubmitOptions = {}): JobMaster {
    const jobId = opts.jobId ?? newJobId();
    if (this.jobs.has(jobId)) throw new RlinkError('RLINK_WRONG_STATE', `a job with id ${jobId} exists already`);
    return this.startMaster(new JobMaster(jobId, built, appRef, this.clusterViewFor(jobId), this.masterOptions({ bundleHash: opts.bundleHash ?? null, applicationId: opts.applicationId ?? null })));
  }

  /** Takes over a job a previous leader ran, from its record: it resumes from its latest completed checkpoint. */
  recover(rec: JobRecord, appRef: AppRef): JobMaster {
    return this.startMaster(new JobMaster(rec.jobId, rec.built, appRef, this.clusterViewFor(rec.jobId),
      this.masterOptions({ recovered: rec, bundleHash: rec.bundleHash, applicationId: rec.applicationId })));
  }

  private masterOptions(extra: { recovered?: JobRecord; bundleHash: string | null; applicationId: string | null }): ConstructorParameters<typeof JobMaster>[4] {
    return {
      logger: this.log, onStatus: (id, s) => this.onJobStatus(id, s), ...extra,
      ...(this.store.durable ? { persist: (r: JobRecord) => this.store.saveJob(r) } : {}),
      leaderEpoch: () => this.opts.leaderEpoch?.() ?? 0,
    };
  }

  private clusterViewFor(jobId: string): ConstructorParameters<typeof JobMaster>[3] {
    return {
      offers: () => this.offersFor(jobId),
      capacity: () => this.slotsTotal,
      dataAddress: (id) => this.taskManagers.get(id)?.dataAddress,
      send: (tmId, m) => this.taskManagers.get(tmId)?.send(m),
    };
  }

  private startMaster(master: JobMaster): JobMaster {
    this.jobs.set(master.jobId, master);
    master.start();
    void master.result().then(() => { this.evictFinished(); this.slotsChanged(); });
    return master;
  }

  private onJobStatus(jobId: string, s: JobStatus): void {
    this.opts.onJobStatus?.(jobId, s);
  }

  /** Slots were freed or added: jobs waiting for slots look again, oldest first. */
  private slotsChanged(): void {
    for (const j of [...this.jobs.values()].sort((a, b) => a.startTime - b.startTime)) if (j.waitingForSlots) j.slotsChanged();
  }

  /** Keeps the newest MAX_FINISHED_JOBS ended jobs (Flink's job history is bounded the same way). */
  private evictFinished(): void {
    const ended = [...this.jobs.values()].filter((j) => j.status.terminal).sort((a, b) => a.endTime - b.endTime);
    for (const j of ended.slice(0, Math.max(0, ended.length - MAX_FINISHED_JOBS))) {
      this.jobs.delete(j.jobId);
      if (this.store.durable) this.store.removeJob(j.jobId).catch((e: unknown) => this.log.warn({ event: 'job.unpersist-failed', job: j.jobId, err: errorMessage(e) }, `cannot remove job ${j.jobId}'s record: ${errorMessage(e)}`));
    }
  }

  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) throw new RlinkError('RLINK_NOT_FOUND', `no job ${jobId}`);
    job.cancel();
  }

  /** Leadership lost: every job is suspended (the new leader recovers them), task managers forgotten. */
  suspendAll(): void {
    for (const j of this.jobs.values()) j.suspend();
    this.jobs.clear();
    this.taskManagers.clear();
  }

  overview(): { taskmanagers: number; 'slots-total': number; jobs: JobOverview[] } {
    return {
      taskmanagers: this.taskManagers.size,
      'slots-total': this.slotsTotal,
      jobs: [...this.jobs.values()].map((j) => j.overview()),
    };
  }

  get slotsTotal(): number { return [...this.taskManagers.values()].reduce((a, t) => a + t.slots, 0); }
}

/** job.build.timeout from the cluster defaults (a job cannot raise its own limit). */
function buildTimeout(defaults: Record<string, string>): number {
  return new PropsClass(defaults).getDuration('job.build.timeout', SYSTEM_PROPERTIES['job.build.timeout'].default);
}
