import { describe, expect, it } from 'vitest';
import { collapseByKey, rowKind, withoutOp } from './changelog';

describe('changelog (op row kinds)', () => {
  it('reads the row kind from op; anything else is an ordinary record', () => {
    expect(rowKind({ op: '+I', a: 1 })).toBe('+I');
    expect(rowKind({ op: '-D' })).toBe('-D');
    expect(rowKind({ op: 'add' })).toBeUndefined();
    expect(rowKind({ a: 1 })).toBeUndefined();
    expect(rowKind('x')).toBeUndefined();
  });

  it('drops op only when it is a row kind', () => {
    expect(withoutOp({ op: '+U', a: 1 })).toEqual({ a: 1 });
    const plain = { op: 'add', a: 1 };
    expect(withoutOp(plain)).toBe(plain);
  });

  it('folds a batch to one action per key: the last wins, -U skipped, -D deletes', () => {
    const key = (r: { k: string }) => r.k;
    const actions = collapseByKey([
      { op: '+I', k: 'a', n: 1 },
      { op: '-U', k: 'a', n: 1 },
      { op: '+U', k: 'a', n: 2 },
      { op: '+I', k: 'b', n: 1 },
      { op: '-D', k: 'b', n: 1 },
      { op: '-U', k: 'c', n: 5 },
      { k: 'd', n: 7 },
    ], key);
    expect(actions.map((a) => [a.kind, a.key, (a.record as { n: number }).n])).toEqual([['upsert', 'a', 2], ['delete', 'b', 1], ['upsert', 'd', 7]]);
  });
});
