import { AbstractOperator } from '../operator';

/** Returns the outputs for one input: an array, any iterable, or nothing. */
export type FlatMapFunction<I = any, O = any> = (value: I) => Iterable<O> | null | undefined | void;

export class FlatMapOperator extends AbstractOperator {
  constructor(private readonly fn: FlatMapFunction) { super(); }

  processBatch(values: unknown[], timestamps: number[]): void {
    const fn = this.fn;
    const outV: unknown[] = [];
    const outT: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const r = fn(values[i]);
      if (r == null) continue;
      const t = timestamps[i]!;
      if (Array.isArray(r)) { for (const x of r) { outV.push(x); outT.push(t); } }
      else for (const x of r as Iterable<unknown>) { outV.push(x); outT.push(t); }
    }
    if (outV.length > 0) this.output.emitBatch(outV, outT);
  }
}
