import type { InputChannel } from './channel';
import { MAX_WATERMARK, MIN_WATERMARK, type BarrierElement } from '../elements';
import type { Mailbox } from '../mailbox';

/**
 * What the gate hands the task: records, or a change of an input's combined time/status, or a control
 * event. `input` is the logical input (0, or 1 for a two-input operator's second) it concerns.
 */
export type GateEvent =
  | { kind: 'records'; values: unknown[]; timestamps: number[]; input: number }
  | { kind: 'watermark'; timestamp: number; input: number }
  | { kind: 'status'; idle: boolean; input: number }
  | { kind: 'barrier'; barrier: BarrierElement }
  | { kind: 'end' }
  | { kind: 'mail'; run: () => void };

interface ChannelState { watermark: number; idle: boolean; ended: boolean; blocked: boolean }

/**
 * Merges a task's input channels (Flink's input gate + a StatusWatermarkValve per input + barrier
 * aligner). Channels belong to logical inputs (one, or two for a two-input operator); time and status
 * are per input, and a two-input operator combines its two (core/runtime/operators/two-input.ts).
 *
 * - An input's watermark is the minimum over its channels that are active and not ended; idle channels
 *   do not hold it back; it never decreases.
 * - When every live channel of an input is idle, the input is idle (and active again when one resumes).
 * - Aligned checkpoints: a channel that delivered barrier n is blocked until every live channel has
 *   delivered it; then the barrier is handed on once.
 * - End of input once every channel ended.
 *
 * Mails (timer callbacks) are served first, so the task runs them between batches, never during one.
 */
export class InputGate {
  private readonly state: ChannelState[];
  private rr = 0;
  /** Per logical input: its combined watermark, whether it is idle. */
  private readonly combined: number[];
  private readonly idleOut: boolean[];
  private readonly inputs: number;
  private endedCount = 0;
  private endDelivered = false;
  private pendingBarrier: BarrierElement | undefined;
  private barrierSeen = 0;
  /** Events decided but not yet handed out (records that arrived with a status change). */
  private readonly deferred: GateEvent[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(readonly channels: InputChannel[], private readonly mailbox: Mailbox) {
    this.state = channels.map(() => ({ watermark: MIN_WATERMARK, idle: false, ended: false, blocked: false }));
    for (const c of channels) c.onAvailable = () => this.signal();
    this.inputs = Math.max(1, ...channels.map((c) => c.input + 1));
    this.combined = new Array<number>(this.inputs).fill(MIN_WATERMARK);
    this.idleOut = new Array<boolean>(this.inputs).fill(false);
  }

  /** The lowest of the inputs' watermarks. */
  get watermark(): number { return Math.min(...this.combined); }

  /** Wakes a waiting `next()` so the task can notice cancellation. */
  interrupt(): void { this.closed = true; this.signal(); this.mailbox.wake(); }

  private signal(): void {
    const w = this.wake;
    if (w) { this.wake = undefined; w(); }
  }

  async next(): Promise<GateEvent | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const ev = this.poll();
      if (ev) return ev;
      await Promise.race([new Promise<void>((resolve) => { this.wake = resolve; }), this.mailbox.whenNotEmpty()]);
      this.wake = undefined;
    }
  }

  /** The next event without waiting, if one is ready. */
  poll(): GateEvent | undefined {
    const mail = this.mailbox.take();
    if (mail) return { kind: 'mail', run: mail };
    if (this.deferred.length > 0) return this.deferred.shift();
    const n = this.channels.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const st = this.state[i]!;
      const ch = this.channels[i]!;
      while (!st.blocked && ch.available) {
        const el = ch.take()!;
        switch (el.kind) {
          case 'records': {
            this.rr = (i + 1) % n;
            const records: GateEvent = { kind: 'records', values: el.values, timestamps: el.timestamps, input: ch.input };
            if (st.idle) {
              st.idle = false;
              const s = this.statusChange(ch.input);
              if (s) { this.deferred.push(records); return s; }
            }
            return records;
          }
          case 'watermark': {
            if (el.timestamp > st.watermark) st.watermark = el.timestamp;
            const ev = this.advance(ch.input);
            if (ev) return ev;
            break;
          }
          case 'status': {
            st.idle = el.idle;
            const events: GateEvent[] = [];
            const s = this.statusChange(ch.input);
            if (s) events.push(s);
            const ev = this.advance(ch.input);
            if (ev) events.push(ev);
            if (events.length > 0) { this.deferred.push(...events.slice(1)); return events[0]; }
            break;
          }
          case 'barrier': {
            const ev = this.onBarrier(i, el);
            if (ev) return ev;
            break;
          }
          case 'end': {
            st.ended = true;
            st.watermark = MAX_WATERMARK;
            this.endedCount++;
            // Ending may complete an alignment, advance the watermark and end the input, in that order.
            const events: GateEvent[] = [];
            const b = this.checkAligned();
            if (b) events.push(b);
            const ev = this.advance(ch.input);
            if (ev) events.push(ev);
            if (this.endedCount === n && !this.endDelivered) { this.endDelivered = true; events.push({ kind: 'end' }); }
            if (events.length > 0) { this.deferred.push(...events.slice(1)); return events[0]; }
            break;
          }
        }
      }
    }
    if (n === 0 && !this.endDelivered) { this.endDelivered = true; return { kind: 'end' }; }
    return undefined;
  }

  /** Input `k`'s watermark, if it advanced. */
  private advance(k: number): GateEvent | undefined {
    let min = MAX_WATERMARK;
    let live = false;
    let ended = true;
    for (let i = 0; i < this.state.length; i++) {
      if (this.channels[i]!.input !== k) continue;
      const st = this.state[i]!;
      if (!st.ended) ended = false;
      if (st.ended || st.idle) continue;
      live = true;
      if (st.watermark < min) min = st.watermark;
    }
    if (!live) {
      // All ended: +∞. All idle: nothing to say.
      if (ended && this.combined[k]! < MAX_WATERMARK) { this.combined[k] = MAX_WATERMARK; return { kind: 'watermark', timestamp: MAX_WATERMARK, input: k }; }
      return undefined;
    }
    if (min > this.combined[k]!) { this.combined[k] = min; return { kind: 'watermark', timestamp: min, input: k }; }
    return undefined;
  }

  /** Input `k`'s status, if it changed. */
  private statusChange(k: number): GateEvent | undefined {
    let live = 0;
    let allIdle = true;
    for (let i = 0; i < this.state.length; i++) {
      if (this.channels[i]!.input !== k) continue;
      const st = this.state[i]!;
      if (st.ended) continue;
      live++;
      if (!st.idle) allIdle = false;
    }
    const idle = live > 0 && allIdle;
    if (idle !== this.idleOut[k]) { this.idleOut[k] = idle; return { kind: 'status', idle, input: k }; }
    return undefined;
  }

  private onBarrier(i: number, b: BarrierElement): GateEvent | undefined {
    if (!this.pendingBarrier || b.checkpointId > this.pendingBarrier.checkpointId) {
      // A newer checkpoint overtakes an unfinished alignment: Flink aborts the older one.
      for (const st of this.state) st.blocked = false;
      this.pendingBarrier = b;
      this.barrierSeen = 0;
    } else if (b.checkpointId < this.pendingBarrier.checkpointId) return undefined;
    this.state[i]!.blocked = true;
    this.barrierSeen++;
    return this.checkAligned();
  }

  private checkAligned(): GateEvent | undefined {
    const b = this.pendingBarrier;
    if (!b) return undefined;
    const waiting = this.state.some((s) => !s.ended && !s.blocked);
    if (waiting) return undefined;
    for (const st of this.state) st.blocked = false;
    this.pendingBarrier = undefined;
    return { kind: 'barrier', barrier: b };
  }
}

