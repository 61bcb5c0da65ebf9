import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WatermarkGenerator } from './watermark-generator';
import { WatermarkStrategy } from './watermark-strategy';
import { TaskMetrics } from '../runtime/metrics';
import { silentLogger } from '../logging';
import type { Output } from '../runtime/operator';

type Emitted = { kind: 'record'; v: { split: number; ts: number; i: number }; ts: number } | { kind: 'wm'; ts: number } | { kind: 'status'; idle: boolean };

function recorder(): { out: Output; log: Emitted[] } {
  const log: Emitted[] = [];
  return {
    log,
    out: {
      emitBatch: (values, ts) => values.forEach((v, i) => log.push({ kind: 'record', v: v as { split: number; ts: number; i: number }, ts: ts[i]! })),
      emitWatermark: (ts) => log.push({ kind: 'wm', ts }),
      emitStatus: (idle) => log.push({ kind: 'status', idle }),
      emitSide: () => {},
    },
  };
}

/** The idealised model: the combined watermark established by all records before each record. */
function idealWatermarks(input: Array<{ split: number; ts: number }>, splits: number, bound: number): number[] {
  const max = new Array<number>(splits).fill(-Infinity);
  return input.map((r) => {
    const combined = Math.min(...max.map((m) => m - bound - 1));
    max[r.split] = Math.max(max[r.split]!, r.ts);
    return combined;
  });
}

describe('WatermarkGenerator', () => {
  it('emits, before every record at or behind it, exactly the watermark its predecessors established (per-split minimum)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 20 }),
      fc.constantFrom(0, 1),
      fc.array(fc.record({ split: fc.nat(2), ts: fc.integer({ min: 0, max: 200 }) }), { maxLength: 120 }),
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 10 }),
      (splits, bound, slack, raw, sizes) => {
        const input = raw.map((r, i) => ({ split: r.split % splits, ts: r.ts, i }));
        const { out, log } = recorder();
        const gen = new WatermarkGenerator(WatermarkStrategy.forBoundedOutOfOrderness(bound).withTimestampField('ts'), out, new TaskMetrics(), silentLogger(), () => 0, slack);
        for (let s = 0; s < splits; s++) gen.addSplit(`s${s}`);
        // Feed runs of consecutive records of one split, in batches of random sizes.
        let k = 0, b = 0;
        while (k < input.length) {
          const split = input[k]!.split;
          let end = k;
          const max = sizes[b++ % sizes.length]!;
          while (end < input.length && input[end]!.split === split && end - k < max) end++;
          gen.process(`s${split}`, input.slice(k, end));
          k = end;
        }
        const ideal = idealWatermarks(input, splits, bound);
        let current = -Infinity;
        let seen = 0;
        for (const e of log) {
          if (e.kind === 'wm') {
            expect(e.ts).toBeGreaterThan(current); // strictly increasing, never backwards
            current = e.ts;
            continue;
          }
          if (e.kind !== 'record') continue;
          expect(e.v.i).toBe(seen++);            // every record, in order
          expect(e.ts).toBe(e.v.ts);
          const w = ideal[e.v.i]!;
          expect(current).toBeLessThanOrEqual(w); // never ahead of the ideal watermark
          if (e.ts <= w + slack) expect(current).toBe(w); // exact where it matters
        }
        expect(seen).toBe(input.length);
        const finalIdeal = Math.min(...Array.from({ length: splits }, (_, s) => {
          const mine = input.filter((r) => r.split === s).map((r) => r.ts);
          return mine.length ? Math.max(...mine) - bound - 1 : -Infinity;
        }));
        if (finalIdeal > -Infinity) expect(current).toBe(finalIdeal);
      },
    ), { numRuns: 300 });
  });

  it('drops and counts records without a timestamp, keeping the others', () => {
    const { out, log } = recorder();
    const metrics = new TaskMetrics();
    const gen = new WatermarkGenerator(WatermarkStrategy.forBoundedOutOfOrderness(0).withTimestampField('ts'), out, metrics, silentLogger(), () => 0);
    gen.process('a', [{ ts: 5 }, { x: 1 }, { ts: '1970-01-01T00:00:00.007Z' }, { ts: 'soon' }]);
    expect(metrics.recordsInvalid).toBe(2);
    expect(log.filter((e) => e.kind === 'record').map((e) => (e as { ts: number }).ts)).toEqual([5, 7]);
  });

  it('lets a finished split stop holding the watermark back, and an idle one too', () => {
    let now = 0;
    const { out, log } = recorder();
    const gen = new WatermarkGenerator(WatermarkStrategy.forBoundedOutOfOrderness(0).withTimestampField('ts').withIdleness(100), out, new TaskMetrics(), silentLogger(), () => now);
    gen.addSplit('a'); gen.addSplit('b'); gen.addSplit('c');
    gen.process('a', [{ ts: 50 }]);
    gen.process('b', [{ ts: 10 }]);
    expect(log.some((e) => e.kind === 'wm')).toBe(false); // c has said nothing yet
    gen.finishSplit('c');
    expect(log.filter((e) => e.kind === 'wm').map((e) => e.ts)).toEqual([9]);
    now = 150;
    gen.process('a', [{ ts: 60 }]);
    gen.checkIdleness(); // b silent for 150 ms > 100: idle
    expect(log.filter((e) => e.kind === 'wm').map((e) => e.ts)).toEqual([9, 59]);
    now = 400;
    gen.checkIdleness(); // a idle too: the whole source is idle
    expect(log.at(-1)).toEqual({ kind: 'status', idle: true });
    gen.process('b', [{ ts: 20 }]);
    expect(log.find((e) => e.kind === 'status' && !e.idle)).toBeDefined();
  });
});
