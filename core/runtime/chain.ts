import type { Output, StreamOperator } from './operator';
import type { RecordWriter } from './network/record-writer';
import type { StreamElement } from './elements';

interface Targets { operators: StreamOperator[]; writers: RecordWriter[] }

/**
 * The output of one operator inside a chain: chained operators are called directly, network edges
 * go through their record writers. Watermarks and statuses reach every consumer, side outputs' too.
 */
export class ChainOutput implements Output {
  readonly main: Targets = { operators: [], writers: [] };
  readonly side = new Map<string, Targets>();

  sideTargets(tag: string): Targets {
    let t = this.side.get(tag);
    if (!t) { t = { operators: [], writers: [] }; this.side.set(tag, t); }
    return t;
  }

  emitBatch(values: unknown[], timestamps: number[]): void {
    const { operators, writers } = this.main;
    for (let i = 0; i < operators.length; i++) operators[i]!.processBatch(values, timestamps);
    for (let i = 0; i < writers.length; i++) writers[i]!.emit(values, timestamps);
  }

  emitSide(tag: string, values: unknown[], timestamps: number[]): void {
    const t = this.side.get(tag);
    if (!t) return; // nobody consumes this side output
    for (const op of t.operators) op.processBatch(values, timestamps);
    for (const w of t.writers) w.emit(values, timestamps);
  }

  emitWatermark(timestamp: number): void {
    this.each((op) => op.processWatermark(timestamp), { kind: 'watermark', timestamp });
  }

  emitStatus(idle: boolean): void {
    this.each((op) => op.processStatus(idle), { kind: 'status', idle });
  }

  private each(toOperator: (op: StreamOperator) => void, element: StreamElement): void {
    for (const t of [this.main, ...this.side.values()]) {
      for (const op of t.operators) toOperator(op);
      for (const w of t.writers) w.broadcast(element);
    }
  }
}
