/**
 * Updating streams: records that carry Flink's row kind in their `op` field, as rlink's SQL produces
 * them for a non-windowed GROUP BY (the convention: core/api/changelog.ts):
 *
 *   op   meaning                              what a keyed store sink does
 *   +I   insert                               upsert the row of its key
 *   -U   retraction of the previous value     nothing (the +U that follows overwrites it)
 *   +U   the new value of an updated row      upsert the row of its key
 *   -D   delete                               delete the row of its key
 *
 * A record whose `op` is anything else (or absent) is an ordinary record: an insert.
 */
import { ROW_KIND_FIELD, ROW_KINDS, type RowKind } from '../../core/api/changelog';

export type { RowKind };

/** The field that carries the row kind (core/api/changelog.ts). */
export const OP_FIELD = ROW_KIND_FIELD;

const KINDS: ReadonlySet<string> = new Set(ROW_KINDS);

/** The row kind of a record; undefined for an ordinary record (no `op`, or not a row kind). */
export function rowKind(record: unknown): RowKind | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const op = (record as Record<string, unknown>)[OP_FIELD];
  return typeof op === 'string' && KINDS.has(op) ? op as RowKind : undefined;
}

/** The record's fields without the row kind (the record itself when it has none). */
export function withoutOp(record: Record<string, unknown>): Record<string, unknown> {
  if (rowKind(record) === undefined) return record;
  const { [OP_FIELD]: _op, ...rest } = record;
  return rest;
}

/** What to do with a key: write its row, or delete it. */
export type KeyedAction<R> = { kind: 'upsert'; key: string; record: R } | { kind: 'delete'; key: string; record: R };

/**
 * Folds a batch of keyed records into one action per key, the last one winning (the state a key ends
 * in does not depend on the steps before it within the batch). `-U` records are skipped, `-D` become
 * deletes, everything else an upsert. Keys keep the order of their last action.
 */
export function collapseByKey<R>(records: readonly R[], keyOf: (r: R) => string): Array<KeyedAction<R>> {
  const last = new Map<string, KeyedAction<R>>();
  for (const r of records) {
    const kind = rowKind(r);
    if (kind === '-U') continue;
    const key = keyOf(r);
    last.delete(key);
    last.set(key, { kind: kind === '-D' ? 'delete' : 'upsert', key, record: r });
  }
  return [...last.values()];
}
