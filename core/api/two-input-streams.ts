import type { StreamExecutionEnvironment, OperatorOptions } from './environment';
import type { NodeKind, Partitioning, StreamEdge } from '../graph/stream-graph';
import type { StreamOperator } from '../runtime/operator';
import type { KeySpec } from '../runtime/keys';
import type { WindowAssigner } from '../windows/assigners';
import type { DataStream, KeyedStream, SingleOutputStream, StreamHandle } from './datastream';
import { KeyedCoProcessOperator, CoProcessOperator, type KeyedCoProcessFunction, type CoProcessFunction } from '../runtime/operators/two-input/co-process';
import { IntervalJoinOperator, type ProcessJoinFunction } from '../runtime/operators/two-input/interval-join';
import {
  BroadcastProcessOperator, KeyedBroadcastProcessOperator,
  type BroadcastProcessFunction, type BroadcastStateDescriptor, type KeyedBroadcastProcessFunction,
} from '../runtime/operators/two-input/broadcast-process';
import { compileKeySelector } from '../runtime/keys';
import { toMillis, type Duration } from '../time/duration';
import { RlinkError } from '../errors';

/**
 * The streams of two-input operators (Flink's ConnectedStreams, BroadcastConnectedStream,
 * JoinedStreams, KeyedStream.IntervalJoin). Each ends in one node with two inputs: edges of the first
 * stream feed input 0, edges of the second input 1 (StreamEdge.input), so the operator knows where
 * every batch and watermark came from (core/runtime/operators/two-input/).
 */

/** One input of a two-input node: where it comes from and how it is partitioned. */
interface Side { stream: DataStream<any>; partitioning: 'hash' | 'broadcast' | 'auto'; key?: KeySpec }

/** Makes the result stream of a node (DataStream's own, passed in: this module does not import DataStream at runtime). */
export type Next = <O>(nodeId: string) => SingleOutputStream<O>;

function keySpecOf(key: string | string[] | ((v: any) => unknown), what: string): KeySpec {
  if (typeof key === 'function') return { kind: 'fn', fn: key };
  if (typeof key === 'string') return { kind: 'field', fields: [key] };
  if (Array.isArray(key) && key.length > 0 && key.every((k) => typeof k === 'string')) return { kind: 'field', fields: key };
  throw new RlinkError('RLINK_GRAPH', `${what} takes a field name, an array of field names, or a function`);
}

/** Adds a node fed by two sides (input 0 and input 1). */
function twoInputNode(env: StreamExecutionEnvironment, next: Next, kind: NodeKind, name: string, opts: OperatorOptions,
  description: Record<string, unknown>, create: () => StreamOperator, first: Side, second: Side): SingleOutputStream<any> {
  const keyed = first.partitioning === 'hash' || second.partitioning === 'hash';
  const parallelism = opts.parallelism ?? (keyed ? env.defaultParallelism : env.parallelismOf(first.stream.handles));
  const edges = (side: Side, input: 0 | 1): StreamEdge[] => side.stream.handles.map((h: StreamHandle) => {
    const upstream = env.graph.node(env.resolve(h.node));
    const p: Partitioning = side.partitioning === 'hash' ? 'hash' : side.partitioning === 'broadcast' ? 'broadcast'
      : upstream.parallelism === parallelism ? 'forward' : 'rebalance';
    const e: StreamEdge = { source: upstream.id, partitioning: p };
    if (h.sideOutput !== undefined) e.sideOutput = h.sideOutput;
    if (side.key) e.key = side.key;
    if (input === 1) e.input = 1;
    return e;
  });
  const node = env.addNode({
    kind, name: opts.name ?? name, uid: opts.uid, parallelism, inputs: [...edges(first, 0), ...edges(second, 1)], description, createOperator: create,
  });
  return next(node.id);
}

const keyDescription = (k: KeySpec) => (k.kind === 'fn' ? 'fn' : k.fields);

/** A duration that may be negative (an interval join's bound): -5, '-5s', '2s'. */
function signedMillis(d: Duration, what: string): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d)) throw new RlinkError('RLINK_CONFIG', `${what}: ${d} is not a number of milliseconds`);
    return d;
  }
  const text = String(d).trim();
  return text.startsWith('-') ? -toMillis(text.slice(1), what) : toMillis(text, what);
}

// ───────────────────────────── connect / co-process ─────────────────────────────

/** `a.connect(b)`: two streams of different types processed together. */
export class ConnectedStreams<A = any, B = any> {
  constructor(private readonly first: DataStream<A>, private readonly second: DataStream<B>, private readonly next: Next) {}

  /** Keys both inputs (their keys meet in one key space): keyed state and timers shared by both sides per key. */
  keyBy(key1: string | string[] | ((v: A) => unknown), key2: string | string[] | ((v: B) => unknown)): KeyedConnectedStreams<A, B> {
    return new KeyedConnectedStreams(this.first, this.second, keySpecOf(key1, 'connect().keyBy'), keySpecOf(key2, 'connect().keyBy'), this.next);
  }

  /** processElement1/processElement2 for each element of the first/second stream; no state, no key. */
  process<O>(fn: CoProcessFunction<A, B, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    if (typeof fn?.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') throw new RlinkError('RLINK_GRAPH', 'a co-process function needs processElement1 and processElement2');
    return twoInputNode(this.first.env, this.next, 'co-process', 'CoProcess', opts, {}, () => new CoProcessOperator(fn),
      { stream: this.first, partitioning: 'auto' }, { stream: this.second, partitioning: 'auto' });
  }
}

export class KeyedConnectedStreams<A = any, B = any> {
  constructor(private readonly first: DataStream<A>, private readonly second: DataStream<B>, private readonly key1: KeySpec, private readonly key2: KeySpec, private readonly next: Next) {}

  /** Flink's KeyedCoProcessFunction: processElement1/2 with the key's value state and timers; onTimer. */
  process<O>(fn: KeyedCoProcessFunction<A, B, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    if (typeof fn?.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') throw new RlinkError('RLINK_GRAPH', 'a keyed co-process function needs processElement1 and processElement2');
    const { key1, key2 } = this;
    return twoInputNode(this.first.env, this.next, 'keyed-co-process', 'KeyedCoProcess', opts, { key1: keyDescription(key1), key2: keyDescription(key2) },
      () => new KeyedCoProcessOperator(key1, key2, fn),
      { stream: this.first, partitioning: 'hash', key: key1 }, { stream: this.second, partitioning: 'hash', key: key2 });
  }
}

// ───────────────────────────── broadcast state ─────────────────────────────

/** `b.broadcast(descriptor…)`: every element goes to every subtask of the operator it is connected to. */
export class BroadcastStream<B = any> {
  constructor(/** @internal */ readonly stream: DataStream<B>, readonly descriptors: readonly BroadcastStateDescriptor[]) {}
}

/**
 * `a.connect(b.broadcast(d))`, or `a.keyBy(k).connect(b.broadcast(d))`: with a keyed first stream the
 * function runs keyed (Flink's KeyedBroadcastProcessFunction: value state and timers per key on the
 * first side), otherwise not (BroadcastProcessFunction).
 */
export class BroadcastConnectedStream<A = any, B = any> {
  constructor(private readonly first: DataStream<A>, private readonly broadcast: BroadcastStream<B>, private readonly next: Next) {}

  process<O>(fn: KeyedBroadcastProcessFunction<A, B, O>, opts?: OperatorOptions): SingleOutputStream<O>;
  process<O>(fn: BroadcastProcessFunction<A, B, O>, opts?: OperatorOptions): SingleOutputStream<O>;
  process<O>(fn: BroadcastProcessFunction<A, B, O> | KeyedBroadcastProcessFunction<A, B, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    if (typeof fn?.processElement !== 'function' || typeof fn.processBroadcastElement !== 'function') throw new RlinkError('RLINK_GRAPH', 'a broadcast process function needs processElement and processBroadcastElement');
    const states = this.broadcast.descriptors.map((d) => d.name);
    const key = (this.first as Partial<KeyedStream<A>>).key;
    if (key) {
      return twoInputNode(this.first.env, this.next, 'keyed-broadcast-process', 'KeyedBroadcastProcess', opts, { key: keyDescription(key), states },
        () => new KeyedBroadcastProcessOperator(key, fn as KeyedBroadcastProcessFunction), { stream: this.first, partitioning: 'hash', key }, { stream: this.broadcast.stream, partitioning: 'broadcast' });
    }
    return twoInputNode(this.first.env, this.next, 'broadcast-process', 'BroadcastProcess', opts, { states },
      () => new BroadcastProcessOperator(fn as BroadcastProcessFunction), { stream: this.first, partitioning: 'auto' }, { stream: this.broadcast.stream, partitioning: 'broadcast' });
  }
}

// ───────────────────────────── interval join ─────────────────────────────

/** `a.keyBy(k).intervalJoin(b.keyBy(k))`. */
export class IntervalJoin<L = any, R = any> {
  constructor(private readonly left: KeyedStream<L>, private readonly right: KeyedStream<R>, private readonly next: Next) {}

  /** Joins a right element with a left one at ts when its timestamp is in [ts + lower, ts + upper] (both inclusive). */
  between(lower: Duration, upper: Duration): IntervalJoined<L, R> {
    const lo = signedMillis(lower, 'interval join lower bound');
    const hi = signedMillis(upper, 'interval join upper bound');
    if (lo > hi) throw new RlinkError('RLINK_GRAPH', `interval join bounds: lower ${lo} ms is above upper ${hi} ms`);
    return new IntervalJoined(this.left, this.right, lo, hi, this.next);
  }
}

export class IntervalJoined<L = any, R = any> {
  constructor(private readonly left: KeyedStream<L>, private readonly right: KeyedStream<R>, private readonly lower: number, private readonly upper: number, private readonly next: Next) {}

  /** Called once per joined pair: `(left, right, ctx, out)`; results carry max(ts(left), ts(right)). */
  process<O>(fn: ProcessJoinFunction<L, R, O>, opts: OperatorOptions = {}): SingleOutputStream<O> {
    const cfg = { leftKey: this.left.key, rightKey: this.right.key, lower: this.lower, upper: this.upper };
    return twoInputNode(this.left.env, this.next, 'interval-join', 'IntervalJoin', opts,
      { leftKey: keyDescription(cfg.leftKey), rightKey: keyDescription(cfg.rightKey), lower: cfg.lower, upper: cfg.upper },
      () => new IntervalJoinOperator(cfg, fn), { stream: this.left, partitioning: 'hash', key: cfg.leftKey }, { stream: this.right, partitioning: 'hash', key: cfg.rightKey });
  }
}

// ───────────────────────────── window join ─────────────────────────────

/** One element of a window join's co-group: from the first stream (s 0) or the second (s 1). */
interface Tagged { s: 0 | 1; v: unknown }
interface CoGroup { l: unknown[]; r: unknown[] }

/** `a.join(b)`: as Flink's JoinedStreams. */
export class JoinedStreams<L = any, R = any> {
  constructor(private readonly left: DataStream<L>, private readonly right: DataStream<R>) {}
  where(key: string | string[] | ((v: L) => unknown)): { equalTo(key: string | string[] | ((v: R) => unknown)): JoinWhereEqual<L, R> } {
    const k1 = keySpecOf(key, 'join().where');
    return { equalTo: (k) => new JoinWhereEqual(this.left, this.right, k1, keySpecOf(k, 'join().equalTo')) };
  }
}

export class JoinWhereEqual<L = any, R = any> {
  constructor(private readonly left: DataStream<L>, private readonly right: DataStream<R>, private readonly k1: KeySpec, private readonly k2: KeySpec) {}
  window(assigner: WindowAssigner): WindowJoin<L, R> {
    if (!assigner || !['tumbling', 'sliding', 'session'].includes(assigner.kind)) throw new RlinkError('RLINK_GRAPH', 'a window join takes a tumbling, sliding or session window assigner');
    return new WindowJoin(this.left, this.right, this.k1, this.k2, assigner);
  }
}

/**
 * A window join (Flink's JoinedStreams, built the way Flink builds it): both streams tagged with their
 * side, united, keyed by their own key expressions (`where` for the first, `equalTo` for the second),
 * co-grouped in the window, and `apply(fn)` called for every pair of the same key and window (an inner
 * join). Results carry the window's end − 1. Elements late for their window are dropped and counted.
 */
export class WindowJoin<L = any, R = any> {
  constructor(private readonly left: DataStream<L>, private readonly right: DataStream<R>, private readonly k1: KeySpec, private readonly k2: KeySpec, private readonly assigner: WindowAssigner) {}

  apply<O>(fn: (left: L, right: R) => O, opts: OperatorOptions = {}): SingleOutputStream<O> {
    if (typeof fn !== 'function') throw new RlinkError('RLINK_GRAPH', 'a window join applies a function (left, right) => result');
    const sel1 = compileKeySelector(this.k1);
    const sel2 = compileKeySelector(this.k2);
    const uid = (part: string) => (opts.uid !== undefined ? { uid: `${opts.uid}/${part}` } : {});
    const name = opts.name ?? 'Join';
    const tagged = this.left.map((v: L): Tagged => ({ s: 0, v }), { name: `${name}: left`, ...uid('left') })
      .union(this.right.map((v: R): Tagged => ({ s: 1, v }), { name: `${name}: right`, ...uid('right') }));
    const groups = tagged.keyBy((t: Tagged) => (t.s === 0 ? sel1(t.v) : sel2(t.v)))
      .window(this.assigner)
      .aggregate({
        createAccumulator: (): CoGroup => ({ l: [], r: [] }),
        add: (a: CoGroup, t: Tagged) => { (t.s === 0 ? a.l : a.r).push(t.v); return a; },
        merge: (a: CoGroup, b: CoGroup) => ({ l: [...a.l, ...b.l], r: [...a.r, ...b.r] }),
        getResult: (a: CoGroup) => a,
      }, { name: `${name}: co-group`, ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}), ...uid('window') });
    return groups.flatMap((g: CoGroup) => {
      const out: O[] = [];
      for (const l of g.l) for (const r of g.r) out.push(fn(l as L, r as R));
      return out;
    }, { name, ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}), ...(opts.uid !== undefined ? { uid: opts.uid } : {}) }) as SingleOutputStream<O>;
  }
}
