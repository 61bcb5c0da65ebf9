import { StreamGraph, fnv1a, type NodeKind, type StreamEdge, type StreamNode } from '../graph/stream-graph';
import type { Source } from './connector';
import type { WatermarkStrategy } from '../time/watermark-strategy';
import { SourceOperator } from '../runtime/operators/source';
import { DataStream, type StreamHandle } from './datastream';
import { RlinkError } from '../errors';
import type { StreamOperator } from '../runtime/operator';

export interface SourceOptions {
  /** Subtasks reading the source; default: the environment's default parallelism. */
  parallelism?: number;
  /** Timestamps and watermarks made inside the source, per split. */
  watermarks?: WatermarkStrategy;
  name?: string;
  uid?: string;
}

export interface OperatorOptions {
  parallelism?: number;
  name?: string;
  uid?: string;
}

/**
 * The environment `build(env, props)` receives: the entry point of the DataStream API. It records a
 * {@link StreamGraph}; nothing runs until the cluster deploys it.
 */
export class StreamExecutionEnvironment {
  readonly graph: StreamGraph;
  private readonly ordinals = new Map<string, number>();
  /** Ids renamed by `.uid()`: streams taken before the rename still name the old id. */
  private readonly aliases = new Map<string, string>();

  constructor(jobName: string, readonly defaultParallelism = 1, maxParallelism = 128) {
    this.graph = new StreamGraph(jobName, maxParallelism);
  }

  fromSource<T = any>(source: Source<T>, options: SourceOptions = {}): DataStream<T> {
    if (!source || typeof source.createReader !== 'function') {
      throw new RlinkError('RLINK_GRAPH', 'fromSource needs a source (e.g. sources.file({...}), sources.generator({...}))');
    }
    const parallelism = options.parallelism ?? Math.min(this.defaultParallelism, source.maxParallelism ?? Infinity);
    const node = this.addNode({
      kind: 'source',
      name: options.name ?? `Source: ${source.kind}`,
      uid: options.uid,
      parallelism,
      maxParallelism: source.maxParallelism,
      inputs: [],
      description: { source: source.describe(), watermarks: options.watermarks?.describe() ?? null, bounded: source.bounded },
      createOperator: () => new SourceOperator(source, options.watermarks),
    });
    return new DataStream<T>(this, [{ node: node.id }]);
  }

  /** @internal Adds a node with a deterministic id: its uid, or a hash of its kind, inputs and position. */
  addNode(spec: {
    kind: NodeKind; name: string; uid?: string | undefined; parallelism: number; maxParallelism?: number | undefined;
    inputs: StreamEdge[]; description: Record<string, unknown>; createOperator: () => StreamOperator; sideOutputs?: string[];
  }): StreamNode {
    const signature = `${spec.kind}|${spec.inputs.map((e) => `${e.source}/${e.sideOutput ?? ''}/${e.partitioning}`).join(',')}`;
    const ordinal = this.ordinals.get(signature) ?? 0;
    this.ordinals.set(signature, ordinal + 1);
    const id = spec.uid ?? `${spec.kind}-${fnv1a(`${signature}#${ordinal}`)}`;
    const node: StreamNode = {
      id, name: spec.name, kind: spec.kind, parallelism: spec.parallelism, inputs: spec.inputs,
      description: spec.description, createOperator: spec.createOperator, sideOutputs: spec.sideOutputs ?? [],
    };
    if (spec.uid !== undefined) node.uid = spec.uid;
    if (spec.maxParallelism !== undefined) node.maxParallelism = spec.maxParallelism;
    return this.graph.add(node);
  }

  /** @internal The current id of a node, following `.uid()` renames. */
  resolve(id: string): string {
    let cur = id;
    for (let next = this.aliases.get(cur); next !== undefined; next = this.aliases.get(cur)) cur = next;
    return cur;
  }

  /** @internal The parallelism of the node(s) a handle list comes from (the largest). */
  parallelismOf(inputs: readonly StreamHandle[]): number {
    return Math.max(...inputs.map((h) => this.graph.node(this.resolve(h.node)).parallelism));
  }

  /** @internal Re-keys a node under a user-chosen uid (DataStream.uid()). */
  renameNode(oldId: string, uid: string): void {
    const node = this.graph.nodes.get(oldId);
    if (!node) throw new RlinkError('RLINK_INTERNAL', `no node '${oldId}'`);
    if (oldId === uid) return;
    if (this.graph.nodes.has(uid)) throw new RlinkError('RLINK_GRAPH', `two operators have the uid '${uid}': uids must be unique`);
    for (const n of this.graph.nodes.values()) for (const e of n.inputs) if (e.source === oldId) e.source = uid;
    this.graph.nodes.delete(oldId);
    this.aliases.set(oldId, uid);
    node.id = uid;
    node.uid = uid;
    this.graph.nodes.set(uid, node);
  }
}
