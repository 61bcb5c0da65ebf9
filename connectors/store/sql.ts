/**
 * What the PostgreSQL and MySQL sinks share: the target table as the database describes it, the
 * mapping of record fields to its columns, and the statements that write a batch — multi-row
 * INSERTs, upserts (`ON CONFLICT … DO UPDATE` / `ON DUPLICATE KEY UPDATE`) keyed by the sink's
 * `upsertKey`, and DELETEs for the `-D` rows of an updating stream (see changelog.ts).
 */
import { RlinkError } from '../../core/errors';
import { collapseByKey, rowKind, withoutOp } from './changelog';

/** A column of the target table. `kind` decides how record values are converted for it. */
export interface SqlColumn {
  name: string;
  /** The database's type name (for messages). */
  type: string;
  /** `time`: numbers are epoch milliseconds (→ Date); `array`: JS arrays pass as arrays; `other`: objects → JSON text. */
  kind: 'time' | 'array' | 'other';
}

export interface SqlTable {
  /** The table as statements name it: quoted, qualified when the user qualified it. */
  sql: string;
  /** The table as messages name it. */
  display: string;
  columns: SqlColumn[];
  /** Column lists of the primary key and the unique indexes (without a predicate). */
  uniqueKeys: string[][];
}

/** The differences between the SQL of PostgreSQL and MySQL that the sinks meet. */
export interface SqlDialect {
  quote(identifier: string): string;
  /** The placeholder of parameter `n` (1-based): `$n` or `?`. */
  placeholder(n: number): string;
  /** Parameters per statement at most (PostgreSQL's protocol allows 65535). */
  readonly maxParams: number;
  /** The clause after `INSERT … VALUES …` that turns it into an upsert on `keyColumns`. */
  upsertClause(keyColumns: string[], updateColumns: string[]): string;
}

export const POSTGRES_DIALECT: SqlDialect = {
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  placeholder: (n) => `$${n}`,
  maxParams: 65_000,
  upsertClause(keys, updates) {
    const q = this.quote.bind(this);
    const target = `ON CONFLICT (${keys.map(q).join(', ')})`;
    return updates.length === 0 ? `${target} DO NOTHING` : `${target} DO UPDATE SET ${updates.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`;
  },
};

export const MYSQL_DIALECT: SqlDialect = {
  quote: (id) => `\`${id.replace(/`/g, '``')}\``,
  placeholder: () => '?',
  maxParams: 60_000,
  upsertClause(keys, updates) {
    const q = this.quote.bind(this);
    // VALUES(col): the value the failed insert would have written (MariaDB; MySQL 8 still accepts it).
    const set = updates.length === 0 ? [`${q(keys[0]!)} = ${q(keys[0]!)}`] : updates.map((c) => `${q(c)} = VALUES(${q(c)})`);
    return `ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  },
};

/** One statement and its parameters. */
export interface Statement { text: string; values: unknown[] }

/**
 * The mapping of record fields to columns: a field maps to the column of the same name, else to the
 * one column whose name matches ignoring case (`windowStart` → `windowstart`, as PostgreSQL folds an
 * unquoted `CREATE TABLE … (windowStart bigint)`). A field with no column is an error naming the
 * table's columns: the sink never drops data silently.
 */
export class ColumnMapper {
  private readonly exact = new Map<string, SqlColumn>();
  private readonly folded = new Map<string, SqlColumn | null>();
  private readonly cache = new Map<string, SqlColumn>();

  constructor(readonly table: SqlTable, private readonly what: string) {
    for (const c of table.columns) {
      this.exact.set(c.name, c);
      const f = c.name.toLowerCase();
      this.folded.set(f, this.folded.has(f) ? null : c);
    }
  }

  has(field: string): boolean { return this.find(field) !== undefined; }

  column(field: string): SqlColumn {
    const c = this.find(field);
    if (c) return c;
    throw new RlinkError('RLINK_CONFIG', `${this.what}: record field '${field}' has no column in table ${this.table.display} (columns: ${this.table.columns.map((x) => x.name).join(', ')})`);
  }

  private find(field: string): SqlColumn | undefined {
    let c = this.cache.get(field);
    if (c) return c;
    c = this.exact.get(field) ?? this.folded.get(field.toLowerCase()) ?? undefined;
    if (c) this.cache.set(field, c);
    return c;
  }
}

/** A record value as a statement parameter for `col`. */
export function toSqlValue(v: unknown, col: SqlColumn): unknown {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case 'number': return col.kind === 'time' && Number.isFinite(v) ? new Date(v) : v;
    case 'bigint': return v.toString();
    case 'object':
      if (v instanceof Date || Buffer.isBuffer(v)) return v;
      if (Array.isArray(v) && col.kind === 'array') return v;
      return JSON.stringify(v);
    default: return v;
  }
}

export interface PlanContext {
  what: string;
  dialect: SqlDialect;
  mapper: ColumnMapper;
  /** The upsert key's fields; undefined: append (INSERT). */
  keyFields: string[] | undefined;
  /** The key's columns (same order as `keyFields`). */
  keyColumns: string[] | undefined;
  /** The table has a column for `op`: without an upsert key, the row kind is written as data. */
  opColumn: boolean;
}

/** The statements that write one batch; `rows`: rows written or deleted. */
export interface WritePlan { statements: Statement[]; rows: number }

/**
 * Plans the statements of a batch. With an upsert key: one action per key (the last one wins, `-U`
 * skipped, `-D` a delete), then deletes, then upserts. Without: every record inserted, in order; an
 * updating stream's `-U`/`+U`/`-D` rows cannot be appended to a table without an `op` column and are
 * an error that says to set `upsertKey`.
 */
export function planWrite(records: readonly unknown[], p: PlanContext): WritePlan {
  const statements: Statement[] = [];
  let rows = 0;
  if (p.keyFields) {
    const keyFields = p.keyFields;
    const actions = collapseByKey(records as Array<Record<string, unknown>>, (r) => keyOf(r, keyFields, p.what));
    const deletes: unknown[][] = [];
    const upserts: Array<Record<string, unknown>> = [];
    for (const a of actions) {
      if (a.kind === 'delete') deletes.push(keyFields.map((f, i) => toSqlValue(a.record[f], p.mapper.column(keyFields[i]!))));
      else upserts.push(withoutOp(a.record));
    }
    statements.push(...deleteStatements(p, deletes));
    statements.push(...insertStatements(p, upserts, true));
    rows = actions.length;
  } else {
    const out: Array<Record<string, unknown>> = [];
    for (const r of records as Array<Record<string, unknown>>) {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw notARow(p.what, r);
      const kind = rowKind(r);
      if (kind === undefined || p.opColumn) { out.push(r); continue; }
      if (kind !== '+I') {
        throw new RlinkError('RLINK_CONFIG', `${p.what}: a record with op '${kind}' (an updating stream) cannot be appended to table ${p.mapper.table.display}: set upsertKey to apply updates and deletes by key`);
      }
      out.push(withoutOp(r));
    }
    statements.push(...insertStatements(p, out, false));
    rows = out.length;
  }
  return { statements, rows };
}

function notARow(what: string, r: unknown): RlinkError {
  return new RlinkError('RLINK_TASK_FAILED', `${what}: records must be objects (one field per column), not ${JSON.stringify(r)?.slice(0, 80) ?? String(r)}`);
}

function keyOf(r: Record<string, unknown>, fields: string[], what: string): string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw notARow(what, r);
  const values = fields.map((f) => {
    const v = r[f];
    if (v === undefined || v === null) {
      throw new RlinkError('RLINK_TASK_FAILED', `${what}: a record has no value for the upsertKey field '${f}': ${JSON.stringify(r).slice(0, 200)}`);
    }
    return v;
  });
  return JSON.stringify(values);
}

/** Multi-row INSERTs (upserts with `upsert`), one group per set of columns, split to the parameter limit. */
function insertStatements(p: PlanContext, records: Array<Record<string, unknown>>, upsert: boolean): Statement[] {
  const groups = new Map<string, { fields: string[]; columns: SqlColumn[]; rows: Array<Record<string, unknown>> }>();
  for (const r of records) {
    const fields = Object.keys(r).filter((f) => r[f] !== undefined);
    const sig = fields.join('\u0000');
    let g = groups.get(sig);
    if (!g) groups.set(sig, g = { fields, columns: fields.map((f) => p.mapper.column(f)), rows: [] });
    g.rows.push(r);
  }
  const out: Statement[] = [];
  const q = (c: string) => p.dialect.quote(c);
  for (const g of groups.values()) {
    if (g.fields.length === 0) throw new RlinkError('RLINK_TASK_FAILED', `${p.what}: a record has no fields to write`);
    const names = g.columns.map((c) => c.name);
    if (new Set(names).size !== names.length) {
      throw new RlinkError('RLINK_CONFIG', `${p.what}: record fields ${g.fields.join(', ')} map to the same column twice in table ${p.mapper.table.display}`);
    }
    const head = `INSERT INTO ${p.mapper.table.sql} (${names.map(q).join(', ')}) VALUES `;
    const tail = upsert ? ` ${p.dialect.upsertClause(p.keyColumns!, names.filter((n) => !p.keyColumns!.includes(n)))}` : '';
    const perStatement = Math.max(1, Math.floor(p.dialect.maxParams / names.length));
    for (let from = 0; from < g.rows.length; from += perStatement) {
      const chunk = g.rows.slice(from, from + perStatement);
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (const r of chunk) {
        const ph: string[] = [];
        for (let i = 0; i < g.fields.length; i++) {
          values.push(toSqlValue(r[g.fields[i]!], g.columns[i]!));
          ph.push(p.dialect.placeholder(values.length));
        }
        tuples.push(`(${ph.join(', ')})`);
      }
      out.push({ text: head + tuples.join(', ') + tail, values });
    }
  }
  return out;
}

function deleteStatements(p: PlanContext, keys: unknown[][]): Statement[] {
  if (keys.length === 0) return [];
  const cols = p.keyColumns!.map((c) => p.dialect.quote(c));
  const target = cols.length === 1 ? cols[0]! : `(${cols.join(', ')})`;
  const perStatement = Math.max(1, Math.floor(p.dialect.maxParams / cols.length));
  const out: Statement[] = [];
  for (let from = 0; from < keys.length; from += perStatement) {
    const values: unknown[] = [];
    const tuples = keys.slice(from, from + perStatement).map((k) => {
      const ph = k.map((v) => { values.push(v); return p.dialect.placeholder(values.length); });
      return cols.length === 1 ? ph[0]! : `(${ph.join(', ')})`;
    });
    out.push({ text: `DELETE FROM ${p.mapper.table.sql} WHERE ${target} IN (${tuples.join(', ')})`, values });
  }
  return out;
}

/**
 * Checks the upsert key against the table: every field has a column, and those columns are exactly
 * the primary key or a unique index (what ON CONFLICT / ON DUPLICATE KEY need). Returns the columns.
 */
export function resolveKeyColumns(what: string, mapper: ColumnMapper, keyFields: string[], hint: string): string[] {
  const cols = keyFields.map((f) => mapper.column(f).name);
  const set = new Set(cols);
  const unique = mapper.table.uniqueKeys.some((k) => k.length === set.size && k.every((c) => set.has(c)));
  if (!unique) {
    const have = mapper.table.uniqueKeys.map((k) => `(${k.join(', ')})`).join(', ') || 'none';
    throw new RlinkError('RLINK_CONFIG', `${what}: upsertKey (${cols.join(', ')}) is not the primary key or a unique index of table ${mapper.table.display} (unique keys: ${have}); ${hint}`);
  }
  return cols;
}
