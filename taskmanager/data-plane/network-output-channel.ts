import type { OutputChannel } from '../../core/runtime/network/channel';
import type { StreamElement } from '../../core/runtime/elements';
import { encodeBatch, encodedBytes } from '../../core/runtime/network/batch-codec';
import { encodeBatchFrame, encodeElementFrame, encodeRecordsFrame } from '../../core/protocol/data-frames';
import { FramePool } from './frame-pool';

/**
 * The producer end of a channel to a subtask on another task manager: elements become data frames
 * written straight to the worker's socket (data-frames.ts; no other thread on the way). Flow control
 * is the same credit window as every channel's: one credit per element, granted back by the consumer
 * in credit frames.
 */
export class NetworkOutputChannel implements OutputChannel {
  private credits: number;
  private waiters: Array<() => void> = [];
  /** Memory of record frames, reused once written (a window of credits' worth is in flight at most). */
  private readonly frames: FramePool;
  /** Counts the bytes of the batches sent (the task's bytesOut). */
  onBytes: (n: number) => void = () => {};

  constructor(
    readonly id: string,
    /** The channel's id on the wire (attempt-scoped). */
    readonly wireId: string,
    /** Writes a frame; calls `written` once the socket has written it (never, if the connection is lost). */
    private readonly sendFrame: (frame: Buffer, written?: () => void) => void,
    capacity = 32,
  ) {
    this.credits = capacity;
    this.frames = new FramePool(Math.max(4, capacity));
  }

  send(element: StreamElement): void {
    this.credits--;
    if (element.kind === 'records') {
      // Same-shaped flat records with Latin-1 strings are encoded straight into their frame; others take the general codec.
      const direct = encodeRecordsFrame(this.wireId, element.values, element.timestamps, this.frames);
      if (direct) {
        this.onBytes(direct.bytes);
        const frame = direct.frame;
        this.sendFrame(frame, () => this.frames.give(frame));
        return;
      }
      const b = encodeBatch(element.values, element.timestamps);
      this.onBytes(encodedBytes(b));
      this.sendFrame(encodeBatchFrame(this.wireId, b));
    } else this.sendFrame(encodeElementFrame(this.wireId, element));
  }

  /** `n` credits from the consumer. */
  grant(n: number): void {
    this.credits += n;
    if (this.waiters.length > 0) { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  }

  get writable(): boolean { return this.credits > 0; }

  whenWritable(): Promise<void> {
    if (this.credits > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
