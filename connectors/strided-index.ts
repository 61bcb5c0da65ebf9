/**
 * Sources that split an index range over subtasks (subtask k of p reads i ≡ k mod p) resume from a
 * checkpointed next index. The index is moved up onto this subtask's residue class, so that a state
 * written by another subtask (or at another parallelism) never makes this one read an index twice.
 */
import { RlinkError } from '../core/errors';

export function resumeIndex(restored: unknown, subtaskIndex: number, parallelism: number): number | undefined {
  if (Array.isArray(restored)) {
    // Old subtasks produced interleaved index sets: no new stride covers exactly what they had not.
    throw new RlinkError('RLINK_CONFIG', `this source cannot be restored at another parallelism (it ran with ${restored.length} subtasks, now ${parallelism})`);
  }
  const r = restored as { next?: unknown } | undefined;
  if (!r || typeof r !== 'object' || typeof r.next !== 'number' || !Number.isSafeInteger(r.next) || r.next < 0) return undefined;
  const rem = (((r.next - subtaskIndex) % parallelism) + parallelism) % parallelism;
  return rem === 0 ? r.next : r.next + (parallelism - rem);
}
