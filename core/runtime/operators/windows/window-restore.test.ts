import { describe, it, expect } from 'vitest';
import { WindowOperator } from './window-operator';
import { compileAggregate } from '../../../aggregates/composite';
import { count, sum } from '../../../aggregates/aggregate-function';
import type { CompiledAggregate } from '../../../aggregates/composite';
import type { WindowAssigner } from '../../../windows/assigners';
import { canonical } from '../../../../test/helpers/cli';
import { TaskMetrics } from '../../metrics';
import { silentLogger } from '../../../logging';
import type { OperatorContext, Output, OperatorSnapshot } from '../../operator';
import { WatermarkGenerator } from '../../../time/watermark-generator';
import { WatermarkStrategy } from '../../../time/watermark-strategy';
import { parseSnapshot, stringifySnapshot } from '../../../protocol/checkpoint-metadata';

function harness(
  assigner: WindowAssigner = { kind: 'tumbling', time: 'event', size: 1000, offset: 0 },
  aggregate: CompiledAggregate = compileAggregate({ n: count() }),
) {
  const emitted: unknown[] = [];
  const metrics = new TaskMetrics();
  const ctx: OperatorContext = {
    operatorId: 'w', operatorName: 'Window', subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobId: 'j', attempt: 0,
    batchSize: 1024, watermarkSlack: 0, logger: silentLogger(), metrics, now: () => 0, scheduleAt: () => () => {},
  };
  const out: Output = { emitBatch: (v) => emitted.push(...v), emitWatermark: () => {}, emitStatus: () => {}, emitSide: () => {} };
  const op = new WindowOperator({ assigner, key: { kind: 'field', fields: ['k'] }, aggregate, emit: 'enriched', allowedLateness: 0 });
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

  // Sliding windows of 3 s by 1 s with built-in aggregates are sliced (slice-store.ts); with the same
  // accumulators marked as not built-in, the same windows are panes (pane-store.ts).
  const sliding: WindowAssigner = { kind: 'sliding', time: 'event', size: 3000, slide: 1000, offset: 0 };
  const builtins = compileAggregate({ n: count(), s: sum('v') });
  const asPanes: CompiledAggregate = { ...builtins, builtin: false };
  const keys = ['x', 'y', 'z'];
  const first = Array.from({ length: 40 }, (_, i) => ({ k: keys[i % 3], v: i }));
  const firstTs = first.map((_, i) => 100 * i + (i % 7) * 37);
  const rest = Array.from({ length: 40 }, (_, i) => ({ k: keys[(i * 7) % 3], v: 100 + i }));
  const restTs = rest.map((_, i) => 2500 + 90 * i);

  /** Both halves through one operator with `aggregate`, or the first half, a snapshot, the rest through a restored one with `restoredAs`. */
  function slidingRun(aggregate: CompiledAggregate, restoredAs?: CompiledAggregate): unknown[] {
    const a = harness(sliding, aggregate);
    a.op.open(a.ctx, a.out);
    a.op.processBatch(first, firstTs);
    a.op.processWatermark(2400); // fires the windows ending by 2400; later ones hold slices or panes
    if (!restoredAs) {
      a.op.processBatch(rest, restTs);
      a.op.processWatermark(Number.POSITIVE_INFINITY);
      return a.emitted;
    }
    const snap = parseSnapshot(stringifySnapshot(a.op.snapshotState())) as OperatorSnapshot;
    const b = harness(sliding, restoredAs);
    b.op.initializeState({ checkpointId: 1, oldParallelism: 1, own: snap, all: [snap], byIndex: [snap] });
    b.op.open(b.ctx, b.out);
    b.op.processBatch(rest, restTs);
    b.op.processWatermark(Number.POSITIVE_INFINITY);
    return [...a.emitted, ...b.emitted];
  }

  it('sliced sliding windows restored from a snapshot, as slices or as panes, give what an uninterrupted run gives', () => {
    const uninterrupted = slidingRun(builtins);
    expect(uninterrupted.length).toBeGreaterThan(20);
    expect(canonical(slidingRun(asPanes))).toEqual(canonical(uninterrupted)); // panes and slices agree
    expect(canonical(slidingRun(builtins, builtins))).toEqual(canonical(uninterrupted)); // slices → slices
    expect(canonical(slidingRun(builtins, asPanes))).toEqual(canonical(uninterrupted)); // slices → panes
    expect(canonical(slidingRun(asPanes, builtins))).toEqual(canonical(uninterrupted)); // panes → slices
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
