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

/**
 * The calls as one AggregateFunction over input rows, generated as straight-line code over a flat
 * accumulator `{ a0, a1, … }` (as core/aggregates/composite.ts does for the DataStream built-ins): per
 * record one call, no loop over the calls, arguments that are plain columns read inline. The result is
 * an array of the calls' values in order. Generated from a closed set of templates; column names are
 * JSON-quoted, other arguments are the compiled closures, passed in.
 */
export function rowAggregate(calls: readonly AggregateCall[]): AggregateFunction<any, Record<string, unknown>, unknown[]> {
  const init: string[] = [];
  const add: string[] = [];
  const merge: string[] = [];
  const result: string[] = [];
  const fns: Array<((row: any) => unknown) | undefined> = [];
  calls.forEach((c, i) => {
    const a = `acc.a${i}`, x = `x.a${i}`, y = `y.a${i}`;
    const arg = c.expr.args[0];
    fns.push(c.arg?.fn);
    const read = c.arg === undefined ? 'undefined' : arg?.kind === 'column' ? `r[${JSON.stringify(arg.name)}]` : `f[${i}](r)`;
    const num = `(typeof v === 'number' ? v : Number(v))`;
    switch (kindName(c)) {
      case 'COUNT_STAR': init.push(`a${i}: 0`); add.push(`${a}++;`); merge.push(`${x} += ${y};`); result.push(a); break;
      case 'COUNT': init.push(`a${i}: 0`); add.push(`{ const v = ${read}; if (v != null) ${a}++; }`); merge.push(`${x} += ${y};`); result.push(a); break;
      case 'COUNT_DISTINCT':
        init.push(`a${i}: {}`);
        add.push(`{ const v = ${read}; if (v != null) ${a}['k' + JSON.stringify(v)] = 1; }`);
        merge.push(`Object.assign(${x}, ${y});`);
        result.push(`Object.keys(${a}).length`);
        break;
      case 'SUM':
        init.push(`a${i}: null`);
        add.push(`{ const v = ${read}; if (v != null) ${a} = ${a} === null ? ${num} : ${a} + ${num}; }`);
        merge.push(`if (${y} !== null) ${x} = ${x} === null ? ${y} : ${x} + ${y};`);
        result.push(`(${a} === null || Number.isFinite(${a}) ? ${a} : null)`);
        break;
      case 'MIN': case 'MAX': {
        const op = kindName(c) === 'MIN' ? '<' : '>';
        const better = (v: string, w: string) => `(typeof ${v} === 'number' && typeof ${w} === 'number' ? ${v} ${op} ${w} : cmp(${v}, ${w}) ${op} 0)`;
        init.push(`a${i}: null`);
        add.push(`{ const v = ${read}; if (v != null && (${a} === null || ${better('v', a)})) ${a} = v; }`);
        merge.push(`if (${y} !== null && (${x} === null || ${better(y, x)})) ${x} = ${y};`);
        result.push(a);
        break;
      }
      case 'AVG':
        init.push(`a${i}s: 0, a${i}n: 0`);
        add.push(`{ const v = ${read}; if (v != null) { ${a}s += ${num}; ${a}n++; } }`);
        merge.push(`${x}s += ${y}s; ${x}n += ${y}n;`);
        result.push(`(${a}n === 0 || !Number.isFinite(${a}s / ${a}n) ? null : ${a}s / ${a}n)`);
        break;
    }
  });
  /* eslint-disable no-new-func -- generated from the templates above; names are JSON-quoted */
  const make = new Function('f', 'cmp', `return {
    createAccumulator: () => ({ ${init.join(', ')} }),
    add: (acc, r) => { ${add.join(' ')} return acc; },
    merge: (x, y) => { ${merge.join(' ')} return x; },
    getResult: (acc) => [${result.join(', ')}],
  };`) as (f: typeof fns, cmp: typeof compareValues) => AggregateFunction<any, Record<string, unknown>, unknown[]>;
  return make(fns, compareValues);
}

function kindName(c: AggregateCall): 'COUNT_STAR' | 'COUNT' | 'COUNT_DISTINCT' | 'SUM' | 'MIN' | 'MAX' | 'AVG' {
  if (c.expr.name === 'COUNT') return c.arg === undefined ? 'COUNT_STAR' : c.expr.distinct ? 'COUNT_DISTINCT' : 'COUNT';
  return c.expr.name as 'SUM' | 'MIN' | 'MAX' | 'AVG';
}
