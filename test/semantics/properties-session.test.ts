/**
 * Property tests: event-time session windows at window parallelism 1 and 3 (source parallelism 1:
 * deterministic, lateness included), and every window kind behind a source of parallelism 2, where the
 * interleaving of the two source subtasks is not deterministic: there each subtask's records are at
 * most `bound` out of order (sessions: at most `bound − 1`), so no record can be late or reach a window
 * that already fired, whatever the interleaving, and the reference's round-robin interleaving gives the
 * one right answer.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { assertMatchesReference, scenarioArb, tumblingArb, slidingArb, sessionArb, PROPERTY_TIMEOUT_MS } from './scenarios';

describe('session windows: rlink run = reference', () => {
  for (const parallelism of [1, 3]) {
    it(`window parallelism ${parallelism}`, async () => {
      await assertMatchesReference(scenarioArb(sessionArb, { parallelism }));
    }, PROPERTY_TIMEOUT_MS);
  }
});

describe('source parallelism 2 (sources.collection), disorder within the bound per subtask', () => {
  it('tumbling, sliding and session windows at window parallelism 1–3: rlink run = reference, nothing late', async () => {
    const arb = fc.record({
      window: fc.oneof(tumblingArb, slidingArb, sessionArb),
      parallelism: fc.integer({ min: 1, max: 3 }),
    }).chain(({ window, parallelism }) => scenarioArb(fc.constant(window), {
      parallelism, sourceParallelism: 2, source: 'collection',
      // Sessions: strictly within the bound (see Disorder in scenarios.ts for why).
      disorder: { kind: window.kind === 'session' ? 'belowBound' : 'withinBound' },
    }));
    await assertMatchesReference(arb, (s, expected) => {
      // The scenario promises no late record under any interleaving; the reference must agree.
      expect(expected.lateCount, 'a scenario with disorder within the bound has no late record').toBe(0);
    });
  }, PROPERTY_TIMEOUT_MS);
});
