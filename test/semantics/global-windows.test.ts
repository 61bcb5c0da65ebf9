/**
 * Count windows and global windows with custom triggers, through the real CLI (`rlink run`), against
 * the brute-force reference (test/reference/global-windows.ts): property tests on random input, and a
 * golden case of an event-time trigger worked out by hand.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { referenceGlobalWindows, type GlobalDef } from '../reference/global-windows';
import { refSum, refMin, refMax, refCount, refAvg, type Rec } from '../reference/windows';
import { NUM_RUNS, PROPERTY_TIMEOUT_MS } from './scenarios';

const APP = join(ROOT, 'test', 'semantics', 'apps', 'global-window-app.ts');
const AGGS = {
  sum: refSum('v'), min: refMin('v'), max: refMax('v'), count: refCount(), avg: refAvg('v'),
  spread: (rs: readonly Rec[]) => Math.max(...rs.map((r) => r.v as number)) - Math.min(...rs.map((r) => r.v as number)),
};

async function run(input: Rec[], def: GlobalDef, opts: { parallelism: number; keys: string[] }): Promise<Rec[]> {
  const dir = tempDir('rlink-global-');
  writeJsonl(join(dir, 'in.jsonl'), input);
  const args = ['run', APP, `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`, `mode=${def.kind}`,
    `parallelism=${opts.parallelism}`, `keys=${opts.keys.join(',')}`];
  if (def.kind === 'count') args.push(`n=${def.n}`);
  if (def.kind === 'threshold') args.push(`limit=${def.limit}`);
  if (def.kind === 'timer') args.push(`delay=${def.delay}`, `bound=${def.bound}`);
  const r = await rlink(args);
  if (r.exitCode !== 0) throw new Error(`rlink run failed (${r.exitCode}): node bin/rlink.js ${args.join(' ')}\n${r.stderr}`);
  return readJsonl(join(dir, 'out'));
}

const inputArb = fc.array(fc.record({
  key: fc.constantFrom<string | number>('a', 'b', 1, '1'), region: fc.constantFrom(1, 2),
  step: fc.integer({ min: 0, max: 5 }), back: fc.integer({ min: 0, max: 8 }), v: fc.integer({ min: 0, max: 9 }),
}), { minLength: 1, maxLength: 80 }).map((events) => {
  let t = 0;
  return events.map((e) => { t += e.step; return { key: e.key, region: e.region, ts: t - e.back, v: e.v } as Rec; });
});

describe('global windows: rlink run = reference', () => {
  it('countWindow(n), window parallelism 1–3, one or two key fields', async () => {
    await fc.assert(fc.asyncProperty(inputArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom<string[]>(['key'], ['key', 'region']),
      async (input, n, parallelism, keys) => {
        const def: GlobalDef = { kind: 'count', n };
        expect(canonical(await run(input, def, { parallelism, keys }))).toEqual(canonical(referenceGlobalWindows(input, def, keys, AGGS)));
      }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('a custom trigger with state: fire and purge once the sum of v reaches a limit', async () => {
    await fc.assert(fc.asyncProperty(inputArb, fc.integer({ min: 1, max: 25 }), fc.integer({ min: 1, max: 3 }), async (input, limit, parallelism) => {
      const def: GlobalDef = { kind: 'threshold', limit };
      expect(canonical(await run(input, def, { parallelism, keys: ['key'] }))).toEqual(canonical(referenceGlobalWindows(input, def, ['key'], AGGS)));
    }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('a custom event-time trigger: a timer at the first element + delay fires and purges the window', async () => {
    await fc.assert(fc.asyncProperty(inputArb, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 2 }),
      async (input, delay, bound, parallelism) => {
        const def: GlobalDef = { kind: 'timer', delay, bound };
        expect(canonical(await run(input, def, { parallelism, keys: ['key'] }))).toEqual(canonical(referenceGlobalWindows(input, def, ['key'], AGGS)));
      }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('golden: a timer trigger fires by the watermark, keeps late elements, and a count window drops an unfinished run', async () => {
    // delay 5, bound 0; a watermark W (max ts before a record − 1) goes out before a record at or behind it.
    //   a@0 opens a's window, timer 5; a@3, b@4 (b's window, timer 9) and a@7 are ahead of W: no watermark;
    //   a@2 ≤ W 6: W 6 first → a {0,3,7} fires and is purged; a@2 (nothing is late in a global window)
    //   opens a new one, timer 7; end: W +∞ → a {2} (timer 7), b {4} (timer 9).
    const r = (key: string, ts: number, v: number) => ({ key, ts, v });
    const input = [r('a', 0, 1), r('a', 3, 2), r('b', 4, 3), r('a', 7, 4), r('a', 2, 5)];
    const out = await run(input, { kind: 'timer', delay: 5, bound: 0 }, { parallelism: 1, keys: ['key'] });
    const agg = (key: string, vs: number[]) => ({ key, sum: vs.reduce((a, b) => a + b, 0), min: Math.min(...vs), max: Math.max(...vs), count: vs.length, avg: vs.reduce((a, b) => a + b, 0) / vs.length, spread: Math.max(...vs) - Math.min(...vs) });
    expect(canonical(out)).toEqual(canonical([agg('a', [1, 2, 4]), agg('b', [3]), agg('a', [5])]));
    expect(canonical(out)).toEqual(canonical(referenceGlobalWindows(input, { kind: 'timer', delay: 5, bound: 0 }, ['key'], AGGS)));
    const counts = await run(input, { kind: 'count', n: 2 }, { parallelism: 1, keys: ['key'] });
    expect(canonical(counts)).toEqual(canonical([agg('a', [1, 2]), agg('a', [4, 5])])); // b's single element never fires
  }, 60_000);
});
