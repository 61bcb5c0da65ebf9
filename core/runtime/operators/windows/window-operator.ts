import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../../operator';
import type { WindowAssigner } from '../../../windows/assigners';
import type { Trigger } from '../../../windows/triggers';
import type { CompiledAggregate } from '../../../aggregates/composite';
import { compileKeySelector, keyFields, keyGroupOf, keyGroupRange, type Key, type KeySelector, type KeySpec } from '../../keys';
import { RateLimitedLog } from '../../../util/rate-limited-log';
import { MAX_WATERMARK, MIN_WATERMARK } from '../../elements';
import { restoredWatermark } from '../../restored-watermark';
import { PARTIAL_END, PARTIAL_KEY, PARTIAL_START, isPartial, partialAccumulator } from './partial';
import { STORE_ENTRY_KINDS, type StoreEntryKind, type WindowHost, type WindowStore } from './window-store';
import { PaneStore } from './pane-store';
import { SliceStore, slicedWindows } from './slice-store';
import { SessionStore } from './session-store';
import { GlobalStore } from './global-store';

export interface WindowOperatorConfig {
  assigner: WindowAssigner;
  /** Global windows: when they fire (default: never — a global window needs one). */
  trigger?: Trigger;
  key: KeySpec;
  aggregate: CompiledAggregate;
  /** 'enriched': key fields, windowStart, windowEnd and the named results; 'result': the aggregate's result as is (reduce). */
  emit: 'enriched' | 'result';
  allowedLateness: number;
  lateDataTag?: string;
  /**
   * Two-phase aggregation: the input carries partial aggregates from a local pre-aggregation
   * (local-aggregate.ts) mixed with raw records; partials are merged into their window as they are.
   */
  preAggregated?: boolean;
}

/** The store for a kind of windows: a new kind of windows is a new store and a line here. */
function storeFor(host: WindowHost, cfg: WindowOperatorConfig): WindowStore {
  const a = cfg.assigner;
  switch (a.kind) {
    case 'tumbling': return new PaneStore(host, a.size, a.size, a.offset);
    case 'sliding': return slicedWindows(a, cfg.aggregate) ? new SliceStore(host, a.size, a.slide, a.offset) : new PaneStore(host, a.size, a.slide, a.offset);
    case 'session': return new SessionStore(host, a.gap);
    case 'global': return new GlobalStore(host, cfg.trigger ?? NEVER);
  }
}

const NEVER: Trigger = { onElement: () => 'CONTINUE', describe: () => ({ trigger: 'never' }) };

/**
 * Keyed windows with incremental aggregation (Flink's WindowOperator with an AggregateFunction): the
 * time (watermarks in event time, the clock in processing time), allowed lateness, late data, the
 * output and checkpoints are here; what windows exist and when they fire is the store's (one per
 * kind: window-store.ts).
 *
 * Time advances by watermarks (event time) or by the clock (processing time); either way the store's
 * `advance(t)` fires every window whose last millisecond `end − 1` is ≤ t. Event time: an element is
 * dropped for a window when `end − 1 + allowedLateness ≤ watermark`; an element dropped for all its
 * windows is late (to the side output, or counted).
 */
export class WindowOperator extends AbstractOperator implements WindowHost {
  readonly selectKey: KeySelector;
  readonly eventTime: boolean;
  readonly lateness: number;
  readonly aggregate: CompiledAggregate;
  private current = MIN_WATERMARK;
  private readonly store: WindowStore;
  private outV: unknown[] = [];
  private outT: number[] = [];
  private lateV: unknown[] = [];
  private lateT: number[] = [];
  private clockTimer: { at: number; cancel: () => void } | undefined;
  private invalidLog!: RateLimitedLog;
  private lateLog!: RateLimitedLog;
  private readonly singleKeyField: string | undefined;
  private restored: RestoredState | undefined;

  constructor(private readonly cfg: WindowOperatorConfig) {
    super();
    this.selectKey = compileKeySelector(cfg.key);
    this.eventTime = cfg.assigner.time === 'event';
    this.lateness = this.eventTime ? cfg.allowedLateness : 0;
    this.aggregate = cfg.aggregate;
    this.singleKeyField = cfg.key.kind === 'field' && cfg.key.fields.length === 1 ? cfg.key.fields[0] : undefined;
    this.store = storeFor(this, cfg);
  }

  // ---- WindowHost ----

  watermark(): number { return this.current; }
  now(): number { return this.ctx.now(); }

  emit(key: Key, start: number | null, end: number | null, acc: any, timestamp: number): void {
    const agg = this.aggregate;
    let rec: unknown;
    if (this.cfg.emit === 'result') rec = agg.results(acc);
    else {
      const o: Record<string, unknown> = this.singleKeyField !== undefined ? { [this.singleKeyField]: key } : keyFields(this.cfg.key, key);
      if (start !== null) { o.windowStart = start; o.windowEnd = end; }
      if (agg.single) o.result = agg.results(acc); else agg.writeResults(acc, o);
      rec = o;
    }
    this.outV.push(rec);
    this.outT.push(timestamp);
  }

  late(v: unknown, ts: number): void {
    if (this.cfg.lateDataTag !== undefined) { this.lateV.push(v); this.lateT.push(ts); }
    else this.ctx.metrics.lateRecordsDropped++;
  }

  noTimestamp(v: unknown): void {
    this.ctx.metrics.recordsInvalid++;
    this.invalidLog.warn({ operator: this.ctx.operatorName, record: v }, 'record without an event timestamp reached an event-time window: dropped (assign timestamps with a WatermarkStrategy)');
  }

  latePartial(start: number, end: number): void {
    // The local side never sends a window the watermark may have fired (local-aggregate.ts); a savepoint
    // taken before two-phase aggregation was on is the one way here. Counted, never silent.
    this.ctx.metrics.lateRecordsDropped++;
    this.lateLog.warn({ operator: this.ctx.operatorName, windowStart: start, windowEnd: end }, 'a partial aggregate arrived for a window past its allowed lateness: dropped');
  }

  // ---- operator ----

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    this.invalidLog = new RateLimitedLog(ctx.logger, 'record.no-timestamp');
    this.lateLog = new RateLimitedLog(ctx.logger, 'window.late-partial');
    if (this.restored) this.restore(this.restored);
  }

  /** Takes the key groups of this subtask's range from every old subtask's snapshot. */
  private restore(r: RestoredState): void {
    const [lo, hi] = keyGroupRange(this.ctx.subtaskIndex, this.ctx.maxParallelism, this.ctx.parallelism);
    this.current = restoredWatermark(r, this.ctx.parallelism);
    for (const snap of r.all) {
      for (const [kg, entry] of Object.entries((snap.keyedState ?? {}) as Record<string, Partial<Record<StoreEntryKind, unknown[]>>>)) {
        const g = Number(kg);
        if (g < lo || g >= hi) continue;
        for (const kind of STORE_ENTRY_KINDS) for (const e of entry[kind] ?? []) this.store.restore(kind, e);
      }
    }
    this.restored = undefined;
    this.armClock();
  }

  processBatch(values: unknown[], timestamps: number[]): void {
    if (this.cfg.preAggregated) this.processMixed(values, timestamps);
    else this.store.add(values, timestamps, this.eventTime ? 0 : this.ctx.now());
    this.flush();
    this.armClock();
  }

  /** Partials are merged in order; the runs of raw records between them take the single-phase path. */
  private processMixed(values: unknown[], timestamps: number[]): void {
    const now = this.eventTime ? 0 : this.ctx.now();
    let from = 0;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!isPartial(v)) continue;
      if (i > from) this.store.add(values.slice(from, i), timestamps.slice(from, i), now);
      this.store.mergePartial(v[PARTIAL_KEY] as Key, v[PARTIAL_START] as number, v[PARTIAL_END] as number, partialAccumulator(this.aggregate, v));
      from = i + 1;
    }
    if (from === 0) this.store.add(values, timestamps, now);
    else if (from < n) this.store.add(values.slice(from), timestamps.slice(from), now);
  }

  override processWatermark(timestamp: number): void {
    if (!this.eventTime) {
      // Processing-time windows ignore watermarks, but the end of input fires them all.
      if (timestamp === MAX_WATERMARK) { this.store.advance(MAX_WATERMARK); this.flush(); }
      this.output.emitWatermark(timestamp);
      return;
    }
    if (timestamp <= this.current) return;
    this.current = timestamp;
    this.store.advance(timestamp);
    this.flush();
    this.output.emitWatermark(timestamp);
  }

  override endInput(): void {
    if (!this.eventTime) { this.store.advance(MAX_WATERMARK); this.flush(); }
  }

  override close(): void { this.clockTimer?.cancel(); }

  /** A timer at the earliest time the store needs the clock (processing-time windows; processing-time triggers). */
  private armClock(): void {
    const due = this.eventTime ? undefined : this.store.nextTime();
    const clock = this.store.nextClock?.();
    const candidates = [due === undefined ? undefined : due + 1, clock].filter((x): x is number => x !== undefined);
    if (candidates.length === 0) return;
    const next = Math.min(...candidates);
    if (this.clockTimer && this.clockTimer.at <= next) return;
    this.clockTimer?.cancel();
    const at = next;
    this.clockTimer = {
      at,
      cancel: this.ctx.scheduleAt(at, () => {
        this.clockTimer = undefined;
        const now = this.ctx.now();
        if (!this.eventTime) this.store.advance(now - 1);
        this.store.advanceClock?.(now);
        this.flush();
        this.armClock();
      }),
    };
  }

  private flush(): void {
    if (this.outV.length > 0) {
      const v = this.outV, t = this.outT;
      this.outV = []; this.outT = [];
      this.output.emitBatch(v, t);
    }
    if (this.lateV.length > 0) {
      const v = this.lateV, t = this.lateT;
      this.lateV = []; this.lateT = [];
      this.output.emitSide(this.cfg.lateDataTag!, v, t);
    }
  }

  // ---- state ----

  snapshotState(): OperatorSnapshot {
    const M = this.ctx.maxParallelism;
    const groups: Record<number, Partial<Record<StoreEntryKind, unknown[]>>> = {};
    this.store.snapshot((key, kind, entry) => {
      const g = (groups[keyGroupOf(key, M)] ??= {});
      (g[kind] ??= []).push(entry);
    });
    return { operatorId: this.ctx.operatorId, operatorState: { watermark: this.current }, keyedState: groups };
  }
}
