import type { LocalAggregationSkip } from '../config/system-properties';
import type { StreamOperator } from '../runtime/operator';
import type { KeySpec } from '../runtime/keys';
import { RlinkError } from '../errors';

/**
 * The stream graph: one node per API call that creates an operator, edges with how records are
 * partitioned. keyBy, union and side outputs are not nodes: they shape the edges.
 *
 * The graph has two faces: the runtime face (operator factories holding the user's closures) lives
 * only in processes that ran `build`; the JSON face ({@link StreamGraphJson}) is what is shipped,
 * stored and drawn. Every process rebuilds the runtime face from the same bundle and matches
 * operators by their deterministic ids.
 */
export type Partitioning = 'forward' | 'rebalance' | 'hash' | 'broadcast';

export type NodeKind =
  | 'source' | 'map' | 'filter' | 'flatMap' | 'timestamps' | 'process'
  | 'keyed-process' | 'keyed-reduce' | 'window-aggregate' | 'window-reduce' | 'window-local' | 'sink'
  | 'co-process' | 'keyed-co-process' | 'interval-join' | 'broadcast-process' | 'keyed-broadcast-process';

export interface StreamEdge {
  source: string;
  /** Set when the edge carries a side output of `source` instead of its main output. */
  sideOutput?: string;
  partitioning: Partitioning;
  /** For hash edges: how keys are read (field names are shown; functions appear as 'fn'). */
  key?: KeySpec;
  /** The edge carries partial window aggregates besides records (two-phase aggregation): hashed by their key. */
  partials?: boolean;
  /** Which input of a two-input operator the edge feeds (1: the second); absent for the first (and only). */
  input?: 1;
}

/** A window aggregate that may run in two phases (core/graph/local-aggregation.ts decides). */
export interface TwoPhaseWindow {
  /** Event-time windows only: the local side needs the watermark to know what may be late. */
  eventTime: boolean;
  /** Every aggregate is a built-in (merging partial accumulators is known to be exact). */
  builtin: boolean;
  /** Session windows: kept in one phase for now (see core/graph/local-aggregation.ts). */
  merging: boolean;
  /** The local pre-aggregation, chained in front of the keyBy shuffle; `skip`: when it gives up. */
  createLocal(skip: LocalAggregationSkip): StreamOperator;
  /** The window operator that merges partials (and takes the raw records the local side forwards). */
  createGlobal(): StreamOperator;
}

export interface StreamNode {
  id: string;
  uid?: string;
  name: string;
  kind: NodeKind;
  parallelism: number;
  /** Upper bound of parallelism (sources like a collection: 1). */
  maxParallelism?: number;
  inputs: StreamEdge[];
  /** JSON parameters for display and compatibility checks. */
  description: Record<string, unknown>;
  /** Creates this node's operator for one subtask (the runtime face). */
  createOperator: () => StreamOperator;
  /** Side output tags this node can emit. */
  sideOutputs: string[];
  /** Window aggregates only: how to split it into a local and a global phase. */
  twoPhase?: TwoPhaseWindow;
}

export interface StreamGraphJson {
  jobName: string;
  maxParallelism: number;
  nodes: Array<Omit<StreamNode, 'createOperator' | 'inputs' | 'twoPhase'> & { inputs: Array<Omit<StreamEdge, 'key'> & { key?: string[] | 'fn' }> }>;
}

export class StreamGraph {
  readonly nodes = new Map<string, StreamNode>();

  constructor(readonly jobName: string, readonly maxParallelism: number) {}

  add(node: StreamNode): StreamNode {
    if (this.nodes.has(node.id)) {
      throw new RlinkError('RLINK_GRAPH', `two operators have the id '${node.id}'${node.uid ? ' (set by .uid())' : ''}: uids must be unique`);
    }
    this.nodes.set(node.id, node);
    return node;
  }

  node(id: string): StreamNode {
    const n = this.nodes.get(id);
    if (!n) throw new RlinkError('RLINK_INTERNAL', `no stream node '${id}'`);
    return n;
  }

  /** Nodes that consume `id`'s outputs, with the edge. */
  consumers(id: string): Array<{ node: StreamNode; edge: StreamEdge }> {
    const out: Array<{ node: StreamNode; edge: StreamEdge }> = [];
    for (const n of this.nodes.values()) for (const e of n.inputs) if (e.source === id) out.push({ node: n, edge: e });
    return out;
  }

  validate(): void {
    if (this.nodes.size === 0) throw new RlinkError('RLINK_GRAPH', 'the job defines no operators: build() must add at least a source and a sink');
    const sinks = [...this.nodes.values()].filter((n) => n.kind === 'sink');
    if (sinks.length === 0) throw new RlinkError('RLINK_GRAPH', 'the job has no sink: end a stream with .sinkTo(...)');
    for (const n of this.nodes.values()) {
      if (!Number.isInteger(n.parallelism) || n.parallelism < 1) {
        throw new RlinkError('RLINK_GRAPH', `operator '${n.name}' has parallelism ${n.parallelism}; it must be a whole number ≥ 1`);
      }
      if (n.maxParallelism !== undefined && n.parallelism > n.maxParallelism) {
        throw new RlinkError('RLINK_GRAPH', `operator '${n.name}' supports parallelism ${n.maxParallelism} at most (asked for ${n.parallelism})`);
      }
      const keyed = n.inputs.some((e) => e.partitioning === 'hash');
      if (keyed && n.parallelism > this.maxParallelism) {
        throw new RlinkError('RLINK_GRAPH', `keyed operator '${n.name}' has parallelism ${n.parallelism} above pipeline.max-parallelism ${this.maxParallelism}`);
      }
    }
  }

  toJSON(): StreamGraphJson {
    return {
      jobName: this.jobName,
      maxParallelism: this.maxParallelism,
      nodes: [...this.nodes.values()].map(({ createOperator: _c, twoPhase: _t, inputs, ...rest }) => ({
        ...rest,
        inputs: inputs.map(({ key, ...e }) => (key ? { ...e, key: key.kind === 'fn' ? 'fn' as const : key.fields } : e)),
      })),
    };
  }
}

/** FNV-1a 32-bit, hex: short deterministic ids. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return (h >>> 0).toString(16).padStart(8, '0');
}
