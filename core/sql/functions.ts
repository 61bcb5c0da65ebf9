/**
 * Scalar functions of rlink's SQL, by upper-case name. Arguments arrive evaluated; unless a function
 * says `nulls: 'handled'`, any null argument makes the result null (SQL's usual rule) without calling it.
 */
import type { SqlType } from './types';
import { parseTimestamp } from './types';

/** A static type: one of the column types, 'null' (the literal NULL) or 'any' (not known until run time). */
export type ExprType = SqlType | 'null' | 'any';

export interface ScalarFunction {
  minArgs: number;
  maxArgs: number;
  /** The result type from the argument types. */
  type: (args: ExprType[]) => ExprType;
  impl: (...args: any[]) => unknown;
  /** 'handled': the function receives nulls itself (COALESCE, NULLIF, CONCAT_WS). */
  nulls?: 'handled';
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const numericType = (t: ExprType): ExprType => (t === 'bigint' ? 'bigint' : t === 'any' ? 'any' : 'double');
const firstKnown = (ts: ExprType[]): ExprType => ts.find((t) => t !== 'null') ?? 'null';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `yyyy-MM-dd HH:mm:ss.SSS` in UTC (how CAST(ts AS STRING) writes a timestamp). */
export function formatTimestamp(ms: number, pattern = 'yyyy-MM-dd HH:mm:ss.SSS'): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss|SSS/g, (t) => {
    switch (t) {
      case 'yyyy': return String(d.getUTCFullYear()).padStart(4, '0');
      case 'MM': return pad2(d.getUTCMonth() + 1);
      case 'dd': return pad2(d.getUTCDate());
      case 'HH': return pad2(d.getUTCHours());
      case 'mm': return pad2(d.getUTCMinutes());
      case 'ss': return pad2(d.getUTCSeconds());
      default: return String(d.getUTCMilliseconds()).padStart(3, '0');
    }
  });
}

function round(x: number, d = 0): number {
  const f = 10 ** d;
  const y = Math.round(Math.abs(x) * f) / f; // half away from zero, as SQL's ROUND
  return x < 0 ? -y : y;
}

export const SCALAR_FUNCTIONS: Record<string, ScalarFunction> = {
  UPPER: { minArgs: 1, maxArgs: 1, type: () => 'string', impl: (s) => str(s).toUpperCase() },
  LOWER: { minArgs: 1, maxArgs: 1, type: () => 'string', impl: (s) => str(s).toLowerCase() },
  TRIM: { minArgs: 1, maxArgs: 1, type: () => 'string', impl: (s) => str(s).trim() },
  LTRIM: { minArgs: 1, maxArgs: 1, type: () => 'string', impl: (s) => str(s).trimStart() },
  RTRIM: { minArgs: 1, maxArgs: 1, type: () => 'string', impl: (s) => str(s).trimEnd() },
  CHAR_LENGTH: { minArgs: 1, maxArgs: 1, type: () => 'bigint', impl: (s) => [...str(s)].length },
  CHARACTER_LENGTH: { minArgs: 1, maxArgs: 1, type: () => 'bigint', impl: (s) => [...str(s)].length },
  SUBSTRING: {
    minArgs: 2, maxArgs: 3, type: () => 'string',
    impl: (s, start, len) => {
      const chars = [...str(s)];
      const from = Math.max(num(start), 1) - 1;
      const end = len === undefined ? chars.length : num(start) - 1 + num(len);
      return chars.slice(from, Math.max(from, end)).join('');
    },
  },
  REPLACE: { minArgs: 3, maxArgs: 3, type: () => 'string', impl: (s, a, b) => str(s).split(str(a)).join(str(b)) },
  CONCAT: { minArgs: 1, maxArgs: Infinity, type: () => 'string', impl: (...xs) => xs.map(str).join('') },
  CONCAT_WS: {
    minArgs: 2, maxArgs: Infinity, type: () => 'string', nulls: 'handled',
    impl: (sep, ...xs) => (sep === null || sep === undefined ? null : xs.filter((x) => x !== null && x !== undefined).map(str).join(str(sep))),
  },
  ABS: { minArgs: 1, maxArgs: 1, type: ([t]) => numericType(t!), impl: (x) => Math.abs(num(x)) },
  FLOOR: { minArgs: 1, maxArgs: 1, type: ([t]) => (t === 'double' ? 'double' : numericType(t!)), impl: (x) => Math.floor(num(x)) },
  CEIL: { minArgs: 1, maxArgs: 1, type: ([t]) => numericType(t!), impl: (x) => Math.ceil(num(x)) },
  CEILING: { minArgs: 1, maxArgs: 1, type: ([t]) => numericType(t!), impl: (x) => Math.ceil(num(x)) },
  ROUND: { minArgs: 1, maxArgs: 2, type: ([t]) => numericType(t!), impl: (x, d) => round(num(x), d === undefined ? 0 : num(d)) },
  MOD: { minArgs: 2, maxArgs: 2, type: ([a, b]) => (a === 'bigint' && b === 'bigint' ? 'bigint' : 'double'), impl: (a, b) => (num(b) === 0 ? null : num(a) % num(b)) },
  POWER: { minArgs: 2, maxArgs: 2, type: () => 'double', impl: (a, b) => finite(num(a) ** num(b)) },
  SQRT: { minArgs: 1, maxArgs: 1, type: () => 'double', impl: (x) => finite(Math.sqrt(num(x))) },
  EXP: { minArgs: 1, maxArgs: 1, type: () => 'double', impl: (x) => finite(Math.exp(num(x))) },
  LN: { minArgs: 1, maxArgs: 1, type: () => 'double', impl: (x) => finite(Math.log(num(x))) },
  LOG10: { minArgs: 1, maxArgs: 1, type: () => 'double', impl: (x) => finite(Math.log10(num(x))) },
  SIGN: { minArgs: 1, maxArgs: 1, type: ([t]) => numericType(t!), impl: (x) => Math.sign(num(x)) },
  COALESCE: {
    minArgs: 1, maxArgs: Infinity, type: firstKnown, nulls: 'handled',
    impl: (...xs) => { for (const x of xs) if (x !== null && x !== undefined) return x; return null; },
  },
  NULLIF: { minArgs: 2, maxArgs: 2, type: ([t]) => t!, nulls: 'handled', impl: (a, b) => (a === b ? null : a ?? null) },
  IF: { minArgs: 3, maxArgs: 3, type: ([, a, b]) => firstKnown([a!, b!]), nulls: 'handled', impl: (c, a, b) => (c === true ? a : b) ?? null },
  GREATEST: { minArgs: 1, maxArgs: Infinity, type: firstKnown, impl: (...xs) => xs.reduce((m, x) => (x > m ? x : m)) },
  LEAST: { minArgs: 1, maxArgs: Infinity, type: firstKnown, impl: (...xs) => xs.reduce((m, x) => (x < m ? x : m)) },
  /** A timestamp from a string ('yyyy-MM-dd HH:mm:ss[.SSS]' in UTC, ISO 8601, or epoch ms digits). */
  TO_TIMESTAMP: { minArgs: 1, maxArgs: 1, type: () => 'timestamp', impl: (s) => finite(typeof s === 'number' ? s : parseTimestamp(str(s))) },
  /** A timestamp from epoch seconds (precision 0) or milliseconds (precision 3, the default). */
  TO_TIMESTAMP_LTZ: { minArgs: 1, maxArgs: 2, type: () => 'timestamp', impl: (n, p) => (p === undefined || num(p) === 3 ? num(n) : num(n) * 1000) },
  /** A timestamp as text in UTC; patterns: yyyy MM dd HH mm ss SSS. */
  DATE_FORMAT: { minArgs: 1, maxArgs: 2, type: () => 'string', impl: (t, p) => formatTimestamp(typeof t === 'number' ? t : parseTimestamp(str(t)), p === undefined ? undefined : str(p)) },
  /** Epoch seconds of a timestamp (rlink: of a timestamp argument only; no argument is not allowed, it would not be deterministic). */
  UNIX_TIMESTAMP: { minArgs: 1, maxArgs: 1, type: () => 'bigint', impl: (t) => Math.floor((typeof t === 'number' ? t : parseTimestamp(str(t))) / 1000) },
};
