/**
 * Checkpoints in the embedded cluster: barriers, snapshots, the coordinator's _metadata, restore after
 * a failure from the latest checkpoint (sources rewind to their positions, window state comes back),
 * and the file sink publishing exactly once.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { join } from 'node:path';
import { defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, GlobalWindows, count, sum, type AppDefinition, type Trigger } from '../../index';
import { Props } from '../../core/api/props';
import { silentLogger } from '../../core/logging';
import { runLocal } from '../../local/local-cluster';
import { readJsonl, canonical, tempDir } from '../helpers/cli';

async function run(app: AppDefinition, props: Record<string, string>) {
  return runLocal({ app, appRef: { kind: 'inline', key: app.name }, props: new Props(props), logger: silentLogger(), mode: 'inline' });
}

function expected(n: number): Array<Record<string, number>> {
  const m = new Map<string, { k: number; windowStart: number; windowEnd: number; n: number; s: number }>();
  for (let i = 0; i < n; i++) {
    const k = i % 5, ts = i * 10, ws = ts - (ts % 10_000);
    const a = m.get(`${k}|${ws}`) ?? { k, windowStart: ws, windowEnd: ws + 10_000, n: 0, s: 0 };
    a.n++; a.s += i % 7;
    m.set(`${k}|${ws}`, a);
  }
  return [...m.values()];
}

describe('checkpoints', () => {
  it('restart from the latest checkpoint: sources rewind to it, window state is restored, output exact', async () => {
    const N = 40_000;
    const generated = new Uint8Array(N);
    let failed = false;
    const dir = tempDir();
    const out = join(dir, 'out.jsonl');
    const app = defineApp({
      name: 'checkpointed',
      build(env) {
        env.fromSource(sources.generator({ count: N, ratePerSecond: 20_000, generate: (i) => { generated[i]!++; return { k: i % 5, ts: i * 10, v: i % 7 }; } }),
          { watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
          .map((r: { k: number; ts: number; v: number }) => {
            if (!failed && r.ts === 300_000) { failed = true; throw new Error('injected failure'); }
            return r;
          })
          .keyBy('k').window(TumblingEventTimeWindows.of('10s')).aggregate({ n: count(), s: sum('v') })
          .sinkTo(sinks.file({ path: out }));
      },
    });
    const r = await run(app, {
      'checkpoint.interval': '200ms', 'checkpoint.dir': join(dir, 'checkpoints'),
      'restart.strategy': 'fixed-delay', 'restart.delay': '10ms',
    });
    expect(r.status, r.error).toBe('FINISHED');
    expect(r.restarts).toBe(1);
    expect(canonical(readJsonl(out))).toEqual(canonical(expected(N)));
    // Restored, not rerun: the first records were generated once, the ones after the checkpoint twice at most.
    expect(generated[0]).toBe(1);
    expect(generated.filter((x) => x === 0)).toHaveLength(0);
    expect(Math.max(...generated)).toBeLessThanOrEqual(2);
    // Completed checkpoints were written and pruned to the last three.
    const jobs = readdirSync(join(dir, 'checkpoints'));
    expect(jobs).toHaveLength(1);
    const chks = readdirSync(join(dir, 'checkpoints', jobs[0]!)).filter((d) => d.startsWith('chk-'));
    expect(chks.length).toBeGreaterThan(0);
    expect(chks.length).toBeLessThanOrEqual(3);
    for (const c of chks) expect(existsSync(join(dir, 'checkpoints', jobs[0]!, c, '_metadata'))).toBe(true);
  }, 30_000);

  it('restores count windows and a custom trigger\'s state and timers: exact output after a restart', async () => {
    const N = 30_000;
    let failed = false;
    const dir = tempDir();
    const out = join(dir, 'out.jsonl');
    const spiky: Trigger<{ k: number; v: number }> = {
      // Fires (and purges) when the window's running sum passes 50, or at its first element's time + 10^12
      // (only the end of input gets there: restored timers must fire the windows restored with them).
      onElement(r, ts, ctx) {
        const s = ctx.state('sum', 0);
        s.update(s.value() + r.v);
        if (ctx.count === 1) ctx.registerEventTimeTimer(ts + 1e12);
        if (s.value() <= 50) return 'CONTINUE';
        s.update(0);
        return 'FIRE_AND_PURGE';
      },
      onEventTime(_t, ctx) { ctx.state('sum', 0).update(0); return 'FIRE_AND_PURGE'; },
    };
    const app = defineApp({
      name: 'checkpointed-global',
      build(env) {
        const events = env.fromSource(sources.generator({ count: N, ratePerSecond: 20_000, generate: (i) => ({ k: i % 5, ts: i * 10, v: i % 7 }) }),
          { watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
          .map((r: { k: number; ts: number; v: number }) => {
            if (!failed && r.ts === 150_000) { failed = true; throw new Error('injected failure'); }
            return r;
          });
        events.keyBy('k').countWindow(7).aggregate({ n: count(), s: sum('v') }, { uid: 'counts' }).sinkTo(sinks.file({ path: join(out, 'counts.jsonl') }), { uid: 'counts-out' });
        events.keyBy('k').window(GlobalWindows.create()).trigger(spiky).aggregate({ n: count(), s: sum('v') }, { uid: 'spiky' })
          .sinkTo(sinks.file({ path: join(out, 'spiky.jsonl') }), { uid: 'spiky-out' });
      },
    });
    const r = await run(app, { 'checkpoint.interval': '200ms', 'checkpoint.dir': join(dir, 'checkpoints'), 'restart.strategy': 'fixed-delay', 'restart.delay': '10ms' });
    expect(r.status, r.error).toBe('FINISHED');
    expect(r.restarts).toBe(1);
    // The reference: per key, in order; count windows of 7 (a last run of fewer is not emitted).
    const counts: Array<Record<string, number>> = [];
    const byKey = new Map<number, number[]>();
    for (let i = 0; i < N; i++) {
      const w = byKey.get(i % 5) ?? [];
      w.push(i % 7);
      if (w.length === 7) { counts.push({ k: i % 5, n: 7, s: w.reduce((a, b) => a + b, 0) }); byKey.set(i % 5, []); } else byKey.set(i % 5, w);
    }
    expect(canonical(readJsonl(join(out, 'counts.jsonl')))).toEqual(canonical(counts));
    // The spiky windows are cut by the sum; what is left fires at the end, by the timers.
    const spikyRef: Array<Record<string, number>> = [];
    const acc = new Map<number, { n: number; s: number }>();
    for (let i = 0; i < N; i++) {
      const a = acc.get(i % 5) ?? { n: 0, s: 0 };
      a.n++; a.s += i % 7;
      if (a.s > 50) { spikyRef.push({ k: i % 5, ...a }); acc.delete(i % 5); } else acc.set(i % 5, a);
    }
    for (const [k, a] of acc) spikyRef.push({ k, ...a });
    expect(canonical(readJsonl(join(out, 'spiky.jsonl')))).toEqual(canonical(spikyRef));
  }, 30_000);

  it('fails the job with a clear message when checkpoint.dir is not writable', async () => {
    // Tests run as root, which writes anywhere: a directory below a regular file cannot exist.
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    const app = defineApp({ name: 'unwritable', build(env) { env.fromSource(sources.collection([1])).sinkTo(sinks.print()); } });
    const r = await run(app, { 'checkpoint.interval': '1s', 'checkpoint.dir': join(file, 'checkpoints') });
    expect(r.status).toBe('FAILED');
    expect(r.error).toContain(`checkpoint.dir ${join(file, 'checkpoints')} is not writable`);
  });

  // Ways the newest completed checkpoint can be unusable: each must be skipped like a corrupt one.
  const corruptions: Array<[string, (chk: string) => void]> = [
    ['a truncated snapshot file', (chk) => writeFileSync(join(chk, readdirSync(chk).find((f) => f.endsWith('.json'))!), '{"vertex": "trunc')],
    ['a snapshot file that is JSON but not a snapshot', (chk) => writeFileSync(join(chk, readdirSync(chk).find((f) => f.endsWith('.json'))!), '{"not":"a snapshot"}')],
    ['a snapshot file that is a JSON array', (chk) => writeFileSync(join(chk, readdirSync(chk).find((f) => f.endsWith('.json'))!), '[1,2,3]')],
    ['a _metadata that is JSON but not checkpoint metadata', (chk) => writeFileSync(join(chk, '_metadata'), '{"not":"a snapshot"}')],
    ['a snapshot file of another checkpoint', (chk) => {
      const files = readdirSync(chk).filter((f) => f.endsWith('.json'));
      const text = readFileSync(join(chk, files[0]!), 'utf8');
      writeFileSync(join(chk, files[0]!), text.replace(/"checkpointId":\s*(\d+)/, (_m, n: string) => `"checkpointId":${Number(n) + 1000}`));
    }],
  ];

  it.each(corruptions)('falls back to the previous checkpoint when the latest has %s, and says so in the log', async (_what, corrupt) => {
    const N = 40_000;
    let failed = false;
    const dir = tempDir();
    const cps = join(dir, 'checkpoints');
    const out = join(dir, 'out.jsonl');
    const app = defineApp({
      name: 'corrupt-latest',
      build(env) {
        env.fromSource(sources.generator({ count: N, ratePerSecond: 20_000, generate: (i) => ({ k: i % 5, ts: i * 10, v: i % 7 }) }),
          { watermarks: WatermarkStrategy.forMonotonousTimestamps().withTimestampField('ts') })
          .map((r: { k: number; ts: number; v: number }) => {
            if (!failed && r.ts === 300_000) {
              failed = true;
              const job = readdirSync(cps)[0]!;
              // The newest completed one (with _metadata), not one still being written.
              const chk = readdirSync(join(cps, job)).filter((d) => d.startsWith('chk-') && existsSync(join(cps, job, d, '_metadata')))
                .sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)))[0]!;
              corrupt(join(cps, job, chk));
              throw new Error('injected failure');
            }
            return r;
          })
          .keyBy('k').window(TumblingEventTimeWindows.of('10s')).aggregate({ n: count(), s: sum('v') })
          .sinkTo(sinks.file({ path: out }));
      },
    });
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } });
    const r = await runLocal({
      app, appRef: { kind: 'inline', key: app.name }, logger, mode: 'inline',
      props: new Props({ 'checkpoint.interval': '150ms', 'checkpoint.dir': cps, 'restart.strategy': 'fixed-delay', 'restart.delay': '10ms', 'restart.attempts': '3' }),
    });
    expect(r.status, r.error).toBe('FINISHED');
    expect(canonical(readJsonl(out))).toEqual(canonical(expected(N)));
    expect(lines.some((l) => /"event":"checkpoint.corrupt"/.test(l) && /falling back to the previous one/.test(l)), lines.join('\n')).toBe(true);
  }, 30_000);

  it('refuses a savepoint of another job with a clear message', async () => {
    const dir = tempDir();
    const one = defineApp({ name: 'one', build(env) { env.fromSource(sources.generator({ generate: (i) => ({ i }) }), { uid: 'gen-one' }).sinkTo(sinks.file({ path: join(dir, 'a') }), { uid: 'sink-one' }); } });
    // A savepoint of job 'one', taken through the job master.
    const { JobManager } = await import('../../jobmanager/job-manager');
    void JobManager;
    const spDir = join(dir, 'sp');
    mkdirSync(join(spDir, 'savepoint-x-1'), { recursive: true });
    writeFileSync(join(spDir, 'savepoint-x-1', '_metadata'), JSON.stringify({
      version: 1, jobId: 'x', jobName: 'one', checkpointId: 1, timestamp: 0, savepoint: true,
      operators: { 'gen-one': { vertex: 'gen-one', parallelism: 1, files: [] }, 'sink-one': { vertex: 'gen-one', parallelism: 1, files: [] } },
    }));
    void one;
    const two = defineApp({ name: 'two', build(env) { env.fromSource(sources.collection([1]), { uid: 'other' }).sinkTo(sinks.print(), { uid: 'print' }); } });
    const r = await run(two, { 'execution.savepoint.path': join(spDir, 'savepoint-x-1') });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe(`savepoint ${join(spDir, 'savepoint-x-1')} belongs to job 'one' and shares no operator with job 'two' (operators are matched by uid)`);
  });

});
