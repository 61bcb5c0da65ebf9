/**
 * SQL aggregate calls (SUM, MIN, MAX, COUNT, AVG, COUNT(DISTINCT …)) as one AggregateFunction over
 * a row: its accumulator is an array with one slot per call, plain JSON (numbers, null, arrays,
 * objects with string keys), because window and keyed state go through JSON in checkpoints. Each
 * call's argument is compiled once; `add` is a loop over the calls, not a tree walk.
 *
 * SQL's rules: NULL arguments are skipped; SUM, MIN, MAX and AVG of no (non-null) value are NULL;
 * COUNT(*) counts rows, COUNT(x) the rows where x is not null, COUNT(DISTINCT x) the different
 * non-null values (kept in the accumulator as an object keyed by each value's JSON text).
 * rlink: AVG is a DOUBLE (Flink's AVG of an integer column is an integer).
 */
import type { AggregateFunction } from '../aggregates/aggregate-function';
import type { Expr } from './ast';
import { sqlError } from './errors';
import { compareValues, compileExpr, type Compiled, type ExprType, type Scope } from './expressions';

export interface AggregateCall {
  expr: Extract<Expr, { kind: 'call' }>;
  /** The compiled argument; undefined for COUNT(*). */
  arg: Compiled | undefined;
  type: ExprType;
}

type Slot = unknown;

interface Kind {
  init: () => Slot;
  add: (acc: Slot, v: unknown) => Slot;
  merge: (a: Slot, b: Slot) => Slot;
  result: (acc: Slot) => unknown;
}

const isNull = (v: unknown): boolean => v === null || v === undefined;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

const KINDS = {
  COUNT_STAR: { init: () => 0, add: (a) => (a as number) + 1, merge: (a, b) => (a as number) + (b as number), result: (a) => a },
  COUNT: { init: () => 0, add: (a, v) => (isNull(v) ? a : (a as number) + 1), merge: (a, b) => (a as number) + (b as number), result: (a) => a },
  COUNT_DISTINCT: {
    init: () => ({}),
    add: (a, v) => { if (!isNull(v)) (a as Record<string, 1>)[`k${JSON.stringify(v)}`] = 1; return a; },
    merge: (a, b) => Object.assign(a as object, b),
    result: (a) => Object.keys(a as object).length,
  },
  SUM: {
    init: () => null,
    add: (a, v) => { if (isNull(v)) return a; const x = num(v); return a === null ? x : (a as number) + x; },
    merge: (a, b) => (a === null ? b : b === null ? a : (a as number) + (b as number)),
    result: (a) => (a === null || Number.isFinite(a) ? a : null),
  },
  MIN: {
    init: () => null,
    add: (a, v) => (isNull(v) ? a : a === null || compareValues(v, a) < 0 ? v : a),
    merge: (a, b) => (a === null ? b : b === null ? a : compareValues(b, a) < 0 ? b : a),
    result: (a) => a,
  },
  MAX: {
    init: () => null,
    add: (a, v) => (isNull(v) ? a : a === null || compareValues(v, a) > 0 ? v : a),
    merge: (a, b) => (a === null ? b : b === null ? a : compareValues(b, a) > 0 ? b : a),
    result: (a) => a,
  },
  AVG: {
    init: () => [0, 0],
    add: (a, v) => { if (!isNull(v)) { const s = a as [number, number]; s[0] += num(v); s[1] += 1; } return a; },
    merge: (a, b) => { const x = a as [number, number], y = b as [number, number]; x[0] += y[0]; x[1] += y[1]; return x; },
    result: (a) => { const [s, n] = a as [number, number]; return n === 0 || !Number.isFinite(s / n) ? null : s / n; },
  },
} satisfies Record<string, Kind>;

/** Compiles one aggregate call found in SELECT or HAVING, its argument in the input rows' scope. */
export function compileAggregateCall(e: Extract<Expr, { kind: 'call' }>, rowScope: Scope): AggregateCall {
  const inner: Scope = { ...rowScope, aggregatesRefused: `aggregate ${e.name} inside another aggregate is not allowed` };
  if (e.star) {
    if (e.name !== 'COUNT') sqlError(e.pos, `${e.name}(*) is not allowed: only COUNT(*)`);
    return { expr: e, arg: undefined, type: 'bigint' };
  }
  if (e.args.length !== 1) sqlError(e.pos, `${e.name} takes one argument, got ${e.args.length}`);
  if (e.distinct && e.name !== 'COUNT') sqlError(e.pos, `${e.name}(DISTINCT …) is not supported: DISTINCT only in COUNT(DISTINCT …)`);
  const arg = compileExpr(e.args[0]!, inner);
  const t = arg.type;
  if ((e.name === 'SUM' || e.name === 'AVG') && !['double', 'bigint', 'any', 'null'].includes(t)) {
    sqlError(e.args[0]!.pos, `${e.name} needs a number, got a ${t.toUpperCase()}`);
  }
  const type: ExprType = e.name === 'COUNT' ? 'bigint' : e.name === 'AVG' ? 'double' : e.name === 'SUM' ? (t === 'bigint' ? 'bigint' : t === 'any' ? 'any' : 'double') : t;
  return { expr: e, arg, type };
}

function kindOf(c: AggregateCall): Kind {
  if (c.expr.name === 'COUNT') return c.arg === undefined ? KINDS.COUNT_STAR : c.expr.distinct ? KINDS.COUNT_DISTINCT : KINDS.COUNT;
  return KINDS[c.expr.name as 'SUM' | 'MIN' | 'MAX' | 'AVG'];
}

/**
 * The calls as one AggregateFunction over input rows: the accumulator is an array of slots, the
 * result an array of the calls' values in order.
 */
export function rowAggregate(calls: readonly AggregateCall[]): AggregateFunction<any, Slot[], unknown[]> & { addRow(acc: Slot[], row: any): Slot[] } {
  const kinds = calls.map(kindOf);
  const args = calls.map((c) => c.arg?.fn);
  const n = calls.length;
  const add = (acc: Slot[], row: any): Slot[] => {
    for (let i = 0; i < n; i++) {
      const f = args[i];
      acc[i] = kinds[i]!.add(acc[i], f === undefined ? undefined : f(row));
    }
    return acc;
  };
  return {
    createAccumulator: () => kinds.map((k) => k.init()),
    add,
    addRow: add,
    merge: (a, b) => { for (let i = 0; i < n; i++) a[i] = kinds[i]!.merge(a[i], b[i]); return a; },
    getResult: (acc) => kinds.map((k, i) => k.result(acc[i])),
  };
}
