import type { OperatorContext, OperatorSnapshot, Output, RestoredState } from '../operator';
import { keyGroupOf, keyGroupRange, type Key } from '../keys';
import { KeyedTimerQueue } from '../../state/keyed-timers';
import { ValueStateStore } from '../../state/value-state';
import { BatchCollector } from './collector';
import { NO_TIMESTAMP } from '../elements';
import type { KeyedProcessContext, OnTimerContext, TimerService } from './keyed-process';

/**
 * What every keyed function operator has (keyed process, co-process, keyed broadcast process): value
 * state per key, event- and processing-time timers per key, the current key and timestamp, a collector,
 * and their checkpointing by key group. The operator sets `currentKey`/`timestamp` before it calls the
 * user's function and says what a timer does.
 *
 *   checkpoint (keyedState per key group): { state: [name, key, value][], timers: [domain, time, key][] }
 */
export class KeyedRuntime {
  readonly store = new ValueStateStore();
  readonly eventTimers = new KeyedTimerQueue();
  readonly procTimers = new KeyedTimerQueue();
  readonly out = new BatchCollector();
  private ts = NO_TIMESTAMP;
  private domain: 'event' | 'processing' = 'event';
  private procTimer: { at: number; cancel: () => void } | undefined;
  readonly timers: TimerService;
  readonly context: OnTimerContext;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly output: Output,
    private readonly watermark: () => number,
    private readonly onTimer: (time: number) => void,
  ) {
    const self = this;
    this.timers = {
      currentWatermark: () => watermark(),
      currentProcessingTime: () => ctx.now(),
      registerEventTimeTimer: (t) => self.eventTimers.register(t, self.store.currentKey),
      deleteEventTimeTimer: (t) => self.eventTimers.delete(t, self.store.currentKey),
      registerProcessingTimeTimer: (t) => { self.procTimers.register(t, self.store.currentKey); self.armProcTimer(); },
      deleteProcessingTimeTimer: (t) => self.procTimers.delete(t, self.store.currentKey),
    };
    this.context = {
      get timestamp() { return self.ts === NO_TIMESTAMP ? null : self.ts; },
      get currentKey() { return self.store.currentKey; },
      getCurrentKey: () => self.store.currentKey,
      timerService: () => self.timers,
      state: (name, def) => self.store.state(name, def),
      output: (tag, value) => self.out.collectSide(tag.id, value),
      get timeDomain() { return self.domain; },
    } satisfies KeyedProcessContext & OnTimerContext;
  }

  /** Sets the key and timestamp the next call of the user's function runs with. */
  at(key: Key, timestamp: number): void {
    this.store.currentKey = key;
    this.ts = timestamp;
    this.out.currentTimestamp = timestamp;
  }

  /** The watermark reached `t`: event-time timers up to it fire, earliest first. */
  advance(t: number): void {
    this.domain = 'event';
    this.eventTimers.advance(t, (time, key) => { this.at(key, time); this.onTimer(time); });
  }

  armProcTimer(): void {
    const next = this.procTimers.peek();
    if (next === undefined || (this.procTimer && this.procTimer.at <= next)) return;
    this.procTimer?.cancel();
    this.procTimer = {
      at: next,
      cancel: this.ctx.scheduleAt(next, () => {
        this.procTimer = undefined;
        this.domain = 'processing';
        this.procTimers.advance(this.ctx.now(), (time, key) => { this.at(key, time); this.onTimer(time); });
        this.domain = 'event';
        this.flush();
        this.armProcTimer();
      }),
    };
  }

  flush(): void {
    this.out.flush((v, t) => this.output.emitBatch(v, t), (tag, v, t) => this.output.emitSide(tag, v, t));
  }

  /** Keyed state and timers, by key group (into `groups`, beside whatever else the operator keeps there). */
  snapshotInto(groups: Record<number, Record<string, unknown[]>>): void {
    const M = this.ctx.maxParallelism;
    const g = (k: Key) => {
      const e = (groups[keyGroupOf(k, M)] ??= {});
      e.state ??= []; e.timers ??= [];
      return e as { state: unknown[]; timers: unknown[] };
    };
    for (const [name, key, value] of this.store.entries()) g(key).state.push([name, key, value]);
    for (const [t, key] of this.eventTimers.entries()) g(key).timers.push(['event', t, key]);
    for (const [t, key] of this.procTimers.entries()) g(key).timers.push(['processing', t, key]);
  }

  /** Takes back state and timers of this subtask's key groups; `each` sees every group's entry too. */
  restore(r: RestoredState, each?: (entry: Record<string, unknown[]>) => void): void {
    const [lo, hi] = keyGroupRange(this.ctx.subtaskIndex, this.ctx.maxParallelism, this.ctx.parallelism);
    for (const snap of r.all) {
      for (const [kg, entry] of Object.entries((snap.keyedState ?? {}) as Record<string, Record<string, unknown[]>>)) {
        if (Number(kg) < lo || Number(kg) >= hi) continue;
        for (const [name, key, value] of (entry.state ?? []) as Array<[string, Key, unknown]>) this.store.restore(name, key, value);
        for (const [domain, t, key] of (entry.timers ?? []) as Array<['event' | 'processing', number, Key]>) {
          (domain === 'event' ? this.eventTimers : this.procTimers).register(t, key);
        }
        each?.(entry);
      }
    }
    this.armProcTimer();
  }

  close(): void { this.procTimer?.cancel(); }
}

/** A snapshot of a keyed operator: its watermark and keyed state. */
export function keyedSnapshot(ctx: OperatorContext, watermark: number, groups: Record<number, unknown>, extra: Record<string, unknown> = {}): OperatorSnapshot {
  return { operatorId: ctx.operatorId, operatorState: { watermark, ...extra }, keyedState: groups };
}
