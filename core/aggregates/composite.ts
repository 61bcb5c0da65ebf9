import { RlinkError } from '../errors';
import { isAggregateFunction, type AggregateFunction, type BuiltinAggregate } from './aggregate-function';

/** What `.aggregate(...)` takes: named aggregates (one output field each), or one aggregate function. */
export type AggregateSpec = Record<string, AggregateFunction> | AggregateFunction;

/**
 * Named aggregates compiled into one accumulator and one `add` per record. When every aggregate is a
 * built-in, `add` is generated as straight-line code over a flat accumulator: no per-aggregate call
 * and no array per key, which is what keeps the keyed window path near a hand-written loop.
 */
export interface CompiledAggregate {
  /** Output field names, in order; empty for a single unnamed aggregate function. */
  readonly names: readonly string[];
  createAccumulator(): any;
  add(acc: any, value: any): any;
  merge(a: any, b: any): any;
  /** The named results as an object, or the single function's result. */
  results(acc: any): any;
  /** Writes the named results onto `target` (no intermediate object); single functions: unsupported. */
  writeResults(acc: any, target: Record<string, unknown>): void;
  readonly single: boolean;
  /**
   * Built-ins only: the accumulator is one flat object of numbers (`{ a0, a1, … }`), so it can travel
   * as record fields (two-phase window aggregation, window-partial.ts) and `merge` reads nothing else.
   */
  readonly flatAccumulator?: boolean;
  /** Every aggregate is a built-in: merging partial accumulators is known to be exact. */
  readonly builtin?: boolean;
}

export function compileAggregate(spec: AggregateSpec): CompiledAggregate {
  if (isAggregateFunction(spec)) {
    return {
      names: [], single: true,
      createAccumulator: () => spec.createAccumulator(),
      add: (a, v) => spec.add(a, v),
      merge: (a, b) => spec.merge(a, b),
      results: (a) => spec.getResult(a),
      writeResults: () => { throw new RlinkError('RLINK_INTERNAL', 'a single aggregate function has no named results'); },
    };
  }
  const names = Object.keys(spec);
  if (names.length === 0) throw new RlinkError('RLINK_GRAPH', 'aggregate({...}) needs at least one named aggregate');
  const fns = names.map((n) => {
    const f = spec[n];
    if (!isAggregateFunction(f)) {
      throw new RlinkError('RLINK_GRAPH', `aggregate '${n}' is not an aggregate (use sum/min/max/count/avg or { createAccumulator, add, merge, getResult })`);
    }
    return f;
  });
  if (fns.every((f) => (f as Partial<BuiltinAggregate>).builtin !== undefined)) {
    return compileBuiltins(names, fns as BuiltinAggregate<any>[]);
  }
  return {
    names, single: false,
    createAccumulator: () => fns.map((f) => f.createAccumulator()),
    add: (acc: any[], v) => { for (let i = 0; i < fns.length; i++) acc[i] = fns[i]!.add(acc[i], v); return acc; },
    merge: (a: any[], b: any[]) => { for (let i = 0; i < fns.length; i++) a[i] = fns[i]!.merge(a[i], b[i]); return a; },
    results: (acc: any[]) => { const o: Record<string, unknown> = {}; names.forEach((n, i) => { o[n] = fns[i]!.getResult(acc[i]); }); return o; },
    writeResults: (acc: any[], t) => { for (let i = 0; i < fns.length; i++) t[names[i]!] = fns[i]!.getResult(acc[i]); },
  } as CompiledAggregate;
}

function compileBuiltins(names: string[], fns: BuiltinAggregate<any>[]): CompiledAggregate {
  const init: string[] = [];
  const add: string[] = [];
  const merge: string[] = [];
  const res: string[] = [];
  fns.forEach((f, i) => {
    const field = JSON.stringify(f.field ?? '');
    const a = `a${i}`;
    const read = `(typeof r[${field}] === 'number' ? r[${field}] : Number(r[${field}]))`;
    const out = JSON.stringify(names[i]);
    switch (f.builtin) {
      case 'sum': init.push(`${a}: 0`); add.push(`acc.${a} += ${read};`); merge.push(`x.${a} += y.${a};`); res.push(`t[${out}] = acc.${a};`); break;
      case 'count': init.push(`${a}: 0`); add.push(`acc.${a} += 1;`); merge.push(`x.${a} += y.${a};`); res.push(`t[${out}] = acc.${a};`); break;
      case 'min': init.push(`${a}: Infinity`); add.push(`{ const v = ${read}; if (v < acc.${a}) acc.${a} = v; }`); merge.push(`if (y.${a} < x.${a}) x.${a} = y.${a};`); res.push(`t[${out}] = acc.${a} === Infinity ? null : acc.${a};`); break;
      case 'max': init.push(`${a}: -Infinity`); add.push(`{ const v = ${read}; if (v > acc.${a}) acc.${a} = v; }`); merge.push(`if (y.${a} > x.${a}) x.${a} = y.${a};`); res.push(`t[${out}] = acc.${a} === -Infinity ? null : acc.${a};`); break;
      case 'avg': init.push(`${a}: 0, ${a}n: 0`); add.push(`acc.${a} += ${read}; acc.${a}n += 1;`); merge.push(`x.${a} += y.${a}; x.${a}n += y.${a}n;`); res.push(`t[${out}] = acc.${a}n === 0 ? null : acc.${a} / acc.${a}n;`); break;
    }
  });
  /* eslint-disable no-new-func -- generated from a closed set of templates; field names are JSON-quoted */
  const createAccumulator = new Function(`return { ${init.join(', ')} };`) as () => any;
  const addFn = new Function('acc', 'r', `${add.join('\n')}\nreturn acc;`) as (a: any, r: any) => any;
  const mergeFn = new Function('x', 'y', `${merge.join('\n')}\nreturn x;`) as (a: any, b: any) => any;
  const writeResults = new Function('acc', 't', res.join('\n')) as (a: any, t: Record<string, unknown>) => void;
  return {
    names, single: false, flatAccumulator: true, builtin: true,
    createAccumulator, add: addFn, merge: mergeFn, writeResults,
    results: (acc) => { const t: Record<string, unknown> = {}; writeResults(acc, t); return t; },
  };
}
