import { KeyedTimerQueue } from '../../../state/keyed-timers';
import type { Trigger, TriggerContext, TriggerResult } from '../../../windows/triggers';
import type { Key } from '../../keys';
import { NO_TIMESTAMP } from '../../elements';
import type { StoreEntryKind, WindowHost, WindowStore } from './window-store';

interface GlobalWindow { acc: any; count: number; maxTs: number; state: Record<string, unknown> }

/**
 * Global windows: one window per key that never ends; a trigger decides when it fires and when its
 * contents go (Flink's GlobalWindows + Trigger). Count windows are global windows with a purging count
 * trigger (`keyBy(k).countWindow(n)`). Nothing is ever late; a window the trigger has not fired by the
 * end of input is not emitted (as in Flink). The result's timestamp is the largest of its elements'.
 *
 *   checkpoint entry (kind 'global'): [key, accumulator, count, maxTimestamp, triggerState,
 *                                      eventTimerTimes, processingTimerTimes]
 */
export class GlobalStore implements WindowStore {
  private readonly windows = new Map<Key, GlobalWindow>();
  private readonly eventTimers = new KeyedTimerQueue();
  private readonly clockTimers = new KeyedTimerQueue();

  constructor(private readonly host: WindowHost, private readonly trigger: Trigger) {}

  add(values: unknown[], timestamps: number[], now: number): void {
    const h = this.host;
    const agg = h.aggregate;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const ts = h.eventTime ? timestamps[i]! : now;
      const key = h.selectKey(v);
      let w = this.windows.get(key);
      if (!w) { w = { acc: undefined, count: 0, maxTs: NO_TIMESTAMP, state: {} }; this.windows.set(key, w); }
      w.acc = agg.add(w.acc === undefined ? agg.createAccumulator() : w.acc, v);
      w.count++;
      if (ts > w.maxTs && ts < Infinity) w.maxTs = ts;
      this.act(key, w, this.trigger.onElement(v, ts, this.context(key, w)));
    }
  }

  mergePartial(): boolean { return false; }

  private act(key: Key, w: GlobalWindow, r: TriggerResult): void {
    if ((r === 'FIRE' || r === 'FIRE_AND_PURGE') && w.count > 0) this.host.emit(key, null, null, w.acc, w.maxTs);
    if (r === 'PURGE' || r === 'FIRE_AND_PURGE') { w.acc = undefined; w.count = 0; w.maxTs = NO_TIMESTAMP; }
  }

  private context(key: Key, w: GlobalWindow): TriggerContext {
    const h = this.host;
    return {
      key, watermark: h.watermark(), processingTime: h.now(), count: w.count,
      registerEventTimeTimer: (t) => this.eventTimers.register(t, key),
      registerProcessingTimeTimer: (t) => this.clockTimers.register(t, key),
      state: <T>(name: string, initial: T) => ({
        value: () => (Object.hasOwn(w.state, name) ? w.state[name] as T : initial),
        update: (x: T) => { w.state[name] = x; },
      }),
    };
  }

  /** Event time reached `t`: the triggers' event-time timers up to it go off. */
  advance(t: number): void {
    const onEventTime = this.trigger.onEventTime;
    this.eventTimers.advance(t, (time, key) => {
      const w = this.windows.get(key);
      if (w && onEventTime) this.act(key, w, onEventTime.call(this.trigger, time, this.context(key, w)));
    });
  }

  /** The clock reached `now`: the triggers' processing-time timers up to it go off. */
  advanceClock(now: number): void {
    const onProcessingTime = this.trigger.onProcessingTime;
    this.clockTimers.advance(now, (time, key) => {
      const w = this.windows.get(key);
      if (w && onProcessingTime) this.act(key, w, onProcessingTime.call(this.trigger, time, this.context(key, w)));
    });
  }

  nextTime(): number | undefined { return undefined; }
  nextClock(): number | undefined { return this.clockTimers.peek(); }

  snapshot(put: (key: Key, kind: StoreEntryKind, entry: unknown) => void): void {
    const timersOf = (q: KeyedTimerQueue) => {
      const by = new Map<Key, number[]>();
      for (const [t, k] of q.entries()) by.set(k, [...(by.get(k) ?? []), t]);
      return by;
    };
    const ev = timersOf(this.eventTimers), pt = timersOf(this.clockTimers);
    for (const [k, w] of this.windows) put(k, 'global', [k, w.acc ?? null, w.count, w.maxTs, w.state, ev.get(k) ?? [], pt.get(k) ?? []]);
  }

  restore(kind: StoreEntryKind, entry: unknown): void {
    if (kind !== 'global') return;
    const [key, acc, count, maxTs, state, ev, pt] = entry as [Key, unknown, number, number, Record<string, unknown>, number[], number[]];
    this.windows.set(key, { acc: count > 0 ? acc : undefined, count, maxTs, state });
    for (const t of ev) this.eventTimers.register(t, key);
    for (const t of pt) this.clockTimers.register(t, key);
  }
}
