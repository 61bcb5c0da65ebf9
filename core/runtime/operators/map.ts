import { AbstractOperator } from '../operator';

export type MapFunction<I = any, O = any> = (value: I) => O;

/** One output per input; the timestamps array is handed on as is. */
export class MapOperator extends AbstractOperator {
  constructor(private readonly fn: MapFunction) { super(); }

  processBatch(values: unknown[], timestamps: number[]): void {
    const fn = this.fn;
    const n = values.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = fn(values[i]);
    this.output.emitBatch(out, timestamps);
  }
}
