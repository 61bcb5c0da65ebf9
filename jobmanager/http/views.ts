import type { JobManager } from '../job-manager';
import type { CompletedCheckpoint, FailedCheckpoint } from '../checkpoint-coordinator';
import type { JobMaster, JobOverview } from '../job-master';
import type { JobStatus } from '../job-status';
import type { TaskState } from '../../core/runtime/task';
import type { TaskMetricsSnapshot } from '../../core/runtime/metrics';
import type { JobGraph } from '../../core/graph/job-graph';
import type { StreamGraphJson } from '../../core/graph/stream-graph';
import { subtaskId } from '../../core/graph/execution-graph';
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
  /** The input watermark in ms; null before the first (and after the end of input). */
  watermark: number | null;
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
    for (let i = 0; i < v.parallelism; i++) {
      const id = subtaskId(v.id, i);
      const m = master.metrics.get(id);
      subtasks.push({ subtask: i, status: states.get(id) ?? fallbackState(master), name: m?.name ?? null, taskmanager: locations.get(id) ?? null, metrics: metricsJson(m ? [m.metrics] : []) });
    }
    const tasks: Partial<Record<TaskState, number>> = {};
    for (const s of subtasks) tasks[s.status] = (tasks[s.status] ?? 0) + 1;
    return {
      id: v.id, name: v.name, parallelism: v.parallelism, status: aggregateState(subtasks.map((s) => s.status)), tasks,
      metrics: metricsJson(subtasks.flatMap((s) => { const m = master.metrics.get(subtaskId(v.id, s.subtask)); return m ? [m.metrics] : []; })),
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

/** Sums counters; the watermark is the lowest among those that have one (null when none has). */
export function metricsJson(snapshots: readonly TaskMetricsSnapshot[]): TaskMetricsJson {
  const out: TaskMetricsJson = {
    'read-records': 0, 'write-records': 0, 'read-bytes': 0, 'write-bytes': 0, 'records-written': 0,
    'invalid-records': 0, 'late-records-dropped': 0, 'backpressure-ms': 0, watermark: null,
  };
  for (const m of snapshots) {
    out['read-records'] += m.recordsIn;
    out['write-records'] += m.recordsOut;
    out['read-bytes'] += m.bytesIn;
    out['write-bytes'] += m.bytesOut;
    out['records-written'] += m.recordsWritten;
    out['invalid-records'] += m.recordsInvalid;
    out['late-records-dropped'] += m.lateRecordsDropped;
    out['backpressure-ms'] += m.backpressureMs;
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
