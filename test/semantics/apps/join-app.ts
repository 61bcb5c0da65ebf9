/**
 * Two-input operators for the semantics and cluster tests, configured from the command line:
 *
 *   rlink run test/semantics/apps/join-app.ts left=l.jsonl right=r.jsonl output=out mode=<mode> bound=2
 *     sourceParallelism=1 parallelism=2 [window=tumbling|sliding|session size= slide= gap=] [lower= upper=]
 *
 * Both inputs are read with sources.collection at `sourceParallelism` (or, with `count=N`, generated:
 * test/cluster/apps/join-data.ts), with bounded-out-of-orderness watermarks in the source.
 * - mode=window-join:   left.join(right).where('key').equalTo('key').window(…).apply → {key, l, r}
 * - mode=interval-join: left.keyBy('key').intervalJoin(right.keyBy('key')).between(lower, upper) → {key, l, r, ts}
 * - mode=co-process:    left.connect(right).keyBy('key', 'key'): per key and 10 ms bucket, the sums of
 *                       v (left) and w (right) in keyed state, emitted by an event-time timer at the
 *                       bucket's end → {key, bucket, s1, s2}
 * - mode=broadcast:     left.keyBy('key').connect(right.broadcast({ name: 'factors' })): right records
 *                       are rules {version, factor}; an event waits (keyed state, timer) until the rule
 *                       of its version is there → {key, l, out: v × factor}
 */
import { readFileSync } from 'node:fs';
import {
  defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows,
  type KeyedCoProcessFunction, type KeyedBroadcastProcessFunction, type Source,
} from 'rlink';
import { generatedLeft, generatedRight } from '../../cluster/apps/join-data';

interface L { key: number | string; ts: number; v: number; id: number; version?: number }
interface R { key: number | string; ts: number; w: number; id: number; version?: number; factor?: number }

const readJsonl = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

export default defineApp({
  name: 'join-app',
  build(env, props) {
    const sp = props.getNumber('sourceParallelism', 1);
    const p = props.getNumber('parallelism', 1);
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness<any>(props.getNumber('bound', 0)).withTimestampField('ts');
    const count = props.has('count') ? props.getNumber('count') : undefined;
    const rate = props.getNumber('rate', 2000);
    const leftSource: Source<L> = count !== undefined ? sources.generator({ count, ratePerSecond: rate, generate: generatedLeft(props.get('mode')) }) : sources.collection(readJsonl(props.get('left')));
    const rightSource: Source<R> = count !== undefined ? sources.generator({ count: Math.ceil(count / 2), ratePerSecond: rate / 2, generate: generatedRight(props.get('mode')) }) : sources.collection(readJsonl(props.get('right')));
    const left = env.fromSource<L>(leftSource, { parallelism: sp, watermarks: strategy, uid: 'left' });
    const right = env.fromSource<R>(rightSource, { parallelism: sp, watermarks: strategy, uid: 'right' });
    const mode = props.get('mode');
    let out;
    if (mode === 'window-join') {
      const kind = props.get('window');
      const assigner = kind === 'tumbling' ? TumblingEventTimeWindows.of(props.getNumber('size'))
        : kind === 'sliding' ? SlidingEventTimeWindows.of(props.getNumber('size'), props.getNumber('slide'))
          : EventTimeSessionWindows.withGap(props.getNumber('gap'));
      out = left.join(right).where('key').equalTo('key').window(assigner)
        .apply((l: L, r: R) => ({ key: l.key, l: l.id, r: r.id }), { parallelism: p, uid: 'join' });
    } else if (mode === 'interval-join') {
      out = left.keyBy('key').intervalJoin(right.keyBy('key')).between(props.getNumber('lower'), props.getNumber('upper'))
        .process((l: L, r: R, ctx, o) => o.collect({ key: l.key, l: l.id, r: r.id, ts: ctx.timestamp }), { parallelism: p, uid: 'join' });
    } else if (mode === 'co-process') {
      const bucketSums: KeyedCoProcessFunction<L, R, unknown> = {
        processElement1(l, ctx, _o) { add(ctx, l.ts, 's1', l.v); },
        processElement2(r, ctx, _o) { add(ctx, r.ts, 's2', r.w); },
        onTimer(t, ctx, o) {
          const bucket = t - 9;
          const s = ctx.state<{ s1: number; s2: number }>(`b${bucket}`);
          const sums = s.value()!;
          o.collect({ key: ctx.getCurrentKey(), bucket, ...sums });
          s.clear();
        },
      };
      out = left.connect(right).keyBy('key', 'key').process(bucketSums, { parallelism: p, uid: 'join' });
    } else if (mode === 'broadcast') {
      const factors = { name: 'factors' };
      const apply: KeyedBroadcastProcessFunction<L, R, unknown> = {
        processElement(l, ctx, o) {
          const f = ctx.getBroadcastState<number, number>(factors).get(l.version!);
          if (f !== undefined) { o.collect({ key: l.key, l: l.id, out: l.v * f }); return; }
          const waiting = ctx.state<L[]>('waiting', []);
          waiting.update([...waiting.value()!, l]);
          ctx.timerService().registerEventTimeTimer(l.ts);
        },
        processBroadcastElement(r, ctx) { ctx.getBroadcastState<number, number>(factors).put(r.version!, r.factor!); },
        onTimer(t, ctx, o) {
          const waiting = ctx.state<L[]>('waiting', []);
          const still: L[] = [];
          for (const l of waiting.value()!) {
            const f = ctx.getBroadcastState<number, number>(factors).get(l.version!);
            if (f !== undefined) o.collect({ key: l.key, l: l.id, out: l.v * f }); else still.push(l);
          }
          if (still.length === 0) { waiting.clear(); return; }
          waiting.update(still);
          // Not there yet: look again at the next watermark (at the end of input, +∞, every rule has arrived).
          const wm = ctx.timerService().currentWatermark();
          if (Number.isFinite(wm)) ctx.timerService().registerEventTimeTimer(Math.max(t, wm) + 1);
        },
      };
      out = left.keyBy('key').connect(right.broadcast(factors)).process(apply, { parallelism: p, uid: 'join' });
    } else throw new Error(`mode=${mode}`);
    out.sinkTo(sinks.file({ path: props.get('output') }), { parallelism: p, uid: 'out' });
  },
});

function add(ctx: { state<T>(n: string, d?: T): { value(): T | undefined; update(v: T): void }; timerService(): { registerEventTimeTimer(t: number): void } }, ts: number, side: 's1' | 's2', x: number): void {
  const bucket = Math.floor(ts / 10) * 10;
  const s = ctx.state<{ s1: number; s2: number }>(`b${bucket}`, { s1: 0, s2: 0 });
  const cur = s.value()!;
  s.update({ ...cur, [side]: cur[side] + x });
  ctx.timerService().registerEventTimeTimer(bucket + 9);
}
