import type { JobGraph, JobEdge } from './job-graph';
import { channelId } from '../protocol/channel-ids';

/**
 * The execution graph: every vertex expanded into subtasks, every edge into channels.
 * Forward edges connect subtask i to subtask i; all others connect every producer to every consumer.
 */
export interface ExecutionVertexId { vertex: string; index: number }

export interface Channel {
  /** `<edge>#<producer>><consumer>`: unique in the job, the same in every process. */
  id: string;
  edge: string;
  producer: ExecutionVertexId;
  consumer: ExecutionVertexId;
  /** The consumer's logical input the channel feeds (1: a two-input operator's second). */
  input: number;
}

export function subtaskId(vertex: string, index: number): string { return `${vertex}[${index}]`; }

export function channelsOf(job: JobGraph, edge: JobEdge): Channel[] {
  const src = job.vertices.find((v) => v.id === edge.sourceVertex)!;
  const dst = job.vertices.find((v) => v.id === edge.targetVertex)!;
  const out: Channel[] = [];
  const mk = (i: number, j: number): Channel => ({
    id: channelId(edge.id, i, j), edge: edge.id, input: edge.input ?? 0,
    producer: { vertex: src.id, index: i }, consumer: { vertex: dst.id, index: j },
  });
  if (edge.partitioning === 'forward') for (let i = 0; i < src.parallelism; i++) out.push(mk(i, i));
  else for (let j = 0; j < dst.parallelism; j++) for (let i = 0; i < src.parallelism; i++) out.push(mk(i, j));
  return out;
}

/** Input channels of one subtask, in input-gate order. */
export function inputChannels(job: JobGraph, vertex: string, index: number): Channel[] {
  const v = job.vertices.find((x) => x.id === vertex)!;
  return v.inputs.flatMap((e) => channelsOf(job, e).filter((c) => c.consumer.index === index));
}

/** Output channels of one subtask for one edge, ordered by consumer index. */
export function outputChannels(job: JobGraph, edge: JobEdge, index: number): Channel[] {
  return channelsOf(job, edge).filter((c) => c.producer.index === index).sort((a, b) => a.consumer.index - b.consumer.index);
}

/** Every subtask of the job, upstream vertices first. */
export function allSubtasks(job: JobGraph): ExecutionVertexId[] {
  return job.vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, index) => ({ vertex: v.id, index })));
}
