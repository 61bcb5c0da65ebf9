import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeBatch, encodeBatch, encodedBytes } from '../runtime/network/batch-codec';
import type { StreamElement } from '../runtime/elements';
import { RlinkError } from '../errors';
import {
  DATA_FRAME_VERSION, decodeFrame, decodeFrameHeader, encodeFrame, encodeBatchFrame, encodeCreditFrame,
  encodeElementFrame, encodeRecordsFrame, type PortMessage,
} from './data-frames';

/** The frame at byte offset `shift` of a larger buffer: misaligned for shift % 8 ≠ 0. */
function shifted(frame: Uint8Array, shift: number): Uint8Array {
  const big = new Uint8Array(frame.length + shift + 3);
  big.set(frame, shift);
  return big.subarray(shift, shift + frame.length);
}

function roundTripBatch(values: unknown[], timestamps: number[], shift = 0): { values: unknown[]; timestamps: number[] } {
  const b = encodeBatch(values, timestamps);
  const frame = shifted(encodeFrame('job#1/e1/0-1', { b }), shift);
  const got = decodeFrame(frame);
  expect(got.channelId).toBe('job#1/e1/0-1');
  if (!('b' in got.message)) throw new Error('not a batch');
  return decodeBatch(got.message.b);
}

function expectMalformed(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(RlinkError);
  expect((err as Error).message).toMatch(pattern);
}

const timestamp = fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.constant(-Infinity), fc.double());
const anyUnitString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const flatRecord = fc.record({
  key: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 10 }), anyUnitString),
  ts: fc.integer(),
  value: fc.double(),
  ok: fc.boolean(),
}, { noNullPrototype: true });

const element: fc.Arbitrary<StreamElement> = fc.oneof(
  fc.record({ kind: fc.constant('watermark' as const), timestamp: fc.oneof(fc.double(), fc.constantFrom(Infinity, -Infinity, -0)) }),
  fc.record({ kind: fc.constant('status' as const), idle: fc.boolean() }),
  fc.record({ kind: fc.constant('barrier' as const), checkpointId: fc.nat(), timestamp: fc.integer({ min: 0, max: 2 ** 42 }), savepoint: fc.boolean(), target: fc.string() }),
  fc.constant({ kind: 'end' as const }),
);

describe('data frames', () => {
  it('round-trips same-shaped record batches exactly, aligned or not', () => {
    fc.assert(fc.property(fc.array(flatRecord, { minLength: 1, maxLength: 60 }), fc.nat(15), (recs, shift) => {
      const ts = recs.map((r) => r.ts);
      const b = encodeBatch(recs, ts);
      expect(b.fields).toBeDefined(); // columnar, not the fallback
      const out = roundTripBatch(recs, ts, shift);
      expect(out.values).toEqual(recs);
      expect(out.timestamps).toEqual(ts);
    }));
  });

  it('encodes Latin-1 record batches straight into a frame that decodes to them; declines anything else', () => {
    const latin1Key = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 12 });
    const key = fc.oneof({ weight: 4, arbitrary: latin1Key }, { weight: 1, arbitrary: anyUnitString });
    const rec = fc.record({ key, ts: fc.integer(), value: fc.double(), ok: fc.boolean() }, { noNullPrototype: true });
    const numbersOnly = fc.record({ a: fc.double(), b: fc.integer() }, { noNullPrototype: true });
    // Long strings (written in bulk once a batch of their shape has shown them long): ASCII, Latin-1, wider.
    const longOf = (...units: string[]) => fc.string({ unit: fc.constantFrom(...units), minLength: 25, maxLength: 90 });
    const longText = fc.oneof({ weight: 12, arbitrary: longOf('a', 'b') }, { weight: 2, arbitrary: longOf('a', 'é') }, { weight: 1, arbitrary: longOf('a', '\u0100') });
    const longRec = fc.record({ text: longText, n: fc.integer() }, { noNullPrototype: true });
    const batch = fc.oneof(
      fc.array(rec, { minLength: 1, maxLength: 80 }),
      fc.array(longRec, { minLength: 1, maxLength: 30 }),
      fc.array(numbersOnly, { minLength: 1, maxLength: 20 }),
      fc.tuple(rec, numbersOnly).map(([a, b]) => [a, b] as unknown[]), // shapes differ: declined
    );
    fc.assert(fc.property(batch, fc.nat(15), (recs, shift) => {
      const ts = recs.map((_, i) => i * 3 - 1);
      const direct = encodeRecordsFrame('job#1/e1/0-1', recs, ts);
      const latin1 = recs.every((r) => typeof r === 'object' && r !== null && Object.keys(r).join() === Object.keys(recs[0] as object).join()
        && Object.values(r).every((v) => typeof v !== 'string' || /^[\x00-\xff]*$/.test(v)));
      expect(direct !== undefined).toBe(latin1);
      if (!direct) return;
      const got = decodeFrame(shifted(direct.frame, shift));
      if (!('b' in got.message)) throw new Error('not a batch');
      expect(decodeBatch(got.message.b)).toEqual({ values: recs, timestamps: ts });
      expect(direct.bytes).toBe(encodedBytes(encodeBatch(recs, ts))); // what the task counts as bytes out either way
    }));
  });

  it('keeps byte-order marks, NULs and astral characters in strings and channel ids', () => {
    const strs = ['\uFEFF', '\uFEFFa', '\u0000', '𝄞x', ''];
    expect(roundTripBatch(strs, strs.map(() => 0)).values).toEqual(strs);
    const recs = strs.map((s) => ({ s }));
    expect(roundTripBatch(recs, strs.map(() => 0), 1).values).toEqual(recs);
    expect(decodeFrame(encodeFrame('\uFEFFch🙂', { c: 1 })).channelId).toBe('\uFEFFch🙂');
  });

  it('round-trips bare strings (lone surrogates included) and numbers', () => {
    fc.assert(fc.property(fc.array(anyUnitString, { minLength: 1, maxLength: 40 }), fc.nat(9), (strs, shift) => {
      expect(roundTripBatch(strs, strs.map(() => 0), shift).values).toEqual(strs);
    }));
    fc.assert(fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 40 }), fc.array(timestamp, { minLength: 40, maxLength: 40 }), fc.nat(9), (nums, ts, shift) => {
      const t = ts.slice(0, nums.length);
      const out = roundTripBatch(nums, t, shift);
      expect(out.values).toEqual(nums);
      expect(out.timestamps).toEqual(t);
    }));
  });

  it('round-trips anything else through the structured fallback, exactly', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.date({ noInvalidDate: true })), { maxLength: 20 }), fc.nat(7), (vals, shift) => {
      const ts = vals.map(() => -Infinity);
      expect(roundTripBatch(vals, ts, shift).values).toEqual(vals);
    }));
    const odd = [{ a: undefined, b: NaN }, { a: -0, b: new Map([[1, { c: 2n }]]) }];
    const out = roundTripBatch(odd, [1, 2]).values as Array<Record<string, unknown>>;
    expect(out[0]).toHaveProperty('a', undefined);
    expect(Object.is(out[1]!.a, -0)).toBe(true);
    expect(out[1]!.b).toEqual(new Map([[1, { c: 2n }]]));
  });

  it('gives views on the received bytes when aligned, copies when not', () => {
    const recs = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, v: i }));
    const frame = encodeFrame('c', { b: encodeBatch(recs, recs.map((_, i) => i)) });
    const aligned = decodeFrame(frame).message as { b: { ts: Float64Array; nums: Float64Array; lens: Uint32Array } };
    expect(aligned.b.ts.buffer).toBe(frame.buffer);
    expect(aligned.b.nums.buffer).toBe(frame.buffer);
    expect(aligned.b.lens.buffer).toBe(frame.buffer);
    const moved = shifted(frame, 3);
    const copied = decodeFrame(moved).message as { b: { ts: Float64Array; nums: Float64Array } };
    expect(copied.b.ts.buffer).not.toBe(moved.buffer);
    expect(Array.from(copied.b.ts)).toEqual(recs.map((_, i) => i));
  });

  it('round-trips elements, ±Infinity watermarks and -0 included', () => {
    fc.assert(fc.property(element, fc.string({ maxLength: 30 }), (e, channel) => {
      const got = decodeFrame(encodeFrame(channel, { e }));
      expect(got.channelId).toBe(channel);
      expect(got.message).toEqual({ e });
    }));
    for (const t of [Infinity, -Infinity]) {
      const m = decodeFrame(encodeElementFrame('x', { kind: 'watermark', timestamp: t })).message as { e: { timestamp: number } };
      expect(m.e.timestamp).toBe(t);
    }
    const nan = decodeFrame(encodeElementFrame('x', { kind: 'watermark', timestamp: NaN })).message as { e: { timestamp: number } };
    expect(Number.isNaN(nan.e.timestamp)).toBe(true);
  });

  it('round-trips credits over the whole uint32 range', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.nat(7), (c, channel, shift) => {
      const got = decodeFrame(shifted(encodeFrame(channel, { c }), shift));
      expect(got).toEqual({ channelId: channel, message: { c } satisfies PortMessage });
    }));
    expect(() => encodeCreditFrame('x', -1)).toThrow(RlinkError);
    expect(() => encodeCreditFrame('x', 2 ** 32)).toThrow(RlinkError);
    expect(() => encodeCreditFrame('x', 1.5)).toThrow(RlinkError);
  });

  it('refuses to frame records as an element', () => {
    expect(() => encodeFrame('x', { e: { kind: 'records', values: [], timestamps: [] } })).toThrow(/batch frames/);
  });

  it('reads the header alone, for routing', () => {
    const f = encodeFrame('job#2/e/1-0', { c: 7 });
    expect(decodeFrameHeader(f)).toEqual({ version: DATA_FRAME_VERSION, kind: 'credit', channelId: 'job#2/e/1-0', bodyOffset: 6 + 11 });
  });

  it('rejects wrong magic, unknown versions and unknown kinds with a clear error', () => {
    const f = encodeFrame('c', { c: 1 });
    const bad = (mutate: (b: Buffer) => void): Buffer => { const b = Buffer.from(f); mutate(b); return b; };
    expectMalformed(() => decodeFrame(bad((b) => { b[0] = 0x58; })), /bad magic/);
    expectMalformed(() => decodeFrame(bad((b) => { b[2] = DATA_FRAME_VERSION + 1; })), new RegExp(`version ${DATA_FRAME_VERSION + 1} is not supported`));
    expectMalformed(() => decodeFrame(bad((b) => { b[2] = 0; })), /version 0 is not supported/);
    expectMalformed(() => decodeFrame(bad((b) => { b[3] = 9; })), /unknown frame kind 9/);
  });

  it('rejects every truncation and any trailing bytes of every kind of frame', () => {
    const frames = [
      encodeFrame('job#1/a/0-0', { c: 3 }),
      encodeFrame('job#1/a/0-0', { e: { kind: 'watermark', timestamp: Infinity } }),
      encodeFrame('job#1/a/0-0', { b: encodeBatch([{ k: 'a', v: 1 }, { k: 'bé', v: 2 }], [1, 2]) }),
      encodeFrame('job#1/a/0-0', { b: encodeBatch(['x', 'yz'], [1, 2]) }),
      encodeFrame('job#1/a/0-0', { b: encodeBatch([{ nested: [1] }, 2], [1, 2]) }),
    ];
    for (const f of frames) {
      for (let len = 0; len < f.length; len++) expect(() => decodeFrame(f.subarray(0, len))).toThrow(RlinkError);
      expect(() => decodeFrame(Buffer.concat([f, Buffer.from([0])]))).toThrow(RlinkError);
    }
  });

  it('never throws anything but an RlinkError on random or corrupted bytes', () => {
    const good = [
      encodeFrame('ch', { b: encodeBatch([{ k: 'a', v: 1, t: true }, { k: 'b', v: 2, t: false }], [1, 2]) }),
      encodeFrame('ch', { b: encodeBatch([[1], { x: 2 }], [1, 2]) }),
      encodeFrame('ch', { e: { kind: 'barrier', checkpointId: 3, timestamp: 4, savepoint: false, target: '/tmp/chk-3' } }),
    ];
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try { decodeFrame(bytes); } catch (e) { expect(e).toBeInstanceOf(RlinkError); }
    }));
    fc.assert(fc.property(fc.constantFrom(...good), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), (f, flips) => {
      const b = Buffer.from(f);
      for (const [i, v] of flips) b[i % b.length] = v;
      try { decodeFrame(b); } catch (e) { expect(e).toBeInstanceOf(RlinkError); }
    }));
  });

  it('rejects batch headers whose lengths do not add up', () => {
    // A hand-made frame: header JSON claiming 2 records of 1 numeric column but nums of length 3.
    const make = (header: object, body: Uint8Array): Buffer => {
      const id = Buffer.from('c');
      const json = Buffer.from(JSON.stringify(header));
      const head = Buffer.alloc(6 + id.length + 4);
      head.write('RL', 0, 'latin1'); head[2] = DATA_FRAME_VERSION; head[3] = 1; head.writeUInt16LE(id.length, 4); id.copy(head, 6);
      head.writeUInt32LE(json.length, 6 + id.length);
      const upTo = head.length + json.length;
      return Buffer.concat([head, json, Buffer.alloc(((upTo + 7) & ~7) - upTo), body]);
    };
    const body = new Uint8Array(8 * 5);
    expect(decodeFrame(make({ n: 2, primitive: 'n', nl: 2 }, body.subarray(0, 32))).message).toHaveProperty('b.n', 2);
    expectMalformed(() => decodeFrame(make({ n: 2, primitive: 'n', nl: 3 }, body)), /nums do not match/);
    expectMalformed(() => decodeFrame(make({ n: -1, primitive: 'n', nl: 0 }, body)), /n is not a count/);
    expectMalformed(() => decodeFrame(make({ n: 1, fields: ['__proto__'], types: 'n', nl: 1 }, body.subarray(0, 16))), /reserved field/);
    expectMalformed(() => decodeFrame(make({ n: 1, fields: ['a'], types: 'x', nl: 1 }, body.subarray(0, 16))), /types/);
    // lens that add up to more than the strings: a consumer would slice past them.
    const lens = new Uint8Array(8 + 8); // ts (8), lens u32 (4) + pad (4)
    new DataView(lens.buffer).setUint32(8, 5, true);
    expectMalformed(() => decodeFrame(make({ n: 1, primitive: 's', ll: 1, sl: 1, sb: 1, se: 'u8' }, Buffer.concat([lens, Buffer.from('a')]))), /add up to 5, not 1/);
    expectMalformed(() => decodeFrame(make({ n: 1, vb: 3 }, Buffer.concat([Buffer.alloc(8), Buffer.from([1, 2, 3])]))), /values/);
    expectMalformed(() => decodeFrame(make([1, 2], body)), /not an object/);
  });

  it('encodes a 1024-record batch compactly, typed arrays 8-aligned', () => {
    const recs = Array.from({ length: 1024 }, (_, i) => ({ key: `key-${i % 1000}`, ts: 1_700_000_000_000 + i, value: i % 97 }));
    const b = encodeBatch(recs, recs.map((r) => r.ts));
    const f = encodeBatchFrame('job#1/e/0-0', b);
    expect(f.length).toBeLessThan(1024 * (8 + 16 + 4 + 8) + 200);
    const got = decodeFrame(f).message as { b: { ts: Float64Array; nums: Float64Array; lens: Uint32Array } };
    expect(got.b.ts.byteOffset % 8).toBe(0);
    expect(got.b.nums.byteOffset % 8).toBe(0);
    expect(decodeBatch(got.b as never).values).toEqual(recs);
  });
});
