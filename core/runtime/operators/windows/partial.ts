import type { CompiledAggregate } from '../../../aggregates/composite';
import { compileKeySelector, type Key, type KeySelector, type KeySpec } from '../../keys';

/**
 * Partial window aggregates: what the local (pre-)aggregation sends to the global window operator
 * across the keyBy shuffle in two-phase window aggregation (Flink SQL's local-global aggregation).
 * One record stands for the records of one key in one window that a local subtask aggregated:
 *
 *   { '\u0000k': key, '\u0000s': windowStart, '\u0000e': windowEnd, a0: …, a1: … }   built-in aggregates
 *   { '\u0000k': key, '\u0000s': windowStart, '\u0000e': windowEnd, '\u0000a': acc }  any other
 *
 * Built-in aggregates have flat numeric accumulators, so a batch of partials is one flat shape the
 * columnar batch codec encodes without a fallback. Partials and raw records (those the local side
 * forwards unaggregated because they may be late) share the channel, in order; the field names start
 * with NUL, which no record field of a user's job is expected to.
 */
export const PARTIAL_KEY = '\u0000k';
export const PARTIAL_START = '\u0000s';
export const PARTIAL_END = '\u0000e';
export const PARTIAL_ACC = '\u0000a';

export interface Partial { key: Key; start: number; end: number; acc: any }

/** True for a partial aggregate record (as opposed to a user's record). */
export function isPartial(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[PARTIAL_START] !== undefined;
}

/** The record that carries `acc` of `key` in window [start, end). */
export function toPartialRecord(agg: CompiledAggregate, key: Key, start: number, end: number, acc: any): Record<string, unknown> {
  const o: Record<string, unknown> = { [PARTIAL_KEY]: key, [PARTIAL_START]: start, [PARTIAL_END]: end };
  if (agg.flatAccumulator) Object.assign(o, acc);
  else o[PARTIAL_ACC] = acc;
  return o;
}

/** A partial record's accumulator, ready to be merged into (a fresh object: the record is not kept). */
export function partialAccumulator(agg: CompiledAggregate, p: Record<string, unknown>): any {
  return agg.flatAccumulator ? agg.merge(agg.createAccumulator(), p) : p[PARTIAL_ACC];
}

/**
 * The key of a user's record or of a partial: what the shuffle in front of a global window operator
 * hashes, so that a key's partials and its raw records reach the same subtask.
 */
export function partialAwareKeySelector(spec: KeySpec): KeySelector {
  const user = compileKeySelector(spec);
  return (v) => (isPartial(v) ? v[PARTIAL_KEY] as Key : user(v));
}
