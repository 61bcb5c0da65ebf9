/**
 * Compiles expressions once into closures `(row) => value` with a static type; nothing walks the tree
 * per record. SQL's null rules hold: arithmetic, comparison and most functions of a null are null;
 * AND, OR and NOT use three-valued logic; WHERE and HAVING keep a row only when the condition is true.
 *
 * Values: strings, numbers (double and bigint alike; bigint / bigint divides to an integer, as in
 * Flink), booleans, timestamps as epoch milliseconds, null. Division or MOD by zero is null (Flink
 * fails the job instead). A CAST that cannot convert its value is null (Flink's TRY_CAST).
 */
import type { BinaryOp, Expr } from './ast';
import { sqlError } from './errors';
import { SCALAR_FUNCTIONS, formatTimestamp, type ExprType } from './functions';
import { coerce, INVALID } from './types';

export type { ExprType } from './functions';

export type Evaluator = (row: any) => unknown;

export interface Compiled {
  fn: Evaluator;
  type: ExprType;
  /** Set when the expression is a constant (its value, evaluated once). */
  constant?: { value: unknown };
}

/**
 * What names mean where an expression is compiled: `column` resolves a column reference (and throws a
 * SqlError naming it when unknown); `special` may take over any sub-expression first (aggregate calls
 * and grouped expressions after a GROUP BY, window start and end functions).
 */
export interface Scope {
  column(e: Extract<Expr, { kind: 'column' }>): Compiled;
  special?(e: Expr): Compiled | undefined;
  /** What aggregate calls are refused with here (e.g. 'aggregate functions are not allowed in WHERE'). */
  aggregatesRefused?: string;
}

/** Names of the aggregate functions (compiled by the planner, not here). */
export const AGGREGATE_FUNCTIONS = new Set(['SUM', 'MIN', 'MAX', 'COUNT', 'AVG']);

/** Group-window functions: their names and what they return. */
export const WINDOW_FUNCTIONS: Record<string, { window: 'TUMBLE' | 'HOP' | 'SESSION'; returns: 'start' | 'end' | 'rowtime' | 'window' }> = {
  TUMBLE: { window: 'TUMBLE', returns: 'window' }, TUMBLE_START: { window: 'TUMBLE', returns: 'start' }, TUMBLE_END: { window: 'TUMBLE', returns: 'end' }, TUMBLE_ROWTIME: { window: 'TUMBLE', returns: 'rowtime' },
  HOP: { window: 'HOP', returns: 'window' }, HOP_START: { window: 'HOP', returns: 'start' }, HOP_END: { window: 'HOP', returns: 'end' }, HOP_ROWTIME: { window: 'HOP', returns: 'rowtime' },
  SESSION: { window: 'SESSION', returns: 'window' }, SESSION_START: { window: 'SESSION', returns: 'start' }, SESSION_END: { window: 'SESSION', returns: 'end' }, SESSION_ROWTIME: { window: 'SESSION', returns: 'rowtime' },
};

const isNull = (v: unknown): boolean => v === null || v === undefined;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const NUMERIC = new Set<ExprType>(['double', 'bigint', 'any', 'null', 'timestamp']);

/** SQL comparison of two non-null values: numbers numerically (a numeric string against a number too), else by JS order. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a !== typeof b) {
    if (typeof a === 'number' || typeof b === 'number') { const x = num(a), y = num(b); return x < y ? -1 : x > y ? 1 : x === y ? 0 : Number.NaN; }
    a = String(a); b = String(b);
  }
  return (a as any) < (b as any) ? -1 : (a as any) > (b as any) ? 1 : 0;
}

/** True when two expressions are the same tree (positions and the case of function names aside). */
export function sameExpr(a: Expr, b: Expr): boolean {
  return JSON.stringify(a, stripPos) === JSON.stringify(b, stripPos);
}

function stripPos(key: string, value: unknown): unknown {
  return key === 'pos' || key === 'text' ? undefined : value;
}

/** Walks an expression tree (pre-order); `visit` returning false skips the node's children. */
export function walkExpr(e: Expr, visit: (e: Expr) => boolean | void): void {
  if (visit(e) === false) return;
  switch (e.kind) {
    case 'unary': case 'cast': case 'isnull': walkExpr(e.arg, visit); break;
    case 'binary': walkExpr(e.left, visit); walkExpr(e.right, visit); break;
    case 'call': for (const a of e.args) walkExpr(a, visit); break;
    case 'case':
      if (e.operand) walkExpr(e.operand, visit);
      for (const w of e.whens) { walkExpr(w.when, visit); walkExpr(w.then, visit); }
      if (e.else) walkExpr(e.else, visit);
      break;
    case 'in': walkExpr(e.arg, visit); for (const x of e.list) walkExpr(x, visit); break;
    case 'between': walkExpr(e.arg, visit); walkExpr(e.low, visit); walkExpr(e.high, visit); break;
    case 'like': walkExpr(e.arg, visit); walkExpr(e.pattern, visit); break;
    default: break;
  }
}

/** Does the expression contain an aggregate call (not counting window functions)? */
export function hasAggregate(e: Expr): boolean {
  let found = false;
  walkExpr(e, (x) => { if (x.kind === 'call' && AGGREGATE_FUNCTIONS.has(x.name)) { found = true; return false; } return undefined; });
  return found;
}

function describeType(t: ExprType): string { return t === 'null' ? 'NULL' : t.toUpperCase(); }

function constant(value: unknown, type: ExprType): Compiled {
  return { fn: () => value, type, constant: { value } };
}

export function compileExpr(e: Expr, scope: Scope): Compiled {
  const special = scope.special?.(e);
  if (special) return special;
  switch (e.kind) {
    case 'column': return scope.column(e);
    case 'literal': return constant(e.value, e.type);
    case 'interval': return constant(e.ms, 'bigint');
    case 'unary': {
      const a = compileExpr(e.arg, scope);
      if (e.op === 'NOT') {
        requireType(a.type, ['boolean'], e.arg.pos, 'NOT');
        const f = a.fn;
        return fold({ fn: (r) => { const v = f(r); return isNull(v) ? null : !v; }, type: 'boolean' }, [a]);
      }
      requireType(a.type, ['double', 'bigint'], e.arg.pos, `unary ${e.op}`);
      const f = a.fn;
      return fold(e.op === '-' ? { fn: (r) => { const v = f(r); return isNull(v) ? null : -num(v); }, type: a.type } : a, [a]);
    }
    case 'binary': return compileBinary(e.op, compileExpr(e.left, scope), compileExpr(e.right, scope), e);
    case 'isnull': {
      const a = compileExpr(e.arg, scope).fn;
      return { fn: e.not ? (r) => !isNull(a(r)) : (r) => isNull(a(r)), type: 'boolean' };
    }
    case 'in': {
      const a = compileExpr(e.arg, scope);
      const list = e.list.map((x) => compileExpr(x, scope));
      const f = a.fn;
      const fs = list.map((x) => x.fn);
      const not = e.not;
      return fold({
        type: 'boolean',
        fn: (r) => {
          const v = f(r);
          if (isNull(v)) return null;
          let sawNull = false;
          for (const g of fs) {
            const w = g(r);
            if (isNull(w)) { sawNull = true; continue; }
            if (compareValues(v, w) === 0) return !not;
          }
          return sawNull ? null : not;
        },
      }, [a, ...list]);
    }
    case 'between': {
      const ge = compileBinary('>=', compileExpr(e.arg, scope), compileExpr(e.low, scope), e);
      const le = compileBinary('<=', compileExpr(e.arg, scope), compileExpr(e.high, scope), e);
      const both = compileBinary('AND', ge, le, e);
      if (!e.not) return both;
      const f = both.fn;
      return { fn: (r) => { const v = f(r); return isNull(v) ? null : !v; }, type: 'boolean' };
    }
    case 'like': {
      const a = compileExpr(e.arg, scope);
      const p = compileExpr(e.pattern, scope);
      requireType(a.type, ['string'], e.arg.pos, 'LIKE');
      requireType(p.type, ['string'], e.pattern.pos, 'LIKE');
      const f = a.fn;
      const not = e.not;
      const fixed = p.constant ? likeRegex(String(p.constant.value)) : undefined;
      const pf = p.fn;
      return {
        type: 'boolean',
        fn: (r) => {
          const v = f(r);
          if (isNull(v)) return null;
          let re = fixed;
          if (!re) { const pv = pf(r); if (isNull(pv)) return null; re = likeRegex(String(pv)); }
          return re.test(String(v)) !== not;
        },
      };
    }
    case 'case': {
      const operand = e.operand ? compileExpr(e.operand, scope) : undefined;
      const whens = e.whens.map((w) => ({ when: compileExpr(w.when, scope), then: compileExpr(w.then, scope) }));
      const otherwise = e.else ? compileExpr(e.else, scope) : undefined;
      if (!operand) for (let i = 0; i < whens.length; i++) requireType(whens[i]!.when.type, ['boolean'], e.whens[i]!.when.pos, 'WHEN');
      const type = [...whens.map((w) => w.then.type), otherwise?.type ?? 'null'].find((t) => t !== 'null') ?? 'null';
      const ws = whens.map((w) => [w.when.fn, w.then.fn] as const);
      const els = otherwise?.fn;
      const op = operand?.fn;
      return {
        type,
        fn: (r) => {
          const subject = op ? op(r) : undefined;
          for (const [w, t] of ws) {
            const c = w(r);
            if (op ? !isNull(subject) && !isNull(c) && compareValues(subject, c) === 0 : c === true) return t(r);
          }
          return els ? els(r) : null;
        },
      };
    }
    case 'cast': {
      const a = compileExpr(e.arg, scope);
      const f = a.fn;
      const to = e.type;
      if (to === 'string' && a.type === 'timestamp') return fold({ fn: (r) => { const v = f(r); return isNull(v) ? null : formatTimestamp(num(v)); }, type: 'string' }, [a]);
      if (to === 'bigint' && (a.type === 'double' || a.type === 'any')) {
        return fold({ fn: (r) => { const v = coerce(f(r), 'double'); return v === INVALID || v === null ? null : Math.trunc(v as number); }, type: 'bigint' }, [a]);
      }
      return fold({ fn: (r) => { const v = coerce(f(r), to); return v === INVALID ? null : v; }, type: to }, [a]);
    }
    case 'call': return compileCall(e, scope);
  }
}

function compileCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope): Compiled {
  if (AGGREGATE_FUNCTIONS.has(e.name)) {
    sqlError(e.pos, scope.aggregatesRefused ?? `aggregate function ${e.name} is not allowed here`);
  }
  if (WINDOW_FUNCTIONS[e.name]) {
    const w = WINDOW_FUNCTIONS[e.name]!;
    sqlError(e.pos, w.returns === 'window'
      ? `${e.name}(…) is a group window: it belongs in GROUP BY (GROUP BY ${e.name}(ts, INTERVAL …), …)`
      : `${e.name}(…) needs a GROUP BY ${w.window}(…) with the same arguments`);
  }
  if (e.name === 'NOW' || e.name === 'CURRENT_TIMESTAMP' || e.name === 'PROCTIME' || e.name === 'RAND' || e.name === 'UUID') {
    sqlError(e.pos, `${e.name}() is not supported: its value would differ between runs and restores (rlink's SQL is deterministic)`);
  }
  const f = SCALAR_FUNCTIONS[e.name];
  if (!f) sqlError(e.pos, `unknown function ${e.name} (see docs/sql.md for the functions rlink has)`);
  if (e.distinct || e.star) sqlError(e.pos, `${e.name}(${e.star ? '*' : 'DISTINCT …'}) is only for aggregate functions`);
  if (e.args.length < f.minArgs || e.args.length > f.maxArgs) {
    const want = f.minArgs === f.maxArgs ? `${f.minArgs}` : f.maxArgs === Infinity ? `at least ${f.minArgs}` : `${f.minArgs} to ${f.maxArgs}`;
    sqlError(e.pos, `${e.name} takes ${want} argument${f.maxArgs === 1 ? '' : 's'}, got ${e.args.length}`);
  }
  const args = e.args.map((a) => compileExpr(a, scope));
  const type = f.type(args.map((a) => a.type));
  const fs = args.map((a) => a.fn);
  const impl = f.impl;
  let fn: Evaluator;
  if (f.nulls === 'handled') fn = (r) => impl(...fs.map((g) => g(r)));
  else if (fs.length === 1) { const g = fs[0]!; fn = (r) => { const v = g(r); return isNull(v) ? null : impl(v); }; }
  else if (fs.length === 2) {
    const g = fs[0]!, h = fs[1]!;
    fn = (r) => { const a = g(r); if (isNull(a)) return null; const b = h(r); return isNull(b) ? null : impl(a, b); };
  } else {
    fn = (r) => {
      const vs = new Array<unknown>(fs.length);
      for (let i = 0; i < fs.length; i++) { const v = fs[i]!(r); if (isNull(v)) return null; vs[i] = v; }
      return impl(...vs);
    };
  }
  const out = (r: unknown): unknown => { const v = fn(r); return v === undefined ? null : v; };
  return fold({ fn: out, type }, args);
}

function compileBinary(op: BinaryOp, a: Compiled, b: Compiled, e: Expr): Compiled {
  const f = a.fn, g = b.fn;
  switch (op) {
    case 'AND':
    case 'OR': {
      requireType(a.type, ['boolean'], posOf(e, 'left'), op);
      requireType(b.type, ['boolean'], posOf(e, 'right'), op);
      const and = op === 'AND';
      return fold({
        type: 'boolean',
        fn: and
          ? (r) => { const x = f(r); if (x === false) return false; const y = g(r); if (y === false) return false; return isNull(x) || isNull(y) ? null : true; }
          : (r) => { const x = f(r); if (x === true) return true; const y = g(r); if (y === true) return true; return isNull(x) || isNull(y) ? null : false; },
      }, [a, b]);
    }
    case '=': case '<>': case '<': case '<=': case '>': case '>=': {
      comparable(a.type, b.type, e);
      const test = op === '=' ? (c: number) => c === 0 : op === '<>' ? (c: number) => c !== 0 && !Number.isNaN(c)
        : op === '<' ? (c: number) => c < 0 : op === '<=' ? (c: number) => c <= 0 : op === '>' ? (c: number) => c > 0 : (c: number) => c >= 0;
      return fold({ type: 'boolean', fn: (r) => { const x = f(r); if (isNull(x)) return null; const y = g(r); return isNull(y) ? null : test(compareValues(x, y)); } }, [a, b]);
    }
    case '||':
      return fold({ type: 'string', fn: (r) => { const x = f(r); if (isNull(x)) return null; const y = g(r); return isNull(y) ? null : String(x) + String(y); } }, [a, b]);
    default: {
      requireType(a.type, NUMERIC, posOf(e, 'left'), op);
      requireType(b.type, NUMERIC, posOf(e, 'right'), op);
      const type: ExprType = a.type === 'timestamp' || b.type === 'timestamp'
        ? (op === '-' && a.type === 'timestamp' && b.type === 'timestamp' ? 'bigint' : 'timestamp')
        : a.type === 'bigint' && b.type === 'bigint' ? 'bigint'
          : a.type === 'any' || b.type === 'any' ? 'any' : 'double';
      const intDiv = type === 'bigint';
      let calc: (x: number, y: number) => number | null;
      switch (op) {
        case '+': calc = (x, y) => x + y; break;
        case '-': calc = (x, y) => x - y; break;
        case '*': calc = (x, y) => x * y; break;
        case '/': calc = intDiv ? (x, y) => (y === 0 ? null : Math.trunc(x / y)) : (x, y) => (y === 0 ? null : x / y); break;
        default: calc = (x, y) => (y === 0 ? null : x % y); break;
      }
      return fold({
        type,
        fn: (r) => {
          const x = f(r); if (isNull(x)) return null;
          const y = g(r); if (isNull(y)) return null;
          const v = calc(num(x), num(y));
          return v === null || Number.isFinite(v) ? v : null;
        },
      }, [a, b]);
    }
  }
}

function posOf(e: Expr, side: 'left' | 'right') {
  return e.kind === 'binary' ? e[side].pos : e.pos;
}

function requireType(t: ExprType, allowed: Iterable<ExprType>, pos: Parameters<typeof sqlError>[0], what: string): void {
  const ok = new Set<ExprType>(allowed);
  if (t === 'any' || t === 'null' || ok.has(t)) return;
  sqlError(pos, `${what} cannot take a ${describeType(t)} (it takes ${[...ok].filter((x) => x !== 'any' && x !== 'null').map(describeType).join(' or ')})`);
}

function comparable(a: ExprType, b: ExprType, e: Expr): void {
  if (a === 'any' || b === 'any' || a === 'null' || b === 'null' || a === b) return;
  const numeric = (t: ExprType) => t === 'double' || t === 'bigint' || t === 'timestamp';
  if (numeric(a) && numeric(b)) return;
  sqlError(e.pos, `cannot compare ${describeType(a)} with ${describeType(b)} (CAST one of them)`);
}

/** Evaluates an expression whose inputs are all constants once, at compile time. */
function fold(c: Compiled, inputs: Compiled[]): Compiled {
  if (inputs.length === 0 || !inputs.every((x) => x.constant)) return c;
  const value = c.fn(undefined);
  return { ...c, fn: () => value, constant: { value } };
}

/** SQL LIKE: % any run, _ one character; everything else literal. */
function likeRegex(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) re += ch === '%' ? '[\\s\\S]*' : ch === '_' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${re}$`, 'u');
}
