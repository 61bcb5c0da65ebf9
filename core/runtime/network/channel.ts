import type { StreamElement } from '../elements';

/**
 * The two ends of a data channel between a producer subtask and a consumer subtask.
 *
 * Flow control is credit-based, whatever carries the channel: the consumer grants `capacity`
 * credits (one per element in flight); the producer spends one per element and waits when it has
 * none; the consumer returns a credit whenever it takes an element. Memory per channel is therefore
 * bounded by `capacity` elements (batches of at most `pipeline.batch-size` records).
 */
export interface OutputChannel {
  readonly id: string;
  send(element: StreamElement): void;
  /** False when the consumer has granted no credit left: the producer should wait. */
  readonly writable: boolean;
  whenWritable(): Promise<void>;
  close?(): void;
}

/**
 * Credits a consumer has taken at which its transport returns them at once, not at the end of the
 * turn (a quarter of the default window of 32): held to the end of a burst, the producer would sit
 * without credit while the consumer works, and the two would take turns.
 */
export const EAGER_CREDITS = 8;

/**
 * A batch the transport received but has not decoded: decoded when the input gate takes it, so its
 * records are made just before they are processed and die young (decoded on arrival, a window of
 * batches in flight outlives a minor GC and is promoted to the old generation).
 */
export type PendingRecords = () => StreamElement;

/** The consumer end: a queue filled by the transport, drained by the input gate. */
export class InputChannel {
  private readonly queue: Array<StreamElement | PendingRecords> = [];
  private head = 0;
  /** Called with the number of elements consumed, to return credit to the producer. */
  onConsumed: (n: number) => void = () => {};
  /** Called when the queue goes from empty to non-empty. */
  onAvailable: () => void = () => {};

  /**
   * `index`: its position in the task's input gate; `input`: which logical input of the task's head
   * operator it feeds (0, or 1 for the second input of a two-input operator).
   */
  constructor(readonly id: string, readonly index: number, readonly input = 0) {}

  push(element: StreamElement | PendingRecords): void {
    const wasEmpty = this.head === this.queue.length;
    this.queue.push(element);
    if (wasEmpty) this.onAvailable();
  }

  get available(): boolean { return this.head < this.queue.length; }
  get size(): number { return this.queue.length - this.head; }

  take(): StreamElement | undefined {
    if (this.head >= this.queue.length) return undefined;
    const queued = this.queue[this.head]!;
    const el = typeof queued === 'function' ? queued() : queued;
    this.queue[this.head] = undefined as unknown as StreamElement;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0; }
    this.onConsumed(1);
    return el;
  }
}

/** A channel between two subtasks of the same thread: elements pass by reference. */
export class LocalChannel implements OutputChannel {
  private credits: number;
  private waiters: Array<() => void> = [];

  constructor(readonly id: string, private readonly target: InputChannel, capacity = 8) {
    this.credits = capacity;
    target.onConsumed = (n) => {
      this.credits += n;
      if (this.waiters.length > 0) { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
    };
  }

  send(element: StreamElement): void {
    this.credits--;
    this.target.push(element);
  }

  get writable(): boolean { return this.credits > 0; }

  whenWritable(): Promise<void> {
    if (this.credits > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
