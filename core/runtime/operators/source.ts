import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../operator';
import type { Source, SourceReader } from '../../api/connector';
import type { WatermarkStrategy } from '../../time/watermark-strategy';
import { WatermarkGenerator } from '../../time/watermark-generator';
import { connectorContext } from '../operator-context';
import { NO_TIMESTAMP } from '../elements';

/** How often a busy source emits the watermark its records established (Flink's auto-watermark interval is 200 ms). */
export const WATERMARK_INTERVAL_MS = 20;

/** A source subtask's checkpointed state: its reader's split positions and its watermark progress. */
interface SourceState { positions: unknown; watermarks: ReturnType<WatermarkGenerator['snapshot']> | undefined }

export type PollOutcome = { kind: 'more' } | { kind: 'idle'; waitMs: number } | { kind: 'end' };

/**
 * The head of a source task. The task calls {@link pollNext} in its loop; each poll reads one batch
 * of one split and pushes it down the chain. With a watermark strategy, timestamps and watermarks are
 * made here per split (Flink's `fromSource`), so splits read at different speeds never make each
 * other's records late.
 */
export class SourceOperator extends AbstractOperator {
  private reader!: SourceReader;
  private generator: WatermarkGenerator | undefined;
  private nextIdleCheck = 0;

  constructor(readonly source: Source, private readonly strategy: WatermarkStrategy | undefined) { super(); }

  private restored: RestoredState | undefined;

  initializeState(state: RestoredState): void { this.restored = state; }

  override async open(ctx: OperatorContext, output: Output): Promise<void> {
    super.open(ctx, output);
    this.reader = this.source.createReader(connectorContext(ctx));
    // Same parallelism: this subtask's own positions. Otherwise every old subtask's, for the
    // connector to redistribute (split positions are keyed by split, so they can be).
    const r = this.restored;
    const state = (s: OperatorSnapshot | undefined) => s?.operatorState as SourceState | undefined;
    const positions = r === undefined ? undefined
      : r.oldParallelism === ctx.parallelism ? state(r.own)?.positions
        : r.all.map((s) => state(s)?.positions);
    const splits = await this.reader.open(positions);
    if (this.strategy) {
      this.generator = new WatermarkGenerator(this.strategy, output, ctx.metrics, ctx.logger, ctx.now, ctx.watermarkSlack, WATERMARK_INTERVAL_MS);
      for (const s of splits) this.generator.addSplit(s);
      if (r) this.generator.restore(r.oldParallelism === ctx.parallelism ? [state(r.own)?.watermarks] : r.all.map((s) => state(s)?.watermarks));
    }
    // An unbounded source subtask with nothing to read (more subtasks than partitions) is idle from the
    // start, so it never holds back the watermark downstream (as Flink marks such readers idle).
    if (splits.length === 0 && !this.source.bounded) output.emitStatus(true);
  }

  async pollNext(): Promise<PollOutcome> {
    const r = await this.reader.poll(this.ctx.batchSize);
    const gen = this.generator;
    if (gen && gen.hasIdleness && this.ctx.now() >= this.nextIdleCheck) {
      gen.checkIdleness();
      this.nextIdleCheck = this.ctx.now() + 50;
    }
    switch (r.kind) {
      case 'records': {
        this.ctx.metrics.recordsIn += r.values.length;
        if (gen) gen.process(r.split, r.values, r.timestamps, r.where);
        else if (r.values.length > 0) this.output.emitBatch(r.values, r.timestamps ?? new Array<number>(r.values.length).fill(NO_TIMESTAMP));
        if (r.splitFinished) gen?.finishSplit(r.split);
        return { kind: 'more' };
      }
      case 'split-finished': gen?.finishSplit(r.split); return { kind: 'more' };
      case 'idle': gen?.flush(); return { kind: 'idle', waitMs: r.waitMs };
      case 'end': return { kind: 'end' };
    }
  }

  processBatch(): void { throw new Error('a source operator has no input'); }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.reader.notifyCheckpointComplete?.(checkpointId);
  }

  snapshotState(checkpointId: number): OperatorSnapshot {
    const state: SourceState = { positions: this.reader.snapshot?.(checkpointId), watermarks: this.generator?.snapshot() };
    return { operatorId: this.ctx.operatorId, operatorState: state };
  }

  override async close(): Promise<void> { await this.reader?.close(); }
}
