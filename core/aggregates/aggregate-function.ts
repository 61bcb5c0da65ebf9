/**
 * An incremental aggregation, as Flink's AggregateFunction: accumulators may be mutated in place by
 * `add` and `merge`, which return the accumulator to keep.
 */
export interface AggregateFunction<IN = any, ACC = any, OUT = any> {
  createAccumulator(): ACC;
  add(accumulator: ACC, value: IN): ACC;
  merge(a: ACC, b: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

/** A built-in aggregate over a field; the window operator compiles these to straight-line code. */
export interface BuiltinAggregate<OUT = number | null> extends AggregateFunction<any, any, OUT> {
  readonly builtin: 'sum' | 'min' | 'max' | 'count' | 'avg';
  readonly field: string | undefined;
}

function num(v: unknown): number { return typeof v === 'number' ? v : Number(v); }

function builtin<OUT>(kind: BuiltinAggregate['builtin'], field: string | undefined, f: AggregateFunction<any, any, OUT>): BuiltinAggregate<OUT> {
  return Object.freeze({ builtin: kind, field, ...f }) as BuiltinAggregate<OUT>;
}

/** Sum of a numeric field (a string holding a number counts as that number). */
export function sum(field: string): BuiltinAggregate<number> {
  return builtin('sum', field, {
    createAccumulator: () => ({ v: 0 }),
    add: (a, r) => { a.v += num(r[field]); return a; },
    merge: (a, b) => { a.v += b.v; return a; },
    getResult: (a) => a.v,
  });
}

/** Minimum of a numeric field; null for a window with no value (never emitted in practice). */
export function min(field: string): BuiltinAggregate<number | null> {
  return builtin('min', field, {
    createAccumulator: () => ({ v: Number.POSITIVE_INFINITY }),
    add: (a, r) => { const x = num(r[field]); if (x < a.v) a.v = x; return a; },
    merge: (a, b) => { if (b.v < a.v) a.v = b.v; return a; },
    getResult: (a) => (a.v === Number.POSITIVE_INFINITY ? null : a.v),
  });
}

export function max(field: string): BuiltinAggregate<number | null> {
  return builtin('max', field, {
    createAccumulator: () => ({ v: Number.NEGATIVE_INFINITY }),
    add: (a, r) => { const x = num(r[field]); if (x > a.v) a.v = x; return a; },
    merge: (a, b) => { if (b.v > a.v) a.v = b.v; return a; },
    getResult: (a) => (a.v === Number.NEGATIVE_INFINITY ? null : a.v),
  });
}

export function count(): BuiltinAggregate<number> {
  return builtin('count', undefined, {
    createAccumulator: () => ({ v: 0 }),
    add: (a) => { a.v += 1; return a; },
    merge: (a, b) => { a.v += b.v; return a; },
    getResult: (a) => a.v,
  });
}

export function avg(field: string): BuiltinAggregate<number | null> {
  return builtin('avg', field, {
    createAccumulator: () => ({ s: 0, n: 0 }),
    add: (a, r) => { a.s += num(r[field]); a.n += 1; return a; },
    merge: (a, b) => { a.s += b.s; a.n += b.n; return a; },
    getResult: (a) => (a.n === 0 ? null : a.s / a.n),
  });
}

export function isAggregateFunction(x: unknown): x is AggregateFunction {
  const f = x as Partial<AggregateFunction> | null;
  return !!f && typeof f.createAccumulator === 'function' && typeof f.add === 'function'
    && typeof f.merge === 'function' && typeof f.getResult === 'function';
}
