import type { ConnectorContext, Source, SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { resumeIndex } from '../strided-index';

/** A collection subtask's checkpoint state: the index of the next record it will emit. */
export interface CollectionSourceState { next: number }

/**
 * `sources.collection`: the given records, bounded. With parallelism p, subtask k emits the records
 * whose index i ≡ k (mod p), in order, as one split `collection-<k>`. The array is captured by the app's
 * `build`, which runs on every task manager, so it is never shipped over the network.
 */
export function collectionSource<T>(records: readonly T[]): Source<T> {
  if (!Array.isArray(records)) {
    throw new RlinkError('RLINK_CONFIG', 'collection source: expects an array of records');
  }
  return {
    kind: 'collection',
    bounded: true,
    describe: () => ({ kind: 'collection', count: records.length }),
    createReader: (ctx) => new CollectionReader<T>(records, ctx),
  };
}

class CollectionReader<T> implements SourceReader<T> {
  private readonly split: string;
  private readonly step: number;
  private next: number;

  constructor(private readonly records: readonly T[], ctx: ConnectorContext) {
    this.split = `collection-${ctx.subtaskIndex}`;
    this.step = ctx.parallelism;
    this.next = ctx.subtaskIndex;
  }

  open(restored?: unknown): string[] {
    this.next = resumeIndex(restored, this.next, this.step) ?? this.next;
    return [this.split];
  }

  poll(max: number): SourcePoll<T> {
    const recs = this.records;
    const step = this.step;
    let i = this.next;
    if (i >= recs.length) return { kind: 'end' };
    let n = Math.ceil((recs.length - i) / step);
    if (n > max) n = max > 0 ? max : 1;
    const values = new Array<T>(n);
    for (let j = 0; j < n; j++) { values[j] = recs[i] as T; i += step; }
    this.next = i;
    if (i >= recs.length) return { kind: 'records', split: this.split, values, splitFinished: true };
    return { kind: 'records', split: this.split, values };
  }

  snapshot(): CollectionSourceState { return { next: this.next }; }

  close(): void {}
}
