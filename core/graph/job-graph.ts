import { createHash } from 'node:crypto';
import type { StreamGraph, StreamNode, Partitioning } from './stream-graph';
import { RlinkError } from '../errors';

/**
 * The job graph: stream nodes chained into vertices. A node joins its upstream's vertex when it has
 * exactly one input, that input is a forward edge (same parallelism, no repartitioning) of the
 * upstream's main output: the records then pass as a function call, never through a channel.
 *
 *   source ─forward─▶ timestamps ─hash─▶ window ─forward─▶ sink
 *   └──── vertex 1 ──────────────┘      └──── vertex 2 ──────┘
 *
 * Pure JSON: the job manager ships it and the dashboard draws it.
 */
export interface JobVertex {
  id: string;
  name: string;
  parallelism: number;
  /** The chained stream nodes, upstream first. */
  nodes: string[];
  /** Edges into this vertex, in the order of its input channels. */
  inputs: JobEdge[];
}

export interface JobEdge {
  id: string;
  sourceVertex: string;
  sourceNode: string;
  sideOutput?: string;
  targetVertex: string;
  targetNode: string;
  partitioning: Partitioning;
  /** The target's logical input it feeds: 1 for a two-input operator's second input; absent for 0. */
  input?: number;
}

export interface JobGraph {
  jobName: string;
  maxParallelism: number;
  /**
   * How far ahead of the watermark a record still makes a watermark generator emit first (see
   * WatermarkGenerator): 1 when an event-time session window exists (sessions that touch merge, so a
   * record at watermark + 1 can meet a session the watermark has just closed), else 0.
   */
  watermarkSlack: number;
  /** Topological order: every vertex after all of its inputs. */
  vertices: JobVertex[];
}

/** Nodes in topological order (stable: ties keep insertion order). */
export function topologicalOrder(graph: StreamGraph): StreamNode[] {
  const nodes = [...graph.nodes.values()];
  const indeg = new Map(nodes.map((n) => [n.id, n.inputs.length]));
  const out: StreamNode[] = [];
  const ready = nodes.filter((n) => n.inputs.length === 0);
  while (ready.length > 0) {
    const n = ready.shift()!;
    out.push(n);
    for (const m of nodes) {
      let hits = 0;
      for (const e of m.inputs) if (e.source === n.id) hits++;
      if (hits > 0) {
        const d = indeg.get(m.id)! - hits;
        indeg.set(m.id, d);
        if (d === 0) ready.push(m);
      }
    }
  }
  if (out.length !== nodes.length) throw new RlinkError('RLINK_GRAPH', 'the dataflow has a cycle');
  return out;
}

export function buildJobGraph(graph: StreamGraph): JobGraph {
  const order = topologicalOrder(graph);
  const vertexOf = new Map<string, JobVertex>();
  const vertices: JobVertex[] = [];
  for (const n of order) {
    const only = n.inputs.length === 1 ? n.inputs[0]! : undefined;
    if (only && only.partitioning === 'forward' && only.sideOutput === undefined) {
      const v = vertexOf.get(only.source)!;
      if (v.parallelism === n.parallelism) {
        v.nodes.push(n.id);
        vertexOf.set(n.id, v);
        continue;
      }
    }
    const v: JobVertex = { id: n.id, name: n.name, parallelism: n.parallelism, nodes: [n.id], inputs: [] };
    vertices.push(v);
    vertexOf.set(n.id, v);
  }
  for (const v of vertices) {
    const head = graph.node(v.id);
    head.inputs.forEach((e, i) => {
      const src = vertexOf.get(e.source)!;
      const edge: JobEdge = {
        id: `${v.id}.in${i}`,
        sourceVertex: src.id, sourceNode: e.source, targetVertex: v.id, targetNode: head.id,
        partitioning: e.partitioning === 'forward' && src.parallelism !== v.parallelism ? 'rebalance' : e.partitioning,
      };
      if (e.sideOutput !== undefined) edge.sideOutput = e.sideOutput;
      if (e.input) edge.input = e.input;
      v.inputs.push(edge);
    });
    // Chained vertices get a readable name: "Source: file → Timestamps/Watermarks".
    v.name = v.nodes.map((id) => graph.node(id).name).join(' → ');
  }
  const sessions = [...graph.nodes.values()].some((n) => {
    const a = n.description.assigner as { kind?: string; time?: string } | undefined;
    return a?.kind === 'session' && a.time === 'event';
  });
  return { jobName: graph.jobName, maxParallelism: graph.maxParallelism, watermarkSlack: sessions ? 1 : 0, vertices };
}

/** Network edges leaving `vertex` (consumers in other vertices). */
export function outputEdges(job: JobGraph, vertexId: string): JobEdge[] {
  return job.vertices.flatMap((v) => v.inputs.filter((e) => e.sourceVertex === vertexId));
}

/**
 * A hash of the job graph's topology (vertices, their nodes and parallelism, edges and their
 * partitioning). The job manager sends it with every deployment; every slot builds the graph again
 * from the same bundle and compares, so a `build` that depends on the host, the clock or chance fails
 * the job with RLINK_NONDETERMINISTIC_GRAPH instead of wiring channels that do not match.
 */
export function jobGraphFingerprint(job: JobGraph): string {
  const topology = {
    maxParallelism: job.maxParallelism,
    watermarkSlack: job.watermarkSlack,
    vertices: job.vertices.map((v) => [v.id, v.parallelism, v.nodes, v.inputs.map((e) => [e.id, e.sourceVertex, e.sourceNode, e.sideOutput ?? null, e.targetNode, e.partitioning, ...(e.input ? [e.input] : [])])]),
  };
  return createHash('sha256').update(JSON.stringify(topology)).digest('hex').slice(0, 32);
}
