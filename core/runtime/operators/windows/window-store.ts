import type { CompiledAggregate } from '../../../aggregates/composite';
import type { Key, KeySelector } from '../../keys';

/**
 * What a window store asks of the window operator that hosts it (window-operator.ts): the time, the
 * aggregate, and where results, late records and records without a timestamp go. The operator owns
 * time, lateness and output; a store owns one kind of windows' state and decides when they fire.
 */
export interface WindowHost {
  readonly aggregate: CompiledAggregate;
  readonly selectKey: KeySelector;
  /** Event time (watermarks) or processing time (the clock). */
  readonly eventTime: boolean;
  /** Allowed lateness (0 in processing time). */
  readonly lateness: number;
  /** The current watermark (−∞ in processing time). */
  watermark(): number;
  /** Wall-clock milliseconds. */
  now(): number;
  /**
   * A window's result for `key`: window [start, end), or null bounds for a window without them (a
   * global window); `timestamp` is the result's event time (end − 1 for time windows).
   */
  emit(key: Key, start: number | null, end: number | null, acc: any, timestamp: number): void;
  /** An element late for all its windows: to the side output, or counted. */
  late(value: unknown, ts: number): void;
  /** An element without an event timestamp reached an event-time window: counted and logged. */
  noTimestamp(value: unknown): void;
  /** A partial aggregate (two-phase) arrived for a window past its lateness: counted and logged. */
  latePartial(start: number, end: number): void;
}

/** A store's snapshot entries: one array per kind of state, grouped by key (key groups) by the operator. */
export type StoreEntryKind = 'panes' | 'slices' | 'sessions' | 'global';
/** Every kind, in the order a restore hands them over. */
export const STORE_ENTRY_KINDS: readonly StoreEntryKind[] = ['panes', 'slices', 'sessions', 'global'];

/**
 * One kind of windows' state and firing rules (Flink's WindowAssigner + Trigger + window state of
 * that kind, in one class, as Arroyo's window operators are one per kind): tumbling and sliding
 * windows (pane-store.ts), sliding windows of built-in aggregates (slice-store.ts), sessions (session-store.ts), global windows with a trigger — count
 * windows among them (global-store.ts). A new kind of windows is a new store.
 */
export interface WindowStore {
  /** Adds a batch of records (their event timestamps; in processing time `now` counts for all). */
  add(values: unknown[], timestamps: number[], now: number): void;
  /** Merges a partial aggregate of `key` for window [start, end) (two-phase aggregation); false when this kind cannot. */
  mergePartial(key: Key, start: number, end: number, acc: any): boolean;
  /** Time reached `t`: fires what is due at t, drops state past its lateness. */
  advance(t: number): void;
  /** The earliest time `advance` has work for (for the processing-time clock); undefined when none. */
  nextTime(): number | undefined;
  /** Stores with processing-time timers besides (global windows' triggers): the clock reached `now`. */
  advanceClock?(now: number): void;
  /** The earliest processing-time timer of `advanceClock`. */
  nextClock?(): number | undefined;
  /** Every entry of state, with its key, for a checkpoint. */
  snapshot(put: (key: Key, kind: StoreEntryKind, entry: unknown) => void): void;
  /** Takes back one entry of a checkpoint (of a key group this subtask owns). */
  restore(kind: StoreEntryKind, entry: unknown): void;
}
