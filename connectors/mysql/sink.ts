import type { Sink } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { describeEndpoint, parseEndpoint, type ConnectionObject } from '../store/endpoint';
import { resolveBatchOptions, resolveUpsertKey, type StoreBatchOptions } from '../store/options';
import { SqlSinkWriter, type SqlSinkSettings } from '../store/sql-writer';
import { MYSQL_DEFAULT_PORT, MySqlDriver } from './client';

/** Options of {@link mysqlSink} (`sinks.mysql`). */
export interface MySqlSinkOptions extends StoreBatchOptions {
  /** `mysql://user:password@host:3306/database` (`mariadb://` too), or `{ host, port, user, password, database }`. */
  connection: string | ConnectionObject;
  /** The table to write, `name` or `database.name`. It must exist. */
  table: string;
  /**
   * The record field(s) that identify a row: the table's primary key or a unique index. Rows are then
   * upserted (`INSERT … ON DUPLICATE KEY UPDATE`), so a replay after a restore overwrites what it wrote
   * before: exactly-once in effect. Records of an updating stream (`op` '-D') delete their key's row,
   * '-U' records are skipped. Without it, records are inserted: at-least-once.
   */
  upsertKey?: string | string[];
}

/**
 * `sinks.mysql`: writes records as rows of an existing MySQL or MariaDB table, one column per field,
 * in batches, retrying transient failures with back-off; upserts by `upsertKey` (exactly-once in
 * effect) or inserts (at-least-once).
 */
export function mysqlSink<T = unknown>(opts: MySqlSinkOptions): Sink<T> {
  const what = 'mysql sink';
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { connection, table } are required`);
  const endpoint = parseEndpoint(what, opts.connection, ['mysql', 'mariadb'], MYSQL_DEFAULT_PORT);
  if (typeof opts.table !== 'string' || opts.table.trim() === '') throw new RlinkError('RLINK_CONFIG', `${what}: option "table" is required (a table name)`);
  const upsertKey = resolveUpsertKey(what, opts.upsertKey);
  const batch = resolveBatchOptions(what, opts);
  const settings: SqlSinkSettings = {
    what, endpoint, table: opts.table.trim(), upsertKey, batch,
    keyHint: 'add one, e.g. ALTER TABLE t ADD PRIMARY KEY (…)',
  };
  const sink: Sink<T> = {
    kind: 'mysql',
    acceptsUpdates: upsertKey !== undefined,
    describe: () => ({
      kind: 'mysql', connection: describeEndpoint(endpoint), table: settings.table, upsertKey: upsertKey ?? null,
      guarantee: upsertKey ? 'exactly-once (idempotent upserts)' : 'at-least-once', batchSize: batch.batchSize, flushIntervalMs: batch.flushIntervalMs,
    }),
    createWriter: (ctx) => new SqlSinkWriter<T>(settings, new MySqlDriver(endpoint), ctx),
  };
  return sink;
}
