import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../operator';
import { compileKeySelector, keyGroupOf, keyGroupRange, type Key, type KeySelector, type KeySpec } from '../keys';
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

  private restored: RestoredState | undefined;

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    if (!this.restored) return;
    const [lo, hi] = keyGroupRange(ctx.subtaskIndex, ctx.maxParallelism, ctx.parallelism);
    for (const snap of this.restored.all) {
      for (const [kg, entries] of Object.entries((snap.keyedState ?? {}) as Record<string, Array<[Key, unknown]>>)) {
        if (Number(kg) >= lo && Number(kg) < hi) for (const [k, v] of entries) this.current.set(k, v);
      }
    }
    this.restored = undefined;
  }

  snapshotState(): OperatorSnapshot {
    const groups: Record<number, Array<[Key, unknown]>> = {};
    for (const [k, v] of this.current) (groups[keyGroupOf(k, this.ctx.maxParallelism)] ??= []).push([k, v]);
    return { operatorId: this.ctx.operatorId, keyedState: groups };
  }
}
