import type { Logger } from '../logging';
import type { OutputTag } from '../api/output-tag';
import type { TaskMetrics } from './metrics';

/**
 * Where an operator emits. Batches go down as parallel arrays of values and timestamps; an operator
 * may hand the same timestamps array on when it emits one value per input (map) — receivers never
 * mutate the arrays they are given.
 */
export interface Output {
  emitBatch(values: unknown[], timestamps: number[]): void;
  emitWatermark(timestamp: number): void;
  emitStatus(idle: boolean): void;
  emitSide(tag: string, values: unknown[], timestamps: number[]): void;
}

/** What a running operator can reach: its identity, time, timers and logger. */
export interface OperatorContext {
  readonly operatorId: string;
  readonly operatorName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly jobId: string;
  /** Restart attempt of the job, 0 for the first run. */
  readonly attempt: number;
  /** Records per batch a source reads. */
  readonly batchSize: number;
  /** The job's watermark slack (JobGraph.watermarkSlack), for watermark generators. */
  readonly watermarkSlack: number;
  readonly logger: Logger;
  readonly metrics: TaskMetrics;
  /** Wall-clock milliseconds (injectable for tests). */
  now(): number;
  /** Calls `fn` inside the task's mailbox at processing time `at` (or soon after); returns a cancel function. */
  scheduleAt(at: number, fn: () => void): () => void;
}

/** A snapshot of one operator's state, JSON-serialisable; keyed state is grouped by key group. */
export interface OperatorSnapshot {
  operatorId: string;
  /** Non-keyed state (e.g. a source's split positions). */
  operatorState?: unknown;
  /** Keyed state: key group → opaque entries. */
  keyedState?: Record<number, unknown>;
}

/**
 * A stream operator: synchronous on the hot path (one call per batch), asynchronous only where it
 * must be (open, sinks' flushes, close). Watermarks and statuses are forwarded unless overridden.
 * `input` says which input a batch, watermark or status came from: always 0 for a one-input operator;
 * 0 or 1 for a two-input operator (two-input.ts), which is always the head of its task.
 */
export interface StreamOperator {
  open(ctx: OperatorContext, output: Output): Promise<void> | void;
  processBatch(values: unknown[], timestamps: number[], input?: number): void;
  processWatermark(timestamp: number, input?: number): void;
  processStatus(idle: boolean, input?: number): void;
  /** All input is consumed: emit what is buffered (the final +∞ watermark has already arrived). */
  endInput(): Promise<void> | void;
  /** Work the task must wait for before it takes more input (async sinks); undefined when none. */
  pending?(): Promise<void> | undefined;
  snapshotState?(checkpointId: number): Promise<OperatorSnapshot> | OperatorSnapshot;
  /**
   * Called before `open` when the job starts from a checkpoint or savepoint: the operator keeps the
   * state and applies it in `open` (Flink's initializeState).
   */
  initializeState?(state: RestoredState): void;
  /** Two-phase commit: called when checkpoint `id` (or the final one at end of input) completed. */
  notifyCheckpointComplete?(checkpointId: number): Promise<void> | void;
  close(): Promise<void> | void;
}

/**
 * An operator's state in the checkpoint it is restored from. `own` is the snapshot of the subtask
 * with the same index when the parallelism did not change; `all` holds every old subtask's snapshot
 * (keyed state: take the key groups of this subtask's range; operator state: connectors that can be
 * rescaled merge them).
 */
export interface RestoredState {
  checkpointId: number;
  oldParallelism: number;
  own: OperatorSnapshot | undefined;
  all: OperatorSnapshot[];
  /** Every old subtask's snapshot by its index (the task picks `own` from here). */
  byIndex: Array<OperatorSnapshot | undefined>;
}

/** Base class that forwards time and status and does nothing else. */
export abstract class AbstractOperator implements StreamOperator {
  protected ctx!: OperatorContext;
  protected output!: Output;

  open(ctx: OperatorContext, output: Output): Promise<void> | void {
    this.ctx = ctx;
    this.output = output;
  }
  abstract processBatch(values: unknown[], timestamps: number[]): void;
  processWatermark(timestamp: number): void { this.output.emitWatermark(timestamp); }
  processStatus(idle: boolean): void { this.output.emitStatus(idle); }
  endInput(): Promise<void> | void {}
  close(): Promise<void> | void {}
}

export type { OutputTag };
