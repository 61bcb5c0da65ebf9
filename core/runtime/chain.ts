import type { Output, StreamOperator } from './operator';
import type { RecordWriter } from './network/record-writer';
import type { StreamElement } from './elements';
import { copyBatch } from './copy-batch';

interface Targets { operators: StreamOperator[]; writers: RecordWriter[] }

/** Hands a batch to every consumer; with several, all but the last get their own copy (fan-out). */
function deliver(t: Targets, values: unknown[], timestamps: number[]): void {
  const n = t.operators.length + t.writers.length;
  let k = 0;
  const next = () => (++k < n ? copyBatch(values) : values);
  for (const op of t.operators) op.processBatch(next(), timestamps);
  for (const w of t.writers) w.emit(next(), timestamps);
}

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
    if (operators.length + writers.length === 1) {
      if (operators.length === 1) operators[0]!.processBatch(values, timestamps);
      else writers[0]!.emit(values, timestamps);
      return;
    }
    deliver(this.main, values, timestamps);
  }

  emitSide(tag: string, values: unknown[], timestamps: number[]): void {
    const t = this.side.get(tag);
    if (!t) return; // nobody consumes this side output
    deliver(t, values, timestamps);
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
