import type { OperatorContext, OperatorSnapshot, Output, RestoredState } from '../../operator';
import { compileKeySelector, type KeySelector, type KeySpec } from '../../keys';
import { restoredWatermark } from '../../restored-watermark';
import { BatchCollector } from '../collector';
import type { Collector } from '../process';
import type { KeyedProcessContext, OnTimerContext, RuntimeContext } from '../keyed-process';
import type { OutputTag } from '../../../api/output-tag';
import { NO_TIMESTAMP } from '../../elements';
import { KeyedRuntime, keyedSnapshot } from '../keyed-runtime';
import { TwoInputOperator } from './two-input-operator';

/** Names a broadcast state (Flink's MapStateDescriptor): a map of JSON-serialisable keys and values. */
export interface BroadcastStateDescriptor { readonly name: string }

/** Read-only view of a broadcast state (what the non-broadcast side sees). */
export interface ReadOnlyBroadcastState<K = any, V = any> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): Array<[K, V]>;
}

export interface BroadcastState<K = any, V = any> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void;
  remove(key: K): void;
  clear(): void;
}

export interface ReadOnlyBroadcastContext {
  readonly timestamp: number | null;
  currentWatermark(): number;
  getBroadcastState<K = any, V = any>(d: BroadcastStateDescriptor): ReadOnlyBroadcastState<K, V>;
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface BroadcastContext extends Omit<ReadOnlyBroadcastContext, 'getBroadcastState'> {
  getBroadcastState<K = any, V = any>(d: BroadcastStateDescriptor): BroadcastState<K, V>;
}

/** Flink's BroadcastProcessFunction: `a.connect(b.broadcast(d)).process(fn)`. */
export interface BroadcastProcessFunction<IN = any, BC = any, OUT = any> {
  processElement(value: IN, ctx: ReadOnlyBroadcastContext, out: Collector<OUT>): void;
  processBroadcastElement(value: BC, ctx: BroadcastContext, out: Collector<OUT>): void;
}

/** Flink's KeyedBroadcastProcessFunction: `a.keyBy(k).connect(b.broadcast(d)).process(fn)`, with keyed state and timers on the keyed side. */
export interface KeyedBroadcastProcessFunction<IN = any, BC = any, OUT = any, K = any> {
  open?(ctx: RuntimeContext): void;
  processElement(value: IN, ctx: KeyedProcessContext<K> & ReadOnlyBroadcastContext, out: Collector<OUT>): void;
  processBroadcastElement(value: BC, ctx: BroadcastContext, out: Collector<OUT>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K> & ReadOnlyBroadcastContext, out: Collector<OUT>): void;
  close?(): void;
}

/**
 * Broadcast state: every subtask gets every element of the broadcast input and keeps the same maps.
 * Keys are compared by their JSON text. Checkpointed as operator state; a restored subtask takes its
 * own copy (or, rescaled, the first old subtask's: they are all the same).
 */
class BroadcastStates {
  private readonly maps = new Map<string, Map<string, [unknown, unknown]>>();

  map(name: string): Map<string, [unknown, unknown]> {
    let m = this.maps.get(name);
    if (!m) { m = new Map(); this.maps.set(name, m); }
    return m;
  }

  view(d: BroadcastStateDescriptor): BroadcastState {
    const m = this.map(d.name);
    return {
      get: (k) => m.get(JSON.stringify(k))?.[1] as never,
      contains: (k) => m.has(JSON.stringify(k)),
      entries: () => [...m.values()] as Array<[never, never]>,
      put: (k, v) => { m.set(JSON.stringify(k), [k, v]); },
      remove: (k) => { m.delete(JSON.stringify(k)); },
      clear: () => m.clear(),
    };
  }

  readOnly(d: BroadcastStateDescriptor): ReadOnlyBroadcastState {
    const v = this.view(d);
    return { get: v.get, contains: v.contains, entries: v.entries };
  }

  snapshot(): Record<string, Array<[unknown, unknown]>> {
    return Object.fromEntries([...this.maps].map(([name, m]) => [name, [...m.values()]]));
  }

  restore(s: Record<string, Array<[unknown, unknown]>> | undefined): void {
    for (const [name, entries] of Object.entries(s ?? {})) {
      const m = this.map(name);
      for (const [k, v] of entries) m.set(JSON.stringify(k), [k, v]);
    }
  }
}

function restoreBroadcast(states: BroadcastStates, r: RestoredState): void {
  const own = r.own ?? r.all[0];
  states.restore((own?.operatorState as { broadcast?: Record<string, Array<[unknown, unknown]>> } | undefined)?.broadcast);
}

/** The broadcast side's context (shared by both operators). */
function broadcastContext(states: BroadcastStates, out: BatchCollector, ts: () => number, watermark: () => number): BroadcastContext {
  return {
    get timestamp() { const t = ts(); return t === NO_TIMESTAMP ? null : t; },
    currentWatermark: watermark,
    getBroadcastState: (d) => states.view(d) as never,
    output: (tag, value) => out.collectSide(tag.id, value),
  };
}

export class BroadcastProcessOperator extends TwoInputOperator {
  private readonly states = new BroadcastStates();
  private readonly out = new BatchCollector();
  private ts = NO_TIMESTAMP;
  private restored: RestoredState | undefined;
  private readonly readCtx: ReadOnlyBroadcastContext;
  private readonly writeCtx: BroadcastContext;

  constructor(private readonly fn: BroadcastProcessFunction) {
    super();
    const self = this;
    this.writeCtx = broadcastContext(this.states, this.out, () => self.ts, () => self.watermark);
    this.readCtx = { ...this.writeCtx, get timestamp() { return self.ts === NO_TIMESTAMP ? null : self.ts; }, getBroadcastState: (d) => self.states.readOnly(d) as never };
  }

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    if (this.restored) { this.watermark = restoredWatermark(this.restored, ctx.parallelism); restoreBroadcast(this.states, this.restored); this.restored = undefined; }
  }

  protected processBatch1(values: unknown[], timestamps: number[]): void {
    for (let i = 0; i < values.length; i++) { this.at(timestamps[i]!); this.fn.processElement(values[i], this.readCtx, this.out); }
    this.flush();
  }

  protected processBatch2(values: unknown[], timestamps: number[]): void {
    for (let i = 0; i < values.length; i++) { this.at(timestamps[i]!); this.fn.processBroadcastElement(values[i], this.writeCtx, this.out); }
    this.flush();
  }

  private at(ts: number): void { this.ts = ts; this.out.currentTimestamp = ts; }
  private flush(): void { this.out.flush((v, t) => this.output.emitBatch(v, t), (tag, v, t) => this.output.emitSide(tag, v, t)); }

  snapshotState(): OperatorSnapshot {
    return { operatorId: this.ctx.operatorId, operatorState: { watermark: this.watermark, broadcast: this.states.snapshot() } };
  }
}

export class KeyedBroadcastProcessOperator extends TwoInputOperator {
  private readonly states = new BroadcastStates();
  private readonly selectKey: KeySelector;
  private rt!: KeyedRuntime;
  private keyedCtx!: KeyedProcessContext & OnTimerContext & ReadOnlyBroadcastContext;
  private writeCtx!: BroadcastContext;
  private restored: RestoredState | undefined;
  private bts = NO_TIMESTAMP;

  constructor(key: KeySpec, private readonly fn: KeyedBroadcastProcessFunction) {
    super();
    this.selectKey = compileKeySelector(key);
  }

  initializeState(state: RestoredState): void { this.restored = state; }

  override open(ctx: OperatorContext, output: Output): void {
    super.open(ctx, output);
    this.rt = new KeyedRuntime(ctx, output, () => this.watermark, (t) => this.fn.onTimer?.(t, this.keyedCtx, this.rt.out));
    const states = this.states;
    // The keyed side's context: the keyed runtime's, plus a read-only view of the broadcast state.
    this.keyedCtx = Object.create(this.rt.context, {
      currentWatermark: { value: () => this.watermark },
      getBroadcastState: { value: (d: BroadcastStateDescriptor) => states.readOnly(d) },
    }) as typeof this.keyedCtx;
    this.writeCtx = broadcastContext(states, this.rt.out, () => this.bts, () => this.watermark);
    this.fn.open?.({ subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, getState: (n, d) => this.rt.store.state(n, d) });
    if (this.restored) {
      this.watermark = restoredWatermark(this.restored, ctx.parallelism);
      restoreBroadcast(this.states, this.restored);
      this.rt.restore(this.restored);
      this.restored = undefined;
    }
  }

  protected processBatch1(values: unknown[], timestamps: number[]): void {
    for (let i = 0; i < values.length; i++) {
      this.rt.at(this.selectKey(values[i]), timestamps[i]!);
      this.fn.processElement(values[i], this.keyedCtx, this.rt.out);
    }
    this.rt.flush();
  }

  protected processBatch2(values: unknown[], timestamps: number[]): void {
    for (let i = 0; i < values.length; i++) {
      this.bts = timestamps[i]!;
      this.rt.out.currentTimestamp = this.bts;
      this.fn.processBroadcastElement(values[i], this.writeCtx, this.rt.out);
    }
    this.rt.flush();
  }

  protected override onWatermark(t: number): void {
    this.rt.advance(t);
    this.rt.flush();
  }

  snapshotState(): OperatorSnapshot {
    const groups: Record<number, Record<string, unknown[]>> = {};
    this.rt.snapshotInto(groups);
    return keyedSnapshot(this.ctx, this.watermark, groups, { broadcast: this.states.snapshot() });
  }

  override close(): void { this.rt?.close(); this.fn.close?.(); }
}
