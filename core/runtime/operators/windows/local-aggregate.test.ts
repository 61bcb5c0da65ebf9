/**
 * The adaptive skip of the local pre-aggregation (pipeline.aggregation-local.*): after `sample`
 * aggregated records it goes on when keys repeat enough, and gives up (sends what it holds, then
 * forwards records as they are) when they do not — before the sample's end once that is certain.
 */
import { describe, expect, it } from 'vitest';
import { LocalWindowAggregateOperator } from './local-aggregate';
import { TumblingEventTimeWindows } from '../../../windows/assigners';
import { compileAggregate } from '../../../aggregates/composite';
import { count, sum } from '../../../aggregates/aggregate-function';
import { isPartial } from './partial';
import { TaskMetrics } from '../../metrics';
import { silentLogger } from '../../../logging';
import type { OperatorContext, Output } from '../../operator';

interface Rec { key: string; v: number }

function open(ratio: number, sample: number) {
  const op = new LocalWindowAggregateOperator({
    assigner: TumblingEventTimeWindows.of(1000), key: { kind: 'field', fields: ['key'] },
    aggregate: compileAggregate({ s: sum('v'), n: count() }), skip: { ratio, sample },
  });
  const batches: unknown[][] = [];
  const output: Output = { emitBatch: (v) => { batches.push(v); }, emitWatermark: () => {}, emitStatus: () => {}, emitSide: () => {} };
  const ctx: OperatorContext = {
    operatorId: 'w.local', operatorName: 'Window (local)', subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobId: 'j', attempt: 0,
    batchSize: 1024, watermarkSlack: 0, logger: silentLogger(), metrics: new TaskMetrics(), now: () => 0, scheduleAt: () => () => {},
  };
  op.open(ctx, output);
  const feed = (recs: Rec[]) => op.processBatch(recs, recs.map((_, i) => i));
  const sent = () => batches.flat();
  return { op, feed, sent };
}

const distinct = (from: number, n: number): Rec[] => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, v: 1 }));
const repeated = (n: number): Rec[] => Array.from({ length: n }, (_, i) => ({ key: `k${i % 4}`, v: 1 }));

describe('LocalWindowAggregateOperator: adaptive skip', () => {
  it('keys that repeat: it goes on aggregating past the sample', () => {
    const { feed, sent } = open(0.5, 100);
    feed(repeated(100));
    feed(repeated(100));
    expect(sent()).toEqual([]); // all held for the window: 4 keys, no record forwarded
  });

  it('every key new: it gives up once it made more partials than the sample may, sends what it holds, then forwards records as they are', () => {
    const { feed, sent } = open(0.5, 100);
    feed(distinct(0, 40));
    expect(sent()).toEqual([]); // 40 partials: no more than the sample may make (0.5 × 100)
    feed(distinct(40, 20)); // 60 partials > 0.5 × 100: it gives up before the sample's end
    expect(sent()).toHaveLength(60);
    expect(sent().every(isPartial)).toBe(true);
    const later = distinct(60, 10);
    feed(later);
    expect(sent().slice(60)).toEqual(later); // the very records, not partials
  });

  it('a ratio above what a record can make never gives up', () => {
    const { feed, sent } = open(1.01, 10);
    feed(distinct(0, 50));
    feed(distinct(50, 50));
    expect(sent()).toEqual([]);
  });
});
