import { NumberMinHeap } from '../util/min-heap';
import type { Key } from '../runtime/keys';

/**
 * Timers per key, as Flink's InternalTimerService: at most one timer per (key, time); they fire in
 * time order, and for equal times in registration order.
 */
export class KeyedTimerQueue {
  private readonly byTime = new Map<number, Set<Key>>();
  private readonly times = new NumberMinHeap();

  get size(): number { return this.byTime.size; }

  register(time: number, key: Key): void {
    let keys = this.byTime.get(time);
    if (!keys) { keys = new Set(); this.byTime.set(time, keys); this.times.push(time); }
    keys.add(key);
  }

  delete(time: number, key: Key): void {
    const keys = this.byTime.get(time);
    if (keys) { keys.delete(key); if (keys.size === 0) this.byTime.delete(time); }
  }

  /** The earliest registered time, if any. */
  peek(): number | undefined {
    for (;;) {
      const t = this.times.peek();
      if (t === undefined) return undefined;
      if (this.byTime.has(t)) return t;
      this.times.pop(); // all its timers were deleted
    }
  }

  /** Fires every timer with time ≤ `upTo`, earliest first; `fire` may register new timers. */
  advance(upTo: number, fire: (time: number, key: Key) => void): void {
    for (;;) {
      const t = this.peek();
      if (t === undefined || t > upTo) return;
      this.times.pop();
      const keys = this.byTime.get(t)!;
      this.byTime.delete(t);
      for (const k of keys) fire(t, k);
    }
  }

  /** All (time, key) pairs, for snapshots. */
  entries(): Array<[number, Key]> {
    const out: Array<[number, Key]> = [];
    for (const [t, keys] of this.byTime) for (const k of keys) out.push([t, k]);
    return out;
  }
}
