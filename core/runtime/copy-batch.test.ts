/**
 * copyBatch: the deep copy a fan-out hands every consumer but the last. Checked against structuredClone
 * (the reference for what a deep copy of plain data is) on random nested data, and for independence:
 * no object of the copy is an object of the original.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyBatch, copyValue } from './copy-batch';

/** Every object reachable from `v` (arrays and objects). */
function objects(v: unknown, into = new Set<object>()): Set<object> {
  if (v === null || typeof v !== 'object' || into.has(v)) return into;
  into.add(v);
  for (const x of Object.values(v)) objects(x, into);
  return into;
}

describe('copyBatch', () => {
  it('equals structuredClone on random plain data (mixed shapes, nesting), sharing no object with the original', () => {
    const record = fc.oneof(
      fc.record({ key: fc.string(), ts: fc.integer(), value: fc.double({ noNaN: true }) }), // the columnar path
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.jsonValue(),
    );
    fc.assert(fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (values) => {
      const copy = copyBatch(values);
      expect(copy).toEqual(structuredClone(values));
      const mine = objects(values);
      for (const o of objects(copy)) expect(mine.has(o)).toBe(false);
    }), { numRuns: 300 });
  });

  it('keeps an own "__proto__" a property, and keeps the prototype plain', () => {
    const v = JSON.parse('{"__proto__":{"polluted":true},"b":{"__proto__":[1]}}') as Record<string, unknown>;
    const [c] = copyBatch([v, { other: 1 }]) as [Record<string, unknown>];
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(c, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.getOwnPropertyDescriptor(c, '__proto__')?.value).not.toBe(Object.getOwnPropertyDescriptor(v, '__proto__')?.value);
    expect(Object.getOwnPropertyDescriptor(c.b as object, '__proto__')?.value).toEqual([1]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('falls back to structuredClone for what is not plain data: Date, Map, typed arrays, cycles, holes', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const values = [{ at: new Date(5), m: new Map([[1, { x: 1 }]]), bytes: new Uint8Array([1, 2]) }, cyclic, { holes: [1, , 3] }];
    const [d, c, h] = copyBatch(values) as [Record<string, any>, Record<string, unknown>, Record<string, unknown[]>];
    expect(d.at).toBeInstanceOf(Date);
    expect(d.at).not.toBe(values[0]!.at);
    expect(d.m.get(1)).toEqual({ x: 1 });
    expect(d.m).not.toBe((values[0] as Record<string, unknown>).m);
    expect(Array.from(d.bytes as Uint8Array)).toEqual([1, 2]);
    expect(c.self).toBe(c);
    expect(c).not.toBe(cyclic);
    expect(1 in h.holes!).toBe(false);
  });

  it('shares what cannot be cloned (a function inside), as before', () => {
    const f = () => 1;
    const v = { f, n: 1 };
    expect(copyValue(v)).toBe(v);
    expect(copyBatch([v, { other: 2 }])[0]).toBe(v);
  });
});
