/**
 * Keys → key groups → subtasks. Key groups decide where keyed state lives, in every process and
 * across restores at another parallelism: the hash must be MurmurHash3_x86_32 exactly (checked
 * against its published reference vectors through an independent byte-wise implementation), and
 * the ownership functions must agree with each other for every parallelism.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keyGroupOf, keyGroupRange, murmur3, subtaskForKeyGroup, compileKeySelector } from '../../core/runtime/keys';

/** MurmurHash3_x86_32 over bytes, straight from the reference (smhasher, MurmurHash3.cpp). */
function murmur3Bytes(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  let h1 = seed >>> 0;
  const nblocks = data.length >> 2;
  for (let b = 0; b < nblocks; b++) {
    const i = b * 4;
    let k1 = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    k1 = Math.imul(k1, c1); k1 = (k1 << 15) | (k1 >>> 17); k1 = Math.imul(k1, c2);
    h1 ^= k1; h1 = (h1 << 13) | (h1 >>> 19); h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  const tail = nblocks * 4;
  const rest = data.length & 3;
  if (rest > 0) {
    let k1 = 0;
    if (rest === 3) k1 ^= data[tail + 2]! << 16;
    if (rest >= 2) k1 ^= data[tail + 1]! << 8;
    k1 ^= data[tail]!;
    k1 = Math.imul(k1, c1); k1 = (k1 << 15) | (k1 >>> 17); k1 = Math.imul(k1, c2); h1 ^= k1;
  }
  h1 ^= data.length;
  h1 ^= h1 >>> 16; h1 = Math.imul(h1, 0x85ebca6b); h1 ^= h1 >>> 13; h1 = Math.imul(h1, 0xc2b2ae35); h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

const bytes = (...b: number[]) => Uint8Array.from(b);
/** rlink hashes a string's UTF-16 code units, i.e. its UTF-16LE bytes. */
const utf16le = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));

/** Published verification vectors of MurmurHash3_x86_32 (input bytes, seed, hash). */
const VECTORS: Array<[Uint8Array, number, number]> = [
  [bytes(), 0, 0],
  [bytes(), 1, 0x514e28b7],
  [bytes(), 0xffffffff, 0x81f16f39],
  [bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
  [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
  [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
  [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
  [bytes(0x21, 0x43), 0, 0xa0f7b07a],
  [bytes(0x21), 0, 0x72661cf4],
  [bytes(0, 0, 0, 0), 0, 0x2362f9de],
  [bytes(0, 0, 0), 0, 0x85f0b427],
  [bytes(0, 0), 0, 0x30f4c306],
  [bytes(0), 0, 0x514e28b7],
  [new TextEncoder().encode('Hello, world!'), 1234, 0xfaf6cdb3],
  [new TextEncoder().encode('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
];

describe('murmur3', () => {
  it('the byte-wise reference implementation reproduces the published vectors', () => {
    for (const [data, seed, want] of VECTORS) expect(murmur3Bytes(data, seed), `${Buffer.from(data).toString('hex')} seed ${seed}`).toBe(want);
  });

  it("rlink's murmur3 matches the published vectors expressible as UTF-16 strings", () => {
    expect(murmur3('')).toBe(0);
    expect(murmur3('', 0)).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3('\uffff\uffff')).toBe(0x76293b50);           // ff ff ff ff
    expect(murmur3('\u4321\u8765')).toBe(0xf55b516b);           // 21 43 65 87
    expect(murmur3('\u4321\u8765', 0x5082edee)).toBe(0x2362f9de);
    expect(murmur3('\u4321')).toBe(0xa0f7b07a);                 // 21 43
    expect(murmur3('\u0000\u0000')).toBe(0x2362f9de);           // 00 00 00 00
    expect(murmur3('\u0000')).toBe(0x30f4c306);                 // 00 00
  });

  it('equals MurmurHash3_x86_32 of the UTF-16LE bytes for any string and seed', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.nat({ max: 0xffffffff }), (s, seed) => {
      expect(murmur3(s, seed)).toBe(murmur3Bytes(utf16le(s), seed));
    }), { numRuns: 1000 });
    // Lone surrogates are code units like any other.
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }), (units) => {
      const s = String.fromCharCode(...units);
      const b = new Uint8Array(units.length * 2);
      units.forEach((u, i) => { b[2 * i] = u & 0xff; b[2 * i + 1] = u >>> 8; });
      expect(murmur3(s)).toBe(murmur3Bytes(b));
    }), { numRuns: 1000 });
  });

  it('returns an unsigned 32-bit integer', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      const h = murmur3(s);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }));
  });
});

describe('keyGroupOf', () => {
  it('for a string key, is murmur3 of the string modulo max parallelism', () => {
    const M = 128;
    expect(keyGroupOf('', M)).toBe(0);
    for (const k of ['A-0', 'B-1', 'user-42', 'ünïcödé', '😀', '["x",1]']) expect(keyGroupOf(k, M)).toBe(murmur3Bytes(utf16le(k)) % M);
    fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 32768 }), (k, m) => {
      expect(keyGroupOf(k, m)).toBe(murmur3Bytes(utf16le(k)) % m);
    }), { numRuns: 500 });
  });

  it('is pinned for known keys (changing it would orphan the state in every savepoint)', () => {
    // Values from the reference implementation above; literal so that a change in either shows up.
    const expected = Object.fromEntries(['', 'a', 'A-0', 'B-1', 'J-9', 'alice', 'bob'].map((k) => [k, murmur3Bytes(utf16le(k)) % 128]));
    const got = Object.fromEntries(Object.keys(expected).map((k) => [k, keyGroupOf(k, 128)]));
    expect(got).toEqual(expected);
    expect(got).toEqual({ '': 0, a: 26, 'A-0': 127, 'B-1': 87, 'J-9': 79, alice: 47, bob: 65 });
  });

  it('is always in [0, maxParallelism) and stable', () => {
    fc.assert(fc.property(
      // Every kind of key (numbers, booleans and null are hashed by their own rule, not pinned here).
      fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null)),
      fc.integer({ min: 1, max: 32768 }),
      (k, M) => {
        const g = keyGroupOf(k, M);
        expect(Number.isInteger(g) && g >= 0 && g < M).toBe(true);
        expect(keyGroupOf(k, M)).toBe(g);
      }), { numRuns: 2000 });
  });

  it('keys that are the same key to JavaScript (0 and -0: === and Map agree) share a key group', () => {
    // Otherwise one key's records are split over two subtasks and its window fires twice.
    for (const M of [128, 4096, 32768]) expect(keyGroupOf(-0, M), `M=${M}`).toBe(keyGroupOf(0, M));
    const sel = compileKeySelector({ kind: 'fn', fn: (r: { x: number }) => Math.round(r.x) });
    expect(keyGroupOf(sel({ x: -0.4 }), 128)).toBe(keyGroupOf(sel({ x: 0.4 }), 128));
  });

  it('composite keys (keyBy([a, b])) are hashed as their canonical JSON array', () => {
    const sel = compileKeySelector({ kind: 'field', fields: ['a', 'b'] });
    const k = sel({ a: 'x', b: 1, c: 'ignored' });
    expect(k).toBe('["x",1]');
    expect(keyGroupOf(k, 128)).toBe(murmur3Bytes(utf16le('["x",1]')) % 128);
    expect(sel({ b: 1, a: 'x' })).toBe(k); // field order of the record does not matter
  });
});

describe('key group ownership', () => {
  it('for every p in 1..16 and any max parallelism ≥ p: each key group has exactly one owner, whose range contains it', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 16, max: 4096 }), (p, M) => {
      const ranges = Array.from({ length: p }, (_, i) => keyGroupRange(i, M, p));
      // The ranges tile [0, M): contiguous, in order, non-empty (p ≤ M).
      expect(ranges[0]![0]).toBe(0);
      expect(ranges[p - 1]![1]).toBe(M);
      for (let i = 0; i < p; i++) {
        expect(ranges[i]![0]).toBeLessThan(ranges[i]![1]);
        if (i > 0) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
      }
      const holders = new Uint16Array(M);
      for (const [s, e] of ranges) for (let g = s; g < e; g++) holders[g]!++;
      for (let g = 0; g < M; g++) {
        const owner = subtaskForKeyGroup(g, M, p);
        if (!(Number.isInteger(owner) && owner >= 0 && owner < p)) throw new Error(`key group ${g} of ${M} at p=${p}: owner ${owner}`);
        const [start, end] = ranges[owner]!;
        if (!(g >= start && g < end)) throw new Error(`key group ${g} of ${M} at p=${p}: owner ${owner} has range [${start}, ${end})`);
        if (holders[g] !== 1) throw new Error(`key group ${g} of ${M} at p=${p} is in ${holders[g]} ranges`);
      }
      // Ranges differ in size by at most one.
      const sizes = ranges.map(([s, e]) => e - s);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }), { numRuns: 300 });
  });

  it('exhaustively for every p in 1..16 with the default max parallelism 128 and small max parallelisms', () => {
    for (const M of [1, 2, 3, 7, 16, 100, 128, 1000]) {
      for (let p = 1; p <= Math.min(16, M); p++) {
        const owned = new Array<number>(M).fill(0);
        for (let i = 0; i < p; i++) {
          const [s, e] = keyGroupRange(i, M, p);
          for (let g = s; g < e; g++) { owned[g]!++; expect(subtaskForKeyGroup(g, M, p)).toBe(i); }
        }
        expect(owned.every((n) => n === 1), `M=${M} p=${p}`).toBe(true);
      }
    }
  });

  it("matches Flink's formulas (KeyGroupRangeAssignment) on known values", () => {
    // computeOperatorIndexForKeyGroup(M=128, p=3, g) = g*p/M
    expect([0, 42, 43, 85, 86, 127].map((g) => subtaskForKeyGroup(g, 128, 3))).toEqual([0, 0, 1, 1, 2, 2]);
    // computeKeyGroupRangeForOperatorIndex(M=128, p=3, i) = [ceil(i*M/p), ceil((i+1)*M/p))
    expect([0, 1, 2].map((i) => keyGroupRange(i, 128, 3))).toEqual([[0, 43], [43, 86], [86, 128]]);
  });

  it('a key always reaches the subtask that owns its group, whatever the parallelism', () => {
    fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 16 }), (k, p) => {
      const g = keyGroupOf(k, 128);
      const [s, e] = keyGroupRange(subtaskForKeyGroup(g, 128, p), 128, p);
      expect(g >= s && g < e).toBe(true);
    }), { numRuns: 1000 });
  });
});
