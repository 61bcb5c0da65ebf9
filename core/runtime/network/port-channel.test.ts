import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MessageChannel } from 'node:worker_threads';
import { InputChannel } from './channel';
import { PortOutputChannel, bindPortInput } from './port-channel';
import type { StreamElement } from '../elements';

/**
 * The cross-thread channel against its own input: whatever is sent (records of one or several shapes,
 * batches that do not fit the ring, records that break their batch's shape, other elements between
 * them) comes out in order and equal, with rings small enough that entries wrap round and fill up.
 */
const flat = fc.record({
  key: fc.string({ unit: fc.oneof(fc.constant('é'), fc.constant('\ud800'), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 12 }),
  value: fc.oneof(fc.integer(), fc.double()),
  ok: fc.boolean(),
}, { noNullPrototype: true });
const other = fc.record({ id: fc.integer(), name: fc.string({ maxLength: 4 }) }, { noNullPrototype: true });
/** Long strings (written in bulk, not a character at a time): ASCII, Latin-1 or wider. */
const long = fc.record({
  text: fc.string({ unit: fc.oneof(fc.constantFrom('a', 'b', 'é', 'ÿ'), fc.constant('\u0100'), fc.constant('\ud800')), minLength: 25, maxLength: 90 }),
  n: fc.integer(),
}, { noNullPrototype: true });
const asciiLong = fc.record({ text: fc.string({ unit: fc.constantFrom('x', 'y', 'z'), minLength: 25, maxLength: 90 }), n: fc.integer() }, { noNullPrototype: true });

const batchOf = fc.oneof(
  { weight: 4, arbitrary: fc.array(flat, { minLength: 1, maxLength: 80 }) },
  { weight: 2, arbitrary: fc.array(other, { minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: asciiLong }, { weight: 1, arbitrary: long }), { minLength: 1, maxLength: 30 }) },
  // A batch whose later record breaks the first one's shape: the ring refuses it, postMessage carries it.
  { weight: 1, arbitrary: fc.tuple(flat, other).map(([a, b]) => [a, b] as unknown[]) },
);
const step = fc.oneof(
  { weight: 6, arbitrary: batchOf.map((values) => ({ kind: 'records' as const, values, timestamps: values.map((_, i) => i * 7 - 3) })) },
  { weight: 1, arbitrary: fc.integer().map((t) => ({ kind: 'watermark' as const, timestamp: t })) },
  { weight: 2, arbitrary: fc.constant('drain' as const) },
);

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !f(); i++) await new Promise((r) => setImmediate(r));
  if (!f()) throw new Error('timed out waiting for the consumer');
}

describe('cross-thread port channel with a shared ring', () => {
  it('delivers every element in order and equal, through wraps, full rings and fallbacks', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.constantFrom(1024, 4096, 16384), async (steps, ringBytes) => {
      const { port1, port2 } = new MessageChannel();
      const out = new PortOutputChannel('c', port1, 1_000, ringBytes);
      const input = new InputChannel('c', 0);
      const got: StreamElement[] = [];
      let bytesIn = 0, bytesOut = 0;
      out.onBytes = (n) => { bytesOut += n; };
      input.onAvailable = () => { for (let e = input.take(); e; e = input.take()) got.push(e); };
      bindPortInput(port2, input, (n) => { bytesIn += n; });
      const sent: StreamElement[] = [];
      try {
        for (const s of steps) {
          if (s === 'drain') { await until(() => got.length === sent.length); continue; }
          out.send(s);
          sent.push(s);
        }
        await until(() => got.length === sent.length);
        expect(got).toEqual(sent);
        expect(bytesIn).toBe(bytesOut);
      } finally { port1.close(); port2.close(); }
    }), { numRuns: 150 });
  });

  it('carries same-shaped batches through the ring, not postMessage, and reuses its space', async () => {
    const { port1, port2 } = new MessageChannel();
    const out = new PortOutputChannel('c', port1, 1_000, 4096);
    const input = new InputChannel('c', 0);
    const got: unknown[] = [];
    input.onAvailable = () => { for (let e = input.take(); e; e = input.take()) if (e.kind === 'records') got.push(...e.values); };
    const kinds: string[] = [];
    port2.on('message', (m: unknown) => { kinds.push(typeof m === 'number' ? 'entry' : Object.keys(m as object)[0]!); });
    bindPortInput(port2, input);
    try {
      const sent: unknown[] = [];
      for (let k = 0; k < 100; k++) { // 100 batches of ~600 bytes through 4 KiB: the ring wraps many times
        const values = Array.from({ length: 10 }, (_, i) => ({ key: `k${k}-${i}`, v: k * 10 + i }));
        out.send({ kind: 'records', values, timestamps: values.map((r) => r.v) });
        sent.push(...values);
        await until(() => got.length === sent.length);
      }
      expect(got).toEqual(sent);
      expect(kinds.filter((k) => k === 'entry')).toHaveLength(100);
      expect(kinds.filter((k) => k === 'b')).toHaveLength(0);
      expect(kinds.filter((k) => k === 'ring')).toHaveLength(1);
    } finally { port1.close(); port2.close(); }
  });

  it('writes Latin-1 strings a byte a character and others as UTF-16, both read back equal', async () => {
    const { port1, port2 } = new MessageChannel();
    const out = new PortOutputChannel('c', port1, 1_000, 1 << 16);
    const input = new InputChannel('c', 0);
    const got: unknown[][] = [];
    input.onAvailable = () => { for (let e = input.take(); e; e = input.take()) if (e.kind === 'records') got.push(e.values); };
    const bytes: number[] = [];
    out.onBytes = (n) => { bytes.push(n); };
    bindPortInput(port2, input);
    try {
      const latin1 = Array.from({ length: 64 }, (_, i) => ({ key: `clé-${i}-\u00ff`, v: i }));
      const wide = Array.from({ length: 64 }, (_, i) => ({ key: `clé-${i}-\u0100`, v: i })); // same length, one char above U+00FF
      for (const values of [latin1, wide, latin1]) out.send({ kind: 'records', values, timestamps: values.map((r) => r.v) });
      await until(() => got.length === 3);
      expect(got).toEqual([latin1, wide, latin1]);
      const chars = latin1.reduce((n, r) => n + r.key.length, 0);
      expect(bytes[1]! - bytes[0]!).toBeGreaterThanOrEqual(chars - 8); // UTF-16 takes about a byte more per character
      expect(bytes[2]).toBe(bytes[0]);
    } finally { port1.close(); port2.close(); }
  });
});
