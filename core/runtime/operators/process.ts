import { AbstractOperator } from '../operator';
import { BatchCollector } from './collector';
import type { OutputTag } from '../../api/output-tag';
import { NO_TIMESTAMP } from '../elements';

export interface Collector<T> { collect(value: T): void }

export interface ProcessContext {
  /** The element's event timestamp, or null when it has none. */
  readonly timestamp: number | null;
  currentWatermark(): number;
  output<X>(tag: OutputTag<X>, value: X): void;
}

export type ProcessFunction<I = any, O = any> =
  | ((value: I, ctx: ProcessContext, out: Collector<O>) => void)
  | { open?(): void; processElement(value: I, ctx: ProcessContext, out: Collector<O>): void; close?(): void };

/** A non-keyed process function: any number of outputs and side outputs per element. */
export class ProcessOperator extends AbstractOperator {
  private readonly out = new BatchCollector();
  private watermark = Number.NEGATIVE_INFINITY;
  private readonly call: (v: unknown, ctx: ProcessContext, out: Collector<unknown>) => void;

  constructor(private readonly fn: ProcessFunction) {
    super();
    this.call = typeof fn === 'function' ? fn : (v, c, o) => fn.processElement(v, c, o);
  }

  override open(...args: Parameters<AbstractOperator['open']>): void {
    super.open(...args);
    if (typeof this.fn !== 'function') this.fn.open?.();
  }

  processBatch(values: unknown[], timestamps: number[]): void {
    const out = this.out;
    const self = this;
    let ts = NO_TIMESTAMP;
    const ctx: ProcessContext = {
      get timestamp() { return ts === NO_TIMESTAMP ? null : ts; },
      currentWatermark: () => self.watermark,
      output: (tag, value) => out.collectSide(tag.id, value),
    };
    for (let i = 0; i < values.length; i++) {
      ts = timestamps[i]!;
      out.currentTimestamp = ts;
      this.call(values[i], ctx, out);
    }
    out.flush((v, t) => this.output.emitBatch(v, t), (tag, v, t) => this.output.emitSide(tag, v, t));
  }

  override processWatermark(timestamp: number): void {
    this.watermark = timestamp;
    this.output.emitWatermark(timestamp);
  }

  override close(): void { if (typeof this.fn !== 'function') this.fn.close?.(); }
}
