/**
 * Brute-force references for the two-input operators, written to be obviously right rather than fast;
 * they share no code with the engine. They hold for inputs in which nothing is late (each source's
 * records at most `bound` out of order), where the operators' results do not depend on how the two
 * inputs interleave.
 *
 * - Window join: for every key and every window (tumbling, sliding: each window both elements fall
 *   in; sessions: the sessions of both sides' elements of the key together, [ts, ts + gap) merged
 *   when they overlap or touch), every pair (left, right) in it: {key, l, r}.
 * - Interval join: every pair of the same key with ts(right) − ts(left) in [lower, upper]:
 *   {key, l, r, ts: max of both}.
 * - Co-process (bucket sums): per key and 10 ms bucket with any element, the sum of the left v and
 *   of the right w: {key, bucket, s1, s2}.
 * - Broadcast: every left element joined with the rule of its version: {key, l, out: v × factor}.
 */
export interface Left { key: number | string; ts: number; v: number; id: number; version?: number }
export interface Right { key: number | string; ts: number; w: number; id: number; version?: number; factor?: number }

export type JoinWindow = { kind: 'tumbling'; size: number } | { kind: 'sliding'; size: number; slide: number } | { kind: 'session'; gap: number };

const mod = (a: number, b: number) => ((a % b) + b) % b;

function timeWindows(ts: number, w: Exclude<JoinWindow, { kind: 'session' }>): number[] {
  const slide = w.kind === 'tumbling' ? w.size : w.slide;
  const out: number[] = [];
  for (let start = ts - mod(ts, slide); start > ts - w.size; start -= slide) out.push(start);
  return out;
}

export function refWindowJoin(left: Left[], right: Right[], w: JoinWindow): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const keys = new Set([...left.map((l) => JSON.stringify(l.key)), ...right.map((r) => JSON.stringify(r.key))]);
  for (const k of keys) {
    const ls = left.filter((l) => JSON.stringify(l.key) === k);
    const rs = right.filter((r) => JSON.stringify(r.key) === k);
    if (w.kind !== 'session') {
      for (const l of ls) for (const r of rs) {
        const common = timeWindows(l.ts, w).filter((s) => timeWindows(r.ts, w).includes(s));
        for (let i = 0; i < common.length; i++) out.push({ key: l.key, l: l.id, r: r.id });
      }
      continue;
    }
    // Sessions over both sides: merge [ts, ts + gap) intervals that overlap or touch.
    const all = [...ls.map((x) => ({ ts: x.ts, side: 'l' as const, x })), ...rs.map((x) => ({ ts: x.ts, side: 'r' as const, x }))].sort((a, b) => a.ts - b.ts);
    let group: typeof all = [];
    let end = Number.NEGATIVE_INFINITY;
    const flush = () => {
      for (const a of group) if (a.side === 'l') for (const b of group) if (b.side === 'r') out.push({ key: (a.x as Left).key, l: a.x.id, r: b.x.id });
      group = [];
    };
    for (const e of all) {
      if (e.ts > end) flush(); // [ts, …) starts after the session's end: no overlap, no touch
      group.push(e);
      end = Math.max(end, e.ts + w.gap);
    }
    flush();
  }
  return out;
}

export function refIntervalJoin(left: Left[], right: Right[], lower: number, upper: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of left) for (const r of right) {
    if (JSON.stringify(l.key) !== JSON.stringify(r.key)) continue;
    const d = r.ts - l.ts;
    if (d >= lower && d <= upper) out.push({ key: l.key, l: l.id, r: r.id, ts: Math.max(l.ts, r.ts) });
  }
  return out;
}

export function refBucketSums(left: Left[], right: Right[]): Array<Record<string, unknown>> {
  const m = new Map<string, { key: number | string; bucket: number; s1: number; s2: number }>();
  const at = (key: number | string, ts: number) => {
    const bucket = Math.floor(ts / 10) * 10;
    const id = `${JSON.stringify(key)}|${bucket}`;
    let e = m.get(id);
    if (!e) { e = { key, bucket, s1: 0, s2: 0 }; m.set(id, e); }
    return e;
  };
  for (const l of left) at(l.key, l.ts).s1 += l.v;
  for (const r of right) at(r.key, r.ts).s2 += r.w;
  return [...m.values()];
}

export function refBroadcast(left: Left[], rules: Right[]): Array<Record<string, unknown>> {
  const factor = new Map(rules.map((r) => [r.version, r.factor!]));
  return left.map((l) => ({ key: l.key, l: l.id, out: l.v * factor.get(l.version)! }));
}
