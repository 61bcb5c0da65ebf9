import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../operator';
import { WatermarkGenerator } from '../../time/watermark-generator';
import type { WatermarkStrategy } from '../../time/watermark-strategy';
import { MAX_WATERMARK } from '../elements';
import { WATERMARK_INTERVAL_MS } from './source';

/**
 * `assignTimestampsAndWatermarks` mid-stream: timestamps every record and generates this subtask's
 * own watermarks. Upstream watermarks are ignored except the final +∞ (as Flink's
 * TimestampsAndWatermarksOperator).
 */
export class TimestampsOperator extends AbstractOperator {
  private generator!: WatermarkGenerator;
  private idleTimer: (() => void) | undefined;
  private flushTimer: (() => void) | undefined;

  constructor(private readonly strategy: WatermarkStrategy) { super(); }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    this.generator = new WatermarkGenerator(this.strategy, output, ctx.metrics, ctx.logger, ctx.now, ctx.watermarkSlack, WATERMARK_INTERVAL_MS);
    this.generator.addSplit('input');
    const r = this.restored;
    if (r) this.generator.restore((r.oldParallelism === ctx.parallelism ? [r.own] : r.all).map((s) => s?.operatorState as ReturnType<WatermarkGenerator['snapshot']> | undefined));
    if (this.strategy.idlenessMs !== undefined) this.scheduleIdleCheck();
  }

  private scheduleIdleCheck(): void {
    const every = Math.max(10, Math.floor(this.strategy.idlenessMs! / 2));
    this.idleTimer = this.ctx.scheduleAt(this.ctx.now() + every, () => { this.generator.checkIdleness(); this.scheduleIdleCheck(); });
  }

  private restored: RestoredState | undefined;

  initializeState(state: RestoredState): void { this.restored = state; }

  snapshotState(): OperatorSnapshot { return { operatorId: this.ctx.operatorId, operatorState: this.generator.snapshot() }; }

  processBatch(values: unknown[], timestamps: number[]): void {
    this.generator.process('input', values, timestamps);
    // If the input pauses, the pending watermark still goes out within the interval.
    if (this.generator.hasPending && !this.flushTimer) {
      this.flushTimer = this.ctx.scheduleAt(this.ctx.now() + WATERMARK_INTERVAL_MS, () => { this.flushTimer = undefined; this.generator.flush(); });
    }
  }

  override processWatermark(timestamp: number): void {
    if (timestamp === MAX_WATERMARK) { this.generator.flush(); this.output.emitWatermark(MAX_WATERMARK); }
  }

  override processStatus(): void { /* this operator decides idleness itself */ }

  override close(): void { this.idleTimer?.(); this.flushTimer?.(); }
}
