import type { AppDefinition } from '../core/api/app';
import type { Props } from '../core/api/props';
import type { AppRef, JobManagerToTaskManager, TaskManagerToJobManager } from '../core/protocol/messages';
import { PROTOCOL_VERSION } from '../core/protocol/messages';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import { JobMaster, newJobId, type JobOverview } from './job-master';
import type { JobStatus } from './job-status';

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
}

/** A registered task manager as REST shows it (Flink's /taskmanagers). */
export interface TaskManagerInfo {
  id: string;
  slotsNumber: number;
  freeSlots: number;
  dataAddress: string | null;
  timeSinceLastHeartbeat: number;
  registeredAt: number;
}

export interface JobManagerEvents {
  onJobStatus?(jobId: string, status: JobStatus): void;
}

/**
 * The job manager: registered task managers and their slots, and one {@link JobMaster} per job.
 * Transport-agnostic: the embedded cluster connects task managers in memory; the daemon connects
 * them over WebSocket. Every message from a task manager enters through {@link handle}.
 */
export class JobManager {
  private readonly taskManagers = new Map<string, RegisteredTaskManager>();
  readonly jobs = new Map<string, JobMaster>();
  private readonly log: Logger;

  constructor(logger: Logger, private readonly events: JobManagerEvents = {}, private readonly defaultProperties: Record<string, string> = {}) {
    this.log = logger.child({ component: 'jobmanager' });
  }

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
      const now = Date.now();
      const tm: RegisteredTaskManager = { id: tmId, slots: msg.slots, send, registeredAt: now, lastHeartbeat: now };
      if (msg.dataAddress !== undefined) tm.dataAddress = msg.dataAddress;
      this.taskManagers.set(tmId, tm);
      this.log.info({ event: 'taskmanager.registered', taskManager: tmId, slots: msg.slots }, `task manager ${tmId} registered with ${msg.slots} slots`);
      return;
    }
    if (msg.type === 'heartbeat') {
      // Only heartbeats count: a task manager whose heartbeat loop is stuck is lost even if its
      // slots still report (Flink's HeartbeatManager works the same way).
      const tm = this.taskManagers.get(tmId);
      if (tm) tm.lastHeartbeat = Date.now();
      return;
    }
    const job = this.jobs.get(msg.jobId);
    if (job) job.handle(msg);
  }

  /** Registered task managers, for REST. */
  taskManagerList(): TaskManagerInfo[] {
    const now = Date.now();
    const used = new Map<string, number>();
    for (const j of this.jobs.values()) if (!j.status.terminal) for (const [tm, n] of j.slotsInUse()) used.set(tm, (used.get(tm) ?? 0) + n);
    return [...this.taskManagers.values()].map((t) => ({
      id: t.id, slotsNumber: t.slots, freeSlots: Math.max(0, t.slots - (used.get(t.id) ?? 0)), dataAddress: t.dataAddress ?? null,
      timeSinceLastHeartbeat: now - t.lastHeartbeat, registeredAt: t.registeredAt,
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

  /** Starts a job (props already prepared); returns its master. */
  submit(app: AppDefinition, appRef: AppRef, props: Props, jobId = newJobId()): JobMaster {
    if (this.jobs.has(jobId)) throw new RlinkError('RLINK_CONFIG', `a job with id ${jobId} exists already`);
    for (const [k, v] of Object.entries(this.defaultProperties)) if (!props.has(k)) props.set(k, v);
    prepareProperties(app, props);
    const master = new JobMaster(jobId, app, appRef, props, {
      // Slots held by other running jobs are not offered (this job's own are: a restart replaces them).
      offers: () => {
        const used = new Map<string, number>();
        for (const j of this.jobs.values()) {
          if (j.jobId === jobId || j.status.terminal) continue;
          for (const [tm, n] of j.slotsInUse()) used.set(tm, (used.get(tm) ?? 0) + n);
        }
        return [...this.taskManagers.values()].map((t) => ({ taskManagerId: t.id, slots: Math.max(0, t.slots - (used.get(t.id) ?? 0)) }));
      },
      dataAddress: (id) => this.taskManagers.get(id)?.dataAddress,
      send: (tmId, m) => this.taskManagers.get(tmId)?.send(m),
    }, this.log, (id, s) => this.events.onJobStatus?.(id, s));
    this.jobs.set(jobId, master);
    master.start();
    void master.result().then(() => this.evictFinished());
    return master;
  }

  /** Keeps the newest MAX_FINISHED_JOBS ended jobs (Flink's job history is bounded the same way). */
  private evictFinished(): void {
    const ended = [...this.jobs.values()].filter((j) => j.status.terminal).sort((a, b) => a.endTime - b.endTime);
    for (const j of ended.slice(0, Math.max(0, ended.length - MAX_FINISHED_JOBS))) this.jobs.delete(j.jobId);
  }

  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) throw new RlinkError('RLINK_CONFIG', `no job ${jobId}`);
    job.cancel();
  }

  overview(): { taskmanagers: number; 'slots-total': number; jobs: JobOverview[] } {
    return {
      taskmanagers: this.taskManagers.size,
      'slots-total': [...this.taskManagers.values()].reduce((a, t) => a + t.slots, 0),
      jobs: [...this.jobs.values()].map((j) => j.overview()),
    };
  }

  get slotsTotal(): number { return [...this.taskManagers.values()].reduce((a, t) => a + t.slots, 0); }
}

/** Runs the app's `prepareProperties` (once, on the job manager, before any graph is built). */
export function prepareProperties(app: AppDefinition, props: Props): void {
  if (!app.prepareProperties) return;
  try {
    app.prepareProperties(props);
  } catch (e) {
    throw new RlinkError(e instanceof RlinkError && e.code === 'RLINK_MISSING_PROP' ? e.code : 'RLINK_APP_BUILD',
      `app '${app.name}' failed in prepareProperties: ${errorMessage(e)}`, { cause: e });
  }
}
