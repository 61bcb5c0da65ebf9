import { AbstractOperator, type OperatorContext, type OperatorSnapshot, type Output, type RestoredState } from '../../operator';
import { windowStart, type WindowAssigner } from '../../../windows/assigners';
import type { CompiledAggregate } from '../../../aggregates/composite';
import { compileKeySelector, type Key, type KeySelector, type KeySpec } from '../../keys';
import { MIN_WATERMARK } from '../../elements';
import { toPartialRecord } from './partial';
import { restoredWatermark } from '../../restored-watermark';
import type { LocalAggregationSkip } from '../../../config/system-properties';

export interface LocalWindowAggregateConfig {
  /** An event-time assigner: the local side decides by the watermark what it may hold back. */
  assigner: WindowAssigner;
  key: KeySpec;
  aggregate: CompiledAggregate;
  /** When it gives up aggregating (default: never). */
  skip?: LocalAggregationSkip;
}

/** Held-back (key, window) accumulators above which everything is sent at once (memory bound). */
const MAX_HELD = 50_000;

interface LocalPane { end: number; accs: Map<Key, any> }

/**
 * The local half of two-phase window aggregation (Flink SQL's local-global aggregation), chained in
 * front of the keyBy shuffle of a window aggregate: it aggregates the records of each (key, window)
 * that pass through this subtask and sends one partial per (key, window) to the global window
 * operator, instead of every record. The global merges partials; its results are exactly the
 * single-phase results, late data included, by three rules:
 *
 * 1. A window's partial is sent before any watermark that could fire it (a watermark ≥ end − 1)
 *    leaves this subtask, so it always reaches the global operator before that window fires there.
 * * 2. A record with a window that may already have fired downstream (end − 1 ≤ this subtask's
 *    watermark, which bounds the global one from above) is not aggregated here: it is forwarded as
 *    it is, and the global operator treats it exactly as a single-phase one would (late, re-fire
 *    within the allowed lateness, side output).
 * 3. Nothing is held across a checkpoint barrier, an idle status or the end of input: all partials
 *    go first, so the only state is the watermark (kept for rule 2 after a restore).
 *
 * Panes (tumbling, sliding) are held per window start. Session windows are not pre-aggregated (the
 * graph keeps them in one phase, core/graph/local-aggregation.ts: the local session partials this file
 * had up to commit cf7e7b7 gave results that differed from one phase on long out-of-order inputs); neither
 * are global windows. Their records go on as they are.
 *
 * Adaptive, as Trino's partial aggregation: when the first `skip.sample` records it aggregated made
 * more than `skip.ratio` partials per record (keys rarely repeat within a window on this subtask), the
 * pre-aggregation costs more than the shuffle it saves. It gives up before the sample's end as soon as
 * it has made more than `skip.ratio × skip.sample` partials. It then sends what it holds and forwards every
 * later record as it is, which the global operator takes as a single-phase one would (rule 2's path).
 */
export class LocalWindowAggregateOperator extends AbstractOperator {
  private readonly selectKey: KeySelector;
  private watermark = MIN_WATERMARK;
  private readonly panes = new Map<number, LocalPane>();
  private held = 0;
  private outV: unknown[] = [];
  private outT: number[] = [];
  private restored: RestoredState | undefined;
  /** Records aggregated and partials made so far, until the skip decision is taken. */
  private sampled = 0;
  private partials = 0;
  private decided = false;
  /** Gave up aggregating: every record goes on as it is. */
  private forwarding = false;

  constructor(private readonly cfg: LocalWindowAggregateConfig) {
    super();
    this.selectKey = compileKeySelector(cfg.key);
  }

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    if (this.restored) this.watermark = restoredWatermark(this.restored, ctx.parallelism);
    this.restored = undefined;
  }

  processBatch(values: unknown[], timestamps: number[]): void {
    if (this.forwarding) { this.output.emitBatch(values, timestamps); return; }
    const heldBefore = this.held;
    const a = this.cfg.assigner;
    const sel = this.selectKey;
    const wm = this.watermark;
    const n = values.length;
    let rawV: unknown[] | undefined;
    let rawT: number[] | undefined;
    const forward = (v: unknown, ts: number) => { (rawV ??= []).push(v); (rawT ??= []).push(ts); };
    if (a.kind === 'tumbling') {
      const { size, offset } = a;
      const agg = this.cfg.aggregate;
      const add = agg.add;
      let lastStart = Number.NaN;
      let accs: Map<Key, any> | undefined;
      let added = 0;
      // The hot loop of a keyed tumbling aggregate: one Map lookup per record, the pane looked up
      // only when the window changes (records mostly arrive in time order).
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const ts = timestamps[i]!;
        if (!(ts > -Infinity && ts < Infinity)) { forward(v, ts); continue; } // the global operator reports it
        const start = windowStart(ts, offset, size);
        if (start + size - 1 <= wm) { forward(v, ts); continue; }
        if (start !== lastStart) { accs = this.pane(start, start + size).accs; lastStart = start; }
        const key = sel(v);
        const acc = accs!.get(key);
        if (acc === undefined) { accs!.set(key, add(agg.createAccumulator(), v)); added++; } else {
          const next = add(acc, v);
          if (next !== acc) accs!.set(key, next);
        }
      }
      this.held += added;
    } else if (a.kind === 'sliding') {
      const { size, slide, offset } = a;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const ts = timestamps[i]!;
        if (!(ts > -Infinity && ts < Infinity)) { forward(v, ts); continue; }
        const last = windowStart(ts, offset, slide);
        // In no window (slide > size leaves gaps): the global operator decides whether it is late.
        if (last <= ts - size) { forward(v, ts); continue; }
        // Any of its windows possibly fired downstream: the whole record goes as it is (never half here,
        // half there). The earliest of them ends first.
        if (windowStart(ts - size + slide, offset, slide) + size - 1 <= wm) { forward(v, ts); continue; }
        const key = sel(v);
        for (let start = last; start > ts - size; start -= slide) this.add(this.pane(start, start + size), key, v);
      }
    } else {
      rawV = values; // session and global windows are never pre-aggregated (core/graph/local-aggregation.ts)
      rawT = timestamps;
    }
    if (rawV) this.output.emitBatch(rawV, rawT!);
    if (!this.decided) this.sample(n - (rawV?.length ?? 0), this.held - heldBefore);
    if (this.held > MAX_HELD) this.flushAll();
  }

  /** Counts what aggregating `records` records added in held partials; decides once the sample is full. */
  private sample(records: number, added: number): void {
    const skip = this.cfg.skip;
    if (!skip) { this.decided = true; return; }
    this.sampled += records;
    this.partials += added;
    // More partials than the sample may make give up before its end: a stream of new keys, or one
    // shorter than the sample, stops paying for the local side as soon as that is clear.
    const limit = skip.ratio * Math.max(this.sampled, skip.sample);
    if (this.sampled < skip.sample && this.partials <= limit) return;
    this.decided = true;
    const perRecord = this.partials / this.sampled;
    if (this.partials <= limit) return;
    this.forwarding = true;
    this.flushAll();
    this.ctx.logger.info({ event: 'window.local-aggregation-skipped', records: this.sampled, partials: this.partials },
      `${this.ctx.operatorName}: ${this.sampled} records made ${this.partials} partials (${perRecord.toFixed(2)} per record, more than pipeline.aggregation-local.skip-ratio ${skip.ratio}): records now go on without local aggregation`);
  }

  override processWatermark(timestamp: number): void {
    if (timestamp <= this.watermark) return;
    this.watermark = timestamp;
    this.flushUpTo(timestamp);
    this.output.emitWatermark(timestamp);
  }

  override processStatus(idle: boolean): void {
    // An idle channel stops holding back the watermark downstream: what this subtask holds must go first.
    if (idle) this.flushAll();
    this.output.emitStatus(idle);
  }

  override endInput(): void { this.flushAll(); }

  /** Sends everything held (before the barrier that follows); the watermark is the only state. */
  snapshotState(): OperatorSnapshot {
    this.flushAll();
    return { operatorId: this.ctx.operatorId, operatorState: { watermark: this.watermark } };
  }

  // ---- held accumulators ----

  private pane(start: number, end: number): LocalPane {
    let p = this.panes.get(start);
    if (p === undefined) { p = { end, accs: new Map() }; this.panes.set(start, p); }
    return p;
  }

  private add(p: LocalPane, key: Key, v: unknown): void {
    const agg = this.cfg.aggregate;
    const acc = p.accs.get(key);
    if (acc === undefined) { p.accs.set(key, agg.add(agg.createAccumulator(), v)); this.held++; } else {
      const next = agg.add(acc, v);
      if (next !== acc) p.accs.set(key, next);
    }
  }

  // ---- sending partials ----

  /** Sends every pane that a watermark of `t` may fire downstream (end − 1 ≤ t). */
  private flushUpTo(t: number): void {
    for (const [start, p] of this.panes) if (p.end - 1 <= t) this.sendPane(start, p);
    this.send();
  }

  private flushAll(): void {
    for (const [start, p] of this.panes) this.sendPane(start, p);
    this.held = 0;
    this.send();
  }

  private sendPane(start: number, p: LocalPane): void {
    for (const [key, acc] of p.accs) this.emit(key, start, p.end, acc);
    this.panes.delete(start);
  }

  private emit(key: Key, start: number, end: number, acc: any): void {
    this.outV.push(toPartialRecord(this.cfg.aggregate, key, start, end, acc));
    this.outT.push(end - 1);
    this.held--;
  }

  private send(): void {
    if (this.held < 0) this.held = 0;
    if (this.outV.length === 0) return;
    const v = this.outV, t = this.outT;
    this.outV = []; this.outT = [];
    this.output.emitBatch(v, t);
  }
}
