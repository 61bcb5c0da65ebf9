/**
 * The PostgreSQL side of the SQL sink (node-postgres, `pg`): connections, the table's description
 * from the catalog, and which errors are worth a retry.
 */
import type { ClientConfig } from 'pg';
import { RlinkError, errorMessage } from '../../core/errors';
import { hostPort, describeEndpoint, type Endpoint } from '../store/endpoint';
import { isNetworkError } from '../store/retry';
import { POSTGRES_DIALECT, type SqlColumn, type SqlTable } from '../store/sql';
import type { SqlConnection, SqlDriver } from '../store/sql-writer';

type Pg = typeof import('pg');
let lib: Promise<Pg> | undefined;

/** node-postgres, loaded on first use (jobs without PostgreSQL never pay for it). */
export function pg(): Promise<Pg> {
  lib ??= import('pg').then((m) => (m as unknown as { default?: Pg }).default ?? m);
  return lib;
}

export const POSTGRES_DEFAULT_PORT = 5432;
/** How long opening a connection may take before it counts as failed (and is retried). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * SQLSTATEs a retry can get past: connection exceptions (class 08), the server shutting down or
 * starting (57P01-57P03), too many connections (53300), serialization failures and deadlocks (40001,
 * 40P01), a lock not available within lock_timeout (55P03).
 */
function transientState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300'
    || code === '40001' || code === '40P01' || code === '55P03';
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = POSTGRES_DIALECT;
  readonly begin = 'BEGIN';

  constructor(private readonly endpoint: Endpoint, private readonly applicationName = 'rlink') {}

  async connect(): Promise<SqlConnection> {
    const { Client } = await pg();
    const e = this.endpoint;
    const config: ClientConfig = e.url !== undefined
      ? { connectionString: e.url }
      : { host: e.host, port: e.port, user: e.user, password: e.password, database: e.database };
    const client = new Client({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, application_name: this.applicationName });
    let broken = false;
    // An idle connection that the server drops emits 'error': without a listener it would crash the worker.
    client.on('error', () => { broken = true; });
    client.on('end', () => { broken = true; });
    try {
      await client.connect();
    } catch (err) {
      broken = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    return {
      get broken() { return broken; },
      async query<R>(text: string, values?: unknown[]): Promise<R[]> {
        try {
          const r = await client.query({ text, values });
          return r.rows as R[];
        } catch (err) {
          if (isNetworkError(err) || (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('08'))) broken = true;
          throw err;
        }
      },
      async close() { broken = true; await client.end().catch(() => undefined); },
    };
  }

  async describeTable(conn: SqlConnection, name: string): Promise<SqlTable> {
    const rows = await conn.query<{ schema: string; table: string; column: string; type: string; category: string }>(
      `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory AS category
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_type t ON t.oid = a.atttypid
        WHERE c.oid = to_regclass($1) ORDER BY a.attnum`, [name]);
    if (rows.length === 0) {
      throw new RlinkError('RLINK_CONFIG', `postgres sink: table ${name} does not exist in ${describeEndpoint(this.endpoint)} (create it first; the sink does not)`,
        { context: { host: hostPort(this.endpoint) } });
    }
    const keys = await conn.query<{ columns: string[] }>(
      `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        GROUP BY i.indexrelid`, [name]);
    const first = rows[0]!;
    const q = this.dialect.quote;
    return {
      sql: `${q(first.schema)}.${q(first.table)}`,
      display: name,
      columns: rows.map((r): SqlColumn => ({ name: r.column, type: r.type, kind: columnKind(r.type, r.category) })),
      uniqueKeys: keys.map((k) => k.columns),
    };
  }

  isTransient(e: unknown): boolean {
    if (isNetworkError(e)) return true;
    const code = (e as { code?: unknown } | null)?.code;
    return typeof code === 'string' && transientState(code);
  }

  describeError(e: unknown): string { return describePgError(e); }
}

function columnKind(type: string, category: string): SqlColumn['kind'] {
  if (category === 'A') return 'array';
  if (type.startsWith('timestamp') || type === 'date') return 'time';
  return 'other';
}

/** `28P01 password authentication failed for user "x"`, `connect ECONNREFUSED 127.0.0.1:1`. */
export function describePgError(e: unknown): string {
  const errors = (e as { errors?: unknown } | null)?.errors;
  if (e instanceof AggregateError && Array.isArray(errors) && errors.length > 0) return describePgError(errors[0]);
  const msg = errorMessage(e);
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !msg.includes(code) ? `${code} ${msg}` : msg;
}
