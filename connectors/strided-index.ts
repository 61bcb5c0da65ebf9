/**
 * Sources that split an index range over subtasks (subtask k of p reads i ≡ k mod p) resume from a
 * checkpointed next index. The index is moved up onto this subtask's residue class, so that a state
 * written by another subtask (or at another parallelism) never makes this one read an index twice.
 */
export function resumeIndex(restored: unknown, subtaskIndex: number, parallelism: number): number | undefined {
  const r = restored as { next?: unknown } | undefined;
  if (!r || typeof r !== 'object' || typeof r.next !== 'number' || !Number.isSafeInteger(r.next) || r.next < 0) return undefined;
  const rem = (((r.next - subtaskIndex) % parallelism) + parallelism) % parallelism;
  return rem === 0 ? r.next : r.next + (parallelism - rem);
}
