import type { StreamExecutionEnvironment, OperatorOptions } from './environment';
import type { Partitioning, StreamEdge, NodeKind, StreamNode } from '../graph/stream-graph';
import type { StreamOperator } from '../runtime/operator';
import type { KeySpec } from '../runtime/keys';
import type { Sink } from './connector';
import type { WatermarkStrategy } from '../time/watermark-strategy';
import type { WindowAssigner } from '../windows/assigners';
import { OutputTag } from './output-tag';
import { MapOperator, type MapFunction } from '../runtime/operators/map';
import { FilterOperator, type FilterFunction } from '../runtime/operators/filter';
import { FlatMapOperator, type FlatMapFunction } from '../runtime/operators/flat-map';
import { ProcessOperator, type ProcessFunction } from '../runtime/operators/process';
import { TimestampsOperator } from '../runtime/operators/timestamps';
import { KeyedProcessOperator, type KeyedProcessFunction } from '../runtime/operators/keyed-process';
import { KeyedReduceOperator, type ReduceFunction } from '../runtime/operators/keyed-reduce';
import { WindowOperator } from '../runtime/operators/windows/window-operator';
import { LocalWindowAggregateOperator } from '../runtime/operators/windows/local-aggregate';
import { GlobalWindows } from '../windows/assigners';
import { Triggers, isTrigger, type Trigger } from '../windows/triggers';
import { SinkOperator } from '../runtime/operators/sink';
import { compileAggregate, type AggregateSpec } from '../aggregates/composite';
import { toMillis, type Duration } from '../time/duration';
import { RlinkError } from '../errors';
import {
  BroadcastConnectedStream, BroadcastStream, ConnectedStreams, IntervalJoin, JoinedStreams, type Next,
} from './two-input-streams';
import type { BroadcastStateDescriptor } from '../runtime/operators/two-input/broadcast-process';

/** One upstream of a stream: a node's main output, or one of its side outputs. */
export interface StreamHandle { node: string; sideOutput?: string }

function describeFn(fn: unknown): string {
  return typeof fn === 'function' && fn.name ? fn.name : 'fn';
}

/**
 * A stream of records of type T. Every transformation adds a node to the environment's stream graph
 * and returns the stream of its output.
 */
export class DataStream<T = any> {
  constructor(
    /** @internal */ readonly env: StreamExecutionEnvironment,
    /** @internal */ readonly handles: readonly StreamHandle[],
  ) {}

  /** @internal Adds an operator fed by this stream (forward edges when parallelism matches, else rebalance). */
  protected addOperator(kind: NodeKind, name: string, opts: OperatorOptions, description: Record<string, unknown>,
    createOperator: () => StreamOperator, partitioning?: { kind: 'hash'; key: KeySpec }, sideOutputs?: string[]): StreamNode {
    const parallelism = opts.parallelism ?? (partitioning ? this.env.defaultParallelism : this.env.parallelismOf(this.handles));
    const inputs: StreamEdge[] = this.handles.map((h) => {
      const upstream = this.env.graph.node(this.env.resolve(h.node));
      const p: Partitioning = partitioning ? 'hash' : upstream.parallelism === parallelism ? 'forward' : 'rebalance';
      const e: StreamEdge = { source: upstream.id, partitioning: p };
      if (h.sideOutput !== undefined) e.sideOutput = h.sideOutput;
      if (partitioning) e.key = partitioning.key;
      return e;
    });
    return this.env.addNode({ kind, name: opts.name ?? name, uid: opts.uid, parallelism, inputs, description, createOperator, sideOutputs });
  }

  /** @internal */
  protected next<O>(node: StreamNode): SingleOutputStream<O> {
    return new SingleOutputStream<O>(this.env, [{ node: node.id }]);
  }

  map<O>(fn: MapFunction<T, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    return this.next(this.addOperator('map', 'Map', opts, { fn: describeFn(fn) }, () => new MapOperator(fn)));
  }

  filter(fn: FilterFunction<T>, opts: OperatorOptions = {}): SingleOutputStream<T> {
    return this.next(this.addOperator('filter', 'Filter', opts, { fn: describeFn(fn) }, () => new FilterOperator(fn)));
  }

  flatMap<O>(fn: FlatMapFunction<T, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    return this.next(this.addOperator('flatMap', 'FlatMap', opts, { fn: describeFn(fn) }, () => new FlatMapOperator(fn)));
  }

  process<O>(fn: ProcessFunction<T, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    return this.next(this.addOperator('process', 'Process', opts, {}, () => new ProcessOperator(fn)));
  }

  /** Timestamps and watermarks made mid-stream, per subtask. */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>, opts: OperatorOptions = {}): SingleOutputStream<T> {
    return this.next(this.addOperator('timestamps', 'Timestamps/Watermarks', opts, { watermarks: strategy.describe() }, () => new TimestampsOperator(strategy)));
  }

  /** Partitions by key: a field name, several field names, or a function of the record. */
  keyBy(key: string | string[] | ((value: T) => unknown)): KeyedStream<T> {
    let spec: KeySpec;
    if (typeof key === 'function') spec = { kind: 'fn', fn: key };
    else if (typeof key === 'string') spec = { kind: 'field', fields: [key] };
    else if (Array.isArray(key) && key.length > 0 && key.every((k) => typeof k === 'string')) spec = { kind: 'field', fields: key };
    else throw new RlinkError('RLINK_GRAPH', 'keyBy takes a field name, an array of field names, or a function');
    return new KeyedStream<T>(this.env, this.handles, spec);
  }

  /** Merges streams of the same type into one. */
  union(...others: DataStream<T>[]): DataStream<T> {
    return new DataStream<T>(this.env, [...this.handles, ...others.flatMap((o) => o.handles)]);
  }

  /** @internal The result stream of a node (for two-input-streams.ts). */
  protected readonly nextOf: Next = <O>(id: string) => new SingleOutputStream<O>(this.env, [{ node: id }]);

  /**
   * Processes this stream together with another (`.keyBy(k1, k2).process({ processElement1, processElement2, onTimer })`
   * or `.process({ processElement1, processElement2 })`), or with a broadcast stream
   * (`.process({ processElement, processBroadcastElement })`).
   */
  connect<B>(other: BroadcastStream<B>): BroadcastConnectedStream<T, B>;
  connect<B>(other: DataStream<B>): ConnectedStreams<T, B>;
  connect<B>(other: DataStream<B> | BroadcastStream<B>): ConnectedStreams<T, B> | BroadcastConnectedStream<T, B> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream(this, other, this.nextOf);
    if (!(other instanceof DataStream)) throw new RlinkError('RLINK_GRAPH', 'connect() takes a stream or a broadcast stream');
    return new ConnectedStreams(this, other, this.nextOf);
  }

  /** Sends every element to every subtask of the operator it is connected to, with broadcast state named by `descriptors`. */
  broadcast(...descriptors: BroadcastStateDescriptor[]): BroadcastStream<T> {
    for (const d of descriptors) if (!d || typeof d.name !== 'string' || d.name === '') throw new RlinkError('RLINK_GRAPH', 'broadcast() takes state descriptors: { name: \'rules\' }');
    return new BroadcastStream(this, descriptors);
  }

  /** A window join: `a.join(b).where(k1).equalTo(k2).window(assigner).apply((l, r) => …)`. */
  join<B>(other: DataStream<B>): JoinedStreams<T, B> { return new JoinedStreams(this, other); }

  sinkTo(sink: Sink<T>, opts: OperatorOptions = {}): DataStreamSink {
    if (!sink || typeof sink.createWriter !== 'function') throw new RlinkError('RLINK_GRAPH', 'sinkTo needs a sink (e.g. sinks.file({...}), sinks.print())');
    const o = { ...opts };
    if (o.parallelism === undefined && sink.maxParallelism !== undefined) o.parallelism = Math.min(sink.maxParallelism, this.env.parallelismOf(this.handles));
    const node = this.addOperator('sink', `Sink: ${sink.kind}`, o, { sink: sink.describe() }, () => new SinkOperator(sink));
    if (sink.maxParallelism !== undefined) node.maxParallelism = sink.maxParallelism;
    return new DataStreamSink(this.env, node.id);
  }
}

/** The output of one operator: it can be named, given a uid and a parallelism after the fact, and has side outputs. */
export class SingleOutputStream<T = any> extends DataStream<T> {
  private get nodeId(): string { return this.env.resolve(this.handles[0]!.node); }

  /** A stable operator id, so savepoints still match after the job changes. */
  uid(uid: string): this {
    this.env.renameNode(this.nodeId, uid);
    (this.handles as StreamHandle[])[0] = { node: uid };
    return this;
  }

  name(name: string): this { this.env.graph.node(this.nodeId).name = name; return this; }

  setParallelism(parallelism: number): this {
    const node = this.env.graph.node(this.nodeId);
    node.parallelism = parallelism;
    for (const e of node.inputs) {
      if (e.partitioning === 'forward' || e.partitioning === 'rebalance') {
        e.partitioning = this.env.graph.node(e.source).parallelism === parallelism ? 'forward' : 'rebalance';
      }
    }
    return this;
  }

  getSideOutput<X = any>(tag: OutputTag<X>): DataStream<X> {
    return new DataStream<X>(this.env, [{ node: this.nodeId, sideOutput: tag.id }]);
  }
}

export class DataStreamSink {
  constructor(private readonly env: StreamExecutionEnvironment, private id: string) {}
  uid(uid: string): this { this.env.renameNode(this.id, uid); this.id = uid; return this; }
  name(name: string): this { this.env.graph.node(this.id).name = name; return this; }
}

export class KeyedStream<T = any> extends DataStream<T> {
  constructor(env: StreamExecutionEnvironment, handles: readonly StreamHandle[], /** @internal */ readonly key: KeySpec) {
    super(env, handles);
  }

  private get keyDescription(): unknown { return this.key.kind === 'fn' ? 'fn' : this.key.fields; }

  /** Any operator applied to a keyed stream receives its records partitioned by key (Flink's KeyedStream). */
  protected override addOperator(kind: NodeKind, name: string, opts: OperatorOptions, description: Record<string, unknown>,
    createOperator: () => StreamOperator, partitioning?: { kind: 'hash'; key: KeySpec }, sideOutputs?: string[]): StreamNode {
    return super.addOperator(kind, name, opts, description, createOperator, partitioning ?? { kind: 'hash', key: this.key }, sideOutputs);
  }

  override process<O>(fn: KeyedProcessFunction<T, O> | ProcessFunction<T, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    const kpf: KeyedProcessFunction<T, O> = typeof fn === 'function'
      ? { processElement: (v, ctx, out) => (fn as (v: T, c: any, o: any) => void)(v, ctx, out) }
      : fn as KeyedProcessFunction<T, O>;
    if (typeof kpf.processElement !== 'function') throw new RlinkError('RLINK_GRAPH', 'a keyed process function needs processElement(value, ctx, out)');
    const key = this.key;
    return this.next(this.addOperator('keyed-process', 'KeyedProcess', opts, { key: this.keyDescription }, () => new KeyedProcessOperator(key, kpf), { kind: 'hash', key }));
  }

  /** Rolling reduce: emits the updated value for every element. */
  reduce(fn: ReduceFunction<T>, opts: OperatorOptions = {}): SingleOutputStream<T> {
    const key = this.key;
    return this.next(this.addOperator('keyed-reduce', 'Reduce', opts, { key: this.keyDescription }, () => new KeyedReduceOperator(key, fn), { kind: 'hash', key }));
  }

  /** An interval join with another keyed stream: `.between(lower, upper).process((l, r, ctx, out) => …)`. */
  intervalJoin<B>(other: KeyedStream<B>): IntervalJoin<T, B> {
    if (!(other instanceof KeyedStream)) throw new RlinkError('RLINK_GRAPH', 'intervalJoin() takes a keyed stream: b.keyBy(k)');
    return new IntervalJoin(this, other, this.nextOf);
  }

  window(assigner: WindowAssigner): WindowedStream<T> {
    if (!assigner || !['tumbling', 'sliding', 'session', 'global'].includes((assigner as WindowAssigner).kind)) {
      throw new RlinkError('RLINK_GRAPH', 'window() takes a window assigner such as TumblingEventTimeWindows.of(\'10s\')');
    }
    return new WindowedStream<T>(this, assigner);
  }

  /** Windows of `size` elements per key (Flink's countWindow): a global window fired and purged every `size` elements. */
  countWindow(size: number): WindowedStream<T> {
    return new WindowedStream<T>(this, GlobalWindows.create()).trigger(Triggers.purging(Triggers.count(size)));
  }
}

export class WindowedStream<T = any> {
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;
  private triggerFn: Trigger<T> | undefined;

  constructor(private readonly input: KeyedStream<T>, private readonly assigner: WindowAssigner) {}

  /**
   * When a global window fires (Flink's `.trigger`): `Triggers.count(n)`, `Triggers.purging(t)`, or
   * your own `{ onElement, onEventTime?, onProcessingTime? }`. Time windows fire at their end.
   */
  trigger(t: Trigger<T>): this {
    if (!isTrigger(t)) throw new RlinkError('RLINK_GRAPH', 'trigger() takes a trigger: Triggers.count(n), Triggers.purging(t), or { onElement(value, timestamp, ctx) { … } }');
    if (this.assigner.kind !== 'global') throw new RlinkError('RLINK_GRAPH', `a custom trigger is for global windows (GlobalWindows.create()); ${this.assigner.kind} windows fire at their end`);
    this.triggerFn = t;
    return this;
  }

  /** Keeps window state for `d` after the window fired; elements within it fire the window again. */
  allowedLateness(d: Duration): this { this.lateness = toMillis(d, 'allowed lateness'); return this; }

  /** Late elements go to this side output instead of being dropped (see `getSideOutput`). */
  sideOutputLateData(tag: OutputTag<T>): this {
    if (!(tag instanceof OutputTag)) throw new RlinkError('RLINK_GRAPH', 'sideOutputLateData needs an OutputTag');
    this.lateTag = tag;
    return this;
  }

  /**
   * Aggregates each key's window. Named aggregates (`{ total: sum('v'), n: count() }`) give records with
   * the key field(s), windowStart, windowEnd and one field per name; a single aggregate function's result is emitted as is.
   */
  aggregate(spec: AggregateSpec, opts: OperatorOptions = {}): SingleOutputStream<any> {
    const agg = compileAggregate(spec);
    return this.build('window-aggregate', 'Window', opts, () => agg, agg.single ? 'result' : 'enriched', { aggregates: agg.single ? 'fn' : agg.names });
  }

  /** Reduces each key's window to one record of the same type. */
  reduce(fn: ReduceFunction<T>, opts: OperatorOptions = {}): SingleOutputStream<T> {
    const EMPTY = Symbol('empty');
    const spec = {
      createAccumulator: () => EMPTY as unknown,
      add: (acc: unknown, v: T) => (acc === EMPTY ? v : fn(acc as T, v)),
      merge: (a: unknown, b: unknown) => (a === EMPTY ? b : b === EMPTY ? a : fn(a as T, b as T)),
      getResult: (acc: unknown) => acc,
    };
    return this.build('window-reduce', 'WindowReduce', opts, () => compileAggregate(spec), 'result', { reduce: describeFn(fn) });
  }

  private build(kind: NodeKind, name: string, opts: OperatorOptions, agg: () => ReturnType<typeof compileAggregate>,
    emit: 'enriched' | 'result', extra: Record<string, unknown>): SingleOutputStream<any> {
    const { assigner, lateness, triggerFn: trigger } = this;
    if (assigner.kind === 'global' && !trigger) throw new RlinkError('RLINK_GRAPH', 'a global window needs a trigger: .trigger(Triggers.purging(Triggers.count(n))) or keyBy(k).countWindow(n)');
    const lateDataTag = this.lateTag?.id;
    const key = this.input.key;
    const config = (preAggregated: boolean) => ({
      assigner, key, aggregate: agg(), emit, allowedLateness: lateness, preAggregated,
      ...(lateDataTag !== undefined ? { lateDataTag } : {}), ...(trigger ? { trigger } : {}),
    });
    const created = addOperatorOf(this.input)(kind, name, opts,
      {
        assigner, allowedLateness: lateness, lateDataTag: lateDataTag ?? null, key: key.kind === 'fn' ? 'fn' : key.fields,
        ...(trigger ? { trigger: trigger.describe?.() ?? 'custom' } : {}), ...extra,
      },
      () => new WindowOperator(config(false)),
      { kind: 'hash', key }, lateDataTag !== undefined ? [lateDataTag] : []);
    // Whether it runs in two phases is decided once the graph is complete (core/graph/local-aggregation.ts).
    if (assigner.kind !== 'global') created.twoPhase = {
      eventTime: assigner.time === 'event',
      builtin: kind === 'window-aggregate' && agg().builtin === true,
      merging: assigner.kind === 'session',
      createLocal: (skip) => new LocalWindowAggregateOperator({ assigner, key, aggregate: agg(), skip }),
      createGlobal: () => new WindowOperator(config(true)),
    };
    return new SingleOutputStream<any>(this.input.env, [{ node: created.id }]);
  }
}

/** Reaches DataStream's protected addOperator from WindowedStream (same module, not public API). */
function addOperatorOf(s: DataStream<any>): (...a: any[]) => StreamNode {
  return (...a: any[]) => (s as any).addOperator(...a);
}
