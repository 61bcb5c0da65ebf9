/**
 * Property tests: tumbling and sliding event-time windows, `rlink run` against the brute-force
 * reference (test/reference/windows.ts) on random out-of-order input with late records, allowed
 * lateness, side outputs, offsets, negative timestamps and one- or two-field keys. The source has
 * parallelism 1, so the result is deterministic at any window parallelism (here 1 and 3). Sliding
 * windows of built-in aggregates only, size a multiple of the slide, are sliced (slice-store.ts): their
 * own property, in one phase (records into slices) and two (partials per window besides).
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { assertMatchesReference, scenarioArb, tumblingArb, slidingArb, slicedArb, sessionArb, BUILTIN_AGGS, PROPERTY_TIMEOUT_MS, NUM_RUNS } from './scenarios';

describe('tumbling windows: rlink run = reference', () => {
  for (const parallelism of [1, 3]) {
    it(`window parallelism ${parallelism}`, async () => {
      await assertMatchesReference(scenarioArb(tumblingArb, { parallelism }));
    }, PROPERTY_TIMEOUT_MS);
  }
});

describe('sliding windows: rlink run = reference', () => {
  for (const parallelism of [1, 3]) {
    it(`window parallelism ${parallelism}`, async () => {
      await assertMatchesReference(scenarioArb(slidingArb, { parallelism }));
    }, PROPERTY_TIMEOUT_MS);
  }
});

describe('sliced sliding windows (built-in aggregates, size a multiple of the slide): rlink run = reference', () => {
  for (const phases of ['one', 'two'] as const) {
    it(`${phases} phase${phases === 'one' ? '' : 's'}, window parallelism 2`, async () => {
      await assertMatchesReference(scenarioArb(slicedArb, { parallelism: 2, aggs: BUILTIN_AGGS, phases }));
    }, PROPERTY_TIMEOUT_MS);
  }
  it('two phases, source parallelism 2 (slice partials from two local subtasks), disorder within the bound', async () => {
    await assertMatchesReference(scenarioArb(slicedArb, {
      parallelism: 2, sourceParallelism: 2, source: 'collection', aggs: BUILTIN_AGGS, phases: 'two', disorder: { kind: 'withinBound' },
    }));
  }, PROPERTY_TIMEOUT_MS);
});

describe('long input (1000–2500 records, many batches): rlink run = reference', () => {
  it('tumbling, sliding or session windows at window parallelism 2', async () => {
    await assertMatchesReference(
      scenarioArb(fc.oneof(tumblingArb, slidingArb, sessionArb), { parallelism: 2, length: { min: 1000, max: 2500 } }),
      () => {}, Math.max(1, Math.round(NUM_RUNS / 4)),
    );
  }, PROPERTY_TIMEOUT_MS);
});
