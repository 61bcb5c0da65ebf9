import { windowStart } from '../../../windows/assigners';
import { NumberMinHeap } from '../../../util/min-heap';
import type { Key } from '../../keys';
import type { StoreEntryKind, WindowHost, WindowStore } from './window-store';

interface Pane { start: number; end: number; accs: Map<Key, any>; fired: boolean }

/**
 * Tumbling and sliding windows: aligned to the epoch (+ offset), the same for every key, so the state
 * is one pane per window start holding every key's accumulator, and a watermark fires a whole pane at
 * once (Flink's TumblingEventTimeWindows / SlidingEventTimeWindows with the default trigger).
 *
 * An element is dropped for a window when `end − 1 + allowedLateness ≤ watermark`; an element dropped
 * for all its windows is late. An element that lands in a window already fired but within the allowed
 * lateness fires that key's window again with the updated result. A tumbling window is a sliding one
 * whose slide is its size.
 *
 *   checkpoint entry (kind 'panes'): [start, end, fired, key, accumulator]; entries of kind 'slices'
 *   (slice-store.ts, the same windows sliced) are merged into the panes of their windows.
 */
export class PaneStore implements WindowStore {
  private readonly panes = new Map<number, Pane>();
  private readonly toFire = new NumberMinHeap();
  private readonly toClean = new NumberMinHeap();

  constructor(private readonly host: WindowHost, private readonly size: number, private readonly slide: number, private readonly offset: number) {}

  add(values: unknown[], timestamps: number[], now: number): void {
    if (this.slide === this.size) this.addTumbling(values, timestamps, now);
    else this.addSliding(values, timestamps, now);
  }

  private addTumbling(values: unknown[], timestamps: number[], now: number): void {
    const h = this.host;
    const { size, offset } = this;
    const sel = h.selectKey;
    const eventTime = h.eventTime;
    const lateBound = h.watermark() - h.lateness; // a pane with end − 1 ≤ lateBound is past its lateness
    const n = values.length;
    let lastStart = Number.NaN;
    let pane: Pane | undefined;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const ts = eventTime ? timestamps[i]! : now;
      if (!(ts > -Infinity && ts < Infinity)) { h.noTimestamp(v); continue; }
      const start = windowStart(ts, offset, size);
      if (start + size - 1 <= lateBound) { h.late(v, ts); continue; }
      if (start !== lastStart) { pane = this.pane(start, start + size); lastStart = start; }
      this.addToPane(pane!, sel(v), v);
    }
  }

  private addSliding(values: unknown[], timestamps: number[], now: number): void {
    const h = this.host;
    const { size, slide, offset } = this;
    const sel = h.selectKey;
    const watermark = h.watermark();
    const lateBound = watermark - h.lateness;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const ts = h.eventTime ? timestamps[i]! : now;
      if (!(ts > -Infinity && ts < Infinity)) { h.noTimestamp(v); continue; }
      const key = sel(v);
      let added = false;
      for (let start = windowStart(ts, offset, slide); start > ts - size; start -= slide) {
        if (start + size - 1 <= lateBound) continue;
        this.addToPane(this.pane(start, start + size), key, v);
        added = true;
      }
      // Dropped from every window it has (or it has none: slide > size leaves gaps). Late only when
      // the element itself is behind the watermark, as Flink's isSkippedElement && isElementLate.
      if (!added && ts + h.lateness <= watermark) h.late(v, ts);
    }
  }

  mergePartial(key: Key, start: number, end: number, acc: any): boolean {
    const h = this.host;
    if (end - 1 <= h.watermark() - h.lateness) { h.latePartial(start, end); return true; }
    const pane = this.pane(start, end);
    const cur = pane.accs.get(key);
    pane.accs.set(key, cur === undefined ? acc : h.aggregate.merge(cur, acc));
    if (pane.fired) h.emit(key, start, end, pane.accs.get(key), end - 1);
    return true;
  }

  private pane(start: number, end: number): Pane {
    let p = this.panes.get(start);
    if (p === undefined) {
      // A pane first seen after its time (within the allowed lateness) fires per element from the start.
      const fired = this.host.eventTime && end - 1 <= this.host.watermark();
      p = { start, end, accs: new Map(), fired };
      this.panes.set(start, p);
      (fired ? this.toClean : this.toFire).push(start);
    }
    return p;
  }

  private addToPane(p: Pane, key: Key, v: unknown): void {
    const agg = this.host.aggregate;
    const accs = p.accs;
    const acc = accs.get(key);
    if (acc === undefined) accs.set(key, agg.add(agg.createAccumulator(), v));
    else {
      const next = agg.add(acc, v);
      if (next !== acc) accs.set(key, next);
    }
    if (p.fired) this.host.emit(key, p.start, p.end, accs.get(key), p.end - 1);
  }

  advance(t: number): void {
    const L = this.host.lateness;
    const size = this.size;
    for (let s = this.toFire.peek(); s !== undefined && s + size - 1 <= t; s = this.toFire.peek()) {
      this.toFire.pop();
      const p = this.panes.get(s);
      if (!p || p.fired) continue;
      for (const [key, acc] of p.accs) this.host.emit(key, p.start, p.end, acc, p.end - 1);
      p.fired = true;
      if (L === 0) this.panes.delete(s); else this.toClean.push(s);
    }
    for (let s = this.toClean.peek(); s !== undefined && s + size - 1 + L <= t; s = this.toClean.peek()) {
      this.toClean.pop();
      this.panes.delete(s);
    }
  }

  nextTime(): number | undefined {
    const s = this.toFire.peek();
    return s === undefined ? undefined : s + this.size - 1;
  }

  snapshot(put: (key: Key, kind: StoreEntryKind, entry: unknown) => void): void {
    for (const p of this.panes.values()) for (const [k, acc] of p.accs) put(k, 'panes', [p.start, p.end, p.fired, k, acc]);
  }

  restore(kind: StoreEntryKind, entry: unknown): void {
    if (kind === 'slices') { this.restoreSlice(entry as [number, Key, unknown]); return; }
    if (kind !== 'panes') return;
    const [start, end, fired, key, acc] = entry as [number, number, boolean, Key, unknown];
    this.restoredPane(start, end, fired).accs.set(key, acc);
  }

  private restoredPane(start: number, end: number, fired: boolean): Pane {
    let p = this.panes.get(start);
    if (!p) {
      p = { start, end, accs: new Map(), fired };
      this.panes.set(start, p);
      (fired ? this.toClean : this.toFire).push(start);
    }
    return p;
  }

  /**
   * A slice of slice-store.ts (a checkpoint of the same windows with a built-in aggregate): its
   * accumulator belongs to every window that contains it, each a copy merged into that window's pane.
   */
  private restoreSlice([s, key, acc]: [number, Key, unknown]): void {
    const agg = this.host.aggregate;
    const watermark = this.host.watermark();
    for (let start = s - this.size + this.slide; start <= s; start += this.slide) {
      const end = start + this.size;
      if (end - 1 + this.host.lateness <= watermark) continue; // past its lateness: gone
      const p = this.restoredPane(start, end, end - 1 <= watermark);
      const cur = p.accs.get(key);
      p.accs.set(key, agg.merge(cur === undefined ? agg.createAccumulator() : cur, acc));
    }
  }
}
