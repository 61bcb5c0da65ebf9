/**
 * A task's mailbox (Flink's mailbox model): timer callbacks and other actions are queued here and run
 * by the task between batches, so operator code never runs concurrently with itself.
 */
export class Mailbox {
  private readonly queue: Array<() => void> = [];
  private listener: (() => void) | undefined;

  put(action: () => void): void {
    this.queue.push(action);
    const l = this.listener;
    if (l) { this.listener = undefined; l(); }
  }

  get size(): number { return this.queue.length; }

  take(): (() => void) | undefined { return this.queue.shift(); }

  /** Runs every queued action; returns how many ran. */
  drain(): number {
    let n = 0;
    for (let a = this.queue.shift(); a; a = this.queue.shift()) { a(); n++; }
    return n;
  }

  /** Resolves at the next put (or at once if something is queued). */
  whenNotEmpty(): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve();
    return new Promise((resolve) => { this.listener = resolve; });
  }

  /** Wakes a waiter without queueing anything (cancellation). */
  wake(): void { const l = this.listener; if (l) { this.listener = undefined; l(); } }
}
