/** Builds graphs from app definitions in-process (no CLI, no bundling), as the job manager does. */
import { defineApp, type AppDefinition } from '../../core/api/app';
import { buildStreamGraph } from '../../core/api/app';
import { Props } from '../../core/api/props';
import type { StreamExecutionEnvironment } from '../../core/api/environment';
import { buildJobGraph, type JobGraph } from '../../core/graph/job-graph';
import type { StreamGraph, StreamNode } from '../../core/graph/stream-graph';

export type Build = (env: StreamExecutionEnvironment, props: Props) => void;

export function app(build: Build, name = 'test-app'): AppDefinition {
  return defineApp({ name, build });
}

export function streamGraph(build: Build, props: Record<string, string> = {}): StreamGraph {
  return buildStreamGraph(app(build), new Props(props)).graph;
}

export function jobGraph(build: Build, props: Record<string, string> = {}): JobGraph {
  return buildJobGraph(streamGraph(build, props));
}

/** The stream nodes, in insertion order. */
export function nodes(g: StreamGraph): StreamNode[] {
  return [...g.nodes.values()];
}

/** The kinds of each vertex's chained nodes, e.g. [['source', 'map'], ['keyed-reduce', 'sink']]. */
export function chainKinds(job: JobGraph, g: StreamGraph): string[][] {
  return job.vertices.map((v) => v.nodes.map((id) => g.node(id).kind));
}

/** Every function anywhere inside a value, with its path. */
export function functionsIn(x: unknown, path = '$', seen = new Set<unknown>()): string[] {
  if (typeof x === 'function') return [path];
  if (!x || typeof x !== 'object' || seen.has(x)) return [];
  seen.add(x);
  return Object.entries(x as Record<string, unknown>).flatMap(([k, v]) => functionsIn(v, `${path}.${k}`, seen));
}
