import { describe, it, expect } from 'vitest';
import { WindowOperator } from './window-operator';
import { compileAggregate } from '../../../aggregates/composite';
import { count } from '../../../aggregates/aggregate-function';
import { TaskMetrics } from '../../metrics';
import { silentLogger } from '../../../logging';
import type { OperatorContext, Output, OperatorSnapshot } from '../../operator';
import { WatermarkGenerator } from '../../../time/watermark-generator';
import { WatermarkStrategy } from '../../../time/watermark-strategy';
import { parseSnapshot, stringifySnapshot } from '../../../protocol/checkpoint-metadata';

function harness() {
  const emitted: unknown[] = [];
  const metrics = new TaskMetrics();
  const ctx: OperatorContext = {
    operatorId: 'w', operatorName: 'Window', subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobId: 'j', attempt: 0,
    batchSize: 1024, watermarkSlack: 0, logger: silentLogger(), metrics, now: () => 0, scheduleAt: () => () => {},
  };
  const out: Output = { emitBatch: (v) => emitted.push(...v), emitWatermark: () => {}, emitStatus: () => {}, emitSide: () => {} };
  const op = new WindowOperator({ assigner: { kind: 'tumbling', time: 'event', size: 1000, offset: 0 }, key: { kind: 'field', fields: ['k'] }, aggregate: compileAggregate({ n: count() }), emit: 'enriched', allowedLateness: 0 });
  return { op, ctx, out, emitted, metrics };
}

describe('restore keeps lateness decisions', () => {
  it('a window operator restored from a snapshot drops what was late at the checkpoint (its watermark is restored)', () => {
    const a = harness();
    a.op.open(a.ctx, a.out);
    a.op.processBatch([{ k: 'x' }, { k: 'x' }], [100, 200]);
    a.op.processWatermark(1500); // fires [0, 1000)
    expect(a.emitted).toHaveLength(1);
    const snap = parseSnapshot(stringifySnapshot(a.op.snapshotState())) as OperatorSnapshot;
    const b = harness();
    b.op.initializeState({ checkpointId: 1, oldParallelism: 1, own: snap, all: [snap], byIndex: [snap] });
    b.op.open(b.ctx, b.out);
    b.op.processBatch([{ k: 'x' }], [500]); // late for [0, 1000): must not open it again
    b.op.processWatermark(Number.POSITIVE_INFINITY);
    expect(b.emitted).toEqual([]);
    expect(b.metrics.lateRecordsDropped).toBe(1);
  });

  it("a watermark generator restored from a snapshot keeps its splits' progress and never emits below it", () => {
    const wms: number[] = [];
    const out: Output = { emitBatch: () => {}, emitWatermark: (t) => wms.push(t), emitStatus: () => {}, emitSide: () => {} };
    const s = WatermarkStrategy.forBoundedOutOfOrderness(0).withTimestampField('ts');
    const g1 = new WatermarkGenerator(s, out, new TaskMetrics(), silentLogger(), () => 0);
    g1.addSplit('p0');
    g1.process('p0', [{ ts: 5000 }]);
    const state = parseSnapshot(stringifySnapshot(g1.snapshot())) as ReturnType<WatermarkGenerator['snapshot']>;
    const passed: number[] = [];
    const out2: Output = { emitBatch: (_v, ts) => passed.push(...ts), emitWatermark: (t) => wms.push(t), emitStatus: () => {}, emitSide: () => {} };
    const g2 = new WatermarkGenerator(s, out2, new TaskMetrics(), silentLogger(), () => 0);
    g2.addSplit('p0');
    g2.restore([state]);
    wms.length = 0;
    g2.process('p0', [{ ts: 100 }, { ts: 6000 }]);
    // The record at 100 is behind the restored watermark 4999: it goes out after that watermark, as in the original run.
    expect(wms[0]).toBe(5999);
    expect(passed).toEqual([100, 6000]);
  });

  it('snapshots keep numbers JSON cannot (±Infinity, NaN)', () => {
    const v = parseSnapshot(stringifySnapshot({ a: Infinity, b: [-Infinity, NaN, 1], c: { $n: 'x', d: 2 } })) as any;
    expect(v.a).toBe(Infinity);
    expect(v.b[0]).toBe(-Infinity);
    expect(Number.isNaN(v.b[1])).toBe(true);
    expect(v.c).toEqual({ $n: 'x', d: 2 });
  });
});
