import { AbstractOperator, type OperatorContext, type Output, type OperatorSnapshot, type RestoredState } from '../operator';
import { compileKeySelector, keyGroupOf, keyGroupRange, type Key, type KeySelector, type KeySpec } from '../keys';
import { KeyedTimerQueue } from '../../state/keyed-timers';
import { ValueStateStore, type ValueState } from '../../state/value-state';
import { BatchCollector } from './collector';
import type { Collector } from './process';
import type { OutputTag } from '../../api/output-tag';
import { MIN_WATERMARK, NO_TIMESTAMP } from '../elements';
import { restoredWatermark } from '../restored-watermark';

export interface TimerService {
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

/** What a keyed process function sees for one element or timer. */
export interface KeyedProcessContext<K = Key> {
  /** The element's (or firing timer's) timestamp; null when the element has none. */
  readonly timestamp: number | null;
  readonly currentKey: K;
  getCurrentKey(): K;
  timerService(): TimerService;
  /** Value state named `name`, scoped to the current key (Flink's ValueState). */
  state<T>(name: string, defaultValue?: T): ValueState<T>;
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface OnTimerContext<K = Key> extends KeyedProcessContext<K> {
  readonly timeDomain: 'event' | 'processing';
}

export interface RuntimeContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** Value state scoped to whatever key is current when it is used. */
  getState<T>(name: string, defaultValue?: T): ValueState<T>;
}

export interface KeyedProcessFunction<I = any, O = any, K = Key> {
  open?(ctx: RuntimeContext): void;
  processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void;
}

/**
 * Runs a keyed process function: per-key value state and event-/processing-time timers (one per key
 * and time). Event-time timers fire, in time order, when the watermark reaches them, before the
 * watermark is forwarded.
 */
export class KeyedProcessOperator extends AbstractOperator {
  private readonly selectKey: KeySelector;
  private readonly store = new ValueStateStore();
  private readonly eventTimers = new KeyedTimerQueue();
  private readonly procTimers = new KeyedTimerQueue();
  private readonly out = new BatchCollector();
  private watermark = MIN_WATERMARK;
  private currentTs = NO_TIMESTAMP;
  private domain: 'event' | 'processing' = 'event';
  private ctxObj!: OnTimerContext;
  private timers!: TimerService;
  private procTimer: { at: number; cancel: () => void } | undefined;

  constructor(key: KeySpec, private readonly fn: KeyedProcessFunction) {
    super();
    this.selectKey = compileKeySelector(key);
  }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    const self = this;
    this.timers = {
      currentWatermark: () => self.watermark,
      currentProcessingTime: () => ctx.now(),
      registerEventTimeTimer: (t) => self.eventTimers.register(t, self.store.currentKey),
      deleteEventTimeTimer: (t) => self.eventTimers.delete(t, self.store.currentKey),
      registerProcessingTimeTimer: (t) => { self.procTimers.register(t, self.store.currentKey); self.armProcTimer(); },
      deleteProcessingTimeTimer: (t) => self.procTimers.delete(t, self.store.currentKey),
    };
    this.ctxObj = {
      get timestamp() { return self.currentTs === NO_TIMESTAMP ? null : self.currentTs; },
      get currentKey() { return self.store.currentKey; },
      getCurrentKey: () => self.store.currentKey,
      timerService: () => self.timers,
      state: (name, def) => self.store.state(name, def),
      output: (tag, value) => self.out.collectSide(tag.id, value),
      get timeDomain() { return self.domain; },
    };
    this.fn.open?.({ subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, getState: (name, def) => this.store.state(name, def) });
    if (this.restored) {
      this.watermark = restoredWatermark(this.restored, ctx.parallelism);
      const [lo, hi] = keyGroupRange(ctx.subtaskIndex, ctx.maxParallelism, ctx.parallelism);
      for (const snap of this.restored.all) {
        for (const [kg, entry] of Object.entries((snap.keyedState ?? {}) as Record<string, { state: unknown[]; timers: unknown[] }>)) {
          if (Number(kg) < lo || Number(kg) >= hi) continue;
          for (const [name, key, value] of entry.state as Array<[string, Key, unknown]>) this.store.restore(name, key, value);
          for (const [domain, t, key] of entry.timers as Array<['event' | 'processing', number, Key]>) {
            (domain === 'event' ? this.eventTimers : this.procTimers).register(t, key);
          }
        }
      }
      this.restored = undefined;
      this.armProcTimer();
    }
  }

  private restored: RestoredState | undefined;

  initializeState(state: RestoredState): void { this.restored = state; }

  processBatch(values: unknown[], timestamps: number[]): void {
    const sel = this.selectKey;
    const out = this.out;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      this.store.currentKey = sel(v);
      this.currentTs = timestamps[i]!;
      out.currentTimestamp = this.currentTs;
      this.fn.processElement(v, this.ctxObj, out);
    }
    this.flush();
  }

  override processWatermark(timestamp: number): void {
    if (timestamp <= this.watermark) return;
    this.watermark = timestamp;
    this.domain = 'event';
    this.eventTimers.advance(timestamp, (time, key) => this.fire(time, key));
    this.flush();
    this.output.emitWatermark(timestamp);
  }

  private fire(time: number, key: Key): void {
    this.store.currentKey = key;
    this.currentTs = time;
    this.out.currentTimestamp = time;
    this.fn.onTimer?.(time, this.ctxObj, this.out);
  }

  private armProcTimer(): void {
    const next = this.procTimers.peek();
    if (next === undefined || (this.procTimer && this.procTimer.at <= next)) return;
    this.procTimer?.cancel();
    this.procTimer = {
      at: next,
      cancel: this.ctx.scheduleAt(next, () => {
        this.procTimer = undefined;
        this.domain = 'processing';
        this.procTimers.advance(this.ctx.now(), (time, key) => this.fire(time, key));
        this.domain = 'event';
        this.flush();
        this.armProcTimer();
      }),
    };
  }

  private flush(): void {
    this.out.flush((v, t) => this.output.emitBatch(v, t), (tag, v, t) => this.output.emitSide(tag, v, t));
  }

  snapshotState(): OperatorSnapshot {
    const M = this.ctx.maxParallelism;
    const groups: Record<number, { state: unknown[]; timers: unknown[] }> = {};
    const g = (k: Key) => (groups[keyGroupOf(k, M)] ??= { state: [], timers: [] });
    for (const [name, key, value] of this.store.entries()) g(key).state.push([name, key, value]);
    for (const [t, key] of this.eventTimers.entries()) g(key).timers.push(['event', t, key]);
    for (const [t, key] of this.procTimers.entries()) g(key).timers.push(['processing', t, key]);
    return { operatorId: this.ctx.operatorId, operatorState: { watermark: this.watermark }, keyedState: groups };
  }

  override close(): void {
    this.procTimer?.cancel();
    this.fn.close?.();
  }
}
