import type { JobManager } from '../job-manager';
import type { CompletedCheckpoint, FailedCheckpoint } from '../checkpoint-coordinator';
import type { JobMaster, JobOverview } from '../job-master';
import type { JobStatus } from '../job-status';
import type { TaskState } from '../../core/runtime/task';
import type { TaskMetricsSnapshot } from '../../core/runtime/metrics';
import type { JobGraph } from '../../core/graph/job-graph';
import type { StreamGraphJson } from '../../core/graph/stream-graph';
import { subtaskId } from '../../core/graph/execution-graph';
import type { SubtaskRates } from '../metric-rates';
import { rlinkVersion } from './version';

/** The JSON bodies of the read endpoints, in Flink's REST shapes where Flink has one. */

const JOB_STATES: readonly JobStatus[] = ['CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING'];
const TERMINAL_JOB_STATES: ReadonlySet<JobStatus> = new Set(['FINISHED', 'FAILED', 'CANCELED']);

/** `GET /overview` (Flink's cluster overview). */
export interface ClusterOverview {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  /** Jobs not yet in a terminal state (Flink counts created and restarting jobs as running too). */
  'jobs-running': number;
  'jobs-finished': number;
  'jobs-cancelled': number;
  'jobs-failed': number;
  'rlink-version': string;
}

export function clusterOverview(jm: JobManager): ClusterOverview {
  const tms = jm.taskManagerList();
  const counts = jobCounts(jm);
  return {
    taskmanagers: tms.length,
    'slots-total': tms.reduce((a, t) => a + t.slotsNumber, 0),
    'slots-available': tms.reduce((a, t) => a + t.freeSlots, 0),
    'jobs-running': JOB_STATES.filter((s) => !TERMINAL_JOB_STATES.has(s)).reduce((a, s) => a + counts[s], 0),
    'jobs-finished': counts.FINISHED,
    'jobs-cancelled': counts.CANCELED,
    'jobs-failed': counts.FAILED,
    'rlink-version': rlinkVersion(),
  };
}

/** Jobs per state (every state present, zero when none). */
export function jobCounts(jm: JobManager): Record<JobStatus, number> {
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const j of jm.jobs.values()) counts[j.status.status]++;
  return counts;
}

/** `GET /jobs` (Flink's shape). */
export function jobsList(jm: JobManager): { jobs: Array<{ id: string; status: JobStatus }> } {
  return { jobs: [...jm.jobs.values()].map((j) => ({ id: j.jobId, status: j.status.status })) };
}

/** `GET /jobs/overview`. */
export function jobsOverview(jm: JobManager): { jobs: JobOverview[] } {
  return { jobs: [...jm.jobs.values()].map((j) => j.overview()) };
}

/** Counters of a subtask or a vertex as REST shows them (Flink's metric names where Flink has one). */
export interface TaskMetricsJson {
  'read-records': number;
  'write-records': number;
  'read-bytes': number;
  'write-bytes': number;
  /** Records handed to sinks. */
  'records-written': number;
  'invalid-records': number;
  'late-records-dropped': number;
  'backpressure-ms': number;
  /** Flink's accumulated times since the subtask started running, in ms (busy: neither idle nor backpressured). */
  'accumulated-busy-time': number;
  'accumulated-idle-time': number;
  'accumulated-backpressured-time': number;
  /** The input watermark in ms; null before the first (and after the end of input). */
  watermark: number | null;
  /**
   * Rates over the last few seconds (jobmanager/metric-rates.ts); null when not known (a subtask not
   * running or not reporting). Per vertex: records per second summed over the subtasks, the time
   * gauges (ms per second, Flink's names) the highest among them.
   */
  numRecordsInPerSecond: number | null;
  numRecordsOutPerSecond: number | null;
  numRecordsWrittenPerSecond: number | null;
  busyTimeMsPerSecond: number | null;
  backPressuredTimeMsPerSecond: number | null;
  idleTimeMsPerSecond: number | null;
}

/** Flink's back-pressure levels: ok up to 10 % of the time backpressured, low up to 50 %, high above. */
export type BackpressureLevel = 'ok' | 'low' | 'high';

export function backpressureLevel(ratio: number): BackpressureLevel {
  return ratio <= 0.1 ? 'ok' : ratio <= 0.5 ? 'low' : 'high';
}

export interface SubtaskJson { subtask: number; status: TaskState; name: string | null; taskmanager: string | null; metrics: TaskMetricsJson }

export interface VertexJson {
  id: string;
  name: string;
  parallelism: number;
  /** The aggregate of its subtasks' states (Flink's rule, see {@link aggregateState}). */
  status: TaskState;
  /** Subtasks per state. */
  tasks: Partial<Record<TaskState, number>>;
  metrics: TaskMetricsJson;
  /** From the most backpressured subtask (as GET /jobs/:id/vertices/:vid/backpressure); null when not known. */
  backpressureLevel: BackpressureLevel | null;
  subtasks: SubtaskJson[];
}

export interface JobDetails {
  jid: string;
  name: string;
  state: JobStatus;
  'start-time': number;
  'end-time': number;
  duration: number;
  now: number;
  /** When the job last entered each state, in ms since the epoch; 0 for states never entered. */
  timestamps: Record<JobStatus, number>;
  attempt: number;
  restarts: number;
  /** True while the job waits for free slots (queued behind other jobs, or for task managers to come back). */
  'waiting-for-slots': boolean;
  error?: string;
  /** The application the job was started from, when it came through POST /job/application/:id. */
  application_id?: string;
  'status-counts': Record<string, number>;
  vertices: VertexJson[];
  plan: { nodes: StreamGraphJson; jobGraph: JobGraph };
}

export function jobDetails(master: JobMaster, applicationId?: string): JobDetails {
  const o = master.overview();
  const now = Date.now();
  const timestamps = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const h of master.status.history) timestamps[h.status] = h.at;
  const states = subtaskStates(master);
  const locations = master.subtaskLocations();
  const vertices = master.job.vertices.map((v): VertexJson => {
    const subtasks: SubtaskJson[] = [];
    const snapshots: TaskMetricsSnapshot[] = [];
    const rates: SubtaskRates[] = [];
    for (let i = 0; i < v.parallelism; i++) {
      const id = subtaskId(v.id, i);
      const m = master.metrics.get(id);
      const status = states.get(id) ?? fallbackState(master);
      // Rates describe a running subtask; an ended one's last reports say nothing about now.
      const r = status === 'RUNNING' ? master.rates.rates(id, now) : undefined;
      if (m) snapshots.push(m.metrics);
      if (r) rates.push(r);
      subtasks.push({ subtask: i, status, name: m?.name ?? null, taskmanager: locations.get(id) ?? null, metrics: metricsJson(m ? [m.metrics] : [], r ? [r] : []) });
    }
    const tasks: Partial<Record<TaskState, number>> = {};
    for (const s of subtasks) tasks[s.status] = (tasks[s.status] ?? 0) + 1;
    const metrics = metricsJson(snapshots, rates);
    return {
      id: v.id, name: v.name, parallelism: v.parallelism, status: aggregateState(subtasks.map((s) => s.status)), tasks, metrics,
      backpressureLevel: metrics.backPressuredTimeMsPerSecond === null ? null : backpressureLevel(metrics.backPressuredTimeMsPerSecond / 1000),
      subtasks,
    };
  });
  const d: JobDetails = {
    jid: o.jid, name: o.name, state: o.state, 'start-time': o['start-time'], 'end-time': o['end-time'], duration: o.duration, now,
    timestamps, attempt: o.attempt, restarts: o.restarts, 'waiting-for-slots': master.waitingForSlots, 'status-counts': o.tasks, vertices,
    plan: { nodes: master.graphJson(), jobGraph: master.job },
  };
  if (o.error !== undefined) d.error = o.error;
  if (o.errorCode !== undefined) (d as { errorCode?: string }).errorCode = o.errorCode;
  if (applicationId !== undefined) d.application_id = applicationId;
  return d;
}

/**
 * Sums counters; the watermark is the lowest among those that have one (null when none has). Rates:
 * records per second summed, time gauges the highest (null when no subtask has rates).
 */
export function metricsJson(snapshots: readonly TaskMetricsSnapshot[], rates: readonly SubtaskRates[] = []): TaskMetricsJson {
  const out: TaskMetricsJson = {
    'read-records': 0, 'write-records': 0, 'read-bytes': 0, 'write-bytes': 0, 'records-written': 0,
    'invalid-records': 0, 'late-records-dropped': 0, 'backpressure-ms': 0,
    'accumulated-busy-time': 0, 'accumulated-idle-time': 0, 'accumulated-backpressured-time': 0, watermark: null,
    numRecordsInPerSecond: null, numRecordsOutPerSecond: null, numRecordsWrittenPerSecond: null,
    busyTimeMsPerSecond: null, backPressuredTimeMsPerSecond: null, idleTimeMsPerSecond: null,
  };
  const sum = (a: number | null, b: number) => Math.round(((a ?? 0) + b) * 10) / 10;
  const max = (a: number | null, b: number | null) => (b === null ? a : a === null ? b : Math.max(a, b));
  for (const r of rates) {
    out.numRecordsInPerSecond = sum(out.numRecordsInPerSecond, r.numRecordsInPerSecond);
    out.numRecordsOutPerSecond = sum(out.numRecordsOutPerSecond, r.numRecordsOutPerSecond);
    out.numRecordsWrittenPerSecond = sum(out.numRecordsWrittenPerSecond, r.numRecordsWrittenPerSecond);
    out.busyTimeMsPerSecond = max(out.busyTimeMsPerSecond, r.busyTimeMsPerSecond);
    out.backPressuredTimeMsPerSecond = max(out.backPressuredTimeMsPerSecond, r.backPressuredTimeMsPerSecond);
    out.idleTimeMsPerSecond = max(out.idleTimeMsPerSecond, r.idleTimeMsPerSecond);
  }
  for (const m of snapshots) {
    out['read-records'] += m.recordsIn;
    out['write-records'] += m.recordsOut;
    out['read-bytes'] += m.bytesIn;
    out['write-bytes'] += m.bytesOut;
    out['records-written'] += m.recordsWritten;
    out['invalid-records'] += m.recordsInvalid;
    out['late-records-dropped'] += m.lateRecordsDropped;
    out['backpressure-ms'] += m.backpressureMs;
    out['accumulated-busy-time'] += m.busyMs ?? 0;
    out['accumulated-idle-time'] += m.idleMs ?? 0;
    out['accumulated-backpressured-time'] += m.backpressureMs;
    if (m.watermark !== null) out.watermark = out.watermark === null ? m.watermark : Math.min(out.watermark, m.watermark);
  }
  return out;
}

/**
 * A vertex's state from its subtasks', as Flink's ExecutionJobVertex.getAggregateJobVertexState:
 * any FAILED, else any CANCELING, else any CANCELED, else any RUNNING, else all FINISHED (some
 * finished and others not: RUNNING), else DEPLOYING when any deploys, else CREATED.
 */
export function aggregateState(states: readonly TaskState[]): TaskState {
  const has = (s: TaskState) => states.includes(s);
  if (has('FAILED')) return 'FAILED';
  if (has('CANCELING')) return 'CANCELING';
  if (has('CANCELED')) return 'CANCELED';
  if (has('RUNNING')) return 'RUNNING';
  if (has('FINISHED')) return states.every((s) => s === 'FINISHED') ? 'FINISHED' : 'RUNNING';
  if (has('DEPLOYING')) return 'DEPLOYING';
  return 'CREATED';
}

/** The state of every subtask of the current attempt. */
export function subtaskStates(master: JobMaster): Map<string, TaskState> {
  return new Map(master.subtaskStates());
}

/** A subtask the master does not list (not deployed in this attempt): its state follows the job's. */
function fallbackState(master: JobMaster): TaskState {
  switch (master.status.status) {
    case 'FINISHED': return 'FINISHED';
    case 'CANCELED': return 'CANCELED';
    case 'FAILED': return 'CANCELED';
    default: return 'CREATED';
  }
}

/**
 * `GET /jobs/:id/checkpoints`, in Flink's shape. Checkpoints arrive with issue 4 (periodic
 * checkpoints and savepoints): until then every count is zero and the history is empty.
 */
/** Flink's /jobs/:id/checkpoints: counts, the latest completed / savepoint / failed / restored, history. */
export function checkpointsView(master: JobMaster): unknown {
  const c = master.checkpoints;
  const done = (x: CompletedCheckpoint) => ({
    id: x.id, status: 'COMPLETED', is_savepoint: x.savepoint, trigger_timestamp: x.triggeredAt, latest_ack_timestamp: x.completedAt,
    end_to_end_duration: x.completedAt - x.triggeredAt, state_size: x.bytes, external_path: x.dir,
    num_subtasks: x.subtasks, num_acknowledged_subtasks: x.subtasks,
  });
  const failed = (x: FailedCheckpoint) => ({ id: x.id, status: 'FAILED', is_savepoint: x.savepoint, trigger_timestamp: x.triggeredAt, failure_timestamp: x.failedAt, failure_message: x.reason });
  const inProgress = c.inProgress;
  const completed = c.completed.map(done);
  const durations = completed.map((x) => x.end_to_end_duration);
  const sizes = completed.map((x) => x.state_size);
  const stat = (xs: number[]) => (xs.length ? { min: Math.min(...xs), max: Math.max(...xs), avg: Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) } : { min: 0, max: 0, avg: 0 });
  const latestOf = (xs: Array<ReturnType<typeof done>>) => xs.at(-1) ?? null;
  return {
    counts: {
      restored: c.restoredCount, total: c.completedCount + c.failed.length + (inProgress ? 1 : 0),
      in_progress: inProgress ? 1 : 0, completed: c.completedCount, failed: c.failed.length,
    },
    summary: { end_to_end_duration: stat(durations), state_size: stat(sizes) },
    latest: {
      completed: latestOf(completed.filter((x) => !x.is_savepoint)),
      savepoint: latestOf(completed.filter((x) => x.is_savepoint)),
      failed: c.failed.length ? failed(c.failed.at(-1)!) : null,
      restored: c.restoredFrom ? { id: c.restoredFrom.id, restore_timestamp: c.restoredFrom.at, external_path: c.restoredFrom.path } : null,
    },
    history: [
      ...(inProgress ? [{ id: inProgress.id, status: 'IN_PROGRESS', is_savepoint: inProgress.savepoint, trigger_timestamp: inProgress.triggeredAt, num_subtasks: c.subtaskCount, num_acknowledged_subtasks: inProgress.acknowledged }] : []),
      ...[...completed, ...c.failed.map(failed)].sort((x, y) => y.id - x.id),
    ],
  };
}

/** One subtask in `GET /jobs/:id/vertices/:vid/backpressure` (Flink's SubtaskBackPressureInfo, plus the gauges). */
export interface SubtaskBackpressureJson {
  subtask: number;
  'attempt-number': number;
  backpressureLevel: BackpressureLevel;
  /** Flink's older name of the same level. */
  'backpressure-level': BackpressureLevel;
  /** Share of the time backpressured (0..1), and busy and idle. */
  ratio: number;
  busyRatio: number;
  idleRatio: number;
  backPressuredTimeMsPerSecond: number;
  busyTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
}

/** `GET /jobs/:id/vertices/:vid/backpressure` (Flink's JobVertexBackPressureInfo). */
export interface VertexBackpressureJson {
  /** 'ok' with measurements; 'deprecated' (Flink's word) while no subtask of the vertex has any. */
  status: 'ok' | 'deprecated';
  backpressureLevel: BackpressureLevel | null;
  'backpressure-level': BackpressureLevel | null;
  /** When the newest measurement arrived (ms since the epoch); null without measurements. */
  'end-timestamp': number | null;
  subtasks: SubtaskBackpressureJson[];
}

/**
 * The back pressure of one vertex from its subtasks' time gauges, as Flink ≥ 1.13 computes it (no
 * stack sampling): ratio = backPressuredTimeMsPerSecond / 1000, the vertex at the level of its most
 * backpressured subtask. Undefined for a vertex the job does not have.
 */
export function backpressureView(master: JobMaster, vertexId: string, now = Date.now()): VertexBackpressureJson | undefined {
  const v = master.job.vertices.find((x) => x.id === vertexId);
  if (!v) return undefined;
  const subtasks: SubtaskBackpressureJson[] = [];
  let end: number | null = null;
  let worst = -1;
  const states = master.subtaskStates();
  for (let i = 0; i < v.parallelism; i++) {
    const id = subtaskId(v.id, i);
    const r = states.get(id) === 'RUNNING' ? master.rates.rates(id, now) : undefined;
    if (!r || r.backPressuredTimeMsPerSecond === null || r.busyTimeMsPerSecond === null || r.idleTimeMsPerSecond === null) continue;
    const ratio = r.backPressuredTimeMsPerSecond / 1000;
    const level = backpressureLevel(ratio);
    worst = Math.max(worst, ratio);
    end = Math.max(end ?? 0, r.at);
    subtasks.push({
      subtask: i, 'attempt-number': master.attempt, backpressureLevel: level, 'backpressure-level': level,
      ratio, busyRatio: r.busyTimeMsPerSecond / 1000, idleRatio: r.idleTimeMsPerSecond / 1000,
      backPressuredTimeMsPerSecond: r.backPressuredTimeMsPerSecond, busyTimeMsPerSecond: r.busyTimeMsPerSecond, idleTimeMsPerSecond: r.idleTimeMsPerSecond,
    });
  }
  if (subtasks.length === 0) return { status: 'deprecated', backpressureLevel: null, 'backpressure-level': null, 'end-timestamp': null, subtasks };
  const level = backpressureLevel(worst);
  return { status: 'ok', backpressureLevel: level, 'backpressure-level': level, 'end-timestamp': end, subtasks };
}

/** One failure in `GET /jobs/:id/exceptions` (Flink's exception history entry). */
export interface ExceptionEntryJson {
  /** rlink's error code (Flink puts the exception's class name here). */
  exceptionName: string;
  /** The message (rlink does not ship stack traces to the job manager). */
  stacktrace: string;
  timestamp: number;
  /** The failed subtask, "Window → Sink: file (2/2)"; null when no task failed (a lost task manager, no slots). */
  taskName: string | null;
  endpoint: string | null;
  taskManagerId: string | null;
  failureLabels: Record<string, string>;
  concurrentExceptions: ExceptionEntryJson[];
  /** The attempt that failed (rlink's addition). */
  attempt: number;
}

/** `GET /jobs/:id/exceptions` (Flink's JobExceptionsInfoWithHistory, with its older top-level fields). */
export interface ExceptionsJson {
  'root-exception': string | null;
  timestamp: number | null;
  'all-exceptions': Array<{ exception: string; task: string | null; location: string | null; timestamp: number }>;
  truncated: boolean;
  exceptionHistory: { entries: ExceptionEntryJson[]; truncated: boolean };
}

/** How many failures a job master keeps (job-master.ts). */
const MAX_EXCEPTIONS = 100;

/**
 * The failure causes of the job's attempts, newest first: every failure that restarted or failed
 * the job, and the reason the job FAILED when it failed without a task failure (no slots, a bad
 * savepoint, …).
 */
export function exceptionsView(master: JobMaster): ExceptionsJson {
  const entries: ExceptionEntryJson[] = master.exceptions.map((e) => ({
    exceptionName: e.code, stacktrace: e.message, timestamp: e.timestamp, taskName: e.task ?? null,
    endpoint: null, taskManagerId: e.taskManager ?? null, failureLabels: {}, concurrentExceptions: [], attempt: e.attempt,
  }));
  const o = master.overview();
  if (o.error !== undefined && !master.exceptions.some((e) => e.message === o.error)) {
    entries.push({
      exceptionName: o.errorCode ?? 'RLINK_TASK_FAILED', stacktrace: o.error, timestamp: o['end-time'] > 0 ? o['end-time'] : Date.now(), taskName: null,
      endpoint: null, taskManagerId: null, failureLabels: {}, concurrentExceptions: [], attempt: o.attempt,
    });
  }
  entries.sort((a, b) => b.timestamp - a.timestamp);
  const truncated = master.exceptions.length >= MAX_EXCEPTIONS;
  const root = entries[0];
  return {
    'root-exception': root?.stacktrace ?? null, timestamp: root?.timestamp ?? null,
    'all-exceptions': entries.map((e) => ({ exception: e.stacktrace, task: e.taskName, location: e.taskManagerId, timestamp: e.timestamp })),
    truncated, exceptionHistory: { entries, truncated },
  };
}
