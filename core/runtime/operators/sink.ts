import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../operator';
import type { Sink, SinkWriter } from '../../api/connector';
import { connectorContext } from '../operator-context';

/**
 * Drives a sink writer with two-phase commit: on a checkpoint (and at the end of input, as the final
 * checkpoint) the writer prepares a committable; when that checkpoint has completed everywhere the
 * job manager says so and the committables are committed. Until then nothing is visible.
 */
export class SinkOperator extends AbstractOperator {
  private writer!: SinkWriter;
  private inflight: Promise<void> | undefined;
  private readonly prepared = new Map<number, unknown>();

  constructor(private readonly sink: Sink) { super(); }

  private restored: RestoredState | undefined;

  initializeState(state: RestoredState): void { this.restored = state; }

  override async open(ctx: OperatorContext, output: Output): Promise<void> {
    super.open(ctx, output);
    this.writer = this.sink.createWriter(connectorContext(ctx));
    const r = this.restored;
    if (!r) { await this.writer.open(); return; }
    // The checkpoint we restore from completed: what it prepared must be committed (its commit may
    // have been cut short by the failure; commits are idempotent). At another parallelism, subtask 0
    // commits every old subtask's committables.
    const rescaled = r.oldParallelism !== ctx.parallelism;
    const preparedOf = (list: OperatorSnapshot[]) => list.flatMap((s) => ((s.operatorState as { prepared?: Array<[number, unknown]> } | undefined)?.prepared ?? []))
      .filter(([id]) => id <= r.checkpointId);
    // Rescaled: every writer keeps all old subtasks' prepared files (subtask 0 commits them all).
    const known = rescaled ? preparedOf(r.all) : preparedOf(r.own ? [r.own] : []);
    await this.writer.open({ prepared: known, restoredCheckpointId: r.checkpointId });
    const mine = rescaled ? (ctx.subtaskIndex === 0 ? known : []) : known;
    if (mine.length > 0) await this.writer.commit(mine.map(([, c]) => c));
  }

  processBatch(values: unknown[], timestamps: number[]): void {
    const r = this.writer.write(values, timestamps);
    this.ctx.metrics.recordsWritten += values.length;
    if (r) this.inflight = this.inflight ? this.inflight.then(() => r) : r;
  }

  pending(): Promise<void> | undefined {
    const p = this.inflight;
    this.inflight = undefined;
    return p;
  }

  override processWatermark(): void { /* sinks end the stream */ }
  override processStatus(): void {}

  override async endInput(): Promise<void> { await this.pending(); }

  async snapshotState(checkpointId: number): Promise<OperatorSnapshot> {
    await this.pending();
    const committable = await this.writer.prepareCommit(checkpointId);
    this.prepared.set(checkpointId, committable);
    return { operatorId: this.ctx.operatorId, operatorState: { prepared: [...this.prepared.entries()] } };
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const ready: unknown[] = [];
    for (const [id, c] of [...this.prepared]) {
      if (id <= checkpointId) { ready.push(c); this.prepared.delete(id); }
    }
    if (ready.length > 0) await this.writer.commit(ready);
  }

  override async close(): Promise<void> { await this.writer?.close(); }
}
