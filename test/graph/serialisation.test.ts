/**
 * The graphs' JSON faces: the job graph is shipped to task managers and stored, the stream graph's
 * toJSON is drawn and compared; both must survive JSON.parse(JSON.stringify(x)) unchanged and hold
 * no functions (the user's closures stay in the processes that ran `build`).
 */
import { describe, expect, it } from 'vitest';
import {
  EventTimeSessionWindows, OutputTag, SlidingEventTimeWindows, TumblingEventTimeWindows, TumblingProcessingTimeWindows,
  WatermarkStrategy, avg, count, max, min, sinks, sources, sum,
} from '../../index';
import { buildJobGraph } from '../../core/graph/job-graph';
import { allSubtasks, channelsOf } from '../../core/graph/execution-graph';
import { functionsIn, streamGraph, type Build } from './graph-helpers';

const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Every feature of the API that puts something into the graph. */
const kitchenSink: Build = (env, props) => {
  const late = new OutputTag<any>('late');
  const a = env.fromSource<any>(sources.generator({ count: 100, generate: (i) => ({ user: `u${i % 7}`, page: i % 3, ts: i * 10, v: i }) }), {
    parallelism: 2,
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampAssigner((r: any) => r.ts).withIdleness('5s'),
  });
  const b = env.fromSource(sources.file({ path: props.getOr('input', '/tmp/none.jsonl'), format: 'jsonl' }), { parallelism: 1, uid: 'file-in' })
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts'));
  const u = a.union(b.map((r) => r, { parallelism: 2 }));
  const windowed = u.keyBy('user')
    .window(SlidingEventTimeWindows.of('1m', '20s', '5s'))
    .allowedLateness('10s')
    .sideOutputLateData(late)
    .aggregate({ total: sum('v'), hi: max('v'), lo: min('v'), n: count(), mean: avg('v') }, { parallelism: 3 })
    .uid('stats');
  windowed.sinkTo(sinks.file({ path: '/tmp/out' }));
  windowed.getSideOutput(late).sinkTo(sinks.print({ prefix: 'late' }));
  u.keyBy(['user', 'page']).window(EventTimeSessionWindows.withGap('30s'))
    .aggregate({ createAccumulator: () => 0, add: (n: number) => n + 1, merge: (x: number, y: number) => x + y, getResult: (n: number) => n })
    .sinkTo(sinks.print());
  u.keyBy((r: any) => r.page).window(TumblingEventTimeWindows.of('10s')).reduce((x: any) => x).sinkTo(sinks.print());
  u.keyBy('user').window(TumblingProcessingTimeWindows.of('1s')).aggregate({ n: count() }).sinkTo(sinks.print());
  u.keyBy('user').process({ processElement: (v: any, _ctx: any, out: any) => out.collect(v) }).sinkTo(sinks.print());
  u.process((v: any, _ctx: any, out: any) => out.collect(v)).flatMap((v: any) => [v]).filter(() => true).sinkTo(sinks.print());
  u.keyBy('user').reduce((x: any) => x).sinkTo(sinks.print());
};

describe('graph serialisation', () => {
  const g = streamGraph(kitchenSink);

  it('the stream graph\'s toJSON holds no functions', () => {
    expect(functionsIn(g.toJSON())).toEqual([]);
    // …while the runtime face does (the operator factories).
    expect(functionsIn([...g.nodes.values()]).length).toBeGreaterThan(0);
  });

  it('the stream graph\'s toJSON survives a JSON round trip unchanged', () => {
    const json = g.toJSON();
    expect(roundTrip(json)).toStrictEqual(json);
  });

  it('toJSON lists every node once with its inputs; keys are field names or "fn"', () => {
    const json = g.toJSON();
    expect(json.jobName).toBe('test-app');
    expect(json.maxParallelism).toBe(128);
    expect(json.nodes.map((n) => n.id)).toEqual([...g.nodes.keys()]);
    const keys = json.nodes.flatMap((n) => n.inputs.filter((e) => e.partitioning === 'hash').map((e) => e.key));
    expect(keys).toContainEqual(['user']);
    expect(keys).toContainEqual(['user', 'page']);
    expect(keys).toContain('fn');
    for (const n of json.nodes) for (const e of n.inputs) if (e.partitioning !== 'hash') expect(e).not.toHaveProperty('key');
    const stats = json.nodes.find((n) => n.id === 'stats')!;
    expect(stats.uid).toBe('stats');
    expect(stats.sideOutputs).toEqual(['late']);
    expect(stats.description).toMatchObject({
      assigner: { kind: 'sliding', time: 'event', size: 60_000, slide: 20_000, offset: 5_000 },
      allowedLateness: 10_000, lateDataTag: 'late', key: ['user'], aggregates: ['total', 'hi', 'lo', 'n', 'mean'],
    });
  });

  it('the job graph survives a JSON round trip unchanged and holds no functions', () => {
    const job = buildJobGraph(g);
    expect(functionsIn(job)).toEqual([]);
    expect(roundTrip(job)).toStrictEqual(job);
    // Channels are computed from the JSON alone, the same before and after shipping it.
    const shipped = roundTrip(job);
    for (const [i, v] of job.vertices.entries()) {
      for (const [j, e] of v.inputs.entries()) expect(channelsOf(shipped, shipped.vertices[i]!.inputs[j]!)).toEqual(channelsOf(job, e));
    }
    expect(allSubtasks(shipped)).toEqual(allSubtasks(job));
  });

  // Subset matches (toMatchObject): the graphs may grow fields; these are the ones readers rely on.
  it('a simple graph\'s JSON holds what a reader expects', () => {
    const small = streamGraph((env) => {
      env.fromSource(sources.collection([1, 2]), { parallelism: 1, uid: 'src' })
        .keyBy((x: number) => x % 2).reduce((a: number, b: number) => a + b, { uid: 'sum', parallelism: 2 })
        .sinkTo(sinks.print(), { uid: 'out' });
    });
    expect(roundTrip(small.toJSON())).toMatchObject({
      jobName: 'test-app',
      maxParallelism: 128,
      nodes: [
        { id: 'src', uid: 'src', name: 'Source: collection', kind: 'source', parallelism: 1, inputs: [], sideOutputs: [],
          description: { source: { kind: 'collection', count: 2 }, watermarks: null, bounded: true } },
        { id: 'sum', uid: 'sum', name: 'Reduce', kind: 'keyed-reduce', parallelism: 2, sideOutputs: [],
          inputs: [{ source: 'src', partitioning: 'hash', key: 'fn' }], description: { key: 'fn' } },
        { id: 'out', uid: 'out', name: 'Sink: print', kind: 'sink', parallelism: 2, sideOutputs: [],
          inputs: [{ source: 'sum', partitioning: 'forward' }], description: { sink: { kind: 'print' } } },
      ],
    });
    expect(roundTrip(buildJobGraph(small))).toMatchObject({
      jobName: 'test-app',
      maxParallelism: 128,
      vertices: [
        { id: 'src', name: 'Source: collection', parallelism: 1, nodes: ['src'], inputs: [] },
        { id: 'sum', name: 'Reduce → Sink: print', parallelism: 2, nodes: ['sum', 'out'],
          inputs: [{ id: 'sum.in0', sourceVertex: 'src', sourceNode: 'src', targetVertex: 'sum', targetNode: 'sum', partitioning: 'hash' }] },
      ],
    });
  });

  it('pipeline.max-parallelism reaches both graphs', () => {
    const small = streamGraph((env) => {
      env.fromSource(sources.collection([1]), { parallelism: 1 }).sinkTo(sinks.print());
    }, { 'pipeline.max-parallelism': '4096' });
    expect(small.toJSON().maxParallelism).toBe(4096);
    expect(buildJobGraph(small).maxParallelism).toBe(4096);
  });
});
