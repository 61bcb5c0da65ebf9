// What a Kafka source keeps in a checkpoint, and how a restored job reads it back. The state is keyed
// by split (topic-partition), not by subtask, so a job restored at another parallelism finds every
// partition's position whichever subtask saved it.
import type { Part } from './partition';

/**
 * A Kafka source's checkpoint state: the next offset to read per split `<topic>-<partition>`; for a
 * bounded source also `<topic>-<partition>:end`, the offset it stops at.
 */
export type KafkaSourceState = Record<string, number>;

/** Positions restored from a checkpoint, by partition. */
export interface RestoredPositions {
  positions: Map<number, number>;
  /** Bounded sources: the end offsets the first run chose. */
  ends: Map<number, number>;
}

/** The split id of a partition, as checkpoints and watermarks know it. */
export function splitOf(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** The checkpoint state of the reader's partitions. */
export function snapshotState(parts: Iterable<Part>): KafkaSourceState {
  const out: KafkaSourceState = {};
  for (const part of parts) {
    out[part.split] = part.position;
    if (part.end !== undefined) out[`${part.split}:end`] = part.end;
  }
  return out;
}

/**
 * Positions from a checkpoint for `topic`: a {@link KafkaSourceState}, or an array of them (every old
 * subtask's, when the parallelism changed). Undefined when there is no state at all.
 */
export function restoredState(restored: unknown, topic: string): RestoredPositions | undefined {
  const positions = new Map<number, number>();
  const ends = new Map<number, number>();
  let any = false;
  const prefix = `${topic}-`;
  const add = (s: unknown): void => {
    if (Array.isArray(s)) { for (const x of s) add(x); return; }
    if (!s || typeof s !== 'object') return;
    any = true;
    for (const [key, v] of Object.entries(s as Record<string, unknown>)) {
      if (!key.startsWith(prefix) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) continue;
      const m = /^(\d+)(:end)?$/.exec(key.slice(prefix.length));
      if (!m) continue;
      (m[2] ? ends : positions).set(Number(m[1]), v);
    }
  };
  add(restored);
  return any ? { positions, ends } : undefined;
}
