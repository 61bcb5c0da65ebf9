/**
 * Deterministic operator ids: every task manager calls `build` again and matches operators by id, and
 * savepoints are matched by id, so the same app must give the same ids in every process; `.uid()`
 * (or `{ uid }`) overrides the generated id, and two equal uids are a clear error.
 */
import { describe, expect, it } from 'vitest';
import {
  OutputTag, RlinkError, SlidingEventTimeWindows, WatermarkStrategy, count, max, min, sinks, sources, sum,
} from '../../index';
import { buildStreamGraph } from '../../core/api/app';
import { Props } from '../../core/api/props';
import { StreamExecutionEnvironment } from '../../core/api/environment';
import { buildJobGraph } from '../../core/graph/job-graph';
import { app, nodes, streamGraph, type Build } from './graph-helpers';

const NAMES = ['A-0', 'B-1', 'C-2'];

/** rlink-simple's shape, parameterised by what must NOT change the ids. */
function simple(opts: { count?: number; mapName?: string; mul?: number } = {}): Build {
  return (env, props) => {
    env.fromSource(sources.generator({
      count: opts.count ?? props.getNumber('count', 100),
      generate: (i) => ({ timestamp: i, name: NAMES[i % 3]!, value: i * (opts.mul ?? 1) }),
    }), { parallelism: 1 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('timestamp'))
      .map((r) => r, { name: opts.mapName ?? 'Map' })
      .keyBy('name')
      .window(SlidingEventTimeWindows.of('60s', '20s'))
      .aggregate({ sum: sum('value'), max: max('value'), min: min('value'), count: count() }, { parallelism: 2 })
      .sinkTo(sinks.print());
  };
}

const ids = (b: Build, props: Record<string, string> = {}) => nodes(streamGraph(b, props)).map((n) => n.id);

function buildError(b: Build): RlinkError {
  try {
    streamGraph(b);
  } catch (e) {
    expect(e).toBeInstanceOf(RlinkError);
    return e as RlinkError;
  }
  throw new Error('expected the build to fail');
}

describe('deterministic operator ids', () => {
  it('building the same app twice gives identical ids, stream graph JSON and job graph', () => {
    const a = streamGraph(simple());
    const b = streamGraph(simple());
    expect(nodes(a).map((n) => n.id)).toEqual(nodes(b).map((n) => n.id));
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(buildJobGraph(a)).toEqual(buildJobGraph(b));
  });

  it('ids are unique, and every edge points at an existing node', () => {
    const g = streamGraph(simple());
    const list = nodes(g).map((n) => n.id);
    expect(new Set(list).size).toBe(list.length);
    for (const n of nodes(g)) for (const e of n.inputs) expect(g.nodes.has(e.source)).toBe(true);
  });

  it('ids depend on the topology only: not on names, functions, or property values', () => {
    const base = ids(simple());
    expect(ids(simple({ mapName: 'Renamed' }))).toEqual(base);
    expect(ids(simple({ mul: 7 }))).toEqual(base);
    expect(ids(simple(), { count: '5000' })).toEqual(base);
    expect(ids(simple({ count: 3 }))).toEqual(base);
  });

  it('appending an operator leaves the ids of the existing ones unchanged', () => {
    const base = ids(simple());
    const more = ids((env, props) => {
      simple()(env, props);
      env.fromSource(sources.collection([1]), { parallelism: 1 }).sinkTo(sinks.print());
    });
    expect(more).toEqual(expect.arrayContaining(base));
    expect(more.length).toBe(base.length + 2);
  });

  it('identical sibling operators get different ids, stable in their order', () => {
    const build: Build = (env) => {
      const s = env.fromSource(sources.collection([1, 2]), { parallelism: 1 });
      s.map((x: number) => x).sinkTo(sinks.print());
      s.map((x: number) => x).sinkTo(sinks.print());
    };
    const a = ids(build);
    expect(new Set(a).size).toBe(a.length);
    expect(ids(build)).toEqual(a);
  });

  it('generated ids are readable: <kind>-<8 hex digits>, a local pre-aggregation named after its window', () => {
    for (const id of ids(simple())) expect(id).toMatch(/^(source|timestamps|map|window-aggregate|sink)-[0-9a-f]{8}(\.local)?$/);
  });

  it('.uid() overrides the id of an operator and of a sink; edges and the job graph follow', () => {
    const g = streamGraph((env) => {
      env.fromSource(sources.collection([1, 2]), { parallelism: 1, uid: 'numbers' })
        .map((x: number) => x * 2).uid('doubler')
        .keyBy((x: number) => x % 2)
        .reduce((a: number, b: number) => a + b).uid('sums')
        .sinkTo(sinks.print()).uid('out');
    });
    expect(nodes(g).map((n) => n.id)).toEqual(['numbers', 'doubler', 'sums', 'out']);
    expect(nodes(g).map((n) => n.uid)).toEqual(['numbers', 'doubler', 'sums', 'out']);
    expect(g.node('doubler').inputs[0]!.source).toBe('numbers');
    expect(g.node('sums').inputs[0]!.source).toBe('doubler');
    expect(g.node('out').inputs[0]!.source).toBe('sums');
    const job = buildJobGraph(g);
    expect(job.vertices.map((v) => v.id)).toEqual(['numbers', 'sums']);
    expect(job.vertices[1]!.inputs[0]).toMatchObject({ sourceVertex: 'numbers', sourceNode: 'doubler', targetNode: 'sums' });
  });

  it('a uid keeps its operator\'s id when the operators around it change', () => {
    const withUid = (extraMap: boolean): Build => (env) => {
      let s = env.fromSource(sources.collection([1]), { parallelism: 1 });
      if (extraMap) s = s.map((x: number) => x);
      s.keyBy((x: number) => x).reduce((a: number) => a).uid('state').sinkTo(sinks.print());
    };
    expect(ids(withUid(false))).toContain('state');
    expect(ids(withUid(true))).toContain('state');
  });

  // Flink lets .uid() be set any time before the job is submitted; streams derived earlier must follow the rename.
  const late = new OutputTag<any>('late');
  const derivedBeforeUid: Array<[string, Build]> = [
    ['a keyed stream', (env) => {
      const m = env.fromSource(sources.collection([{ k: 'a' }]), { parallelism: 1 }).map((x) => x);
      const keyed = m.keyBy('k');
      m.uid('m');
      keyed.reduce((a) => a).sinkTo(sinks.print());
    }],
    ['a side output', (env) => {
      const w = env.fromSource(sources.collection([{ k: 'a', ts: 1 }]), { parallelism: 1, watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
        .keyBy('k').window(SlidingEventTimeWindows.of('2s', '1s')).sideOutputLateData(late).aggregate({ n: count() });
      const lateStream = w.getSideOutput(late);
      w.uid('m');
      w.sinkTo(sinks.print());
      lateStream.sinkTo(sinks.print());
    }],
    ['a union', (env) => {
      const src = env.fromSource(sources.collection([1]), { parallelism: 1 });
      const m = src.map((x: number) => x);
      const u = m.union(src);
      m.uid('m');
      u.sinkTo(sinks.print());
    }],
  ];
  for (const [what, build] of derivedBeforeUid) {
    it(`.uid() called after ${what} was derived from the stream still wires the edges to the renamed node`, () => {
      const g = streamGraph(build);
      expect(g.nodes.has('m')).toBe(true);
      for (const n of nodes(g)) for (const e of n.inputs) expect(g.nodes.has(e.source), `${n.id} ← ${e.source}`).toBe(true);
    });
  }

  it('two operators with the same uid: a clear RLINK_GRAPH error naming the uid', () => {
    const e1 = buildError((env) => {
      const s = env.fromSource(sources.collection([1]), { parallelism: 1 });
      s.map((x: number) => x).uid('dup').sinkTo(sinks.print());
      s.filter(() => true).uid('dup').sinkTo(sinks.print());
    });
    expect(e1.code).toBe('RLINK_APP_BUILD');
    expect(e1.message).toContain("'dup'");
    expect(e1.message).toMatch(/unique/);
    expect(e1.message).toContain("app 'test-app' failed to build");

    // Through options, and mixed with .uid(): the same error.
    const e2 = buildError((env) => {
      env.fromSource(sources.collection([1]), { parallelism: 1, uid: 'dup' }).map((x: number) => x, { uid: 'dup' }).sinkTo(sinks.print());
    });
    expect(e2.message).toContain("'dup'");
    const e3 = buildError((env) => {
      env.fromSource(sources.collection([1]), { parallelism: 1, uid: 'dup' }).map((x: number) => x).uid('dup2').sinkTo(sinks.print()).uid('dup');
    });
    expect(e3.message).toContain("'dup'");
  });

  it('the duplicate-uid error is RLINK_GRAPH at the environment level (before the app wrapper)', () => {
    let caught: unknown;
    try {
      const env = new StreamExecutionEnvironment('job');
      const s = env.fromSource(sources.collection([1]), { parallelism: 1 });
      s.map((x: number) => x).uid('x');
      s.map((x: number) => x).uid('x');
    } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(RlinkError);
    expect((caught as RlinkError).code).toBe('RLINK_GRAPH');
    expect((caught as RlinkError).message).toContain("'x'");
  });

  it('the same app built through buildStreamGraph twice with the same props is identical (what JM and TMs do)', () => {
    const def = app(simple());
    const a = buildStreamGraph(def, new Props({ count: '10' }));
    const b = buildStreamGraph(def, new Props({ count: '10' }));
    expect(a.graph.toJSON()).toEqual(b.graph.toJSON());
    expect(a.config).toEqual(b.config);
  });
});
