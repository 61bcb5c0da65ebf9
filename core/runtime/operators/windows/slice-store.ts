import { windowStart, type WindowAssigner } from '../../../windows/assigners';
import type { CompiledAggregate } from '../../../aggregates/composite';
import { NumberMinHeap } from '../../../util/min-heap';
import type { Key } from '../../keys';
import type { StoreEntryKind, WindowHost, WindowStore } from './window-store';

/** Whether windows of `assigner` aggregated by `aggregate` are sliced (see SliceStore). */
export function slicedWindows(assigner: WindowAssigner, aggregate: CompiledAggregate): boolean {
  return assigner.kind === 'sliding' && assigner.time === 'event' && aggregate.builtin === true
    && assigner.slide < assigner.size && assigner.size % assigner.slide === 0;
}

/**
 * Event-time sliding windows of built-in aggregates, sliced (Flink SQL's slice-shared windows, as in
 * its window TVF aggregation): a window of `size` sliding by `slide` is `size / slide` consecutive
 * slices of `slide`, each shared by that many windows. An element is added to its one slice instead of
 * to every window it belongs to; a window's result is its slices' accumulators merged when it fires.
 * The work per element no longer grows with size / slide; firing merges a key's accumulator once per
 * slice of the window, which is less as soon as a key has more than one element in a slice.
 *
 *   slices:    │ s0 │ s1 │ s2 │ s3 │ s4 │ s5 │ …        (slide each; size = 3 slides here)
 *   windows:   [ s0  s1  s2 ]
 *                   [ s1  s2  s3 ]
 *                        [ s2  s3  s4 ]   a window = merge of its slices (and of its partials)
 *
 * Only where that is exact: merging must not depend on the order of adds (built-in aggregates: sum,
 * count, min, max, avg, whose merge writes into its first argument only), the size a whole number of
 * slides, and event time. Everything else stays in pane-store.ts, with the same rules as there: an
 * element is dropped for a window when `end − 1 + allowedLateness ≤ watermark`, late when dropped for
 * all its windows, and re-fires the windows it lands in that fired but are within the allowed lateness.
 * Partial aggregates of two-phase aggregation arrive per window and are kept per window (a local side
 * that sliced too made q5 faster at parallelism 2 but slower at 1: see bench/RESULTS.md).
 *
 *   checkpoint entries: kind 'slices' [sliceStart, key, accumulator]; kind 'panes' (a window's
 *   partials, and what pane-store.ts wrote for the same windows) [start, end, fired, key, accumulator]
 */
export class SliceStore implements WindowStore {
  private readonly slices = new Map<number, Map<Key, any>>();
  /** Window-level accumulators: partials of two-phase aggregation, and panes restored from pane-store.ts. */
  private readonly windows = new Map<number, Map<Key, any>>();
  /** Window starts not fired yet that have state (a slice or window accumulators), each once. */
  private readonly toFire = new NumberMinHeap();
  private readonly scheduled = new Set<number>();
  /** Slice starts and window starts, to drop once past the allowed lateness. */
  private readonly slicesToClean = new NumberMinHeap();
  private readonly windowsToClean = new NumberMinHeap();

  constructor(private readonly host: WindowHost, private readonly size: number, private readonly slide: number, private readonly offset: number) {
    if (size % slide !== 0) throw new RangeError(`sliced windows need a size (${size}) that is a multiple of the slide (${slide})`);
  }

  add(values: unknown[], timestamps: number[]): void {
    const h = this.host;
    const { size, slide, offset } = this;
    const sel = h.selectKey;
    const agg = h.aggregate;
    const watermark = h.watermark();
    const lateBound = watermark - h.lateness;
    const n = values.length;
    let lastStart = Number.NaN;
    let accs: Map<Key, any> | undefined;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const ts = timestamps[i]!;
      if (!(ts > -Infinity && ts < Infinity)) { h.noTimestamp(v); continue; }
      const s = windowStart(ts, offset, slide);
      // The last window with this slice starts at it: once that one is past its lateness, all are.
      if (s + size - 1 <= lateBound) { h.late(v, ts); continue; }
      if (s !== lastStart) { accs = this.slice(s); lastStart = s; }
      const key = sel(v);
      const acc = accs!.get(key);
      if (acc === undefined) accs!.set(key, agg.add(agg.createAccumulator(), v));
      else agg.add(acc, v);
      // Windows with this slice that fired but are within the allowed lateness fire again for the key
      // (the earliest window with the slice ends first: s + slide − 1).
      if (lateBound < watermark && s + slide - 1 <= watermark) this.refire(key, s, lateBound, watermark);
    }
  }

  mergePartial(key: Key, start: number, end: number, acc: any): boolean {
    const h = this.host;
    const watermark = h.watermark();
    const lateBound = watermark - h.lateness;
    if (end - 1 <= lateBound) { h.latePartial(start, end); return true; }
    const accs = this.window(start);
    const cur = accs.get(key);
    accs.set(key, cur === undefined ? acc : h.aggregate.merge(cur, acc));
    if (end - 1 <= watermark) h.emit(key, start, end, this.merged(key, start), end - 1);
    return true;
  }

  advance(t: number): void {
    const size = this.size;
    const L = this.host.lateness;
    for (let ws = this.toFire.peek(); ws !== undefined && ws + size - 1 <= t; ws = this.toFire.peek()) {
      this.toFire.pop();
      this.scheduled.delete(ws);
      this.fire(ws);
    }
    for (let s = this.slicesToClean.peek(); s !== undefined && s + size - 1 + L <= t; s = this.slicesToClean.peek()) {
      this.slicesToClean.pop();
      this.slices.delete(s);
    }
    for (let ws = this.windowsToClean.peek(); ws !== undefined && ws + size - 1 + L <= t; ws = this.windowsToClean.peek()) {
      this.windowsToClean.pop();
      this.windows.delete(ws);
    }
  }

  nextTime(): number | undefined {
    const ws = this.toFire.peek();
    return ws === undefined ? undefined : ws + this.size - 1;
  }

  snapshot(put: (key: Key, kind: StoreEntryKind, entry: unknown) => void): void {
    for (const [s, accs] of this.slices) for (const [k, acc] of accs) put(k, 'slices', [s, k, acc]);
    const watermark = this.host.watermark();
    for (const [ws, accs] of this.windows) for (const [k, acc] of accs) put(k, 'panes', [ws, ws + this.size, ws + this.size - 1 <= watermark, k, acc]);
  }

  restore(kind: StoreEntryKind, entry: unknown): void {
    if (kind === 'slices') {
      const [s, key, acc] = entry as [number, Key, unknown];
      this.slice(s).set(key, acc);
    } else if (kind === 'panes') {
      const [start, , , key, acc] = entry as [number, number, boolean, Key, unknown];
      this.window(start).set(key, acc);
    }
  }

  /** The slice starting at `s`, made (and its windows scheduled) when new. */
  private slice(s: number): Map<Key, any> {
    let accs = this.slices.get(s);
    if (accs === undefined) {
      accs = new Map();
      this.slices.set(s, accs);
      this.slicesToClean.push(s);
      for (let ws = s - this.size + this.slide; ws <= s; ws += this.slide) this.schedule(ws);
    }
    return accs;
  }

  /** The window-level accumulators of the window starting at `ws`, made when new. */
  private window(ws: number): Map<Key, any> {
    let accs = this.windows.get(ws);
    if (accs === undefined) {
      accs = new Map();
      this.windows.set(ws, accs);
      this.windowsToClean.push(ws);
      this.schedule(ws);
    }
    return accs;
  }

  /** Fires window `ws` later, unless its time has passed (it fired, or fires per element from now on). */
  private schedule(ws: number): void {
    if (ws + this.size - 1 <= this.host.watermark() || this.scheduled.has(ws)) return;
    this.scheduled.add(ws);
    this.toFire.push(ws);
  }

  /**
   * Emits every key's result of window `ws`: its slices and window accumulators merged. A key is
   * looked up in the window's other slices rather than gathered into a map of fresh accumulators:
   * keys often sit in one slice only (Nexmark's auctions live a few seconds), and then its
   * accumulator is emitted as it is, nothing allocated.
   */
  private fire(ws: number): void {
    const agg = this.host.aggregate;
    const { size, slide } = this;
    const end = ws + size;
    const parts: Array<Map<Key, any>> = [];
    for (let s = ws; s < end; s += slide) { const accs = this.slices.get(s); if (accs !== undefined && accs.size > 0) parts.push(accs); }
    const partials = this.windows.get(ws);
    if (partials !== undefined && partials.size > 0) parts.push(partials);
    const m = parts.length;
    for (let j = 0; j < m; j++) {
      keys: for (const [k, a] of parts[j]!) {
        for (let i = 0; i < j; i++) if (parts[i]!.has(k)) continue keys; // emitted with an earlier part
        let acc = a;
        for (let l = j + 1; l < m; l++) {
          const b = parts[l]!.get(k);
          if (b === undefined) continue;
          if (acc === a) acc = agg.merge(agg.createAccumulator(), a); // the slice's own stays as it is
          acc = agg.merge(acc, b);
        }
        this.host.emit(k, ws, end, acc, end - 1);
      }
    }
  }

  /** `key`'s result of window `ws`: its slices' and window accumulators merged (undefined: none). */
  private merged(key: Key, ws: number): any {
    const agg = this.host.aggregate;
    let acc: any;
    const end = ws + this.size;
    for (let s = ws; s < end; s += this.slide) {
      const a = this.slices.get(s)?.get(key);
      if (a !== undefined) acc = agg.merge(acc ?? agg.createAccumulator(), a);
    }
    const w = this.windows.get(ws)?.get(key);
    if (w !== undefined) acc = agg.merge(acc ?? agg.createAccumulator(), w);
    return acc;
  }

  /** An element of `key` landed in slice `s`: the windows with it that fired within their lateness emit again. */
  private refire(key: Key, s: number, lateBound: number, watermark: number): void {
    const { size, slide } = this;
    for (let ws = s - size + slide; ws <= s; ws += slide) {
      const last = ws + size - 1;
      if (last <= watermark && last > lateBound) this.host.emit(key, ws, ws + size, this.merged(key, ws), last);
    }
  }
}
