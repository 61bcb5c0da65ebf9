/**
 * Operator chaining (stream graph → job graph): a node joins its upstream's vertex when its only
 * input is a forward edge of the upstream's main output at the same parallelism; keyBy (hash),
 * a parallelism change (rebalance), side outputs and unions start a new vertex.
 */
import { describe, expect, it } from 'vitest';
import {
  OutputTag, TumblingEventTimeWindows, TumblingProcessingTimeWindows, WatermarkStrategy, count, sinks, sources,
} from '../../index';
import { buildJobGraph, jobGraphFingerprint, outputEdges, topologicalOrder } from '../../core/graph/job-graph';
import { chainKinds, jobGraph, nodes, streamGraph, type Build } from './graph-helpers';

const gen = () => sources.generator({ count: 10, generate: (i) => ({ k: `k${i % 3}`, v: i, ts: i }) });

function plan(build: Build, props: Record<string, string> = {}) {
  const g = streamGraph(build, props);
  return { g, job: buildJobGraph(g) };
}

describe('operator chaining', () => {
  it('source → map → filter → sink at one parallelism is one vertex, in order, named after its operators', () => {
    const { g, job } = plan((env) => {
      env.fromSource(sources.collection([1, 2, 3]), { parallelism: 1 })
        .map((x: number) => x * 2)
        .filter((x: number) => x > 2)
        .sinkTo(sinks.print());
    });
    expect(job.vertices).toHaveLength(1);
    const v = job.vertices[0]!;
    expect(chainKinds(job, g)).toEqual([['source', 'map', 'filter', 'sink']]);
    expect(v.nodes).toEqual(nodes(g).map((n) => n.id));
    expect(v.parallelism).toBe(1);
    expect(v.inputs).toEqual([]);
    expect(v.id).toBe(v.nodes[0]);
    expect(v.name).toBe('Source: collection → Map → Filter → Sink: print');
  });

  it('a chain at parallelism 4 stays one vertex (forward edges everywhere)', () => {
    const { g, job } = plan((env) => {
      env.fromSource(gen(), { parallelism: 4 }).map((x) => x).filter(() => true).flatMap((x) => [x]).sinkTo(sinks.print());
    });
    expect(chainKinds(job, g)).toEqual([['source', 'map', 'filter', 'flatMap', 'sink']]);
    expect(job.vertices[0]!.parallelism).toBe(4);
    for (const n of nodes(g)) for (const e of n.inputs) expect(e.partitioning).toBe('forward');
  });

  it('keyBy breaks the chain with a hash edge, even at the same parallelism', () => {
    const { g, job } = plan((env) => {
      env.fromSource(gen(), { parallelism: 2 })
        .map((x) => x)
        .keyBy('k')
        .reduce((a, b) => ({ ...a, v: a.v + b.v }), { parallelism: 2 })
        .sinkTo(sinks.print());
    });
    expect(chainKinds(job, g)).toEqual([['source', 'map'], ['keyed-reduce', 'sink']]);
    const [first, second] = job.vertices;
    expect(second!.inputs).toHaveLength(1);
    const e = second!.inputs[0]!;
    expect(e.partitioning).toBe('hash');
    expect(e.sourceVertex).toBe(first!.id);
    expect(e.sourceNode).toBe(first!.nodes[1]); // the map, the chain's tail
    expect(e.targetVertex).toBe(second!.id);
    expect(e.targetNode).toBe(second!.nodes[0]);
    // The stream edge keeps the key for the partitioner.
    const reduce = g.node(second!.nodes[0]!);
    expect(reduce.inputs[0]!.key).toEqual({ kind: 'field', fields: ['k'] });
  });

  it('a different parallelism breaks the chain with a rebalance edge; the chain goes on after it', () => {
    const { g, job } = plan((env) => {
      env.fromSource(sources.collection([1, 2, 3]), { parallelism: 1 })
        .map((x: number) => x + 1, { parallelism: 3 })
        .filter(() => true)
        .sinkTo(sinks.print());
    });
    expect(chainKinds(job, g)).toEqual([['source'], ['map', 'filter', 'sink']]);
    expect(job.vertices.map((v) => v.parallelism)).toEqual([1, 3]);
    expect(job.vertices[1]!.inputs.map((e) => e.partitioning)).toEqual(['rebalance']);
    const map = g.node(job.vertices[1]!.nodes[0]!);
    expect(map.inputs[0]!.partitioning).toBe('rebalance');
  });

  it('setParallelism after the fact re-plans the edge (forward ↔ rebalance)', () => {
    const a = plan((env) => {
      env.fromSource(gen(), { parallelism: 2 }).map((x) => x).setParallelism(4).sinkTo(sinks.print());
    });
    expect(chainKinds(a.job, a.g)).toEqual([['source'], ['map', 'sink']]);
    expect(a.job.vertices[1]!.inputs[0]!.partitioning).toBe('rebalance');
    const b = plan((env) => {
      env.fromSource(gen(), { parallelism: 2 }).map((x) => x, { parallelism: 4 }).setParallelism(2).sinkTo(sinks.print());
    });
    expect(chainKinds(b.job, b.g)).toEqual([['source', 'map', 'sink']]);
  });

  it('a scale-down (p → 1) is also a rebalance', () => {
    const { g, job } = plan((env) => {
      env.fromSource(gen(), { parallelism: 4 }).sinkTo(sinks.print(), { parallelism: 1 });
    });
    expect(chainKinds(job, g)).toEqual([['source'], ['sink']]);
    expect(job.vertices[1]!.inputs[0]!.partitioning).toBe('rebalance');
  });

  it('a side output is a network edge (never chained), carrying its tag', () => {
    const late = new OutputTag<any>('late');
    const { g, job } = plan((env) => {
      const windowed = env.fromSource(gen(), { parallelism: 2, watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
        .keyBy('k')
        .window(TumblingEventTimeWindows.of('10s'))
        .sideOutputLateData(late)
        .aggregate({ n: count() }, { parallelism: 2 });
      windowed.sinkTo(sinks.print());
      windowed.getSideOutput(late).sinkTo(sinks.print({ prefix: 'late' }));
    });
    expect(chainKinds(job, g)).toEqual([['source', 'window-local'], ['window-aggregate', 'sink'], ['sink']]);
    const lateVertex = job.vertices[2]!;
    expect(lateVertex.inputs).toHaveLength(1);
    expect(lateVertex.inputs[0]!.sideOutput).toBe('late');
    expect(lateVertex.inputs[0]!.partitioning).toBe('forward');
    expect(lateVertex.inputs[0]!.sourceNode).toBe(job.vertices[1]!.nodes[0]);
    expect(g.node(job.vertices[1]!.nodes[0]!).sideOutputs).toEqual(['late']);
  });

  it('a union (two inputs) starts a new vertex with one input edge per stream, in order', () => {
    const { g, job } = plan((env) => {
      const a = env.fromSource(sources.collection([1]), { parallelism: 1, name: 'A' });
      const b = env.fromSource(sources.collection([2]), { parallelism: 1, name: 'B' });
      a.union(b).map((x: number) => x).sinkTo(sinks.print());
    });
    expect(chainKinds(job, g)).toEqual([['source'], ['source'], ['map', 'sink']]);
    const m = job.vertices[2]!;
    expect(m.inputs.map((e) => [e.sourceVertex, e.partitioning])).toEqual([[job.vertices[0]!.id, 'forward'], [job.vertices[1]!.id, 'forward']]);
    expect(m.inputs.map((e) => e.id)).toEqual([`${m.id}.in0`, `${m.id}.in1`]);
  });

  it('a fan-out of forward edges chains every consumer into the producer\'s vertex', () => {
    const { g, job } = plan((env) => {
      const m = env.fromSource(sources.collection([1]), { parallelism: 1 }).map((x: number) => x);
      m.sinkTo(sinks.print({ prefix: 'a' }));
      m.filter(() => true).sinkTo(sinks.print({ prefix: 'b' }));
    });
    expect(chainKinds(job, g)).toEqual([['source', 'map', 'sink', 'filter', 'sink']]);
    expect(outputEdges(job, job.vertices[0]!.id)).toEqual([]);
  });

  it('the job graph lists vertices upstream first and every edge points at an earlier vertex', () => {
    const job = jobGraph((env) => {
      const s = env.fromSource(gen(), { parallelism: 2 });
      const k = s.keyBy('k').reduce((a) => a, { parallelism: 3 });
      k.map((x) => x, { parallelism: 1 }).union(s.map((x) => x, { parallelism: 1 })).sinkTo(sinks.print());
    });
    const index = new Map(job.vertices.map((v, i) => [v.id, i]));
    for (const [i, v] of job.vertices.entries()) for (const e of v.inputs) expect(index.get(e.sourceVertex)!).toBeLessThan(i);
    // outputEdges is the inverse of inputs.
    for (const v of job.vertices) {
      for (const e of outputEdges(job, v.id)) expect(e.sourceVertex).toBe(v.id);
    }
    const all = job.vertices.flatMap((v) => v.inputs).length;
    expect(job.vertices.reduce((n, v) => n + outputEdges(job, v.id).length, 0)).toBe(all);
  });

  it('topologicalOrder keeps every node after its inputs', () => {
    const g = streamGraph((env) => {
      const a = env.fromSource(gen(), { parallelism: 1 });
      const b = env.fromSource(gen(), { parallelism: 1 });
      b.union(a).keyBy('k').reduce((x) => x).map((x) => x).sinkTo(sinks.print());
    });
    const order = topologicalOrder(g).map((n) => n.id);
    expect(new Set(order).size).toBe(g.nodes.size);
    for (const n of g.nodes.values()) for (const e of n.inputs) expect(order.indexOf(e.source)).toBeLessThan(order.indexOf(n.id));
  });
});

describe('two-phase window aggregation (pipeline.aggregation-phases)', () => {
  const windowed = (agg: 'builtin' | 'custom' | 'reduce', assigner = TumblingEventTimeWindows.of('10s')): Build => (env) => {
    const keyed = env.fromSource(gen(), { parallelism: 2, watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
      .map((r: any) => r).keyBy('k').window(assigner);
    const out = agg === 'builtin' ? keyed.aggregate({ n: count() }, { parallelism: 3 })
      : agg === 'reduce' ? keyed.reduce((a: any) => a, { parallelism: 3 })
        : keyed.aggregate({ createAccumulator: () => 0, add: (a: number) => a + 1, merge: (a: number, b: number) => a + b, getResult: (a: number) => a }, { parallelism: 3 });
    out.sinkTo(sinks.print());
  };

  it('auto: a local pre-aggregation is chained in front of the shuffle of built-in aggregates, with its upstream parallelism', () => {
    const { g, job } = plan(windowed('builtin'));
    expect(chainKinds(job, g)).toEqual([['source', 'map', 'window-local'], ['window-aggregate', 'sink']]);
    const local = g.node(job.vertices[0]!.nodes[2]!);
    const win = g.node(job.vertices[1]!.nodes[0]!);
    expect(local.id).toBe(`${win.id}.local`);
    expect(local.parallelism).toBe(2);
    expect(win.inputs).toEqual([{ source: local.id, partitioning: 'hash', partials: true, key: { kind: 'field', fields: ['k'] } }]);
    expect(job.vertices[1]!.inputs[0]!.partitioning).toBe('hash');
    expect(win.description.phases).toBe('two');
  });

  it('auto leaves custom aggregates, reduce and processing-time windows in one phase; two takes custom ones; one takes none', () => {
    const kinds = (b: Build, props: Record<string, string> = {}) => { const p = plan(b, props); return chainKinds(p.job, p.g); };
    expect(kinds(windowed('custom'))).toEqual([['source', 'map'], ['window-aggregate', 'sink']]);
    expect(kinds(windowed('reduce'))).toEqual([['source', 'map'], ['window-reduce', 'sink']]);
    expect(kinds(windowed('builtin', TumblingProcessingTimeWindows.of('10s')))).toEqual([['source', 'map'], ['window-aggregate', 'sink']]);
    expect(kinds(windowed('custom'), { 'pipeline.aggregation-phases': 'two' })).toEqual([['source', 'map', 'window-local'], ['window-aggregate', 'sink']]);
    expect(kinds(windowed('reduce'), { 'pipeline.aggregation-phases': 'two' })).toEqual([['source', 'map', 'window-local'], ['window-reduce', 'sink']]);
    expect(kinds(windowed('builtin'), { 'pipeline.aggregation-phases': 'one' })).toEqual([['source', 'map'], ['window-aggregate', 'sink']]);
    expect(() => plan(windowed('builtin'), { 'pipeline.aggregation-phases': 'three' })).toThrow(/pipeline.aggregation-phases 'three' is not one of auto, one, two/);
  });

  it('is deterministic: the same graph, ids and fingerprint every time it is built', () => {
    const a = plan(windowed('builtin'));
    const b = plan(windowed('builtin'));
    expect(jobGraphFingerprint(b.job)).toBe(jobGraphFingerprint(a.job));
    expect([...b.g.nodes.keys()]).toEqual([...a.g.nodes.keys()]);
  });
});
