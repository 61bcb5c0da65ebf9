import { StreamGraph, fnv1a, type NodeKind, type StreamEdge, type StreamNode } from '../graph/stream-graph';
import type { Source } from './connector';
import { WatermarkStrategy } from '../time/watermark-strategy';
import { SourceOperator } from '../runtime/operators/source';
import { DataStream, type StreamHandle } from './datastream';
import { RlinkError } from '../errors';
import type { StreamOperator } from '../runtime/operator';
import type { Sink } from './connector';
import type { DataStreamSink, SingleOutputStream } from './datastream';
import { SqlCatalog, infoOfSchema, setStreamInfo } from '../sql/catalog';
import type { SqlQueryOptions } from '../sql/planner';
import type { Schema, SchemaSpec } from '../sql/types';

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
    // A source schema's watermark declaration makes the watermarks when no strategy is given.
    const wm = source.schema?.watermark;
    const watermarks = options.watermarks ?? (wm ? WatermarkStrategy.forBoundedOutOfOrderness(wm.delayMs).withTimestampField(wm.field) : undefined);
    const node = this.addNode({
      kind: 'source',
      name: options.name ?? `Source: ${source.kind}`,
      uid: options.uid,
      parallelism,
      maxParallelism: source.maxParallelism,
      inputs: [],
      description: { source: source.describe(), watermarks: watermarks?.describe() ?? null, bounded: source.bounded },
      createOperator: () => new SourceOperator(source, watermarks),
    });
    const stream = new DataStream<T>(this, [{ node: node.id }]);
    if (source.schema) setStreamInfo(stream, infoOfSchema(source.schema, options.watermarks === undefined));
    return stream;
  }

  // ---- SQL (core/sql, docs/sql.md) ----

  /**
   * Registers a stream as a table for SQL. `schema` declares its columns and types, and may declare
   * a watermark (`watermark: { field, delay }`), which then makes the stream's timestamps and watermarks
   * from that field; without a schema the columns of a source's schema (or of a SQL result) are used.
   */
  createTemporaryView(name: string, stream: DataStream<any>, schema?: SchemaSpec | Schema): void {
    this.sqlCatalog().createView(name, stream, schema);
  }

  /** Registers a sink as a table that `INSERT INTO name SELECT …` writes; `schema` names its columns. */
  createTemporarySinkTable(name: string, sink: Sink<any>, schema?: SchemaSpec | Schema): void {
    this.sqlCatalog().createSinkTable(name, sink, schema);
  }

  /** Runs a SELECT over the registered tables; its records carry the query's column names (aliases as written). */
  sqlQuery(sql: string, options: SqlQueryOptions = {}): SingleOutputStream<any> {
    return this.sqlCatalog().query(sql, options);
  }

  /** Runs INSERT INTO (returns the sink), CREATE TABLE … WITH (…) or CREATE VIEW … AS SELECT. */
  executeSql(sql: string, options: SqlQueryOptions = {}): DataStreamSink | undefined {
    return this.sqlCatalog().execute(sql, options);
  }

  private catalog: SqlCatalog | undefined;

  /** @internal The tables of this environment's SQL. */
  sqlCatalog(): SqlCatalog {
    this.catalog ??= new SqlCatalog(this);
    return this.catalog;
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
