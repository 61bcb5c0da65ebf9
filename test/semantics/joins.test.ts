/**
 * Two-input operators through the real CLI (`rlink run`) against brute-force references
 * (test/reference/joins.ts): window joins (tumbling, sliding, session), interval joins, a keyed
 * co-process function with state and timers, and keyed broadcast state; random out-of-order input
 * (each source subtask's records less than `bound` out of order, so nothing is late whatever the
 * interleaving of the inputs), sources of parallelism 1 and 2, operators of parallelism 1–3.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { refBroadcast, refBucketSums, refIntervalJoin, refWindowJoin, type JoinWindow, type Left, type Right } from '../reference/joins';
import { NUM_RUNS, PROPERTY_TIMEOUT_MS } from './scenarios';

const APP = join(ROOT, 'test', 'semantics', 'apps', 'join-app.ts');

async function run(left: Left[], right: Right[], args: string[]): Promise<Array<Record<string, unknown>>> {
  const dir = tempDir('rlink-join-');
  writeJsonl(join(dir, 'l.jsonl'), left);
  writeJsonl(join(dir, 'r.jsonl'), right);
  const all = ['run', APP, `left=${join(dir, 'l.jsonl')}`, `right=${join(dir, 'r.jsonl')}`, `output=${join(dir, 'out')}`, ...args];
  const r = await rlink(all);
  if (r.exitCode !== 0) throw new Error(`rlink run failed (${r.exitCode}): node bin/rlink.js ${all.join(' ')}\n${r.stderr}`);
  return readJsonl(join(dir, 'out'));
}

/** Records whose timestamps run ahead by `step` and fall back by less than `bound`. */
function sideArb<T>(make: (e: { key: number; ts: number; x: number; id: number }) => T, bound: number): fc.Arbitrary<T[]> {
  return fc.array(fc.record({ key: fc.integer({ min: 0, max: 3 }), step: fc.integer({ min: 0, max: 4 }), back: fc.integer({ min: 0, max: Math.max(0, bound - 1) }), x: fc.integer({ min: 0, max: 9 }) }),
    { minLength: 0, maxLength: 40 })
    .map((es) => { let t = 0; return es.map((e, id) => { t += e.step; return make({ key: e.key, ts: t - e.back, x: e.x, id }); }); });
}

const common = fc.record({ bound: fc.integer({ min: 1, max: 5 }), sp: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 1, max: 3 }) });
const withSides = <X>(extra: fc.Arbitrary<X>) => common.chain((c) => fc.record({
  c: fc.constant(c), extra,
  left: sideArb((e): Left => ({ key: e.key, ts: e.ts, v: e.x, id: e.id }), c.bound),
  right: sideArb((e): Right => ({ key: e.key, ts: e.ts, w: e.x, id: e.id }), c.bound),
}));
const base = (c: { bound: number; sp: number; p: number }) => [`bound=${c.bound}`, `sourceParallelism=${c.sp}`, `parallelism=${c.p}`];

describe('two-input operators: rlink run = reference', () => {
  it('window join: tumbling, sliding and session windows', async () => {
    const windowArb: fc.Arbitrary<JoinWindow> = fc.oneof(
      fc.integer({ min: 1, max: 20 }).map((size) => ({ kind: 'tumbling' as const, size })),
      fc.integer({ min: 1, max: 20 }).chain((size) => fc.integer({ min: 1, max: size }).map((slide) => ({ kind: 'sliding' as const, size, slide }))),
      fc.integer({ min: 1, max: 8 }).map((gap) => ({ kind: 'session' as const, gap })),
    );
    await fc.assert(fc.asyncProperty(withSides(windowArb), async ({ c, extra: w, left, right }) => {
      const wargs = w.kind === 'tumbling' ? [`size=${w.size}`] : w.kind === 'sliding' ? [`size=${w.size}`, `slide=${w.slide}`] : [`gap=${w.gap}`];
      const got = await run(left, right, ['mode=window-join', `window=${w.kind}`, ...wargs, ...base(c)]);
      expect(canonical(got)).toEqual(canonical(refWindowJoin(left, right, w)));
    }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('interval join: every pair with ts(right) − ts(left) in [lower, upper], bounds of any sign', async () => {
    const bounds = fc.tuple(fc.integer({ min: -10, max: 10 }), fc.integer({ min: 0, max: 10 })).map(([lo, len]) => ({ lower: lo, upper: lo + len }));
    await fc.assert(fc.asyncProperty(withSides(bounds), async ({ c, extra: b, left, right }) => {
      const got = await run(left, right, ['mode=interval-join', `lower=${b.lower}`, `upper=${b.upper}`, ...base(c)]);
      expect(canonical(got)).toEqual(canonical(refIntervalJoin(left, right, b.lower, b.upper)));
    }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('keyed co-process: keyed state and event-time timers shared by both inputs', async () => {
    await fc.assert(fc.asyncProperty(withSides(fc.constant(null)), async ({ c, left, right }) => {
      const got = await run(left, right, ['mode=co-process', ...base(c)]);
      expect(canonical(got)).toEqual(canonical(refBucketSums(left, right)));
    }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('keyed broadcast state: events wait for the rule of their version, whatever order they meet in', async () => {
    const arb = common.chain((c) => fc.record({
      c: fc.constant(c),
      left: sideArb((e): Left => ({ key: e.key, ts: e.ts, v: e.x, id: e.id, version: e.x % 4 }), c.bound),
      // The rules, one per version, somewhere in event time (before, among or after the events).
      rules: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }).chain((versions) => fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 4, maxLength: 4 })
        .map((ts) => { const sorted = [...ts].sort((a, b) => a - b); return versions.map((version, i): Right => ({ key: 0, ts: sorted[i]!, w: 0, id: i, version, factor: 2 + version })); })),
    }));
    await fc.assert(fc.asyncProperty(arb, async ({ c, left, rules }) => {
      const got = await run(left, rules, ['mode=broadcast', ...base(c)]);
      expect(canonical(got)).toEqual(canonical(refBroadcast(left, rules)));
    }), { numRuns: NUM_RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('golden: an interval join keeps a pair at the bounds and drops a late element', async () => {
    // bound 0: W = max ts − 1 per source. Left a@10; right a@8, a@15, a@16; between(-2, 5): 8 (−2) and 15 (+5) join, 16 does not.
    const L = [{ key: 'a', ts: 10, v: 1, id: 0 }, { key: 'a', ts: 30, v: 1, id: 1 }];
    const R = [{ key: 'a', ts: 8, w: 1, id: 0 }, { key: 'a', ts: 15, w: 1, id: 1 }, { key: 'a', ts: 16, w: 1, id: 2 }, { key: 'a', ts: 28, w: 1, id: 3 }, { key: 'a', ts: 3, w: 1, id: 4 }];
    const got = await run(L, R, ['mode=interval-join', 'lower=-2', 'upper=5', 'bound=0']);
    // r@3 comes after r@28 (W of the right source 27): late. l@30 joins r@28 (−2).
    expect(canonical(got)).toEqual(canonical([{ key: 'a', l: 0, r: 0, ts: 10 }, { key: 'a', l: 0, r: 1, ts: 15 }, { key: 'a', l: 1, r: 3, ts: 30 }]));
  }, 60_000);
});
