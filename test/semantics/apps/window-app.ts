/**
 * A generic windowed-aggregate job for the semantics tests, configured entirely from the command line:
 *
 *   rlink run test/semantics/apps/window-app.ts input=in.jsonl output=out.jsonl \
 *     window=tumbling|sliding|session size=10 slide=5 gap=5 offset=0 \
 *     bound=0 lateness=0 parallelism=1 sourceParallelism=1 source=file|collection wm=source|assign \
 *     keys=key aggs=sum,min,max,count,avg,spread,values [side=late.jsonl]
 *
 * Durations are numbers of milliseconds. Records carry the event time in `ts` and a number in `v`.
 * - `source=file` reads `input` with sources.file (parallelism must be 1: one file is one split);
 *   `source=collection` reads it here, in build, and emits it with sources.collection at
 *   `sourceParallelism` (subtask k emits the indexes ≡ k mod p).
 * - `wm=source` generates watermarks in the source (fromSource's `watermarks`), `wm=assign` with
 *   `.assignTimestampsAndWatermarks(...)` right after it.
 * - `side=path` sends late data to a side output (`sideOutputLateData`) written to that path.
 * - aggs: sum/min/max/avg of `v`, count, and two user aggregates { createAccumulator, add, merge, getResult }:
 *   `spread` (max v − min v) and `values` (the sorted distinct values of v).
 */
import { readFileSync } from 'node:fs';
import {
  defineApp, WatermarkStrategy, TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows,
  OutputTag, sum, min, max, count, avg, sources, sinks, type AggregateFunction,
} from 'rlink';

interface Rec { ts: number; v: number; [k: string]: unknown }

/** A user-defined aggregate: max − min of v (order-independent, so merges are exact). */
const spread: AggregateFunction<Rec, { lo: number; hi: number }, number> = {
  createAccumulator: () => ({ lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY }),
  add: (a, r) => ({ lo: Math.min(a.lo, r.v), hi: Math.max(a.hi, r.v) }),
  merge: (a, b) => ({ lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) }),
  getResult: (a) => a.hi - a.lo,
};

/** A user-defined aggregate: the sorted distinct values of v. */
const values: AggregateFunction<Rec, number[], number[]> = {
  createAccumulator: () => [],
  add: (a, r) => (a.includes(r.v) ? a : [...a, r.v]),
  merge: (a, b) => [...a, ...b.filter((x) => !a.includes(x))],
  getResult: (a) => [...a].sort((x, y) => x - y),
};

export default defineApp({
  name: 'semantics-window-app',
  build(env, props) {
    const kind = props.get('window');
    const parallelism = props.getNumber('parallelism', 1);
    const sourceParallelism = props.getNumber('sourceParallelism', 1);
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness(props.getNumber('bound', 0)).withTimestampField('ts');
    const wmInSource = props.getOr('wm', 'source') === 'source';

    const source = props.getOr('source', 'file') === 'file'
      ? sources.file({ path: props.get('input'), format: 'jsonl' })
      : sources.collection(readFileSync(props.get('input'), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Rec));
    let events = env.fromSource(source, { parallelism: sourceParallelism, ...(wmInSource ? { watermarks: strategy } : {}) });
    if (!wmInSource) events = events.assignTimestampsAndWatermarks(strategy);

    const offset = props.getNumber('offset', 0);
    const assigner = kind === 'tumbling' ? TumblingEventTimeWindows.of(props.getNumber('size'), offset)
      : kind === 'sliding' ? SlidingEventTimeWindows.of(props.getNumber('size'), props.getNumber('slide'), offset)
        : kind === 'session' ? EventTimeSessionWindows.withGap(props.getNumber('gap'))
          : undefined;
    if (!assigner) throw new Error(`window=${kind}: expected tumbling, sliding or session`);

    const catalog: Record<string, AggregateFunction> = {
      sum: sum('v'), min: min('v'), max: max('v'), count: count(), avg: avg('v'), spread, values,
    };
    const named: Record<string, AggregateFunction> = {};
    for (const name of props.getOr('aggs', 'sum,count').split(',')) {
      const f = catalog[name];
      if (!f) throw new Error(`aggs: unknown aggregate '${name}'`);
      named[name] = f;
    }

    const keys = props.getOr('keys', 'key').split(',');
    const windowed = events.keyBy(keys.length === 1 ? keys[0]! : keys).window(assigner);
    if (props.has('lateness')) windowed.allowedLateness(props.getNumber('lateness'));
    const lateTag = new OutputTag<Rec>('late');
    if (props.has('side')) windowed.sideOutputLateData(lateTag);

    const results = windowed.aggregate(named, { parallelism });
    results.sinkTo(sinks.file({ path: props.get('output') }));
    if (props.has('side')) results.getSideOutput(lateTag).sinkTo(sinks.file({ path: props.get('side') }));
  },
});
