/**
 * The control protocol between the job manager and task managers (and, inside a task manager,
 * between its main thread and its slot workers). One discriminated union per direction; in the
 * embedded cluster they are passed in memory, between processes they travel as JSON over the
 * task-manager WebSocket (with PROTOCOL_VERSION in the handshake).
 *
 *   JM ──deploy──────────────▶ TM     start subtasks of a job attempt in slots
 *   JM ──cancel──────────────▶ TM
 *   JM ──trigger-checkpoint──▶ TM     sources inject barrier n (other tasks align and snapshot)
 *   JM ──checkpoint-complete─▶ TM     commit what checkpoint n covers (the final one: end of input)
 *   JM ◀─register──────────── TM     slots offered
 *   JM ◀─task-state────────── TM     a subtask changed state (with the error when FAILED)
 *   JM ◀─final-ready───────── TM     a subtask consumed all input and prepared its commit
 *   JM ◀─metrics───────────── TM     periodic per-subtask counters
 *   JM ◀─checkpoint-ack / -declined ─ TM   a subtask wrote (or could not write) its snapshot
 */
import type { TaskMetricsSnapshot } from '../runtime/metrics';
import type { TaskState } from '../runtime/task';
import type { JobGraph } from '../graph/job-graph';

export const PROTOCOL_VERSION = 1;

export interface SubtaskRef { vertex: string; index: number }

/** How a task manager gets the job's code. */
export type AppRef =
  | { kind: 'bundle'; path: string; hash: string }
  /** In-process only (tests, embedding): the app object itself. */
  | { kind: 'inline'; key: string };

export interface SlotAssignment { slot: number; subtasks: SubtaskRef[] }

export interface DeployMessage {
  type: 'deploy';
  jobId: string;
  attempt: number;
  app: AppRef;
  props: Record<string, string>;
  /** This task manager's slots and the subtasks each runs. */
  slots: SlotAssignment[];
  /** The job graph (JSON), so the task manager can plan channels without loading the app. */
  jobGraph: JobGraph;
  /** Where every subtask of the job runs, for channels to other task managers. */
  placement: Array<{ taskManagerId: string; assignments: SlotAssignment[] }>;
  /** The data (shuffle) address of every task manager in the placement. */
  dataAddresses: Record<string, string>;
  batchSize: number;
  /** Start from this completed checkpoint or savepoint (its _metadata file). */
  restore?: { checkpointId: number; metadataPath: string };
}

export type JobManagerToTaskManager =
  | DeployMessage
  | { type: 'cancel'; jobId: string; attempt: number }
  | { type: 'checkpoint-complete'; jobId: string; attempt: number; checkpointId: number }
  | { type: 'trigger-checkpoint'; jobId: string; attempt: number; checkpointId: number; timestamp: number; savepoint: boolean; target: string }
  /** Stop with drain: the sources end their input as if it were bounded (+∞ watermark, final commit). */
  | { type: 'end-input'; jobId: string; attempt: number };

export interface SubtaskMetrics { subtask: SubtaskRef; name: string; state: TaskState; metrics: TaskMetricsSnapshot }

export type TaskManagerToJobManager =
  | { type: 'register'; taskManagerId: string; slots: number; version: number; dataAddress?: string }
  | { type: 'heartbeat'; taskManagerId: string }
  | { type: 'task-state'; jobId: string; attempt: number; subtask: SubtaskRef; state: TaskState; error?: { code: string; message: string } }
  | { type: 'final-ready'; jobId: string; attempt: number; subtask: SubtaskRef }
  | { type: 'metrics'; jobId: string; attempt: number; tasks: SubtaskMetrics[] }
  | { type: 'checkpoint-ack'; jobId: string; attempt: number; checkpointId: number; subtask: SubtaskRef; path: string; bytes: number }
  | { type: 'checkpoint-declined'; jobId: string; attempt: number; checkpointId: number; subtask: SubtaskRef; reason: string };
