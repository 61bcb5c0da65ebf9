/**
 * The elements that flow through a task and between tasks.
 *
 *   records ── a batch of values with their event timestamps (never one message per record)
 *   watermark ─ "no element with a timestamp ≤ t will follow on this channel"
 *   status ──── the channel went idle / active again (idle channels do not hold back the watermark)
 *   barrier ─── checkpoint n: everything before belongs to checkpoint n, everything after to n+1
 *   end ─────── end of input on this channel (a bounded source is done)
 *
 * Records without an event timestamp carry {@link NO_TIMESTAMP}.
 */
export const NO_TIMESTAMP = Number.NEGATIVE_INFINITY;
/** The watermark a bounded input ends with: every event-time window fires before the job finishes. */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;

export interface RecordBatch { kind: 'records'; values: unknown[]; timestamps: number[] }
export interface WatermarkElement { kind: 'watermark'; timestamp: number }
export interface StatusElement { kind: 'status'; idle: boolean }
export interface BarrierElement {
  kind: 'barrier';
  checkpointId: number;
  timestamp: number;
  savepoint: boolean;
  /** The directory every task writes its snapshot of this checkpoint into. */
  target: string;
}
export interface EndOfInput { kind: 'end' }

export type StreamElement = RecordBatch | WatermarkElement | StatusElement | BarrierElement | EndOfInput;

export function recordBatch(values: unknown[], timestamps: number[]): RecordBatch {
  return { kind: 'records', values, timestamps };
}
