import type { Logger } from '../logging';
import type { TaskMetrics } from '../runtime/metrics';
import type { Schema } from '../sql/types';

/**
 * The connector interfaces. A source's splits (files, partitions) are assigned to its subtasks by
 * the job, deterministically from (subtask index, parallelism): no rebalancing protocol, and a
 * checkpoint's split positions can be handed to any parallelism.
 */
export interface ConnectorContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly metrics: TaskMetrics;
  /** Identifies this run, e.g. for a Kafka sink's transactional ids. */
  readonly jobId: string;
  readonly operatorId: string;
  readonly attempt: number;
}

/** One poll of a source reader: records of a single split, nothing right now, or the end of all input. */
export type SourcePoll<T> =
  | { kind: 'records'; split: string; values: T[]; timestamps?: number[]; splitFinished?: boolean; where?: (i: number) => string }
  | { kind: 'split-finished'; split: string }
  | { kind: 'idle'; waitMs: number }
  | { kind: 'end' };

export interface SourceReader<T = unknown> {
  /**
   * Opens the reader and returns the ids of the splits it will read (they hold the watermark back from
   * the start). `restored`: this subtask's positions from the checkpoint the job restarts from, or, when
   * the parallelism changed, an array of every old subtask's positions.
   */
  open(restored?: unknown): Promise<string[]> | string[];
  poll(maxRecords: number): Promise<SourcePoll<T>> | SourcePoll<T>;
  /** Split positions for checkpoint `checkpointId` (JSON). */
  snapshot?(checkpointId?: number): unknown;
  /** Checkpoint `id` completed everywhere (e.g. commit offsets back to Kafka, for monitoring). */
  notifyCheckpointComplete?(checkpointId: number): Promise<void> | void;
  close(): Promise<void> | void;
}

export interface Source<T = unknown> {
  /** Connector name shown in the graph: 'file', 'kafka', 'generator', … */
  readonly kind: string;
  readonly bounded: boolean;
  /** JSON description for the job graph (no secrets). */
  describe(): Record<string, unknown>;
  createReader(ctx: ConnectorContext): SourceReader<T>;
  /** The largest parallelism the source supports; undefined when any. */
  readonly maxParallelism?: number;
  /**
   * The fields and types of its records, when the source was given a schema (its reader then conforms
   * every record to it). A schema's watermark makes `fromSource` generate watermarks without a
   * `watermarks` option; SQL reads the columns from it.
   */
  readonly schema?: Schema;
}

/**
 * A sink writer with two-phase commit: `write` buffers or writes provisionally; `prepareCommit`
 * makes everything so far durable but invisible and returns what must be committed; `commit` makes it
 * visible, when the checkpoint (or the end of input) completed everywhere.
 */
export interface SinkWriter<T = unknown> {
  /** `restored`: the writer's state in the checkpoint the job restarts from (its prepared committables). */
  open(restored?: unknown): Promise<void> | void;
  write(values: T[], timestamps: number[]): Promise<void> | void;
  prepareCommit(checkpointId: number): Promise<unknown> | unknown;
  commit(committables: unknown[]): Promise<void> | void;
  close(): Promise<void> | void;
}

export interface Sink<T = unknown> {
  readonly kind: string;
  describe(): Record<string, unknown>;
  createWriter(ctx: ConnectorContext): SinkWriter<T>;
  /** The sink only works at parallelism 1 (e.g. print to one terminal): undefined when any. */
  readonly maxParallelism?: number;
  /**
   * `false`: the sink can only append, so SQL refuses to write an update stream (records with an `op`
   * of '-U', '+U' or '-D', see core/api/changelog.ts) into it. Undefined: it takes them as they are.
   */
  readonly acceptsUpdates?: boolean;
}
