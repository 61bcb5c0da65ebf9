import type { WatermarkStrategy, TimestampAssigner } from './watermark-strategy';
import type { Output } from '../runtime/operator';
import type { TaskMetrics } from '../runtime/metrics';
import type { Logger } from '../logging';
import { MIN_WATERMARK } from '../runtime/elements';
import { RateLimitedLog } from '../util/rate-limited-log';

interface SplitState {
  maxTs: number;
  watermark: number;
  lastActive: number;
  idle: boolean;
}

/**
 * Assigns timestamps and generates watermarks for one or more splits (Flink's per-split watermark
 * multiplexing in `fromSource`): each split keeps its own watermark, the output watermark is the
 * minimum over splits that are neither idle nor finished, and it never goes backwards.
 *
 * Exact watermarks: Flink emits watermarks periodically, so which records are late depends on timing.
 * rlink instead behaves as if the watermark were emitted after every record: within a batch, when a
 * record is at or behind the watermark that the records before it have already established, the batch
 * is cut there and that watermark is emitted first. Results at parallelism 1 therefore never depend
 * on batch sizes or speed; the cut costs one comparison per record and happens only for such records.
 */
export class WatermarkGenerator {
  private readonly splits = new Map<string, SplitState>();
  private emitted = MIN_WATERMARK;
  private lastTrailing = Number.NEGATIVE_INFINITY;
  private idleEmitted = false;
  private readonly bound: number | null;
  private readonly extract: (v: any, prev: number) => number;
  private readonly invalidLog: RateLimitedLog;

  constructor(
    strategy: WatermarkStrategy,
    private readonly output: Output,
    private readonly metrics: TaskMetrics,
    logger: Logger,
    private readonly now: () => number,
    /** See JobGraph.watermarkSlack. */
    private readonly slack = 0,
    /** At most how often the watermark established at the end of a batch is emitted (0: every batch). */
    private readonly trailingIntervalMs = 0,
  ) {
    this.bound = strategy.boundMs;
    this.extract = timestampExtractor(strategy.timestampField, strategy.assigner);
    this.useCarried = !strategy.timestampField && !strategy.assigner;
    this.idleTimeout = strategy.idlenessMs;
    this.invalidLog = new RateLimitedLog(logger, 'record.invalid-timestamp');
  }
  private readonly idleTimeout: number | undefined;
  /** No field and no assigner: use the timestamps the records already carry (e.g. Kafka's). */
  private readonly useCarried: boolean;

  get currentWatermark(): number { return this.emitted; }
  get hasIdleness(): boolean { return this.idleTimeout !== undefined; }

  /**
   * Timestamps and forwards one batch read from `split`. `carried` are the timestamps the records
   * already have (used when the strategy has no field and no assigner); `where(i)` describes record i
   * for the log (file:line).
   */
  process(split: string, values: unknown[], carried?: number[], where?: (index: number) => string): void {
    const n = values.length;
    const st = this.split(split);
    st.lastActive = this.now();
    if (st.idle) st.idle = false;
    if (this.idleEmitted) { this.idleEmitted = false; this.output.emitStatus(false); }
    if (n === 0) return;

    const bound = this.bound;
    const slack = this.slack;
    const others = bound === null ? 0 : this.minOverOthers(st);
    const extract = this.extract;
    const useCarried = this.useCarried;
    let emitted = this.emitted;
    let wm = st.watermark;
    let maxTs = st.maxTs;
    let combined = wm < others ? wm : others;
    // One pass: timestamps into `ts`; records without one are skipped (and the batch compacted).
    let outV = values;
    let ts = new Array<number>(n);
    let m = 0;      // records kept so far
    let from = 0;   // start (in kept records) of the part not yet emitted
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const t = useCarried ? (carried ? carried[i]! : Number.NaN) : extract(v, maxTs);
      if (!(t > -Infinity && t < Infinity)) {
        this.invalid(split, v, where?.(i));
        if (outV === values) outV = values.slice(0, i);
        continue;
      }
      if (bound !== null) {
        // At or behind the watermark its predecessors established: emit that watermark first.
        if (combined > emitted && t <= combined + slack) {
          if (m > from) this.output.emitBatch(outV.slice(from, m), ts.slice(from, m));
          from = m;
          emitted = combined;
          this.output.emitWatermark(combined);
        }
        if (t > maxTs) {
          maxTs = t;
          wm = t - bound - 1;
          combined = wm < others ? wm : others;
        }
      }
      if (outV !== values) outV.push(v);
      ts[m++] = t;
    }
    st.maxTs = maxTs;
    st.watermark = wm;
    if (m < n) ts.length = m;
    if (from === 0) { if (m > 0) this.output.emitBatch(outV, ts); }
    else if (from < m) this.output.emitBatch(outV.slice(from, m), ts.slice(from, m));
    this.emitted = emitted;
    // The watermark these records established goes out periodically (Flink's auto-watermark
    // interval): results never depend on it, since it is always emitted before any record behind it.
    if (this.now() - this.lastTrailing >= this.trailingIntervalMs) this.flush();
  }

  /** Emits the watermark established so far, if it advanced (when the input pauses, and periodically). */
  flush(): void {
    this.lastTrailing = this.now();
    this.emitIfAdvanced();
  }

  /** True when a watermark is established but not emitted yet. */
  get hasPending(): boolean { return this.pendingWatermark() > this.emitted; }

  private pendingWatermark(): number {
    let min = Number.POSITIVE_INFINITY;
    let any = false;
    for (const st of this.splits.values()) if (!st.idle) { any = true; if (st.watermark < min) min = st.watermark; }
    return any ? min : Number.NEGATIVE_INFINITY;
  }

  private invalid(split: string, v: unknown, at: string | undefined): void {
    this.metrics.recordsInvalid++;
    this.invalidLog.warn({ split, at, record: preview(v) }, `record without a valid timestamp dropped${at ? ` at ${at}` : ''}`);
  }

  /** A split is done (a file read to its end): it no longer holds back the watermark. */
  finishSplit(split: string): void {
    this.splits.delete(split);
    this.emitIfAdvanced();
  }

  /** Per-split progress and the emitted watermark, for checkpoints. */
  snapshot(): { splits: Record<string, number>; emitted: number } {
    const splits: Record<string, number> = {};
    for (const [id, st] of this.splits) splits[id] = st.maxTs;
    return { splits, emitted: this.emitted };
  }

  /**
   * Restores progress (from one or, after rescaling, several old subtasks): a split continues from its
   * largest timestamp seen, and the output watermark never goes below what was emitted before, so a
   * replay after a restore judges records late exactly as the original run did.
   */
  restore(states: Array<{ splits: Record<string, number>; emitted: number } | undefined>): void {
    let emitted = Number.POSITIVE_INFINITY;
    for (const s of states) {
      if (!s) continue;
      for (const [id, maxTs] of Object.entries(s.splits)) {
        const st = this.splits.get(id);
        if (!st) continue; // a split this subtask does not read (any more)
        if (maxTs > st.maxTs) { st.maxTs = maxTs; st.watermark = this.bound === null ? MIN_WATERMARK : maxTs - this.bound - 1; }
      }
      if (s.emitted < emitted) emitted = s.emitted;
    }
    if (emitted !== Number.POSITIVE_INFINITY && emitted > this.emitted) this.emitted = emitted;
  }

  /** Registers a split before its first record, so that it holds the watermark back from the start. */
  addSplit(split: string): void { this.split(split); }

  /** Processing-time tick: marks splits idle after the idleness timeout. */
  checkIdleness(): void {
    if (this.idleTimeout === undefined) return;
    const now = this.now();
    let changed = false;
    let active = 0;
    for (const st of this.splits.values()) {
      if (!st.idle && now - st.lastActive >= this.idleTimeout) { st.idle = true; changed = true; }
      if (!st.idle) active++;
    }
    if (changed) this.emitIfAdvanced();
    if (active === 0 && this.splits.size > 0 && !this.idleEmitted) { this.idleEmitted = true; this.output.emitStatus(true); }
  }

  private split(id: string): SplitState {
    let st = this.splits.get(id);
    if (!st) {
      st = { maxTs: MIN_WATERMARK, watermark: MIN_WATERMARK, lastActive: this.now(), idle: false };
      this.splits.set(id, st);
    }
    return st;
  }

  private minOverOthers(self: SplitState): number {
    let min = Number.POSITIVE_INFINITY;
    for (const st of this.splits.values()) if (st !== self && !st.idle && st.watermark < min) min = st.watermark;
    return min;
  }

  private emitIfAdvanced(): void {
    if (this.bound === null) return;
    const min = this.pendingWatermark();
    if (min > this.emitted && min !== Number.POSITIVE_INFINITY) { this.emitted = min; this.output.emitWatermark(min); }
  }
}

/** Reads event time from a field (epoch ms or a date string) or with an assigner; NaN when missing. */
export function timestampExtractor(field: string | undefined, assigner: TimestampAssigner | undefined): (v: any, prev: number) => number {
  if (assigner) return (v, prev) => { const t = assigner(v, prev); return typeof t === 'number' ? t : Number.NaN; };
  if (field) {
    return (v) => {
      const t = v == null ? undefined : v[field];
      if (typeof t === 'number') return t;
      if (typeof t === 'string' && t !== '') { const n = Number(t); return Number.isFinite(n) ? n : Date.parse(t); }
      return Number.NaN;
    };
  }
  // No field and no assigner: keep the timestamp the record already carries (set by the source).
  return () => Number.NaN;
}

function preview(v: unknown): string {
  const s = (() => { try { return JSON.stringify(v); } catch { return String(v); } })() ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
