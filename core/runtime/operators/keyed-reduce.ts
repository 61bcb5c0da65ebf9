import { AbstractOperator } from '../operator';
import { compileKeySelector, type Key, type KeySelector, type KeySpec } from '../keys';
import { copyValue } from '../copy-batch';

export type ReduceFunction<T = any> = (accumulated: T, value: T) => T;

/** A rolling reduce on a keyed stream: emits the updated value for every element (Flink's KeyedStream.reduce). */
export class KeyedReduceOperator extends AbstractOperator {
  private readonly selectKey: KeySelector;
  private readonly current = new Map<Key, unknown>();

  constructor(key: KeySpec, private readonly fn: ReduceFunction) {
    super();
    this.selectKey = compileKeySelector(key);
  }

  processBatch(values: unknown[], timestamps: number[]): void {
    const out = new Array<unknown>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const k = this.selectKey(v);
      const prev = this.current.get(k);
      const next = prev === undefined ? v : this.fn(prev, v);
      out[i] = next;
      // The state is a copy of what was emitted: a reduce function that updates its accumulator in
      // place, or a consumer that mutates its input, changes neither the other.
      this.current.set(k, copyValue(next));
    }
    this.output.emitBatch(out, timestamps);
  }
}
