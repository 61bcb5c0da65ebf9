import type { InputChannel } from './channel';
import { MAX_WATERMARK, MIN_WATERMARK, type BarrierElement } from '../elements';
import type { Mailbox } from '../mailbox';

/** What the gate hands the task: records, or a change of the combined time/status, or a control event. */
export type GateEvent =
  | { kind: 'records'; values: unknown[]; timestamps: number[] }
  | { kind: 'watermark'; timestamp: number }
  | { kind: 'status'; idle: boolean }
  | { kind: 'barrier'; barrier: BarrierElement }
  | { kind: 'end' }
  | { kind: 'mail'; run: () => void };

interface ChannelState { watermark: number; idle: boolean; ended: boolean; blocked: boolean }

/**
 * Merges a task's input channels (Flink's input gate + StatusWatermarkValve + barrier aligner).
 *
 * - The task's watermark is the minimum over channels that are active and not ended; idle channels do
 *   not hold it back; it never decreases.
 * - When every live channel is idle, the task is idle (and active again when one resumes).
 * - Aligned checkpoints: a channel that delivered barrier n is blocked until every live channel has
 *   delivered it; then the barrier is handed on once.
 * - End of input once every channel ended.
 *
 * Mails (timer callbacks) are served first, so the task runs them between batches, never during one.
 */
export class InputGate {
  private readonly state: ChannelState[];
  private rr = 0;
  private combined = MIN_WATERMARK;
  private idleOut = false;
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
  }

  get watermark(): number { return this.combined; }

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
          case 'records':
            this.rr = (i + 1) % n;
            if (st.idle) {
              st.idle = false;
              const s = this.statusChange();
              if (s) { this.deferred.push({ kind: 'records', values: el.values, timestamps: el.timestamps }); return s; }
            }
            return { kind: 'records', values: el.values, timestamps: el.timestamps };
          case 'watermark': {
            if (el.timestamp > st.watermark) st.watermark = el.timestamp;
            const ev = this.advance();
            if (ev) return ev;
            break;
          }
          case 'status': {
            st.idle = el.idle;
            const events: GateEvent[] = [];
            const s = this.statusChange();
            if (s) events.push(s);
            const ev = this.advance();
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
            const ev = this.advance();
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

  private advance(): GateEvent | undefined {
    let min = MAX_WATERMARK;
    let live = false;
    for (const st of this.state) {
      if (st.ended || st.idle) continue;
      live = true;
      if (st.watermark < min) min = st.watermark;
    }
    if (!live) {
      // All ended: +∞. All idle: nothing to say.
      if (this.endedCount === this.state.length && this.combined < MAX_WATERMARK) { this.combined = MAX_WATERMARK; return { kind: 'watermark', timestamp: MAX_WATERMARK }; }
      return undefined;
    }
    if (min > this.combined) { this.combined = min; return { kind: 'watermark', timestamp: min }; }
    return undefined;
  }

  private statusChange(): GateEvent | undefined {
    const liveCount = this.state.filter((s) => !s.ended).length;
    const allIdle = liveCount > 0 && this.state.every((s) => s.ended || s.idle);
    if (allIdle !== this.idleOut) { this.idleOut = allIdle; return { kind: 'status', idle: allIdle }; }
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

