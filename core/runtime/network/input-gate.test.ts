import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { InputChannel } from './channel';
import { InputGate, type GateEvent } from './input-gate';
import { Mailbox } from '../mailbox';
import type { StreamElement } from '../elements';

function gateOf(n: number): { gate: InputGate; channels: InputChannel[] } {
  const channels = Array.from({ length: n }, (_, i) => new InputChannel(`c${i}`, i));
  return { gate: new InputGate(channels, new Mailbox()), channels };
}

function drain(gate: InputGate): GateEvent[] {
  const out: GateEvent[] = [];
  for (let e = gate.poll(); e; e = gate.poll()) out.push(e);
  return out;
}

describe('InputGate', () => {
  it('emits as watermark the minimum over live, non-idle channels, never going back (vs brute force)', () => {
    const step = fc.record({ ch: fc.nat(3), kind: fc.constantFrom('wm', 'wm', 'wm', 'idle', 'active'), by: fc.nat(20) });
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 60 }), (n, steps) => {
      const { gate, channels } = gateOf(n);
      const wm = new Array<number>(n).fill(-Infinity);
      const idle = new Array<boolean>(n).fill(false);
      let expected = -Infinity;
      let emitted = -Infinity;
      for (const s of steps) {
        const c = s.ch % n;
        let el: StreamElement;
        if (s.kind === 'wm') {
          if (idle[c]) continue; // an idle channel sends no watermarks (it says 'active' first)
          wm[c] = (wm[c] === -Infinity ? 0 : wm[c]!) + s.by;
          el = { kind: 'watermark', timestamp: wm[c]! };
        } else { idle[c] = s.kind === 'idle'; el = { kind: 'status', idle: idle[c]! }; }
        channels[c]!.push(el);
        for (const e of drain(gate)) if (e.kind === 'watermark') { expect(e.timestamp).toBeGreaterThan(emitted); emitted = e.timestamp; }
        const live = wm.filter((_, i) => !idle[i]);
        if (live.length > 0) expected = Math.max(expected, Math.min(...live));
        expect(emitted).toBe(expected === -Infinity ? -Infinity : expected);
      }
    }), { numRuns: 300 });
  });

  it('reports idle when every channel is idle, active when one resumes, then the records', () => {
    const { gate, channels } = gateOf(2);
    channels[0]!.push({ kind: 'status', idle: true });
    expect(drain(gate)).toEqual([]);
    channels[1]!.push({ kind: 'status', idle: true });
    expect(drain(gate)).toEqual([{ kind: 'status', idle: true, input: 0 }]);
    channels[0]!.push({ kind: 'records', values: [1], timestamps: [5] });
    expect(drain(gate)).toEqual([{ kind: 'status', idle: false, input: 0 }, { kind: 'records', values: [1], timestamps: [5], input: 0 }]);
  });

  it('aligns barriers: a channel that delivered the barrier is blocked until all have', () => {
    const { gate, channels } = gateOf(2);
    const barrier = { kind: 'barrier' as const, checkpointId: 1, timestamp: 0, savepoint: false, target: '/tmp/chk-1' };
    channels[0]!.push(barrier);
    channels[0]!.push({ kind: 'records', values: ['after'], timestamps: [0] });
    channels[1]!.push({ kind: 'records', values: ['before'], timestamps: [0] });
    const first = drain(gate);
    expect(first).toEqual([{ kind: 'records', values: ['before'], timestamps: [0], input: 0 }]);
    channels[1]!.push(barrier);
    expect(drain(gate)).toEqual([{ kind: 'barrier', barrier }, { kind: 'records', values: ['after'], timestamps: [0], input: 0 }]);
  });

  it('ends after every channel ended, with a final +∞ watermark first', () => {
    const { gate, channels } = gateOf(2);
    channels[0]!.push({ kind: 'watermark', timestamp: 10 });
    channels[0]!.push({ kind: 'end' });
    expect(drain(gate)).toEqual([]);
    channels[1]!.push({ kind: 'end' });
    expect(drain(gate)).toEqual([{ kind: 'watermark', timestamp: Infinity, input: 0 }, { kind: 'end' }]);
  });

  it('keeps time and status per logical input: each input\'s watermark is the minimum over its own channels', () => {
    // Channels 0 and 1 feed input 0, channel 2 input 1 (a two-input operator's second input).
    const channels = [new InputChannel('a0', 0, 0), new InputChannel('a1', 1, 0), new InputChannel('b0', 2, 1)];
    const gate = new InputGate(channels, new Mailbox());
    channels[2]!.push({ kind: 'watermark', timestamp: 50 });
    expect(drain(gate)).toEqual([{ kind: 'watermark', timestamp: 50, input: 1 }]);
    channels[0]!.push({ kind: 'watermark', timestamp: 10 });
    expect(drain(gate)).toEqual([]); // input 0 still waits for a1
    channels[1]!.push({ kind: 'watermark', timestamp: 20 });
    expect(drain(gate)).toEqual([{ kind: 'watermark', timestamp: 10, input: 0 }]);
    expect(gate.watermark).toBe(10);
    channels[2]!.push({ kind: 'status', idle: true });
    expect(drain(gate)).toEqual([{ kind: 'status', idle: true, input: 1 }]);
    channels[2]!.push({ kind: 'records', values: ['b'], timestamps: [60] });
    channels[0]!.push({ kind: 'records', values: ['a'], timestamps: [30] });
    expect(drain(gate)).toEqual([
      { kind: 'records', values: ['a'], timestamps: [30], input: 0 },
      { kind: 'status', idle: false, input: 1 }, { kind: 'records', values: ['b'], timestamps: [60], input: 1 },
    ]);
    channels[2]!.push({ kind: 'end' });
    expect(drain(gate)).toEqual([{ kind: 'watermark', timestamp: Infinity, input: 1 }]);
    channels[0]!.push({ kind: 'end' });
    channels[1]!.push({ kind: 'end' });
    // a0 ended: input 0's minimum is a1's 20; then a1 ended too: +∞, and the end of all input.
    expect(drain(gate)).toEqual([{ kind: 'watermark', timestamp: 20, input: 0 }, { kind: 'watermark', timestamp: Infinity, input: 0 }, { kind: 'end' }]);
  });

  it('serves mails before data', async () => {
    const mailbox = new Mailbox();
    const ch = new InputChannel('c', 0);
    const gate = new InputGate([ch], mailbox);
    ch.push({ kind: 'records', values: [1], timestamps: [0] });
    let ran = false;
    mailbox.put(() => { ran = true; });
    const e = await gate.next();
    expect(e?.kind).toBe('mail');
    if (e?.kind === 'mail') e.run();
    expect(ran).toBe(true);
    expect((await gate.next())?.kind).toBe('records');
  });
});
