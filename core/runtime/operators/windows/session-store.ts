import { KeyedTimerQueue } from '../../../state/keyed-timers';
import type { Key } from '../../keys';
import type { StoreEntryKind, WindowHost, WindowStore } from './window-store';

interface Session { start: number; end: number; acc: any; fired: boolean }

/**
 * Session windows: per key, an element opens [ts, ts + gap), and windows that overlap or touch merge
 * (Flink's EventTimeSessionWindows: TimeWindow.intersects, merging with the accumulators merged). A
 * session fires when time reaches its end − 1; within the allowed lateness a fired session that grows
 * fires again.
 *
 *   checkpoint entry (kind 'sessions'): [start, end, fired, key, accumulator]
 */
export class SessionStore implements WindowStore {
  private readonly sessions = new Map<Key, Session[]>();
  private readonly fire = new KeyedTimerQueue();
  private readonly clean = new KeyedTimerQueue();

  constructor(private readonly host: WindowHost, private readonly gap: number) {}

  add(values: unknown[], timestamps: number[], now: number): void {
    const h = this.host;
    const sel = h.selectKey;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const ts = h.eventTime ? timestamps[i]! : now;
      if (!(ts > -Infinity && ts < Infinity)) { h.noTimestamp(v); continue; }
      this.merge(sel(v), ts, ts + this.gap, undefined, v, ts);
    }
  }

  mergePartial(key: Key, start: number, end: number, acc: any): boolean {
    this.merge(key, start, end, acc, undefined, end - 1);
    return true;
  }

  /**
   * Adds window [from, to) to `key`'s sessions, merging those it overlaps or touches: a record `v` (at
   * `ts`) is added to the merged accumulator, a partial's accumulator `partial` merged into it.
   */
  private merge(key: Key, from: number, to: number, partial: any, v: unknown, ts: number): void {
    const h = this.host;
    const agg = h.aggregate;
    const watermark = h.watermark();
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
    if (h.eventTime && end - 1 <= watermark - h.lateness) {
      if (partial === undefined) h.late(v, ts);
      else h.latePartial(from, to);
      return;
    }
    if (partial === undefined) acc = agg.add(acc === undefined ? agg.createAccumulator() : acc, v);
    else acc = acc === undefined ? partial : agg.merge(acc, partial);
    const fired = h.eventTime && end - 1 <= watermark;
    keep.push({ start, end, acc, fired });
    this.sessions.set(key, keep);
    if (fired) {
      h.emit(key, start, end, acc, end - 1);
      if (h.lateness > 0) this.clean.register(end - 1 + h.lateness, key);
    } else this.fire.register(end - 1, key);
  }

  advance(t: number): void {
    const L = this.host.lateness;
    this.fire.advance(t, (time, key) => {
      const list = this.sessions.get(key);
      const s = list?.find((x) => x.end - 1 === time && !x.fired);
      if (!list || !s) return; // merged away since the timer was set
      this.host.emit(key, s.start, s.end, s.acc, s.end - 1);
      if (L === 0) this.remove(key, list, s);
      else { s.fired = true; this.clean.register(time + L, key); }
    });
    this.clean.advance(t, (time, key) => {
      const list = this.sessions.get(key);
      const s = list?.find((x) => x.end - 1 + L === time);
      if (list && s) this.remove(key, list, s);
    });
  }

  private remove(key: Key, list: Session[], s: Session): void {
    const rest = list.filter((x) => x !== s);
    if (rest.length === 0) this.sessions.delete(key); else this.sessions.set(key, rest);
  }

  nextTime(): number | undefined { return this.fire.peek(); }

  snapshot(put: (key: Key, kind: StoreEntryKind, entry: unknown) => void): void {
    for (const [k, list] of this.sessions) for (const s of list) put(k, 'sessions', [s.start, s.end, s.fired, k, s.acc]);
  }

  restore(kind: StoreEntryKind, entry: unknown): void {
    if (kind !== 'sessions') return;
    const [start, end, fired, key, acc] = entry as [number, number, boolean, Key, unknown];
    const list = this.sessions.get(key) ?? [];
    list.push({ start, end, acc, fired });
    this.sessions.set(key, list);
    if (fired) this.clean.register(end - 1 + this.host.lateness, key); else this.fire.register(end - 1, key);
  }
}
