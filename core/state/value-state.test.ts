import { describe, it, expect } from 'vitest';
import { ValueStateStore } from './value-state';

describe('keyed value state', () => {
  it('scopes values to the current key and gives the default for a key without one', () => {
    const s = new ValueStateStore();
    const count = s.state('count', 0);
    s.currentKey = 'a';
    count.update(count.value()! + 1);
    s.currentKey = 'b';
    expect(count.value()).toBe(0);
    s.currentKey = 'a';
    expect(count.value()).toBe(1);
    count.clear();
    expect(count.value()).toBe(0);
  });

  it('a state restored before the function asked for it takes the default the function gives later', () => {
    const s = new ValueStateStore();
    s.restore('sums', 'a', { n: 3 });
    s.currentKey = 'b';
    expect(s.state('sums', { n: 0 }).value()).toEqual({ n: 0 });
    s.currentKey = 'a';
    expect(s.state('sums', { n: 0 }).value()).toEqual({ n: 3 });
    expect([...s.entries()]).toEqual([['sums', 'a', { n: 3 }]]);
  });
});
