/**
 * Property tests of two-phase window aggregation (pipeline.aggregation-phases=two: a local
 * pre-aggregation in front of the keyBy shuffle, partials merged by the window operator): on random
 * out-of-order input with late records, allowed lateness and side outputs, tumbling, sliding and
 * session windows give exactly what single-phase aggregation gives, and both what the brute-force
 * reference gives. Every aggregate is used, built-in (flat accumulators, columnar partials) and user
 * defined (accumulators carried whole). Small batches put late records and partials in one batch.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { canonical } from '../helpers/cli';
import { referenceFor, runWindowJob, expectRunMatches } from './harness';
import { NUM_RUNS, PROPERTY_TIMEOUT_MS, scenarioArb, sessionArb, slidingArb, tumblingArb } from './scenarios';

describe('two-phase window aggregation = single-phase = reference', () => {
  it('tumbling, sliding and session windows, source parallelism 1, window parallelism 1–3, late data', async () => {
    const arb = fc.record({ window: fc.oneof(tumblingArb, slidingArb, sessionArb), parallelism: fc.integer({ min: 1, max: 3 }) })
      .chain(({ window, parallelism }) => scenarioArb(fc.constant(window), { parallelism }));
    await fc.assert(fc.asyncProperty(arb, async (s) => {
      const expected = referenceFor(s.input, s.params);
      const two = await runWindowJob(s.input, { ...s.params, phases: 'two' });
      expectRunMatches(two, expected, s.params, `two-phase, params: ${JSON.stringify(s.params)}`);
      const one = await runWindowJob(s.input, { ...s.params, phases: 'one' });
      expect(canonical(two.output)).toEqual(canonical(one.output));
      expect(canonical(two.late)).toEqual(canonical(one.late));
      expect(two.lateRecordsDropped).toBe(one.lateRecordsDropped);
    }), { numRuns: Math.max(4, Math.round(NUM_RUNS / 2)) });
  }, PROPERTY_TIMEOUT_MS * 2);

  it('source parallelism 2 (partials from two local subtasks), disorder within the bound', async () => {
    const arb = fc.record({ window: fc.oneof(tumblingArb, slidingArb, sessionArb), parallelism: fc.integer({ min: 1, max: 3 }) })
      .chain(({ window, parallelism }) => scenarioArb(fc.constant(window), {
        parallelism, sourceParallelism: 2, source: 'collection', phases: 'two',
        disorder: { kind: window.kind === 'session' ? 'belowBound' : 'withinBound' },
      }));
    await fc.assert(fc.asyncProperty(arb, async (s) => {
      const run = await runWindowJob(s.input, s.params);
      expectRunMatches(run, referenceFor(s.input, s.params), s.params, `two-phase, params: ${JSON.stringify(s.params)}`);
    }), { numRuns: Math.max(4, Math.round(NUM_RUNS / 2)) });
  }, PROPERTY_TIMEOUT_MS);

  it('a local pre-aggregation that gives up mid-stream (adaptive skip) still gives the single-phase result', async () => {
    // ratio 0: it gives up as soon as `sample` records were aggregated, whatever they reduced to; what it
    // held goes first, every later record is forwarded as it is.
    const arb = fc.record({ window: fc.oneof(tumblingArb, slidingArb, sessionArb), parallelism: fc.integer({ min: 1, max: 3 }), sample: fc.integer({ min: 1, max: 60 }) })
      .chain(({ window, parallelism, sample }) => scenarioArb(fc.constant(window), { parallelism, phases: 'two', localSkip: { ratio: 0, sample } }));
    await fc.assert(fc.asyncProperty(arb, async (s) => {
      const run = await runWindowJob(s.input, s.params);
      expectRunMatches(run, referenceFor(s.input, s.params), s.params, `two-phase with skip, params: ${JSON.stringify(s.params)}`);
      const one = await runWindowJob(s.input, { ...s.params, phases: 'one', localSkip: undefined });
      expect(canonical(run.output)).toEqual(canonical(one.output));
      expect(canonical(run.late)).toEqual(canonical(one.late));
    }), { numRuns: Math.max(4, Math.round(NUM_RUNS / 2)) });
  }, PROPERTY_TIMEOUT_MS * 2);

  it('long input (1500 records, many batches and watermarks) with late data', async () => {
    const arb = scenarioArb(fc.oneof(tumblingArb, slidingArb, sessionArb), { parallelism: 2, phases: 'two', length: { min: 1500, max: 1500 } });
    await fc.assert(fc.asyncProperty(arb, async (s) => {
      const run = await runWindowJob(s.input, s.params);
      expectRunMatches(run, referenceFor(s.input, s.params), s.params, `two-phase, params: ${JSON.stringify(s.params)}`);
    }), { numRuns: 3 });
  }, PROPERTY_TIMEOUT_MS);
});
