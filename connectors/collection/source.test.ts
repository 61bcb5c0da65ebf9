import { describe, expect, it } from 'vitest';
import type { SourcePoll } from '../../core/api/connector';
import { testContext } from '../testing/context';
import { collectionSource } from './source';

describe('collection source', () => {
  const records = Array.from({ length: 11 }, (_, i) => ({ i }));

  it('is bounded, kind collection', () => {
    const s = collectionSource(records);
    expect(s.kind).toBe('collection');
    expect(s.bounded).toBe(true);
    expect(s.describe()).toEqual({ kind: 'collection', count: 11 });
  });

  it('subtask k of p emits the records with index ≡ k (mod p), one split', () => {
    const src = collectionSource(records);
    const all: unknown[] = [];
    for (let k = 0; k < 3; k++) {
      const r = src.createReader(testContext({ subtaskIndex: k, parallelism: 3 }));
      expect(r.open()).toEqual([`collection-${k}`]);
      const got: { i: number }[] = [];
      let finished = false;
      for (;;) {
        const p = r.poll(2) as SourcePoll<{ i: number }>;
        if (p.kind === 'end') break;
        if (p.kind === 'records') { got.push(...p.values); finished ||= p.splitFinished === true; }
      }
      expect(finished).toBe(true);
      expect(got.map((x) => x.i)).toEqual(records.map((x) => x.i).filter((i) => i % 3 === k));
      all.push(...got);
    }
    expect(all).toHaveLength(11);
  });

  it('snapshot/restore by index', () => {
    const src = collectionSource(records);
    const ctx = testContext({ subtaskIndex: 1, parallelism: 2 });
    const r1 = src.createReader(ctx);
    r1.open();
    const p = r1.poll(2) as SourcePoll<{ i: number }>;
    expect(p.kind === 'records' && p.values).toEqual([{ i: 1 }, { i: 3 }]);
    const state = r1.snapshot!();
    expect(state).toEqual({ next: 5 });
    const r2 = src.createReader(ctx);
    r2.open(state);
    const rest = r2.poll(100) as SourcePoll<{ i: number }>;
    expect(rest.kind === 'records' && rest.values.map((x) => x.i)).toEqual([5, 7, 9]);
    expect(r2.poll(100)).toEqual({ kind: 'end' });
  });

  it('an empty collection ends at once', () => {
    const r = collectionSource([]).createReader(testContext());
    r.open();
    expect(r.poll(10)).toEqual({ kind: 'end' });
  });
});
