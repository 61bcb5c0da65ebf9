/**
 * The embedded cluster in inline mode (every slot on this thread): operators end to end, in process,
 * without the CLI. Window semantics against a reference are in test/semantics (through `rlink run`).
 */
import { describe, it, expect } from 'vitest';
import {
  defineApp, sources, OutputTag, WatermarkStrategy, TumblingEventTimeWindows, TumblingProcessingTimeWindows,
  sum, count, type AppDefinition, type KeyedProcessFunction, type ValueState,
} from '../../index';
import { Props } from '../../core/api/props';
import { silentLogger } from '../../core/logging';
import { runLocal } from '../../local/local-cluster';
import { memorySink } from '../helpers/memory-sink';

async function run(app: AppDefinition, props: Record<string, string> = {}) {
  return runLocal({ app, appRef: { kind: 'inline', key: app.name }, props: new Props(props), logger: silentLogger(), mode: 'inline' });
}

const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('embedded cluster, inline', () => {
  it('runs map, filter, flatMap and union across parallelism changes', async () => {
    const out = memorySink<number>();
    const r = await run(defineApp({
      name: 'stateless',
      build(env) {
        const a = env.fromSource(sources.collection([1, 2, 3, 4, 5, 6]), { parallelism: 1 });
        const b = env.fromSource(sources.collection([10, 20]), { parallelism: 1 });
        a.union(b)
          .map((x: number) => x * 2, { parallelism: 3 })
          .filter((x: number) => x % 3 !== 0)
          .flatMap((x: number) => [x, -x], { parallelism: 2 })
          .sinkTo(out.sink, { parallelism: 1 });
      },
    }));
    expect(r.status).toBe('FINISHED');
    const expected = [1, 2, 3, 4, 5, 6, 10, 20].map((x) => x * 2).filter((x) => x % 3 !== 0).flatMap((x) => [x, -x]);
    expect(sorted(out.committed)).toEqual(sorted(expected));
  });

  it('keeps per-key value state and fires event-time timers in order at the watermark', async () => {
    const out = memorySink<{ user: string; total: number; at: number }>();
    const events = [
      { user: 'a', ts: 1000, v: 1 }, { user: 'b', ts: 1500, v: 5 }, { user: 'a', ts: 2500, v: 2 },
      { user: 'a', ts: 9000, v: 4 }, { user: 'b', ts: 12000, v: 1 },
    ];
    class Totals implements KeyedProcessFunction<typeof events[number], { user: string; total: number; at: number }, string> {
      private total!: ValueState<number>;
      open(ctx: { getState<T>(n: string): ValueState<T> }) { this.total = ctx.getState<number>('total'); }
      processElement(e: typeof events[number], ctx: any) {
        if (this.total.value() === undefined) ctx.timerService().registerEventTimeTimer(e.ts + 5000);
        this.total.update((this.total.value() ?? 0) + e.v);
      }
      onTimer(t: number, ctx: any, o: { collect(x: { user: string; total: number; at: number }): void }) {
        o.collect({ user: ctx.currentKey, total: this.total.value()!, at: t });
        this.total.clear();
      }
    }
    const r = await run(defineApp({
      name: 'keyed-process',
      build(env) {
        env.fromSource(sources.collection(events), { watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
          .keyBy('user').process(new Totals(), { parallelism: 2 }).sinkTo(out.sink);
      },
    }));
    expect(r.status).toBe('FINISHED');
    // Watermarks go out before a record at or behind them, and at the end of each source batch. No
    // record here is behind the watermark, so the one batch is processed whole, then watermark 11999
    // fires a's timer (6000) and b's (6500) with everything summed.
    expect(sorted(out.committed)).toEqual(sorted([{ user: 'a', total: 7, at: 6000 }, { user: 'b', total: 6, at: 6500 }]));

    // A record behind the watermark makes that watermark go first: a's timer fires before it.
    const out2 = memorySink<{ user: string; total: number; at: number }>();
    await run(defineApp({
      name: 'keyed-process-2',
      build(env) {
        env.fromSource(sources.collection([{ user: 'a', ts: 1000, v: 1 }, { user: 'a', ts: 9000, v: 4 }, { user: 'a', ts: 3000, v: 3 }]),
          { watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
          .keyBy('user').process(new Totals()).sinkTo(out2.sink);
      },
    }));
    // wm 8999 precedes ts 3000: timer 6000 fires with 1 + 4; ts 3000 then starts a new total with a
    // timer at 8000, already passed, which fires at the next watermark (+∞ at the end).
    expect(out2.committed).toEqual([{ user: 'a', total: 5, at: 6000 }, { user: 'a', total: 3, at: 8000 }]);
  });

  it('routes late data to a side output that feeds its own sink', async () => {
    const main = memorySink<any>();
    const late = memorySink<any>();
    const tag = new OutputTag<{ k: string; ts: number }>('late');
    const r = await run(defineApp({
      name: 'late-side-output',
      build(env) {
        const w = env.fromSource(sources.collection([{ k: 'x', ts: 100 }, { k: 'x', ts: 2500 }, { k: 'x', ts: 900 }, { k: 'x', ts: 2600 }]),
          { watermarks: WatermarkStrategy.forBoundedOutOfOrderness(0).withTimestampField('ts') })
          .keyBy('k').window(TumblingEventTimeWindows.of('1s')).sideOutputLateData(tag).aggregate({ n: count() });
        w.sinkTo(main.sink);
        w.getSideOutput(tag).sinkTo(late.sink);
      },
    }));
    expect(r.status).toBe('FINISHED');
    expect(late.committed).toEqual([{ k: 'x', ts: 900 }]);
    expect(sorted(main.committed)).toEqual(sorted([
      { k: 'x', windowStart: 0, windowEnd: 1000, n: 1 }, { k: 'x', windowStart: 2000, windowEnd: 3000, n: 2 },
    ]));
  });

  it('flushes processing-time windows at the end of a bounded input', async () => {
    const out = memorySink<any>();
    const r = await run(defineApp({
      name: 'processing-time',
      build(env) {
        env.fromSource(sources.collection([{ k: 'a', v: 1 }, { k: 'a', v: 2 }, { k: 'b', v: 3 }]))
          .keyBy('k').window(TumblingProcessingTimeWindows.of('1h')).aggregate({ s: sum('v') }).sinkTo(out.sink);
      },
    }));
    expect(r.status).toBe('FINISHED');
    expect(out.committed.map((o) => [o.k, o.s]).sort()).toEqual([['a', 3], ['b', 3]]);
  });

  it('emits a rolling reduce per element and supports keys of several fields', async () => {
    const out = memorySink<any>();
    await run(defineApp({
      name: 'rolling-reduce',
      build(env) {
        env.fromSource(sources.collection([{ a: 1, b: 'x', v: 1 }, { a: 1, b: 'y', v: 2 }, { a: 1, b: 'x', v: 3 }]))
          .keyBy(['a', 'b']).reduce((acc: any, x: any) => ({ ...acc, v: acc.v + x.v })).sinkTo(out.sink);
      },
    }));
    expect(sorted(out.committed)).toEqual(sorted([{ a: 1, b: 'x', v: 1 }, { a: 1, b: 'y', v: 2 }, { a: 1, b: 'x', v: 4 }]));
  });

  it('partitions any operator after keyBy by key, like Flink\'s KeyedStream', async () => {
    const out = memorySink<{ k: number; sub: number }>();
    await run(defineApp({
      name: 'keyed-map',
      build(env) {
        env.fromSource(sources.collection(Array.from({ length: 200 }, (_, i) => ({ k: i % 10 }))))
          .keyBy('k')
          .process((r: { k: number }, _ctx: unknown, o: { collect(x: unknown): void }) => o.collect(r), { parallelism: 1 })
          .keyBy('k')
          .map((r: any) => r, { parallelism: 3 })
          .sinkTo(out.sink, { parallelism: 3 });
      },
    }));
    expect(out.committed).toHaveLength(200);
  });

  it('keeps rolling-reduce state apart from what it emitted, even when the function updates in place', async () => {
    const out = memorySink<{ k: string; n: number }>();
    await run(defineApp({
      name: 'reduce-in-place',
      build(env) {
        env.fromSource(sources.collection([{ k: 'a', n: 1 }, { k: 'a', n: 1 }, { k: 'a', n: 1 }]))
          .keyBy('k').reduce((acc: { k: string; n: number }, x: { n: number }) => { acc.n += x.n; return acc; })
          .sinkTo(out.sink);
      },
    }));
    expect(out.committed.map((r) => r.n)).toEqual([1, 2, 3]);
  });

  it('fails the job with the task error, and restarts by the fixed-delay strategy', async () => {
    let attempts = 0;
    const failing = defineApp({
      name: 'flaky',
      build(env) {
        env.fromSource(sources.collection([1, 2, 3]))
          .map((x: number) => { if (x === 2 && attempts++ < 1) throw new Error('boom on 2'); return x; })
          .sinkTo(memorySink().sink);
      },
    });
    const once = await run(failing);
    expect(once.status).toBe('FAILED');
    expect(once.error).toMatch(/boom on 2/);
    attempts = 0;
    const retried = await run(failing, { 'restart.strategy': 'fixed-delay', 'restart.attempts': '2', 'restart.delay': '10ms' });
    expect(retried.status).toBe('FINISHED');
    expect(retried.restarts).toBe(1);
  });

  it('commits nothing of an attempt that failed: the restarted attempt\'s output only', async () => {
    let attempts = 0;
    const out = memorySink<number>();
    const r = await run(defineApp({
      name: 'no-partial-output',
      build(env) {
        env.fromSource(sources.collection([1, 2, 3, 4]))
          .map((x: number) => { if (x === 4 && attempts++ === 0) throw new Error('late failure'); return x; })
          .sinkTo(out.sink);
      },
    }), { 'restart.strategy': 'fixed-delay', 'restart.delay': '1ms' });
    expect(r.status).toBe('FINISHED');
    expect(out.committed).toEqual([1, 2, 3, 4]);
  });
});
