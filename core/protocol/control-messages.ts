/**
 * The control protocol between the job manager and task managers: one schema per message, its
 * TypeScript type inferred from it. In the embedded cluster the messages are passed in memory;
 * between processes they travel as JSON text frames on the control socket (control-socket.ts), and
 * the receiving side checks every frame against its direction's schema before a handler sees it
 * (`parseTaskManagerMessage`, `parseJobManagerMessage`): a frame that does not match closes the
 * socket with 1007 and a reason naming the field.
 *
 *   JM ──registered──────────▶ TM     registration accepted: the leader epoch (fencing token)
 *   JM ──deploy──────────────▶ TM     start subtasks of a job attempt in slots
 *   JM ──cancel──────────────▶ TM
 *   JM ──trigger-checkpoint──▶ TM     sources inject barrier n (other tasks align and snapshot)
 *   JM ──checkpoint-complete─▶ TM     commit what checkpoint n covers (the final one: end of input)
 *   JM ──end-input───────────▶ TM     stop with drain: sources end their input
 *   JM ◀─register──────────── TM     slots offered
 *   JM ◀─heartbeat─────────── TM     (with the task manager's memory)
 *   JM ◀─task-state────────── TM     a subtask changed state (with the error when FAILED)
 *   JM ◀─final-ready───────── TM     a subtask consumed all input and prepared its commit
 *   JM ◀─metrics───────────── TM     periodic per-subtask counters
 *   JM ◀─checkpoint-ack / -declined ─ TM   a subtask wrote (or could not write) its snapshot
 *
 * A message that passes its schema is well formed, not necessarily right: the handlers still check
 * it against what they know (a subtask of the job, placed on the sender, of the current attempt).
 */
import type { JobGraph } from '../graph/job-graph';
import type { TaskMetricsSnapshot } from '../runtime/metrics';
import { s, parse, type Infer, type Schema } from './schema';

/** Bumped with any incompatible change of these messages; sent in `register`. */
export const PROTOCOL_VERSION = 1;

/** The most slots one task manager may offer (each is a worker thread). */
export const MAX_SLOTS_PER_TASK_MANAGER = 1024;

/** Why a task manager's declared slot count is refused (undefined when it is fine); both roles check it. */
export function slotCountProblem(slots: number): string | undefined {
  return Number.isInteger(slots) && slots >= 1 && slots <= MAX_SLOTS_PER_TASK_MANAGER ? undefined
    : `it offers ${slots} slots; a task manager offers 1 to ${MAX_SLOTS_PER_TASK_MANAGER} (one worker thread each)`;
}

const id = s.string({ min: 1, max: 200 });
const jobId = s.string({ min: 1, max: 64, pattern: /^[\w-]+$/ });
const attempt = s.int({ min: 0 });
const checkpointId = s.int({ min: 1 });
const text = s.string({ max: 64 * 1024 });
const path = s.string({ min: 1, max: 4096 });
const taskState = s.oneOf(['CREATED', 'DEPLOYING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED'] as const);

export const SubtaskRefSchema = s.object({ vertex: id, index: s.int({ min: 0, max: 32767 }) });
export type SubtaskRef = Infer<typeof SubtaskRefSchema>;

/** An error as it crosses the wire (core/errors.ts serializeError / deserializeError). */
export const WireErrorSchema = s.object({ code: s.string({ min: 1, max: 64 }), message: text });
export type WireError = Infer<typeof WireErrorSchema>;

/** How a task manager gets the job's code. */
export const AppRefSchema = s.tagged('kind', {
  bundle: s.object({ kind: s.literal('bundle'), path, hash: s.string({ min: 8, max: 64, pattern: /^[0-9a-f]+$/ }) }),
  /** In-process only (tests, embedding): the app object itself. */
  inline: s.object({ kind: s.literal('inline'), key: id }),
});
export type AppRef = Infer<typeof AppRefSchema>;

export const SlotAssignmentSchema = s.object({ slot: s.int({ min: 0, max: MAX_SLOTS_PER_TASK_MANAGER - 1 }), subtasks: s.array(SubtaskRefSchema, { max: 10_000 }) });
export type SlotAssignment = Infer<typeof SlotAssignmentSchema>;

const JobEdgeSchema = s.object({
  id, sourceVertex: id, sourceNode: id, sideOutput: s.optional(id), targetVertex: id, targetNode: id,
  partitioning: s.oneOf(['forward', 'rebalance', 'hash', 'broadcast'] as const),
  input: s.optional(s.int({ min: 0, max: 1 })),
});
export const JobGraphSchema: Schema<JobGraph> = s.object({
  jobName: s.string({ max: 1000 }),
  maxParallelism: s.int({ min: 1, max: 32768 }),
  watermarkSlack: s.int({ min: 0, max: 1 }),
  vertices: s.array(s.object({
    id, name: s.string({ max: 10_000 }), parallelism: s.int({ min: 1, max: 32768 }),
    nodes: s.array(id, { max: 10_000 }), inputs: s.array(JobEdgeSchema, { max: 10_000 }),
  }), { max: 10_000 }),
});

const Restore = s.object({ checkpointId: s.int({ min: 1 }), metadataPath: path });

export const DeployMessageSchema = s.object({
  type: s.literal('deploy'),
  jobId, attempt,
  app: AppRefSchema,
  props: s.record(s.string({ max: 64 * 1024 })),
  /** This task manager's slots and the subtasks each runs. */
  slots: s.array(SlotAssignmentSchema, { max: MAX_SLOTS_PER_TASK_MANAGER }),
  /** The job graph (JSON), so the task manager can plan channels without loading the app. */
  jobGraph: JobGraphSchema,
  /**
   * A hash of the job graph as the job manager built it: every slot builds the graph again from the
   * bundle and compares (a `build` that is not deterministic fails the job with RLINK_NONDETERMINISTIC_GRAPH).
   */
  graphFingerprint: s.string({ min: 1, max: 128 }),
  /** Where every subtask of the job runs, for channels to other task managers. */
  placement: s.array(s.object({ taskManagerId: id, assignments: s.array(SlotAssignmentSchema, { max: MAX_SLOTS_PER_TASK_MANAGER }) }), { max: 10_000 }),
  /** The data (shuffle) address of every task manager in the placement. */
  dataAddresses: s.record(s.string({ max: 2048 })),
  batchSize: s.int({ min: 1, max: 1 << 20 }),
  /** Start from this completed checkpoint or savepoint (its _metadata file). */
  restore: s.optional(Restore),
});
export type DeployMessage = Infer<typeof DeployMessageSchema>;

export const JobManagerMessageSchema = s.tagged('type', {
  registered: s.object({
    type: s.literal('registered'),
    /** The job manager's leader epoch: a task manager never obeys a job manager of an older epoch. */
    leaderEpoch: s.int({ min: 0 }),
    jobManagerId: id,
  }),
  deploy: DeployMessageSchema,
  cancel: s.object({ type: s.literal('cancel'), jobId, attempt }),
  'checkpoint-complete': s.object({ type: s.literal('checkpoint-complete'), jobId, attempt, checkpointId }),
  'trigger-checkpoint': s.object({
    type: s.literal('trigger-checkpoint'), jobId, attempt, checkpointId,
    timestamp: s.number(), savepoint: s.boolean(), target: path,
  }),
  /** Stop with drain: the sources end their input as if it were bounded (+∞ watermark, final commit). */
  'end-input': s.object({ type: s.literal('end-input'), jobId, attempt }),
});
export type JobManagerToTaskManager = Infer<typeof JobManagerMessageSchema>;

const count = s.number({ min: 0 });
export const MetricsSnapshotSchema: Schema<TaskMetricsSnapshot> = s.object({
  recordsIn: count, recordsOut: count, recordsWritten: count, bytesIn: count, bytesOut: count,
  recordsInvalid: count, lateRecordsDropped: count, backpressureMs: count,
  /** Busy and idle time (ms since the subtask started running); optional for task managers that do not measure them. */
  idleMs: s.optional(count), busyMs: s.optional(count),
  watermark: s.nullable(s.number()),
});

/** A task manager's memory as its heartbeats report it, in bytes (Node's process.memoryUsage and the host's). */
export const MemoryReportSchema = s.object({
  /** Resident set of the whole process (every slot's worker thread included). */
  rss: count,
  /** The V8 heap of the task manager's main thread (the slots' worker threads have their own). */
  heapUsed: count, heapTotal: count,
  /** The host's physical memory and what of it is free. */
  physical: count, free: count,
});
export type MemoryReport = Infer<typeof MemoryReportSchema>;

export const SubtaskMetricsSchema = s.object({ subtask: SubtaskRefSchema, name: s.string({ max: 10_000 }), state: taskState, metrics: MetricsSnapshotSchema });
export type SubtaskMetrics = Infer<typeof SubtaskMetricsSchema>;

export const TaskManagerMessageSchema = s.tagged('type', {
  register: s.object({
    type: s.literal('register'), taskManagerId: id,
    /** Checked against MAX_SLOTS_PER_TASK_MANAGER by the job manager (close 4002 when out of bounds). */
    slots: s.int({ min: 0 }),
    version: s.int({ min: 0 }),
    dataAddress: s.optional(s.string({ max: 2048 })),
  }),
  heartbeat: s.object({ type: s.literal('heartbeat'), taskManagerId: id, memory: s.optional(MemoryReportSchema) }),
  'task-state': s.object({ type: s.literal('task-state'), jobId, attempt, subtask: SubtaskRefSchema, state: taskState, error: s.optional(WireErrorSchema) }),
  'final-ready': s.object({ type: s.literal('final-ready'), jobId, attempt, subtask: SubtaskRefSchema }),
  metrics: s.object({ type: s.literal('metrics'), jobId, attempt, tasks: s.array(SubtaskMetricsSchema, { max: 10_000 }) }),
  'checkpoint-ack': s.object({ type: s.literal('checkpoint-ack'), jobId, attempt, checkpointId, subtask: SubtaskRefSchema, path, bytes: s.int({ min: 0 }) }),
  'checkpoint-declined': s.object({ type: s.literal('checkpoint-declined'), jobId, attempt, checkpointId, subtask: SubtaskRefSchema, reason: text }),
});
export type TaskManagerToJobManager = Infer<typeof TaskManagerMessageSchema>;

/** A task manager's frame, checked; throws a SchemaViolation naming the field. */
export function parseTaskManagerMessage(v: unknown): TaskManagerToJobManager {
  return parse(TaskManagerMessageSchema, v, 'message');
}

/** A job manager's frame, checked; throws a SchemaViolation naming the field. */
export function parseJobManagerMessage(v: unknown): JobManagerToTaskManager {
  return parse(JobManagerMessageSchema, v, 'message');
}
