import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../operator';
import { windowStart, type WindowAssigner } from '../../windows/assigners';
import type { CompiledAggregate } from '../../aggregates/composite';
import { compileKeySelector, keyFields, keyGroupOf, keyGroupRange, type Key, type KeySelector, type KeySpec } from '../keys';
import { NumberMinHeap } from '../../util/min-heap';
import { KeyedTimerQueue } from '../../state/keyed-timers';
import { RateLimitedLog } from '../../util/rate-limited-log';
import { MAX_WATERMARK, MIN_WATERMARK } from '../elements';
import { PARTIAL_END, PARTIAL_KEY, PARTIAL_START, isPartial, partialAccumulator } from './window-partial';

export interface WindowOperatorConfig {
  assigner: WindowAssigner;
  key: KeySpec;
  aggregate: CompiledAggregate;
  /** 'enriched': key fields, windowStart, windowEnd and the named results; 'result': the aggregate's result as is (reduce). */
  emit: 'enriched' | 'result';
  allowedLateness: number;
  lateDataTag?: string;
  /**
   * Two-phase aggregation: the input carries partial aggregates from a local pre-aggregation
   * (window-local.ts) mixed with raw records; partials are merged into their window as they are.
   */
  preAggregated?: boolean;
}

interface Pane { start: number; end: number; accs: Map<Key, any>; fired: boolean }
interface Session { start: number; end: number; acc: any; fired: boolean }

/**
 * Keyed windows with incremental aggregation (Flink's WindowOperator with an AggregateFunction and
 * the default event-time or processing-time trigger).
 *
 * Time advances by watermarks (event time) or by the clock (processing time); either way `advance(t)`
 * fires every window whose last millisecond `end − 1` is ≤ t. Event time: an element is dropped for a
 * window when `end − 1 + allowedLateness ≤ watermark`; an element dropped for all its windows is late
 * (to the side output, or counted). An element that lands in a window already fired but within the
 * allowed lateness fires that key's window again with the updated result.
 *
 * Tumbling and sliding windows share panes across keys (window start → key → accumulator), so a
 * watermark fires a whole pane at once. Sessions are per key and merge when they overlap or touch.
 */
export class WindowOperator extends AbstractOperator {
  private readonly selectKey: KeySelector;
  private readonly eventTime: boolean;
  private readonly lateness: number;
  private watermark = MIN_WATERMARK;
  // tumbling & sliding
  private readonly panes = new Map<number, Pane>();
  private readonly toFire = new NumberMinHeap();
  private readonly toClean = new NumberMinHeap();
  // sessions
  private readonly sessions = new Map<Key, Session[]>();
  private readonly sessionFire = new KeyedTimerQueue();
  private readonly sessionClean = new KeyedTimerQueue();
  // outputs gathered during one call
  private outV: unknown[] = [];
  private outT: number[] = [];
  private lateV: unknown[] = [];
  private lateT: number[] = [];
  private clockTimer: { at: number; cancel: () => void } | undefined;
  private invalidLog!: RateLimitedLog;
  private lateLog!: RateLimitedLog;
  private readonly singleKeyField: string | undefined;

  constructor(private readonly cfg: WindowOperatorConfig) {
    super();
    this.selectKey = compileKeySelector(cfg.key);
    this.eventTime = cfg.assigner.time === 'event';
    this.lateness = this.eventTime ? cfg.allowedLateness : 0;
    this.singleKeyField = cfg.key.kind === 'field' && cfg.key.fields.length === 1 ? cfg.key.fields[0] : undefined;
  }

  private restored: RestoredState | undefined;

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
    const L = this.lateness;
    this.watermark = restoredWatermark(r, this.ctx.parallelism);
    for (const snap of r.all) {
      for (const [kg, entry] of Object.entries((snap.keyedState ?? {}) as Record<string, { panes: unknown[]; sessions: unknown[] }>)) {
        const g = Number(kg);
        if (g < lo || g >= hi) continue;
        for (const [start, end, fired, key, acc] of entry.panes as Array<[number, number, boolean, Key, unknown]>) {
          let p = this.panes.get(start);
          if (!p) {
            p = { start, end, accs: new Map(), fired };
            this.panes.set(start, p);
            (fired ? this.toClean : this.toFire).push(start);
          }
          p.accs.set(key, acc);
        }
        for (const [start, end, fired, key, acc] of entry.sessions as Array<[number, number, boolean, Key, unknown]>) {
          const list = this.sessions.get(key) ?? [];
          list.push({ start, end, acc, fired });
          this.sessions.set(key, list);
          if (fired) this.sessionClean.register(end - 1 + L, key); else this.sessionFire.register(end - 1, key);
        }
      }
    }
    this.restored = undefined;
    if (!this.eventTime) this.armClock();
  }

  processBatch(values: unknown[], timestamps: number[]): void {
    if (this.cfg.preAggregated) { this.processMixed(values, timestamps); return; }
    this.processRecords(values, timestamps);
  }

  /** Partials are merged in order; the runs of raw records between them take the single-phase path. */
  private processMixed(values: unknown[], timestamps: number[]): void {
    let from = 0;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!isPartial(v)) continue;
      if (i > from) this.processRecords(values.slice(from, i), timestamps.slice(from, i));
      this.mergePartial(v);
      from = i + 1;
    }
    if (from === 0) this.processRecords(values, timestamps);
    else if (from < n) this.processRecords(values.slice(from), timestamps.slice(from));
    this.flush();
  }

  private mergePartial(p: Record<string, unknown>): void {
    const agg = this.cfg.aggregate;
    const key = p[PARTIAL_KEY] as Key;
    const start = p[PARTIAL_START] as number;
    const end = p[PARTIAL_END] as number;
    const acc = partialAccumulator(agg, p);
    if (this.cfg.assigner.kind === 'session') { this.mergeSession(key, start, end, acc, undefined, end - 1); return; }
    if (end - 1 <= this.watermark - this.lateness) {
      // The local side never sends a window the watermark may have fired (window-local.ts); a savepoint
      // taken before two-phase aggregation was on is the one way here. Counted, never silent.
      this.ctx.metrics.lateRecordsDropped++;
      this.lateLog.warn({ operator: this.ctx.operatorName, windowStart: start, windowEnd: end }, 'a partial aggregate arrived for a window past its allowed lateness: dropped');
      return;
    }
    const pane = this.pane(start, end);
    const cur = pane.accs.get(key);
    pane.accs.set(key, cur === undefined ? acc : agg.merge(cur, acc));
    if (pane.fired) this.emitResult(key, start, end, pane.accs.get(key));
  }

  private processRecords(values: unknown[], timestamps: number[]): void {
    const a = this.cfg.assigner;
    const n = values.length;
    const sel = this.selectKey;
    const now = this.eventTime ? 0 : this.ctx.now();
    if (a.kind === 'tumbling') {
      const { size, offset } = a;
      const lateBound = this.watermark - this.lateness; // a pane with end − 1 ≤ lateBound is past its lateness
      let lastStart = Number.NaN;
      let pane: Pane | undefined;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const ts = this.eventTime ? timestamps[i]! : now;
        if (!(ts > -Infinity && ts < Infinity)) { this.noTimestamp(v); continue; }
        const start = windowStart(ts, offset, size);
        if (start + size - 1 <= lateBound) { this.late(v, ts); continue; }
        if (start !== lastStart) { pane = this.pane(start, start + size); lastStart = start; }
        this.addToPane(pane!, sel(v), v);
      }
    } else if (a.kind === 'sliding') {
      const { size, slide, offset } = a;
      const lateBound = this.watermark - this.lateness;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const ts = this.eventTime ? timestamps[i]! : now;
        if (!(ts > -Infinity && ts < Infinity)) { this.noTimestamp(v); continue; }
        const key = sel(v);
        let added = false;
        for (let start = windowStart(ts, offset, slide); start > ts - size; start -= slide) {
          if (start + size - 1 <= lateBound) continue;
          this.addToPane(this.pane(start, start + size), key, v);
          added = true;
        }
        // Dropped from every window it has (or it has none: slide > size leaves gaps). Late only when
        // the element itself is behind the watermark, as Flink's isSkippedElement && isElementLate.
        if (!added && ts + this.lateness <= this.watermark) this.late(v, ts);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const ts = this.eventTime ? timestamps[i]! : now;
        if (!(ts > -Infinity && ts < Infinity)) { this.noTimestamp(v); continue; }
        this.mergeSession(sel(v), ts, ts + a.gap, undefined, v, ts);
      }
    }
    this.flush();
    if (!this.eventTime) this.armClock();
  }

  override processWatermark(timestamp: number): void {
    if (!this.eventTime) {
      // Processing-time windows ignore watermarks, but the end of input fires them all.
      if (timestamp === MAX_WATERMARK) { this.advance(MAX_WATERMARK); this.flush(); }
      this.output.emitWatermark(timestamp);
      return;
    }
    if (timestamp <= this.watermark) return;
    this.watermark = timestamp;
    this.advance(timestamp);
    this.flush();
    this.output.emitWatermark(timestamp);
  }

  override endInput(): void {
    if (!this.eventTime) { this.advance(MAX_WATERMARK); this.flush(); }
  }

  override close(): void { this.clockTimer?.cancel(); }

  // ---- panes (tumbling, sliding) ----

  private pane(start: number, end: number): Pane {
    let p = this.panes.get(start);
    if (p === undefined) {
      // A pane first seen after its time (within the allowed lateness) fires per element from the start.
      const fired = this.eventTime && end - 1 <= this.watermark;
      p = { start, end, accs: new Map(), fired };
      this.panes.set(start, p);
      (fired ? this.toClean : this.toFire).push(start);
    }
    return p;
  }

  private addToPane(p: Pane, key: Key, v: unknown): void {
    const agg = this.cfg.aggregate;
    const accs = p.accs;
    const acc = accs.get(key);
    if (acc === undefined) accs.set(key, agg.add(agg.createAccumulator(), v));
    else {
      const next = agg.add(acc, v);
      if (next !== acc) accs.set(key, next);
    }
    if (p.fired) this.emitResult(key, p.start, p.end, accs.get(key));
  }

  // ---- sessions ----

  /**
   * Adds window [from, to) to `key`'s sessions, merging those it overlaps or touches: a record `v` (at
   * `ts`) is added to the merged accumulator, a partial's accumulator `partial` merged into it.
   */
  private mergeSession(key: Key, from: number, to: number, partial: any, v: unknown, ts: number): void {
    const agg = this.cfg.aggregate;
    const list = this.sessions.get(key);
    let start = from, end = to;
    let acc: any;
    const keep: Session[] = [];
    if (list) {
      for (const s of list) {
        if (s.start <= end && s.end >= start) { // overlap or touch: merge (TimeWindow.intersects)
          if (s.start < start) start = s.start;
          if (s.end > end) end = s.end;
          acc = acc === undefined ? s.acc : agg.merge(acc, s.acc);
        } else keep.push(s);
      }
    }
    if (this.eventTime && end - 1 <= this.watermark - this.lateness) {
      if (partial === undefined) this.late(v, ts);
      else {
        this.ctx.metrics.lateRecordsDropped++;
        this.lateLog.warn({ operator: this.ctx.operatorName, windowStart: from, windowEnd: to }, 'a partial aggregate arrived for a session past its allowed lateness: dropped');
      }
      return;
    }
    if (partial === undefined) acc = agg.add(acc === undefined ? agg.createAccumulator() : acc, v);
    else acc = acc === undefined ? partial : agg.merge(acc, partial);
    const fired = this.eventTime && end - 1 <= this.watermark;
    const merged: Session = { start, end, acc, fired };
    keep.push(merged);
    this.sessions.set(key, keep);
    if (fired) {
      this.emitResult(key, start, end, acc);
      if (this.lateness > 0) this.sessionClean.register(end - 1 + this.lateness, key);
    } else this.sessionFire.register(end - 1, key);
  }

  // ---- time ----

  /** Fires every window with end − 1 ≤ t and drops state past its lateness. */
  private advance(t: number): void {
    const L = this.lateness;
    const a = this.cfg.assigner;
    if (a.kind !== 'session') {
      const size = a.size;
      for (let s = this.toFire.peek(); s !== undefined && s + size - 1 <= t; s = this.toFire.peek()) {
        this.toFire.pop();
        const p = this.panes.get(s);
        if (!p || p.fired) continue;
        for (const [key, acc] of p.accs) this.emitResult(key, p.start, p.end, acc);
        p.fired = true;
        if (L === 0) this.panes.delete(s); else this.toClean.push(s);
      }
      for (let s = this.toClean.peek(); s !== undefined && s + size - 1 + L <= t; s = this.toClean.peek()) {
        this.toClean.pop();
        this.panes.delete(s);
      }
      return;
    }
    this.sessionFire.advance(t, (time, key) => {
      const list = this.sessions.get(key);
      const s = list?.find((x) => x.end - 1 === time && !x.fired);
      if (!list || !s) return; // merged away since the timer was set
      this.emitResult(key, s.start, s.end, s.acc);
      if (L === 0) this.removeSession(key, list, s);
      else { s.fired = true; this.sessionClean.register(time + L, key); }
    });
    this.sessionClean.advance(t, (time, key) => {
      const list = this.sessions.get(key);
      const s = list?.find((x) => x.end - 1 + L === time);
      if (list && s) this.removeSession(key, list, s);
    });
  }

  private removeSession(key: Key, list: Session[], s: Session): void {
    const rest = list.filter((x) => x !== s);
    if (rest.length === 0) this.sessions.delete(key); else this.sessions.set(key, rest);
  }

  /** Processing time: a timer at the earliest window end. */
  private armClock(): void {
    const a = this.cfg.assigner;
    let next: number | undefined;
    if (a.kind === 'session') { const t = this.sessionFire.peek(); next = t === undefined ? undefined : t + 1; }
    else { const s = this.toFire.peek(); next = s === undefined ? undefined : s + a.size; }
    if (next === undefined || (this.clockTimer && this.clockTimer.at <= next)) return;
    this.clockTimer?.cancel();
    const at = next;
    this.clockTimer = {
      at,
      cancel: this.ctx.scheduleAt(at, () => {
        this.clockTimer = undefined;
        this.advance(this.ctx.now() - 1);
        this.flush();
        this.armClock();
      }),
    };
  }

  // ---- output ----

  private emitResult(key: Key, start: number, end: number, acc: any): void {
    const agg = this.cfg.aggregate;
    let rec: unknown;
    if (this.cfg.emit === 'result') rec = agg.results(acc);
    else {
      const o: Record<string, unknown> = this.singleKeyField !== undefined ? { [this.singleKeyField]: key } : keyFields(this.cfg.key, key);
      o.windowStart = start;
      o.windowEnd = end;
      if (agg.single) o.result = agg.results(acc); else agg.writeResults(acc, o);
      rec = o;
    }
    this.outV.push(rec);
    this.outT.push(end - 1);
  }

  private late(v: unknown, ts: number): void {
    if (this.cfg.lateDataTag !== undefined) { this.lateV.push(v); this.lateT.push(ts); }
    else this.ctx.metrics.lateRecordsDropped++;
  }

  private noTimestamp(v: unknown): void {
    this.ctx.metrics.recordsInvalid++;
    this.invalidLog.warn({ operator: this.ctx.operatorName, record: v }, 'record without an event timestamp reached an event-time window: dropped (assign timestamps with a WatermarkStrategy)');
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
    const groups: Record<number, { panes: unknown[]; sessions: unknown[] }> = {};
    const group = (key: Key) => (groups[keyGroupOf(key, M)] ??= { panes: [], sessions: [] });
    for (const p of this.panes.values()) for (const [k, acc] of p.accs) group(k).panes.push([p.start, p.end, p.fired, k, acc]);
    for (const [k, list] of this.sessions) for (const s of list) group(k).sessions.push([s.start, s.end, s.fired, k, s.acc]);
    return { operatorId: this.ctx.operatorId, operatorState: { watermark: this.watermark }, keyedState: groups };
  }
}

/**
 * The watermark an operator had at the checkpoint (its own at the same parallelism; the lowest of the
 * old subtasks' otherwise), so that records replayed after a restore are late exactly when they were.
 */
export function restoredWatermark(r: RestoredState, parallelism: number): number {
  const wm = (s: OperatorSnapshot | undefined) => (s?.operatorState as { watermark?: number } | undefined)?.watermark;
  if (r.oldParallelism === parallelism) return wm(r.own) ?? MIN_WATERMARK;
  const all = r.all.map(wm).filter((x): x is number => typeof x === 'number');
  return all.length ? Math.min(...all) : MIN_WATERMARK;
}
