/**
 * The execution graph: a forward edge p → p is p channels (i → i); every other edge p1 → p2 is
 * p1·p2 channels (all to all). Channel ids are the same in every process, so they must be unique
 * and derived from the job graph alone.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sinks, sources } from '../../index';
import type { JobEdge, JobGraph } from '../../core/graph/job-graph';
import type { Partitioning } from '../../core/graph/stream-graph';
import { allSubtasks, channelsOf, inputChannels, outputChannels, subtaskId } from '../../core/graph/execution-graph';
import { jobGraph } from './graph-helpers';

/** The top-level fields of a real job graph (so hand-made graphs keep up with new fields). */
const BASE: Omit<JobGraph, 'vertices'> = (() => {
  const { vertices: _v, ...rest } = jobGraph((env) => { env.fromSource(sources.collection([1]), { parallelism: 1 }).sinkTo(sinks.print()); });
  return rest;
})();

/** A two-vertex job graph A(p1) → B(p2) with one edge. */
function twoVertices(p1: number, p2: number, partitioning: Partitioning): { job: JobGraph; edge: JobEdge } {
  const edge: JobEdge = { id: 'B.in0', sourceVertex: 'A', sourceNode: 'A', targetVertex: 'B', targetNode: 'B', partitioning };
  const job: JobGraph = {
    ...BASE,
    vertices: [
      { id: 'A', name: 'A', parallelism: p1, nodes: ['A'], inputs: [] },
      { id: 'B', name: 'B', parallelism: p2, nodes: ['B'], inputs: [edge] },
    ],
  };
  return { job, edge };
}

describe('execution graph channels', () => {
  it('forward p → p: p channels, subtask i to subtask i', () => {
    for (let p = 1; p <= 16; p++) {
      const { job, edge } = twoVertices(p, p, 'forward');
      const cs = channelsOf(job, edge);
      expect(cs).toHaveLength(p);
      for (const c of cs) expect(c.consumer.index).toBe(c.producer.index);
      expect(cs.map((c) => c.producer.index).sort((a, b) => a - b)).toEqual(Array.from({ length: p }, (_, i) => i));
    }
  });

  for (const partitioning of ['hash', 'rebalance', 'broadcast'] as const) {
    it(`${partitioning} p1 → p2: p1·p2 channels, every producer to every consumer once`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }), (p1, p2) => {
        const { job, edge } = twoVertices(p1, p2, partitioning);
        const cs = channelsOf(job, edge);
        expect(cs).toHaveLength(p1 * p2);
        const pairs = new Set(cs.map((c) => `${c.producer.index}>${c.consumer.index}`));
        expect(pairs.size).toBe(p1 * p2);
        for (const c of cs) {
          expect(c.producer).toEqual({ vertex: 'A', index: c.producer.index });
          expect(c.consumer).toEqual({ vertex: 'B', index: c.consumer.index });
          expect(c.producer.index).toBeLessThan(p1);
          expect(c.consumer.index).toBeLessThan(p2);
          expect(c.edge).toBe('B.in0');
        }
      }), { numRuns: 50 });
    });
  }

  it('channel ids are unique and name the edge and both ends', () => {
    const { job, edge } = twoVertices(3, 4, 'hash');
    const cs = channelsOf(job, edge);
    expect(new Set(cs.map((c) => c.id)).size).toBe(cs.length);
    expect(cs.map((c) => c.id)).toContain('B.in0#2>3');
  });

  it('input and output channels of each subtask partition the edge\'s channels', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom<Partitioning>('hash', 'rebalance'), (p1, p2, part) => {
      const { job, edge } = twoVertices(p1, p2, part);
      const all = channelsOf(job, edge).map((c) => c.id).sort();
      const viaInputs = Array.from({ length: p2 }, (_, j) => inputChannels(job, 'B', j)).flat();
      const viaOutputs = Array.from({ length: p1 }, (_, i) => outputChannels(job, edge, i)).flat();
      expect(viaInputs.map((c) => c.id).sort()).toEqual(all);
      expect(viaOutputs.map((c) => c.id).sort()).toEqual(all);
      for (let j = 0; j < p2; j++) expect(inputChannels(job, 'B', j)).toHaveLength(p1);
      for (let i = 0; i < p1; i++) {
        const out = outputChannels(job, edge, i);
        expect(out).toHaveLength(p2);
        // Ordered by consumer: the partitioner's channel k is consumer k.
        expect(out.map((c) => c.consumer.index)).toEqual(Array.from({ length: p2 }, (_, k) => k));
      }
    }), { numRuns: 100 });
  });

  it('a real job: rebalance 1 → 3 then hash 3 → 2', () => {
    const job = jobGraph((env) => {
      const s = env.fromSource(sources.collection([{ k: 'a' }]), { parallelism: 1 });
      const m = s.map((x) => x, { parallelism: 3 });
      m.keyBy('k').reduce((a) => a, { parallelism: 2 }).sinkTo(sinks.print());
    });
    expect(job.vertices.map((v) => v.parallelism)).toEqual([1, 3, 2]);
    const [, mv, rv] = job.vertices;
    expect(channelsOf(job, mv!.inputs[0]!)).toHaveLength(3);     // 1 × 3
    expect(channelsOf(job, rv!.inputs[0]!)).toHaveLength(6);     // 3 × 2
    expect(allSubtasks(job)).toEqual([
      { vertex: job.vertices[0]!.id, index: 0 },
      { vertex: mv!.id, index: 0 }, { vertex: mv!.id, index: 1 }, { vertex: mv!.id, index: 2 },
      { vertex: rv!.id, index: 0 }, { vertex: rv!.id, index: 1 },
    ]);
    // Each reduce subtask reads one channel from every map subtask.
    expect(inputChannels(job, rv!.id, 1).map((c) => c.producer.index)).toEqual([0, 1, 2]);
  });

  it('a union vertex reads its inputs\' channels in input order', () => {
    const edges: JobEdge[] = [
      { id: 'C.in0', sourceVertex: 'A', sourceNode: 'A', targetVertex: 'C', targetNode: 'C', partitioning: 'forward' },
      { id: 'C.in1', sourceVertex: 'B', sourceNode: 'B', targetVertex: 'C', targetNode: 'C', partitioning: 'rebalance' },
    ];
    const job: JobGraph = {
      ...BASE,
      vertices: [
        { id: 'A', name: 'A', parallelism: 2, nodes: ['A'], inputs: [] },
        { id: 'B', name: 'B', parallelism: 3, nodes: ['B'], inputs: [] },
        { id: 'C', name: 'C', parallelism: 2, nodes: ['C'], inputs: edges },
      ],
    };
    expect(inputChannels(job, 'C', 1).map((c) => c.id)).toEqual(['C.in0#1>1', 'C.in1#0>1', 'C.in1#1>1', 'C.in1#2>1']);
    expect(allSubtasks(job)).toHaveLength(7);
  });

  it('subtaskId is <vertex>[<index>]', () => {
    expect(subtaskId('map-1234abcd', 3)).toBe('map-1234abcd[3]');
  });
});
