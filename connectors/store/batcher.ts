/**
 * Batching for the store sinks: records are buffered and written in batches of `batchSize`, or when
 * the oldest buffered record has waited `flushIntervalMs`, one batch at a time (so the store sees a
 * subtask's records in order). While a batch is being written the next one fills; once a full batch
 * waits behind it, `add` returns a promise (backpressure: the task takes no more input until the
 * store has caught up).
 *
 *   add(records) ──▶ buffer ──(batchSize reached, or flushInterval after the first record)──▶ flush(batch)
 *   drain()      ──▶ everything buffered is flushed and written (a checkpoint, the end of input)
 *
 * A flush that fails (after the sink's own retries) is kept: the next `add` or `drain` throws it.
 */
export interface BatcherOptions<R> {
  batchSize: number;
  flushIntervalMs: number;
  /** Writes one batch (at most `batchSize` records); rejects when the batch could not be written. */
  flush: (batch: R[]) => Promise<void>;
  /**
   * Whether batches may be written now (default: always). While false, records only accumulate and
   * `add` never waits: a transactional sink holds its writes back until its prepared transactions are
   * committed (their locks would otherwise block the writes, and the task, which must go on to take
   * the "checkpoint complete" that commits them). `drain` writes regardless.
   */
  canFlush?: () => boolean;
}

export class Batcher<R> {
  private buffer: R[] = [];
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private error: unknown;
  private closed = false;

  constructor(private readonly o: BatcherOptions<R>) {}

  /** Records waiting to be written. */
  get size(): number { return this.buffer.length; }

  /** The failure of an earlier flush, if any. */
  get failure(): unknown { return this.error; }

  add(records: readonly R[]): Promise<void> | void {
    if (this.error !== undefined) throw this.error;
    if (records.length === 0) return;
    for (const r of records) this.buffer.push(r);
    if (this.buffer.length >= this.o.batchSize) this.kick(false);
    else this.arm();
    if (this.running && this.buffer.length >= this.o.batchSize) return this.running.then(() => this.check());
  }

  /** Writes everything buffered, waiting for the batch in flight first; throws a failed flush. */
  async drain(): Promise<void> {
    this.disarm();
    for (let i = 0; this.running && i < 1_000_000; i++) await this.running;
    this.check();
    if (this.buffer.length > 0) {
      this.running = this.loop(true);
      await this.running;
    }
    this.check();
  }

  /** Tries to write what is due now (e.g. once `canFlush` has become true again). */
  poke(): void {
    if (this.buffer.length >= this.o.batchSize) this.kick(false);
    else if (this.buffer.length > 0) this.arm();
  }

  /** Drops what is buffered and stops the timer (a batch in flight is awaited). */
  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    this.buffer = [];
    await this.running?.catch(() => undefined);
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.kick(true); }, this.o.flushIntervalMs);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Starts writing (unless a batch is in flight, or writing is held back); `all`: the partial batch too. */
  private kick(all: boolean): void {
    if (this.running || this.closed || this.error !== undefined) return;
    if (this.o.canFlush && !this.o.canFlush()) return;
    this.disarm();
    this.running = this.loop(all);
  }

  /** Writes full batches (and with `all`, the rest) one after the other. Never rejects. */
  private async loop(all: boolean): Promise<void> {
    try {
      while (this.buffer.length >= this.o.batchSize || (all && this.buffer.length > 0)) {
        if (this.closed) return;
        const batch = this.buffer.length <= this.o.batchSize ? this.buffer : this.buffer.slice(0, this.o.batchSize);
        this.buffer = batch === this.buffer ? [] : this.buffer.slice(this.o.batchSize);
        await this.o.flush(batch);
      }
    } catch (e) {
      this.error = e;
      this.buffer = [];
    } finally {
      this.running = undefined;
      if (this.buffer.length > 0 && this.error === undefined) this.arm();
    }
  }
}
