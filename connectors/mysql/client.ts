/**
 * The MySQL / MariaDB side of the SQL sink (mysql2): connections, the table's description from
 * information_schema, and which errors are worth a retry.
 */
import type { ConnectionOptions } from 'mysql2/promise';
import { RlinkError, errorMessage } from '../../core/errors';
import { describeEndpoint, hostPort, type Endpoint } from '../store/endpoint';
import { isNetworkError } from '../store/retry';
import { MYSQL_DIALECT, type SqlColumn, type SqlTable } from '../store/sql';
import type { SqlConnection, SqlDriver } from '../store/sql-writer';

type MySql = typeof import('mysql2/promise');
let lib: Promise<MySql> | undefined;

/** mysql2's promise API, loaded on first use. */
export function mysql2(): Promise<MySql> {
  lib ??= import('mysql2/promise').then((m) => (m as unknown as { default?: MySql }).default ?? m);
  return lib;
}

export const MYSQL_DEFAULT_PORT = 3306;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Server errors a retry can get past: deadlock (1213), lock wait timeout (1205), too many connections
 * (1040), server shutting down (1053), connection killed (1927), server gone / connection lost (2006,
 * 2013), and an idle connection closed by the server (4031).
 */
const TRANSIENT_ERRNOS = new Set([1213, 1205, 1040, 1053, 1927, 2006, 2013, 4031]);

export class MySqlDriver implements SqlDriver {
  readonly dialect = MYSQL_DIALECT;
  readonly begin = 'START TRANSACTION';

  constructor(private readonly endpoint: Endpoint) {}

  async connect(): Promise<SqlConnection> {
    const { createConnection } = await mysql2();
    const e = this.endpoint;
    const base: ConnectionOptions = e.url !== undefined
      ? { uri: e.url.replace(/^mariadb:/, 'mysql:') }
      : { host: e.host, port: e.port, user: e.user, password: e.password, database: e.database };
    const conn = await createConnection({
      ...base, connectTimeout: CONNECT_TIMEOUT_MS, timezone: 'Z', supportBigNumbers: true, dateStrings: true,
      enableKeepAlive: true, multipleStatements: false,
    });
    let broken = false;
    // A connection the server drops emits 'error': without a listener it would crash the worker.
    conn.on('error', () => { broken = true; });
    conn.on('end', () => { broken = true; });
    return {
      get broken() { return broken; },
      async query<R>(text: string, values?: unknown[]): Promise<R[]> {
        try {
          const [rows] = await conn.query(text, values);
          return (Array.isArray(rows) ? rows : []) as R[];
        } catch (err) {
          if ((err as { fatal?: unknown }).fatal === true || isNetworkError(err)) broken = true;
          throw err;
        }
      },
      async close() { broken = true; await conn.end().catch(() => conn.destroy()); },
    };
  }

  async describeTable(conn: SqlConnection, name: string): Promise<SqlTable> {
    const parts = name.split('.').map((x) => x.replace(/^`(.*)`$/, '$1'));
    if (parts.length > 2 || parts.some((x) => x === '')) throw new RlinkError('RLINK_CONFIG', `mysql sink: table must be 'name' or 'database.name', not '${name}'`);
    const [schema, table] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
    const rows = await conn.query<{ db: string | null; tbl: string; name: string; type: string }>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [schema ?? null, table]);
    if (rows.length === 0) {
      const where = schema ?? this.endpoint.database;
      throw new RlinkError('RLINK_CONFIG', where
        ? `mysql sink: table ${name} does not exist in ${describeEndpoint({ ...this.endpoint, database: where })} (create it first; the sink does not)`
        : `mysql sink: no database for table ${name}: name it in the connection (mysql://…/database) or as database.table`,
      { context: { host: hostPort(this.endpoint) } });
    }
    const db = rows[0]!.db!;
    const tbl = rows.find((r) => r.tbl === table)?.tbl ?? rows[0]!.tbl;
    const cols = rows.filter((r) => r.tbl === tbl);
    const keys = await conn.query<{ idx: string; col: string }>(
      `SELECT INDEX_NAME AS idx, COLUMN_NAME AS col FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`, [db, tbl]);
    const byIndex = new Map<string, string[]>();
    for (const k of keys) {
      const list = byIndex.get(k.idx) ?? [];
      list.push(k.col);
      byIndex.set(k.idx, list);
    }
    const q = this.dialect.quote;
    return {
      sql: `${q(db)}.${q(tbl)}`,
      display: name,
      columns: cols.map((c): SqlColumn => ({ name: c.name, type: c.type, kind: ['datetime', 'timestamp', 'date'].includes(c.type.toLowerCase()) ? 'time' : 'other' })),
      uniqueKeys: [...byIndex.values()],
    };
  }

  isTransient(e: unknown): boolean {
    if (isNetworkError(e)) return true;
    const o = e as { errno?: unknown; code?: unknown; fatal?: unknown } | null;
    if (typeof o?.errno === 'number' && TRANSIENT_ERRNOS.has(o.errno)) return true;
    return typeof o?.code === 'string' && (o.code === 'PROTOCOL_CONNECTION_LOST' || o.code === 'ER_SERVER_SHUTDOWN' || o.code === 'ETIMEDOUT');
  }

  describeError(e: unknown): string { return describeMySqlError(e); }
}

/** `ER_ACCESS_DENIED_ERROR: Access denied for user …`, `connect ECONNREFUSED 127.0.0.1:1`. */
export function describeMySqlError(e: unknown): string {
  const errors = (e as { errors?: unknown } | null)?.errors;
  if (e instanceof AggregateError && Array.isArray(errors) && errors.length > 0) return describeMySqlError(errors[0]);
  const msg = errorMessage(e) || String((e as { code?: unknown } | null)?.code ?? 'unknown error');
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
