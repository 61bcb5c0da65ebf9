import type { OperatorContext, OperatorSnapshot, Output, RestoredState } from '../../operator';
import { compileKeySelector, keyGroupOf, keyGroupRange, type Key, type KeySelector, type KeySpec } from '../../keys';
import { restoredWatermark } from '../../restored-watermark';
import { KeyedTimerQueue } from '../../../state/keyed-timers';
import { BatchCollector } from '../collector';
import type { Collector } from '../process';
import type { OutputTag } from '../../../api/output-tag';
import { TwoInputOperator } from './two-input-operator';

/** What a join function sees of one joined pair. */
export interface ProcessJoinContext {
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
  /** The result's timestamp: the larger of the two. */
  readonly timestamp: number;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Flink's ProcessJoinFunction: called once per joined pair. */
export type ProcessJoinFunction<L = any, R = any, O = any> =
  | ((left: L, right: R, ctx: ProcessJoinContext, out: Collector<O>) => void)
  | { processElement(left: L, right: R, ctx: ProcessJoinContext, out: Collector<O>): void };

export interface IntervalJoinConfig {
  leftKey: KeySpec;
  rightKey: KeySpec;
  /** A right element joins a left one at ts when its timestamp is in [ts + lower, ts + upper] (inclusive). */
  lower: number;
  upper: number;
}

type Buffer = Map<Key, Map<number, unknown[]>>;

/**
 * The interval join (Flink's IntervalJoinOperator): `a.keyBy(k).intervalJoin(b.keyBy(k)).between(lo, hi)`
 * joins every left element l with every right element r of the same key whose timestamp is in
 * [ts(l) + lo, ts(l) + hi]; each pair once, with the timestamp max(ts(l), ts(r)).
 *
 * Both sides are buffered per key and timestamp. An element at or behind the operator's watermark
 * (the minimum of both inputs') is late: dropped and counted (Flink drops it too). A buffered element
 * is dropped once no element that is not late can join it any more — left at ts once the watermark
 * reaches ts + max(hi, 0), right at ts once it reaches ts − min(lo, 0) (cleanup timers, as Flink's) —
 * so state is bounded by the watermark and the interval, never by the whole stream.
 *
 *   checkpoint (keyedState per key group): { left: [key, ts, values][], right: [key, ts, values][] };
 *   cleanup timers are recomputed from the buffered timestamps on restore.
 */
export class IntervalJoinOperator extends TwoInputOperator {
  private readonly leftKey: KeySelector;
  private readonly rightKey: KeySelector;
  private readonly left: Buffer = new Map();
  private readonly right: Buffer = new Map();
  private readonly leftCleanup = new KeyedTimerQueue();
  private readonly rightCleanup = new KeyedTimerQueue();
  private readonly out = new BatchCollector();
  private readonly call: (l: unknown, r: unknown, ctx: ProcessJoinContext, out: Collector<unknown>) => void;
  private restored: RestoredState | undefined;

  constructor(private readonly cfg: IntervalJoinConfig, fn: ProcessJoinFunction) {
    super();
    this.leftKey = compileKeySelector(cfg.leftKey);
    this.rightKey = compileKeySelector(cfg.rightKey);
    this.call = typeof fn === 'function' ? fn : (l, r, c, o) => fn.processElement(l, r, c, o);
  }

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    if (!this.restored) return;
    const r = this.restored;
    this.restored = undefined;
    this.watermark = restoredWatermark(r, ctx.parallelism);
    const [lo, hi] = keyGroupRange(ctx.subtaskIndex, ctx.maxParallelism, ctx.parallelism);
    for (const snap of r.all) {
      for (const [kg, entry] of Object.entries((snap.keyedState ?? {}) as Record<string, { left?: unknown[]; right?: unknown[] }>)) {
        if (Number(kg) < lo || Number(kg) >= hi) continue;
        for (const [key, ts, values] of (entry.left ?? []) as Array<[Key, number, unknown[]]>) for (const v of values) this.buffer(true, key, ts, v);
        for (const [key, ts, values] of (entry.right ?? []) as Array<[Key, number, unknown[]]>) for (const v of values) this.buffer(false, key, ts, v);
      }
    }
  }

  protected processBatch1(values: unknown[], timestamps: number[]): void { this.process(values, timestamps, true); }
  protected processBatch2(values: unknown[], timestamps: number[]): void { this.process(values, timestamps, false); }

  private process(values: unknown[], timestamps: number[], isLeft: boolean): void {
    const { lower, upper } = this.cfg;
    // Relative to this element: the other side's timestamps it joins with.
    const relLower = isLeft ? lower : -upper;
    const relUpper = isLeft ? upper : -lower;
    const sel = isLeft ? this.leftKey : this.rightKey;
    const other = isLeft ? this.right : this.left;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const ts = timestamps[i]!;
      if (!(ts > -Infinity && ts < Infinity) || ts <= this.watermark) { this.ctx.metrics.lateRecordsDropped++; continue; }
      const key = sel(v);
      this.buffer(isLeft, key, ts, v);
      const theirs = other.get(key);
      if (!theirs) continue;
      for (const [otherTs, list] of theirs) {
        if (otherTs < ts + relLower || otherTs > ts + relUpper) continue;
        for (const o of list) this.emit(isLeft ? v : o, isLeft ? o : v, isLeft ? ts : otherTs, isLeft ? otherTs : ts);
      }
    }
    this.flush();
  }

  private buffer(isLeft: boolean, key: Key, ts: number, v: unknown): void {
    const buf = isLeft ? this.left : this.right;
    let byTs = buf.get(key);
    if (!byTs) { byTs = new Map(); buf.set(key, byTs); }
    const list = byTs.get(ts);
    if (list) list.push(v);
    else {
      byTs.set(ts, [v]);
      if (isLeft) this.leftCleanup.register(ts + Math.max(this.cfg.upper, 0), key);
      else this.rightCleanup.register(ts - Math.min(this.cfg.lower, 0), key);
    }
  }

  private emit(l: unknown, r: unknown, lts: number, rts: number): void {
    const timestamp = Math.max(lts, rts);
    this.out.currentTimestamp = timestamp;
    const out = this.out;
    this.call(l, r, { leftTimestamp: lts, rightTimestamp: rts, timestamp, output: (tag, value) => out.collectSide(tag.id, value) }, out);
  }

  protected override onWatermark(t: number): void {
    const { lower, upper } = this.cfg;
    this.leftCleanup.advance(t, (time, key) => this.drop(this.left, key, time - Math.max(upper, 0)));
    this.rightCleanup.advance(t, (time, key) => this.drop(this.right, key, time + Math.min(lower, 0)));
  }

  private drop(buf: Buffer, key: Key, ts: number): void {
    const byTs = buf.get(key);
    if (!byTs) return;
    byTs.delete(ts);
    if (byTs.size === 0) buf.delete(key);
  }

  private flush(): void {
    this.out.flush((v, t) => this.output.emitBatch(v, t), (tag, v, t) => this.output.emitSide(tag, v, t));
  }

  snapshotState(): OperatorSnapshot {
    const M = this.ctx.maxParallelism;
    const groups: Record<number, { left: unknown[]; right: unknown[] }> = {};
    const g = (k: Key) => (groups[keyGroupOf(k, M)] ??= { left: [], right: [] });
    for (const [key, byTs] of this.left) for (const [ts, values] of byTs) g(key).left.push([key, ts, values]);
    for (const [key, byTs] of this.right) for (const [ts, values] of byTs) g(key).right.push([key, ts, values]);
    return { operatorId: this.ctx.operatorId, operatorState: { watermark: this.watermark }, keyedState: groups };
  }
}
