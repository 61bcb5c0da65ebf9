import { AbstractOperator } from '../../operator';
import { MIN_WATERMARK } from '../../elements';

/**
 * The base of operators with two inputs (Flink's TwoInputStreamOperator): batches arrive tagged with
 * their input; each input's watermark and idleness are kept apart, and the operator's watermark is the
 * minimum over the inputs that are not idle (an idle input does not hold it back, as in Flink). The
 * operator is always the head of its task, so the input gate tells it where everything came from.
 */
export abstract class TwoInputOperator extends AbstractOperator {
  private readonly inputWatermark = [MIN_WATERMARK, MIN_WATERMARK];
  private readonly inputIdle = [false, false];
  private idleOut = false;
  /** The operator's watermark: the minimum over the non-idle inputs, never going back. */
  protected watermark = MIN_WATERMARK;

  protected abstract processBatch1(values: unknown[], timestamps: number[]): void;
  protected abstract processBatch2(values: unknown[], timestamps: number[]): void;
  /** The operator's watermark advanced to `t`: fire timers, drop state; before `t` goes downstream. */
  protected onWatermark(_t: number): void {}

  processBatch(values: unknown[], timestamps: number[], input = 0): void {
    if (input === 1) this.processBatch2(values, timestamps); else this.processBatch1(values, timestamps);
  }

  override processWatermark(timestamp: number, input = 0): void {
    if (timestamp > this.inputWatermark[input]!) this.inputWatermark[input] = timestamp;
    this.combine();
  }

  override processStatus(idle: boolean, input = 0): void {
    this.inputIdle[input] = idle;
    const both = this.inputIdle[0]! && this.inputIdle[1]!;
    if (both !== this.idleOut) { this.idleOut = both; this.output.emitStatus(both); }
    this.combine();
  }

  private combine(): void {
    let min = Number.POSITIVE_INFINITY;
    let live = false;
    for (let k = 0; k < 2; k++) {
      if (this.inputIdle[k]) continue;
      live = true;
      if (this.inputWatermark[k]! < min) min = this.inputWatermark[k]!;
    }
    if (!live || min <= this.watermark) return;
    this.watermark = min;
    this.onWatermark(min);
    this.output.emitWatermark(min);
  }
}
