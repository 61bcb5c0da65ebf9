import type { OutputChannel } from './channel';
import type { Partitioning } from '../../graph/stream-graph';
import { compileKeySelector, keyGroupOf, subtaskForKeyGroup, type KeySpec } from '../keys';
import type { StreamElement } from '../elements';
import type { TaskMetrics } from '../metrics';
import { partialAwareKeySelector } from '../operators/windows/partial';

/**
 * Writes one network edge's records into its channels, partitioned (forward, rebalance, hash by key
 * group, broadcast) and buffered into batches. Time, status, barriers and end go to every channel,
 * after the records buffered before them.
 */
export class RecordWriter {
  private readonly bufV: unknown[][];
  private readonly bufT: number[][];
  private rr: number;
  private readonly route: ((values: unknown[], timestamps: number[]) => void);

  constructor(
    readonly channels: OutputChannel[],
    partitioning: Partitioning,
    key: KeySpec | undefined,
    maxParallelism: number,
    subtaskIndex: number,
    private readonly batchSize: number,
    private readonly metrics: TaskMetrics,
    /** The edge carries partial window aggregates too (two-phase aggregation): hash those by their own key. */
    partials = false,
  ) {
    const n = channels.length;
    this.bufV = channels.map(() => []);
    this.bufT = channels.map(() => []);
    this.rr = subtaskIndex % Math.max(1, n);
    if (n === 1 || partitioning === 'forward') {
      this.route = (v, t) => this.whole(0, v, t);
    } else if (partitioning === 'broadcast') {
      this.route = (v, t) => { for (let c = 0; c < n; c++) this.whole(c, v, t); };
    } else if (partitioning === 'rebalance') {
      this.route = (v, t) => { const c = this.rr; this.rr = (c + 1) % n; this.whole(c, v, t); };
    } else {
      const sel = partials ? partialAwareKeySelector(key!) : compileKeySelector(key!);
      const M = maxParallelism;
      const bufV = this.bufV, bufT = this.bufT;
      this.route = (v, t) => {
        for (let i = 0; i < v.length; i++) {
          const c = subtaskForKeyGroup(keyGroupOf(sel(v[i]), M), M, n);
          bufV[c]!.push(v[i]);
          bufT[c]!.push(t[i]!);
        }
        for (let c = 0; c < n; c++) if (bufV[c]!.length >= batchSize) this.flushChannel(c);
      };
    }
  }

  emit(values: unknown[], timestamps: number[]): void {
    this.metrics.recordsOut += values.length;
    this.route(values, timestamps);
  }

  /** A whole batch to one channel: sent as is when nothing is buffered (no copy). */
  private whole(c: number, v: unknown[], t: number[]): void {
    const bv = this.bufV[c]!;
    if (bv.length === 0 && v.length >= this.batchSize / 4) { this.channels[c]!.send({ kind: 'records', values: v, timestamps: t }); return; }
    const bt = this.bufT[c]!;
    for (let i = 0; i < v.length; i++) { bv.push(v[i]); bt.push(t[i]!); }
    if (bv.length >= this.batchSize) this.flushChannel(c);
  }

  private flushChannel(c: number): void {
    const v = this.bufV[c]!;
    if (v.length === 0) return;
    const t = this.bufT[c]!;
    this.bufV[c] = []; this.bufT[c] = [];
    this.channels[c]!.send({ kind: 'records', values: v, timestamps: t });
  }

  flush(): void { for (let c = 0; c < this.channels.length; c++) this.flushChannel(c); }

  broadcast(element: StreamElement): void {
    this.flush();
    for (const ch of this.channels) ch.send(element);
  }

  get writable(): boolean {
    for (const ch of this.channels) if (!ch.writable) return false;
    return true;
  }

  async whenWritable(): Promise<void> {
    for (const ch of this.channels) if (!ch.writable) await ch.whenWritable();
  }
}
