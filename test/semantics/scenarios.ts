/**
 * Random scenarios for the property tests: out-of-order input (a few keys, timestamps that run ahead
 * with random disorder, sometimes beyond the bound) and window job parameters; plus the property
 * runner that compares `rlink run` with the reference.
 */
import fc from 'fast-check';
import type { Rec, WindowDef } from '../reference/windows';
import { runWindowJob, referenceFor, expectRunMatches, type JobParams, type AggName, type ClusterTarget } from './harness';

export const ALL_AGGS: AggName[] = ['sum', 'count', 'min', 'max', 'avg', 'spread', 'values'];
/** The built-in aggregates only: sliding windows of these are sliced (core/runtime/operators/windows/slice-store.ts). */
export const BUILTIN_AGGS: AggName[] = ['sum', 'count', 'min', 'max', 'avg'];

export interface Scenario { params: JobParams; input: Rec[] }

export const tumblingArb: fc.Arbitrary<WindowDef> = fc.record({
  size: fc.integer({ min: 1, max: 25 }),
  offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
}).map(({ size, offset }) => ({ kind: 'tumbling' as const, size, offset }));

/** Slides up to twice the size: slide > size leaves gaps between windows (records there are in no window). */
export const slidingArb: fc.Arbitrary<WindowDef> = fc.integer({ min: 1, max: 25 }).chain((size) => fc.record({
  slide: fc.integer({ min: 1, max: 2 * size }),
  offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
}).map(({ slide, offset }) => ({ kind: 'sliding' as const, size, slide, offset })));

/** Sliding windows whose size is a whole number (2–5) of slides: the ones sliced for built-in aggregates. */
export const slicedArb: fc.Arbitrary<WindowDef> = fc.record({
  slide: fc.integer({ min: 1, max: 8 }),
  slices: fc.integer({ min: 2, max: 5 }),
  offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
}).map(({ slide, slices, offset }) => ({ kind: 'sliding' as const, size: slide * slices, slide, offset }));

export const sessionArb: fc.Arbitrary<WindowDef> = fc.integer({ min: 1, max: 15 }).map((gap) => ({ kind: 'session' as const, gap }));

const eventArb = fc.record({
  // 1 and '1' are different keys; the output keeps each key's type.
  key: fc.constantFrom<string | number>('a', 'b', 1, '1'),
  region: fc.constantFrom(1, 2),
  /** How far event time runs ahead before this record (per source subtask). */
  step: fc.integer({ min: 0, max: 6 }),
  /** Disorder within the bound: min(back, bound) behind. */
  back: fc.integer({ min: 0, max: 10 }),
  /** Below the scenario's late percentage: this record is bound + extra behind (maybe late). */
  roll: fc.integer({ min: 0, max: 99 }),
  extra: fc.integer({ min: 1, max: 30 }),
  v: fc.integer({ min: -20, max: 50 }),
});

/**
 * How far records may be out of order, relative to the largest timestamp their source subtask read before:
 * - `late`: at most `bound` behind, except a random `latePercent` of records that are further behind
 *   (late for some or all of their windows, depending on window and allowed lateness);
 * - `withinBound`: at most `bound` behind, so no record is late for any of its windows, and none lands
 *   in a window that fired (tumbling, sliding: a window containing ts has end − 1 >= ts > watermark);
 * - `belowBound`: at most `bound − 1` behind (strictly increasing when bound is 0). Needed for sessions
 *   to be independent of the interleaving of several source subtasks: a record exactly `bound` behind
 *   has ts = watermark + 1, so it can touch (ts = end) a session that has already fired.
 */
export type Disorder = { kind: 'late'; latePercent: fc.Arbitrary<number> } | { kind: 'withinBound' } | { kind: 'belowBound' };

/**
 * Input records { key, region, ts, v }. With `sourceParallelism` p, record i is read by source subtask
 * i mod p, and each subtask's event time runs on its own (from its own start), so subtasks progress at
 * different speeds.
 */
export function inputArb(bound: number, opts: { sourceParallelism?: number; disorder: Disorder; length?: { min: number; max: number } }): fc.Arbitrary<Rec[]> {
  const p = opts.sourceParallelism ?? 1;
  const d = opts.disorder;
  return fc.record({
    // Event time near zero (also negative), or epoch milliseconds of today.
    starts: fc.array(fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: -300, max: 300 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1_760_000_000_000, max: 1_760_000_100_000 }) },
    ), { minLength: p, maxLength: p }),
    latePercent: d.kind === 'late' ? d.latePercent : fc.constant(0),
    events: fc.array(eventArb, { minLength: opts.length?.min ?? 1, maxLength: opts.length?.max ?? 60, size: 'max' }),
  }).map(({ starts, latePercent, events }) => {
    const base = [...starts];
    return events.map((e, i) => {
      const k = i % p;
      const strict = d.kind === 'belowBound';
      base[k]! += strict && bound === 0 ? Math.max(e.step, 1) : e.step;
      const behind = e.roll < latePercent ? bound + e.extra : Math.min(e.back, strict ? Math.max(bound - 1, 0) : bound);
      return { key: e.key, region: e.region, ts: base[k]! - behind, v: e.v };
    });
  });
}

/** A window job and its input; `window` and `parallelism` fixed by the property, the rest random. */
export function scenarioArb(
  window: fc.Arbitrary<WindowDef>,
  fixed: Partial<JobParams> & { disorder?: Disorder; length?: { min: number; max: number } } = {},
): fc.Arbitrary<Scenario> {
  const { disorder, length, ...fixedParams } = fixed;
  return fc.record({
    window,
    bound: fc.integer({ min: 0, max: 8 }),
    lateness: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
    side: fc.boolean(),
    wm: fc.constantFrom('source' as const, 'assign' as const),
    keys: fc.constantFrom<string[]>(['key'], ['key', 'region']),
    // Small batches put batch boundaries (and watermark cuts inside batches) everywhere.
    batchSize: fc.option(fc.constantFrom(1, 2, 3, 5, 16), { nil: undefined }),
  }).chain(({ batchSize, ...random }) => {
    const params: JobParams = { ...random, ...(batchSize !== undefined ? { batchSize } : {}), aggs: ALL_AGGS, ...fixedParams };
    return inputArb(params.bound, {
      sourceParallelism: params.sourceParallelism ?? 1,
      disorder: disorder ?? { kind: 'late', latePercent: fc.integer({ min: 0, max: 40 }) },
      ...(length ? { length } : {}),
    }).map((input) => ({ params, input }));
  });
}

const env = (name: string): number | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number(v);
};

/** Runs per property: RLINK_SEMANTICS_RUNS overrides (e.g. 100 for a long soak). */
export const NUM_RUNS = env('RLINK_SEMANTICS_RUNS') ?? 15;
/** Seconds spent shrinking a failure (each step is one `rlink run`): RLINK_SEMANTICS_SHRINK_SECONDS. */
const SHRINK_SECONDS = env('RLINK_SEMANTICS_SHRINK_SECONDS') ?? 60;
/** Test timeout for a property: its runs plus the shrinking budget. */
export const PROPERTY_TIMEOUT_MS = (NUM_RUNS * 4 + SHRINK_SECONDS + 60) * 1000;

/**
 * Asserts that `rlink run` and the reference agree on every scenario: main output (as a multiset),
 * late side output, and the late count. On failure fast-check shrinks for at most SHRINK_SECONDS
 * (candidates after that count as passing, so the smallest failure found so far is reported), then
 * reports the seed, the counterexample and the assertion's diff. Replay with RLINK_SEMANTICS_SEED
 * (and the printed path with RLINK_SEMANTICS_PATH).
 */
export async function assertMatchesReference(
  arb: fc.Arbitrary<Scenario>,
  check: (s: Scenario, expected: ReturnType<typeof referenceFor>) => void = () => {},
  numRuns = NUM_RUNS,
  cluster?: ClusterTarget,
): Promise<void> {
  let firstFailureAt: number | undefined;
  const seed = env('RLINK_SEMANTICS_SEED');
  const path = process.env.RLINK_SEMANTICS_PATH;
  await fc.assert(
    fc.asyncProperty(arb, async (s) => {
      if (firstFailureAt !== undefined && Date.now() - firstFailureAt > SHRINK_SECONDS * 1000) return; // shrinking budget spent
      try {
        const expected = referenceFor(s.input, s.params);
        check(s, expected);
        const run = await runWindowJob(s.input, s.params, cluster ? { cluster } : {});
        expectRunMatches(run, expected, s.params, `params: ${JSON.stringify(s.params)}`);
      } catch (e) {
        firstFailureAt ??= Date.now();
        throw e;
      }
    }),
    { numRuns, ...(seed !== undefined ? { seed } : {}), ...(path ? { path } : {}) },
  );
}
