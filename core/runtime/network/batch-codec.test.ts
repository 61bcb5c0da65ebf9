import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { decodeBatch, encodeBatch, transferables } from './batch-codec';

/** Sends through a real MessagePort (structured clone + transfer), as the channel does. */
function roundTrip(values: unknown[], timestamps: number[]): { values: unknown[]; timestamps: number[] } {
  const { port1, port2 } = new MessageChannel();
  const b = encodeBatch(values, timestamps);
  port1.postMessage(b, transferables(b));
  const got = receiveMessageOnPort(port2)!.message;
  port1.close(); port2.close();
  return decodeBatch(got);
}

const flatRecord = fc.record({
  key: fc.oneof(fc.integer(), fc.double({ noNaN: false })),
  name: fc.string({ unit: 'grapheme' }),
  ok: fc.boolean(),
}, { noNullPrototype: true });

describe('batch codec', () => {
  it('round-trips same-shaped flat records exactly, in columns', () => {
    fc.assert(fc.property(fc.array(flatRecord, { maxLength: 50 }), (recs) => {
      const ts = recs.map((_, i) => i * 10);
      const out = roundTrip(recs, ts);
      expect(out.values).toEqual(recs);
      expect(out.timestamps).toEqual(ts);
      if (recs.length > 0) expect(encodeBatch(recs, ts).fields).toEqual(['key', 'name', 'ok']);
    }));
  });

  it('round-trips anything JSON-like exactly, falling back when shapes differ', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue(), { maxLength: 30 }), (vals) => {
      const ts = vals.map(() => -Infinity);
      expect(roundTrip(vals, ts).values).toEqual(vals);
    }));
  });

  it('keeps key order and refuses records with extra or reordered keys', () => {
    const a = [{ x: 1, y: 'a' }, { y: 'b', x: 2 }];
    expect(encodeBatch(a, [0, 0]).values).toBeDefined(); // fell back
    const out = roundTrip(a, [0, 0]).values as object[];
    expect(out.map((o) => Object.keys(o))).toEqual([['x', 'y'], ['y', 'x']]);
    expect(encodeBatch([{ x: 1 }, { x: 2, z: 3 }], [0, 0]).values).toBeDefined();
  });

  it('keeps undefined fields, NaN, -0 and nested objects', () => {
    const vals = [{ a: undefined, b: NaN }, { a: -0, b: { c: [1, 2] } }];
    const out = roundTrip(vals, [1, 2]).values as Array<Record<string, unknown>>;
    expect(out[0]).toHaveProperty('a', undefined);
    expect(Number.isNaN(out[0]!.b)).toBe(true);
    expect(Object.is(out[1]!.a, -0)).toBe(true);
    expect(out[1]!.b).toEqual({ c: [1, 2] });
  });

  it('encodes bare strings and numbers in columns', () => {
    const words = ['to', 'be', '', 'or', 'not', '🙂'];
    expect(encodeBatch(words, words.map(() => 0)).primitive).toBe('s');
    expect(roundTrip(words, words.map(() => 0)).values).toEqual(words);
    expect(roundTrip([1, 2.5, -3], [0, 0, 0]).values).toEqual([1, 2.5, -3]);
    expect(roundTrip(['a', 1], [0, 0]).values).toEqual(['a', 1]);
  });

  it('does not turn a __proto__ field into a prototype', () => {
    const v = JSON.parse('[{"__proto__": 1, "a": 2}]') as unknown[];
    expect(roundTrip(v, [0]).values).toEqual(v);
  });
});
