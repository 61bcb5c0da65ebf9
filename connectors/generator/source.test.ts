import { describe, expect, it } from 'vitest';
import type { SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { testContext } from '../testing/context';
import { generatorSource } from './source';

async function take(r: SourceReader<number>, max: number, limit = Number.POSITIVE_INFINITY): Promise<{ values: number[]; idles: number[]; ended: boolean }> {
  const values: number[] = [];
  const idles: number[] = [];
  while (values.length < limit) {
    const p: SourcePoll<number> = await r.poll(max);
    if (p.kind === 'end') return { values, idles, ended: true };
    if (p.kind === 'idle') { idles.push(p.waitMs); await new Promise((res) => setTimeout(res, p.waitMs)); continue; }
    if (p.kind === 'records') { expect(p.values.length).toBeLessThanOrEqual(max); values.push(...p.values); }
  }
  return { values, idles, ended: false };
}

describe('generator source', () => {
  it('is bounded only with a count', () => {
    expect(generatorSource({ count: 3, generate: (i) => i }).bounded).toBe(true);
    expect(generatorSource({ generate: (i) => i }).bounded).toBe(false);
    expect(generatorSource({ count: 3, generate: (i) => i }).kind).toBe('generator');
    expect(() => generatorSource({ count: -1, generate: (i) => i })).toThrow(RlinkError);
    expect(() => generatorSource({ ratePerSecond: 0, generate: (i) => i })).toThrow(RlinkError);
  });

  it('subtask k of p produces exactly the indexes i ≡ k (mod p), in order', async () => {
    const count = 103;
    const src = generatorSource({ count, generate: (i) => i });
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      const r = src.createReader(testContext({ subtaskIndex: k, parallelism: 4 }));
      expect(r.open()).toEqual([`gen-${k}`]);
      const { values, ended } = await take(r, 10);
      expect(ended).toBe(true);
      expect(values.every((v) => v % 4 === k)).toBe(true);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      seen.push(...values);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('marks the last batch splitFinished, then ends', () => {
    const r = generatorSource({ count: 5, generate: (i) => i }).createReader(testContext());
    r.open();
    expect(r.poll(3)).toEqual({ kind: 'records', split: 'gen-0', values: [0, 1, 2] });
    expect(r.poll(3)).toEqual({ kind: 'records', split: 'gen-0', values: [3, 4], splitFinished: true });
    expect(r.poll(3)).toEqual({ kind: 'end' });
  });

  it('snapshot/restore resumes from the next index', async () => {
    const src = generatorSource({ count: 50, generate: (i) => i });
    const ctx = testContext({ subtaskIndex: 1, parallelism: 3 });
    const r1 = src.createReader(ctx);
    r1.open();
    const first = await take(r1, 4, 8);
    const state = JSON.parse(JSON.stringify(r1.snapshot!())) as unknown;
    expect(state).toEqual({ next: 1 + 8 * 3 });
    const r2 = src.createReader(ctx);
    r2.open(state);
    const rest = await take(r2, 4);
    expect([...first.values, ...rest.values]).toEqual(Array.from({ length: 17 }, (_, j) => 1 + 3 * j));
  });

  it('unbounded without count', async () => {
    const r = generatorSource({ generate: (i) => i * 2 }).createReader(testContext({ subtaskIndex: 0, parallelism: 2 }));
    r.open();
    const { values, ended } = await take(r, 1000, 5000);
    expect(ended).toBe(false);
    expect(values.slice(0, 3)).toEqual([0, 4, 8]);
  });

  it('paces to ratePerSecond with idle polls instead of spinning', async () => {
    // 400/s across 2 subtasks = 200/s for this one: 40 records take ~200 ms.
    const r = generatorSource({ count: 80, ratePerSecond: 400, generate: (i) => i }).createReader(testContext({ subtaskIndex: 0, parallelism: 2 }));
    r.open();
    const t0 = performance.now();
    let polls = 0;
    const values: number[] = [];
    let idles = 0;
    for (;;) {
      const p = await r.poll(1000);
      polls++;
      if (p.kind === 'end') break;
      if (p.kind === 'idle') { idles++; expect(p.waitMs).toBeGreaterThan(0); await new Promise((res) => setTimeout(res, p.waitMs)); }
      if (p.kind === 'records') values.push(...p.values);
      expect(polls).toBeLessThan(1000); // no busy loop
    }
    const elapsed = performance.now() - t0;
    expect(values).toEqual(Array.from({ length: 40 }, (_, j) => 2 * j));
    expect(idles).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(180);
    expect(elapsed).toBeLessThan(2000);
  });

  it('is fast without a rate', () => {
    const r = generatorSource({ count: 2_000_000, generate: (i) => ({ i }) }).createReader(testContext());
    r.open();
    const t0 = performance.now();
    let n = 0;
    for (;;) {
      const p = r.poll(1024) as SourcePoll<unknown>;
      if (p.kind !== 'records') break;
      n += p.values.length;
    }
    expect(n).toBe(2_000_000);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
