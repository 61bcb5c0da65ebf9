/**
 * A brute-force reference for rlink's global windows (count windows and triggers), written to be
 * obviously right rather than fast. It shares no code with the engine.
 *
 * - One source subtask reads the records in order; each key's records reach its window in that order.
 * - count(n): a key's records are cut into consecutive runs of n; each full run is one result; a
 *   run not full at the end is never emitted (as in Flink: a count window fires only when full).
 * - threshold(limit): a key's running sum of `v` since its window last fired; once it reaches
 *   `limit` the window (the records since then) is one result, and starts empty again.
 * - timer(delay): the first record of a key's (empty) window at ts sets a timer at ts + delay. Timers
 *   fire when a watermark is emitted: every timer at or below it, earliest first (equal times: in the
 *   order they were set); the key's window is one result and starts empty. Unlike a time window's
 *   result, a timer trigger's depends on where watermarks are emitted, so this follows rlink's rule
 *   (docs/time-and-windows.md, the exact-watermark rule) for input read in one batch: with W the
 *   watermark established by the records before r (max ts − bound − 1), W is emitted before r only
 *   when ts(r) ≤ W (and it rose since the last emission); at the end, +∞.
 * - A result: { <key fields>, <one field per aggregate> } (no window bounds: a global window has none).
 */
import type { Rec, RefAggregate } from './windows';

export type GlobalDef = { kind: 'count'; n: number } | { kind: 'threshold'; limit: number } | { kind: 'timer'; delay: number; bound: number };

export function referenceGlobalWindows(input: readonly Rec[], def: GlobalDef, keyFields: string[], aggregates: Record<string, RefAggregate>): Rec[] {
  const keyOf = (r: Rec) => JSON.stringify(keyFields.map((f) => r[f]));
  const out: Rec[] = [];
  const emit = (records: Rec[]) => {
    const o: Rec = {};
    for (const f of keyFields) o[f] = records[0]![f];
    for (const [name, agg] of Object.entries(aggregates)) o[name] = agg(records);
    out.push(o);
  };
  const windows = new Map<string, Rec[]>();
  const sums = new Map<string, number>();
  let timers: Array<{ at: number; key: string; seq: number }> = [];
  let seq = 0;
  let watermark = Number.NEGATIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  const fireTimers = (upTo: number) => {
    const due = timers.filter((t) => t.at <= upTo).sort((a, b) => a.at - b.at || a.seq - b.seq);
    timers = timers.filter((t) => t.at > upTo);
    for (const t of due) {
      const w = windows.get(t.key);
      if (w && w.length > 0) emit(w);
      windows.set(t.key, []);
    }
  };
  for (const r of input) {
    if (def.kind === 'timer') {
      const wm = maxTs - def.bound - 1;
      if ((r.ts as number) <= wm && wm > watermark) { watermark = wm; fireTimers(watermark); }
    }
    const k = keyOf(r);
    const w = windows.get(k) ?? [];
    w.push(r);
    windows.set(k, w);
    const ts = r.ts as number;
    if (ts > maxTs) maxTs = ts;
    if (def.kind === 'count' && w.length === def.n) { emit(w); windows.set(k, []); }
    if (def.kind === 'threshold') {
      const s = (sums.get(k) ?? 0) + (r.v as number);
      if (s >= def.limit) { emit(w); windows.set(k, []); sums.set(k, 0); } else sums.set(k, s);
    }
    if (def.kind === 'timer' && w.length === 1) timers.push({ at: ts + def.delay, key: k, seq: seq++ });
  }
  if (def.kind === 'timer') fireTimers(Number.POSITIVE_INFINITY);
  return out;
}
