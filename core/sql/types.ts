/**
 * SQL types and schemas. rlink has five column types; every value is a plain JSON value:
 *
 *   type       value in a record                    SQL names accepted
 *   string     a string                             STRING, VARCHAR(n), CHAR(n)
 *   double     a number                             DOUBLE, FLOAT, REAL, DECIMAL(p, s)
 *   bigint     an integral number (±2^53 exact)     BIGINT, INT, INTEGER, SMALLINT, TINYINT
 *   boolean    true / false                         BOOLEAN
 *   timestamp  epoch milliseconds (a number), UTC   TIMESTAMP, TIMESTAMP(3), TIMESTAMP_LTZ(3)
 *
 * Every column may be null. A schema maps field names to types and may declare a watermark on a
 * timestamp field: `{ name: 'string', value: 'double', ts: 'timestamp', watermark: { field: 'ts', delay: '1s' } }`.
 * Sources given a schema conform each record to it ({@link schemaConformer}): fields are converted
 * where that is lossless (a numeric string to a number, a date string to epoch ms, a number to a
 * string), missing fields become null, fields not in the schema are dropped, and a value that cannot
 * be converted makes the record invalid (counted, logged with where it was, skipped).
 */
import { RlinkError } from '../errors';
import { toMillis, type Duration } from '../time/duration';

export type SqlType = 'string' | 'double' | 'bigint' | 'boolean' | 'timestamp';

export const SQL_TYPES: readonly SqlType[] = ['string', 'double', 'bigint', 'boolean', 'timestamp'];

/** A watermark declared on a schema: event time from `field`, watermarks `delay` behind the largest seen. */
export interface WatermarkSpec { field: string; delay: Duration }

/**
 * A schema as the API takes it: field name → type name (`'string'`, `'double'`, `'bigint'`,
 * `'boolean'`, `'timestamp'`, or a SQL name such as `'VARCHAR(20)'`), plus an optional `watermark`.
 */
export type SchemaSpec = { readonly [field: string]: string | WatermarkSpec | undefined; readonly watermark?: WatermarkSpec };

export interface Column { readonly name: string; readonly type: SqlType }

/** A checked schema: columns in declaration order, the watermark in milliseconds. */
export interface Schema {
  readonly columns: readonly Column[];
  readonly watermark?: { readonly field: string; readonly delayMs: number };
}

/** The rlink type of a SQL type name (case-insensitive, with or without a length or precision); undefined when unknown. */
export function parseTypeName(name: string): SqlType | undefined {
  const m = /^\s*([A-Za-z_]+)\s*(?:\(\s*\d+\s*(?:,\s*\d+\s*)?\))?\s*$/.exec(name);
  if (!m) return undefined;
  switch (m[1]!.toUpperCase()) {
    case 'STRING': case 'VARCHAR': case 'CHAR': case 'TEXT': return 'string';
    case 'DOUBLE': case 'FLOAT': case 'REAL': case 'DECIMAL': case 'NUMERIC': return 'double';
    case 'BIGINT': case 'INT': case 'INTEGER': case 'SMALLINT': case 'TINYINT': return 'bigint';
    case 'BOOLEAN': case 'BOOL': return 'boolean';
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return 'timestamp';
    default: return undefined;
  }
}

export function isSchema(x: unknown): x is Schema {
  return !!x && typeof x === 'object' && Array.isArray((x as Schema).columns);
}

/** Checks a schema given to the API; `what` prefixes messages (`file source`, `view 'clicks'`). Throws RLINK_CONFIG. */
export function compileSchema(spec: SchemaSpec | Schema, what: string): Schema {
  if (isSchema(spec)) return spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new RlinkError('RLINK_CONFIG', `${what}: a schema is an object of field name → type, e.g. { name: 'string', value: 'double', ts: 'timestamp' }`);
  }
  const columns: Column[] = [];
  for (const [name, t] of Object.entries(spec)) {
    if (name === 'watermark' && t !== null && typeof t === 'object') continue;
    const type = typeof t === 'string' ? parseTypeName(t) : undefined;
    if (!type) {
      throw new RlinkError('RLINK_CONFIG', `${what}: schema field '${name}': unknown type ${JSON.stringify(t)} (use ${SQL_TYPES.join(', ')})`);
    }
    columns.push({ name, type });
  }
  if (columns.length === 0) throw new RlinkError('RLINK_CONFIG', `${what}: the schema has no fields`);
  const wm = (spec as { watermark?: unknown }).watermark;
  if (wm === undefined || (typeof wm === 'string')) return { columns };
  const w = wm as Partial<WatermarkSpec>;
  if (!w || typeof w !== 'object' || typeof w.field !== 'string' || w.delay === undefined) {
    throw new RlinkError('RLINK_CONFIG', `${what}: schema watermark must be { field, delay }, e.g. { field: 'ts', delay: '1s' }`);
  }
  const col = columns.find((c) => c.name === w.field);
  if (!col) throw new RlinkError('RLINK_CONFIG', `${what}: schema watermark field '${w.field}' is not a field of the schema (${columns.map((c) => c.name).join(', ')})`);
  if (col.type !== 'timestamp' && col.type !== 'bigint') {
    throw new RlinkError('RLINK_CONFIG', `${what}: schema watermark field '${w.field}' must be a timestamp (it is ${col.type})`);
  }
  return { columns, watermark: { field: w.field, delayMs: toMillis(w.delay, `${what}: schema watermark delay`) } };
}

/** A schema in the API's form again (for describe() and messages). */
export function schemaToSpec(s: Schema): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of s.columns) o[c.name] = c.type;
  if (s.watermark) o.watermark = { field: s.watermark.field, delay: s.watermark.delayMs };
  return o;
}

const SQL_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)$/;

/** Epoch ms of a timestamp string: digits are epoch ms; a date-time without a zone is UTC; else Date.parse. NaN when unreadable. */
export function parseTimestamp(s: string): number {
  const t = s.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  const m = SQL_TIMESTAMP.exec(t);
  if (m) return Date.parse(`${m[1]}T${m[2]}Z`);
  return Date.parse(t);
}

/**
 * Converts a value to `type`; returns {@link INVALID} when it cannot. null and undefined are null.
 */
export function coerce(v: unknown, type: SqlType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return INVALID;
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '') { const n = Number(v); return Number.isFinite(n) ? n : INVALID; }
      return INVALID;
    case 'bigint':
      if (typeof v === 'number') return Number.isInteger(v) ? v : INVALID;
      if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
      return INVALID;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') { const l = v.trim().toLowerCase(); if (l === 'true') return true; if (l === 'false') return false; }
      return INVALID;
    case 'timestamp':
      if (typeof v === 'number') return Number.isFinite(v) ? v : INVALID;
      if (typeof v === 'string') { const n = parseTimestamp(v); return Number.isFinite(n) ? n : INVALID; }
      return INVALID;
  }
}

/** Returned by {@link coerce} for a value that does not fit the type. */
export const INVALID: unique symbol = Symbol('invalid');

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * A function that conforms a record to the schema: it returns a new object with exactly the schema's
 * fields, in order, converted to their types, or a string saying why the record does not fit.
 */
export function schemaConformer(schema: Schema): (record: unknown) => Record<string, unknown> | string {
  const cols = schema.columns;
  const n = cols.length;
  return (record) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) return `expected an object with the fields ${cols.map((c) => c.name).join(', ')}, got ${describeValue(record)}`;
    const r = record as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const c = cols[i]!;
      const raw = Object.hasOwn(r, c.name) ? r[c.name] : undefined;
      const v = coerce(raw, c.type);
      if (v === INVALID) return `field '${c.name}': expected a ${c.type}, got ${describeValue(raw)}`;
      if (c.name === '__proto__') Object.defineProperty(out, c.name, { value: v, enumerable: true, writable: true, configurable: true });
      else out[c.name] = v;
    }
    return out;
  };
}
