import { AbstractOperator } from '../operator';

export type FilterFunction<T = any> = (value: T) => boolean;

export class FilterOperator extends AbstractOperator {
  constructor(private readonly fn: FilterFunction) { super(); }

  processBatch(values: unknown[], timestamps: number[]): void {
    const fn = this.fn;
    const outV: unknown[] = [];
    const outT: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (fn(v)) { outV.push(v); outT.push(timestamps[i]!); }
    }
    if (outV.length === values.length) this.output.emitBatch(values, timestamps);
    else if (outV.length > 0) this.output.emitBatch(outV, outT);
  }
}
