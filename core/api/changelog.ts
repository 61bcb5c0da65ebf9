/**
 * Update streams (changelogs): the one convention for records that insert, update or delete a row.
 *
 * A SQL query whose result changes as input arrives (a GROUP BY without a window, SELECT DISTINCT)
 * produces an update stream: every record is a row of the result with its kind, Flink's RowKind, in
 * the field `op` (the first field of the record):
 *
 *   op    meaning                                         Flink
 *   '+I'  a new row of the result                         INSERT
 *   '-U'  the previous version of a row that changes      UPDATE_BEFORE
 *   '+U'  the new version of that row (follows its -U)    UPDATE_AFTER
 *   '-D'  a row that leaves the result                    DELETE
 *
 *   {"op":"+I","page":"/home","clicks":1}
 *   {"op":"-U","page":"/home","clicks":1}
 *   {"op":"+U","page":"/home","clicks":2}
 *
 * The other fields are the row's columns. A sink that applies changes by key (an upsert sink) keeps
 * the `+I`/`+U` rows and deletes on `-D` (and may ignore `-U`). `sinks.print` and `sinks.file` write
 * the records as they are, `op` included. A sink that can only append declares
 * `acceptsUpdates: false` (see {@link Sink}); SQL then refuses, when it plans the query, to write an
 * update stream into it. Streams that only ever insert (window aggregates, projections) carry no `op`.
 */
import type { Sink } from './connector';

/** The kind of change a record of an update stream makes (Flink's RowKind, short string form). */
export type RowKind = '+I' | '-U' | '+U' | '-D';

/** The field of an update-stream record that holds its {@link RowKind}. */
export const ROW_KIND_FIELD = 'op';

export const ROW_KINDS: readonly RowKind[] = ['+I', '-U', '+U', '-D'];

/** A record of an update stream: the row's columns plus `op`. */
export type ChangelogRecord<T extends object = Record<string, unknown>> = { op: RowKind } & T;

/** Whether a sink declared that it cannot take update streams. */
export function refusesUpdates(sink: Sink<any>): boolean {
  return sink.acceptsUpdates === false;
}
