import type { OperatorContext, OperatorSnapshot, Output, RestoredState } from '../../operator';
import { compileKeySelector, type KeySelector, type KeySpec } from '../../keys';
import { restoredWatermark } from '../../restored-watermark';
import type { Collector, ProcessContext } from '../process';
import type { KeyedProcessContext, OnTimerContext, RuntimeContext } from '../keyed-process';
import { BatchCollector } from '../collector';
import { NO_TIMESTAMP } from '../../elements';
import { KeyedRuntime, keyedSnapshot } from '../keyed-runtime';
import { TwoInputOperator } from './two-input-operator';

/**
 * Flink's KeyedCoProcessFunction: two keyed inputs whose keys meet in one key space, one value state
 * and one set of timers per key shared by both (`a.connect(b).keyBy(k1, k2).process(fn)`).
 */
export interface KeyedCoProcessFunction<I1 = any, I2 = any, O = any, K = any> {
  open?(ctx: RuntimeContext): void;
  processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void;
}

/** Flink's CoProcessFunction: two inputs, no key, no state (`a.connect(b).process(fn)`). */
export interface CoProcessFunction<I1 = any, I2 = any, O = any> {
  processElement1(value: I1, ctx: ProcessContext, out: Collector<O>): void;
  processElement2(value: I2, ctx: ProcessContext, out: Collector<O>): void;
}

export class KeyedCoProcessOperator extends TwoInputOperator {
  private readonly key1: KeySelector;
  private readonly key2: KeySelector;
  private rt!: KeyedRuntime;
  private restored: RestoredState | undefined;

  constructor(k1: KeySpec, k2: KeySpec, private readonly fn: KeyedCoProcessFunction) {
    super();
    this.key1 = compileKeySelector(k1);
    this.key2 = compileKeySelector(k2);
  }

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    this.rt = new KeyedRuntime(ctx, output, () => this.watermark, (t) => this.fn.onTimer?.(t, this.rt.context, this.rt.out));
    this.fn.open?.({ subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, getState: (n, d) => this.rt.store.state(n, d) });
    if (this.restored) {
      this.watermark = restoredWatermark(this.restored, ctx.parallelism);
      this.rt.restore(this.restored);
      this.restored = undefined;
    }
  }

  protected processBatch1(values: unknown[], timestamps: number[]): void {
    for (let i = 0; i < values.length; i++) {
      this.rt.at(this.key1(values[i]), timestamps[i]!);
      this.fn.processElement1(values[i], this.rt.context, this.rt.out);
    }
    this.rt.flush();
  }

  protected processBatch2(values: unknown[], timestamps: number[]): void {
    for (let i = 0; i < values.length; i++) {
      this.rt.at(this.key2(values[i]), timestamps[i]!);
      this.fn.processElement2(values[i], this.rt.context, this.rt.out);
    }
    this.rt.flush();
  }

  protected override onWatermark(t: number): void {
    this.rt.advance(t);
    this.rt.flush();
  }

  snapshotState(): OperatorSnapshot {
    const groups: Record<number, Record<string, unknown[]>> = {};
    this.rt.snapshotInto(groups);
    return keyedSnapshot(this.ctx, this.watermark, groups);
  }

  override close(): void { this.rt?.close(); this.fn.close?.(); }
}

export class CoProcessOperator extends TwoInputOperator {
  private readonly out = new BatchCollector();

  constructor(private readonly fn: CoProcessFunction) { super(); }

  protected processBatch1(values: unknown[], timestamps: number[]): void { this.run(values, timestamps, (v, c, o) => this.fn.processElement1(v, c, o)); }
  protected processBatch2(values: unknown[], timestamps: number[]): void { this.run(values, timestamps, (v, c, o) => this.fn.processElement2(v, c, o)); }

  private run(values: unknown[], timestamps: number[], call: (v: unknown, c: ProcessContext, o: Collector<unknown>) => void): void {
    let ts = NO_TIMESTAMP;
    const self = this;
    const ctx: ProcessContext = {
      get timestamp() { return ts === NO_TIMESTAMP ? null : ts; },
      currentWatermark: () => self.watermark,
      output: (tag, value) => this.out.collectSide(tag.id, value),
    };
    for (let i = 0; i < values.length; i++) {
      ts = timestamps[i]!;
      this.out.currentTimestamp = ts;
      call(values[i], ctx, this.out);
    }
    this.out.flush((v, t) => this.output.emitBatch(v, t), (tag, v, t) => this.output.emitSide(tag, v, t));
  }
}
