/**
 * A brute-force reference for rlink's keyed event-time windows, written to be obviously right rather
 * than fast. It shares no code with the engine.
 *
 * The semantics it implements:
 *
 * - Watermarks ("exact" bounded out-of-orderness): each source subtask's watermark after a record is
 *   max(ts seen so far by that subtask) − bound − 1 (−∞ before its first record, +∞ once it has read all
 *   of its records). The window operator's watermark is the minimum over the source subtasks. A record
 *   is processed against the watermark established by all records read before it. With source
 *   parallelism p, subtask k reads the records whose index i ≡ k (mod p); the reference reads them in
 *   index order (round robin), which is one possible interleaving. After the last record the
 *   watermark is +∞.
 * - Windows are [start, end). Aligned start: start = ts − ((ts − offset) mod size), mathematical mod.
 *   Tumbling(size, offset): one window. Sliding(size, slide, offset): the windows starting at
 *   lastStart, lastStart − slide, … while start > ts − size, lastStart = aligned start for `slide`.
 *   Session(gap): [ts, ts + gap), merged with every window of the same key it overlaps or touches
 *   (a.start <= b.end && a.end >= b.start), transitively, into their cover.
 * - Before each record, with W its watermark: every window not yet fired with end − 1 <= W fires
 *   (one record per key and window), then every window with end − 1 + L <= W is forgotten.
 * - The record, with W: it is dropped from each of its windows with end − 1 + L <= W (sessions: it is
 *   dropped when the merged window has end − 1 + L <= W, and then nothing merges). Dropped from all its
 *   windows: late. Added to a window with end − 1 <= W (fired already, or first seen after its time):
 *   that key's window fires (again) at once with the updated result.
 *   A record that belongs to no window at all (sliding windows with slide > size leave gaps) is not
 *   "for a window already fired" (CONTRACT.md): as in Flink's WindowOperator it is late only when
 *   ts + L <= W (isElementLate), and otherwise belongs nowhere and is ignored.
 * - A fired record: { <key fields>: values, windowStart, windowEnd, <one field per named aggregate> }.
 *   The aggregates here are functions of the list of records in the window (no accumulators).
 */

export type Rec = Record<string, unknown>;

export type WindowDef =
  | { kind: 'tumbling'; size: number; offset?: number }
  | { kind: 'sliding'; size: number; slide: number; offset?: number }
  | { kind: 'session'; gap: number };

/** An aggregate as a plain function of all the records in the window. */
export type RefAggregate = (records: readonly Rec[]) => unknown;

export interface RefConfig {
  window: WindowDef;
  /** forBoundedOutOfOrderness(bound), in ms. */
  bound: number;
  /** allowedLateness, in ms (default 0). */
  lateness?: number;
  /** keyBy field names (output records carry each of them). */
  keyFields: string[];
  /** Output field name → aggregate. */
  aggregates: Record<string, RefAggregate>;
  /** The event-time field (default 'ts'). */
  tsField?: string;
  /** Parallelism of the source (default 1): subtask k reads the indexes ≡ k mod p. */
  sourceParallelism?: number;
  /**
   * Records for which this is false are dropped between the source and the window (a filter, SQL's
   * WHERE): they still move the source's watermark, but never reach a window and are never late.
   */
  filter?: (record: Rec) => boolean;
}

export interface RefResult {
  /** The window results, in the order the reference produced them. */
  output: Rec[];
  /** The late records, as read. */
  late: Rec[];
  /** How many records were late. */
  lateCount: number;
  /** The watermark each record was processed against (same order as the input). */
  watermarks: number[];
}

// ---- aggregates ----

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

export const refSum = (field: string): RefAggregate => (rs) => rs.reduce((s, r) => s + num(r[field]), 0);
export const refCount = (): RefAggregate => (rs) => rs.length;
export const refMin = (field: string): RefAggregate => (rs) => Math.min(...rs.map((r) => num(r[field])));
export const refMax = (field: string): RefAggregate => (rs) => Math.max(...rs.map((r) => num(r[field])));
/** sum / count (with integer values both are exact, so this equals an incremental average). */
export const refAvg = (field: string): RefAggregate => (rs) => (refSum(field)(rs) as number) / rs.length;

// ---- window assignment ----

/** Mathematical modulo: the result has the sign of m (m > 0), also for negative a. */
export function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

export function alignedStart(ts: number, offset: number, size: number): number {
  return ts - mod(ts - offset, size);
}

/** The [start, end) windows a timestamp belongs to (tumbling, sliding). */
export function windowsOf(ts: number, w: Exclude<WindowDef, { kind: 'session' }>): Array<{ start: number; end: number }> {
  if (w.kind === 'tumbling') {
    const start = alignedStart(ts, w.offset ?? 0, w.size);
    return [{ start, end: start + w.size }];
  }
  const out: Array<{ start: number; end: number }> = [];
  for (let start = alignedStart(ts, w.offset ?? 0, w.slide); start > ts - w.size; start -= w.slide) {
    out.push({ start, end: start + w.size });
  }
  return out;
}

// ---- watermarks ----

/**
 * The watermark each record is processed against, with the records read in index order by
 * `p` source subtasks (subtask k reads the indexes ≡ k mod p).
 */
export function watermarksBefore(timestamps: readonly number[], bound: number, p = 1): number[] {
  const n = timestamps.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let w = Number.POSITIVE_INFINITY;
    for (let k = 0; k < p; k++) {
      const mine = [];
      for (let j = k; j < n; j += p) mine.push(j);
      const readBefore = mine.filter((j) => j < i);
      const finished = mine.every((j) => j < i);
      const wk = finished ? Number.POSITIVE_INFINITY
        : readBefore.length === 0 ? Number.NEGATIVE_INFINITY
          : Math.max(...readBefore.map((j) => timestamps[j]!)) - bound - 1;
      w = Math.min(w, wk);
    }
    out.push(w);
  }
  // Watermarks never go backwards (they do not by construction; this states it).
  for (let i = 1; i < n; i++) out[i] = Math.max(out[i]!, out[i - 1]!);
  return out;
}

// ---- the windows ----

interface RefWindow {
  keyId: string;
  keyValues: Rec;
  start: number;
  end: number;
  records: Rec[];
  fired: boolean;
}

export function referenceWindows(input: readonly Rec[], cfg: RefConfig): RefResult {
  const tsField = cfg.tsField ?? 'ts';
  const L = cfg.lateness ?? 0;
  const timestamps = input.map((r) => num(r[tsField]));
  const watermarks = watermarksBefore(timestamps, cfg.bound, cfg.sourceParallelism ?? 1);

  let windows: RefWindow[] = [];
  const output: Rec[] = [];
  const late: Rec[] = [];

  const emit = (w: RefWindow): void => {
    const rec: Rec = { ...w.keyValues, windowStart: w.start, windowEnd: w.end };
    for (const [name, agg] of Object.entries(cfg.aggregates)) rec[name] = agg(w.records);
    output.push(rec);
  };

  const advanceTo = (W: number): void => {
    for (const w of windows) {
      if (!w.fired && w.end - 1 <= W) { emit(w); w.fired = true; }
    }
    windows = windows.filter((w) => !(w.end - 1 + L <= W));
  };

  input.forEach((rec, i) => {
    const W = watermarks[i]!;
    advanceTo(W);
    if (cfg.filter && !cfg.filter(rec)) return;
    const ts = timestamps[i]!;
    const keyValues: Rec = {};
    for (const f of cfg.keyFields) keyValues[f] = rec[f] ?? null;
    const keyId = JSON.stringify(cfg.keyFields.map((f) => rec[f] ?? null));

    if (cfg.window.kind === 'session') {
      let start = ts, end = ts + cfg.window.gap;
      const merged: RefWindow[] = [];
      for (let changed = true; changed;) {
        changed = false;
        for (const w of windows) {
          if (w.keyId === keyId && !merged.includes(w) && w.start <= end && w.end >= start) {
            merged.push(w);
            start = Math.min(start, w.start);
            end = Math.max(end, w.end);
            changed = true;
          }
        }
      }
      if (end - 1 + L <= W) { late.push(rec); return; }
      windows = windows.filter((w) => !merged.includes(w));
      const w: RefWindow = { keyId, keyValues, start, end, records: [...merged.flatMap((m) => m.records), rec], fired: false };
      windows.push(w);
      if (end - 1 <= W) { emit(w); w.fired = true; }
      return;
    }

    const mine = windowsOf(ts, cfg.window);
    if (mine.length === 0) { // in a gap between sliding windows
      if (ts + L <= W) late.push(rec);
      return;
    }
    let kept = 0;
    for (const { start, end } of mine) {
      if (end - 1 + L <= W) continue; // dropped from this window
      kept++;
      let w = windows.find((x) => x.keyId === keyId && x.start === start && x.end === end);
      if (!w) { w = { keyId, keyValues, start, end, records: [], fired: false }; windows.push(w); }
      w.records.push(rec);
      if (end - 1 <= W) { emit(w); w.fired = true; }
    }
    if (kept === 0) late.push(rec);
  });
  advanceTo(Number.POSITIVE_INFINITY);

  return { output, late, lateCount: late.length, watermarks };
}
