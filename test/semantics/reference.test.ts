/**
 * Checks of the brute-force reference itself (no rlink involved, so many runs are cheap): its window
 * assignment against a scan of all aligned windows, its results on input without late records against
 * an order-independent group-by, and a few invariants with late records.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { canonical } from '../helpers/cli';
import { windowsOf, watermarksBefore, mod, referenceWindows, refSum, refCount, type Rec, type WindowDef } from '../reference/windows';
import { scenarioArb, tumblingArb, slidingArb, sessionArb } from './scenarios';
import { referenceFor, REF_AGGREGATES } from './harness';

describe('reference: window assignment', () => {
  it('sliding/tumbling windows of ts = every [s, s+size) with s ≡ offset (mod slide) and s <= ts < s+size', () => {
    fc.assert(fc.property(
      fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 100 }),
      (ts, size, slideRaw, offset) => {
        const slide = Math.min(slideRaw, size);
        const scan: Array<{ start: number; end: number }> = [];
        for (let s = ts; s > ts - size; s--) if (mod(s - offset, slide) === 0) scan.push({ start: s, end: s + size });
        expect(windowsOf(ts, { kind: 'sliding', size, slide, offset })).toEqual(scan);
        const tumbling = windowsOf(ts, { kind: 'tumbling', size, offset });
        expect(tumbling).toHaveLength(1);
        expect(tumbling[0]!.start <= ts && ts < tumbling[0]!.end && mod(tumbling[0]!.start - offset, size) === 0).toBe(true);
      },
    ), { numRuns: 500 });
  });

  it('watermarks: max(ts before) − bound − 1, −∞ first; with p subtasks the minimum over them', () => {
    expect(watermarksBefore([5, 3, 9, 1], 2)).toEqual([-Infinity, 2, 2, 6]);
    // p = 2: subtask 0 reads ts 10, 30; subtask 1 reads 0, 5. Before index 2: min(10−1, 0−1) = −1;
    // before index 3: min(9, −1) = −1. Once a subtask has read all its records it no longer holds back.
    expect(watermarksBefore([10, 0, 30, 5], 0, 2)).toEqual([-Infinity, -Infinity, -1, -1]);
    // Subtask 1 has read its only record (ts 0) before index 2: only subtask 0 (max 10) holds back.
    expect(watermarksBefore([10, 0, 30], 0, 2)).toEqual([-Infinity, -Infinity, 9]);
    expect(watermarksBefore([10, 0, 30, 5, 40], 0, 2)).toEqual([-Infinity, -Infinity, -1, -1, 29]);
  });
});

/** Order-independent answer when no record is late: group records by key and window. */
function groupBy(input: readonly Rec[], window: WindowDef, keyFields: string[], aggs: Record<string, (rs: readonly Rec[]) => unknown>): Rec[] {
  const keyOf = (r: Rec) => JSON.stringify(keyFields.map((f) => r[f] ?? null));
  const groups = new Map<string, { keyValues: Rec; start: number; end: number; records: Rec[] }>();
  const add = (r: Rec, start: number, end: number, records: Rec[]) => {
    const keyValues = Object.fromEntries(keyFields.map((f) => [f, r[f] ?? null]));
    groups.set(`${keyOf(r)}|${start}|${end}`, { keyValues, start, end, records });
  };
  if (window.kind === 'session') {
    // Per key: sort by ts and sweep, extending the current session while the next one touches it.
    const byKey = new Map<string, Rec[]>();
    for (const r of input) byKey.set(keyOf(r), [...(byKey.get(keyOf(r)) ?? []), r]);
    for (const rs of byKey.values()) {
      const sorted = [...rs].sort((a, b) => (a.ts as number) - (b.ts as number));
      let cur: { start: number; end: number; records: Rec[] } | undefined;
      for (const r of sorted) {
        const ts = r.ts as number;
        if (cur && ts <= cur.end) { cur.end = Math.max(cur.end, ts + window.gap); cur.records.push(r); continue; }
        if (cur) add(cur.records[0]!, cur.start, cur.end, cur.records);
        cur = { start: ts, end: ts + window.gap, records: [r] };
      }
      if (cur) add(cur.records[0]!, cur.start, cur.end, cur.records);
    }
  } else {
    for (const r of input) {
      for (const { start, end } of windowsOf(r.ts as number, window)) {
        const id = `${keyOf(r)}|${start}|${end}`;
        const g = groups.get(id);
        if (g) g.records.push(r); else add(r, start, end, [r]);
      }
    }
  }
  return [...groups.values()].map((g) => {
    const rec: Rec = { ...g.keyValues, windowStart: g.start, windowEnd: g.end };
    for (const [name, agg] of Object.entries(aggs)) rec[name] = agg(g.records);
    return rec;
  });
}

describe('reference: results', () => {
  for (const [name, arb] of [['tumbling', tumblingArb], ['sliding', slidingArb], ['session', sessionArb]] as const) {
    for (const sourceParallelism of [1, 2]) {
      it(`${name}, source parallelism ${sourceParallelism}: without late records it equals a group-by (key, window)`, () => {
        const disorder = { kind: name === 'session' ? 'belowBound' as const : 'withinBound' as const };
        fc.assert(fc.property(scenarioArb(arb, { sourceParallelism, disorder }), ({ params, input }) => {
          const ref = referenceFor(input, params);
          expect(ref.lateCount).toBe(0);
          const aggs = Object.fromEntries((params.aggs ?? []).map((a) => [a, REF_AGGREGATES[a]]));
          // Allowed lateness cannot matter: nothing arrives after its window fired.
          expect(canonical(ref.output)).toEqual(canonical(groupBy(input, params.window, params.keys ?? ['key'], aggs)));
        }), { numRuns: 300 });
      });
    }
  }

  it('tumbling: every record is late or in its window, whose last result counts it', () => {
    fc.assert(fc.property(scenarioArb(tumblingArb), ({ params, input }) => {
      const ref = referenceWindows(input, {
        window: params.window, bound: params.bound, lateness: params.lateness ?? 0, keyFields: ['key'], aggregates: { count: refCount(), sum: refSum('v') },
      });
      const last = new Map<string, number>();
      for (const o of ref.output) last.set(JSON.stringify([o.key, o.windowStart]), o.count as number); // later results supersede
      expect([...last.values()].reduce((a, b) => a + b, 0) + ref.lateCount).toBe(input.length);
      if ((params.lateness ?? 0) === 0) expect(ref.output).toHaveLength(last.size); // no refiring without lateness
    }), { numRuns: 300 });
  });

  it('tumbling and sliding: more allowed lateness never makes more records late', () => {
    fc.assert(fc.property(scenarioArb(fc.oneof(tumblingArb, slidingArb)), fc.integer({ min: 1, max: 20 }), ({ params, input }, more) => {
      const at = (lateness: number) => referenceFor(input, { ...params, lateness }).lateCount;
      expect(at((params.lateness ?? 0) + more)).toBeLessThanOrEqual(at(params.lateness ?? 0));
    }), { numRuns: 300 });
  });
});
