/**
 * The window property suite of test/semantics, submitted to a cluster of real processes (a job
 * manager and two task managers, two slots each) at parallelism 4: the results must be exactly those
 * of the reference, which `rlink run` matches (test/semantics). Source parallelism 1 keeps lateness
 * deterministic; the windows' subtasks spread over both task managers, so records, watermarks and
 * end-of-input cross the WebSocket shuffle.
 */
import { describe, it, afterAll, beforeAll } from 'vitest';
import { startCluster, type TestCluster } from './cluster';
import { assertMatchesReference, scenarioArb, tumblingArb, slidingArb, sessionArb } from '../semantics/scenarios';
import fc from 'fast-check';

const RUNS = Number(process.env.RLINK_CLUSTER_SEMANTICS_RUNS ?? 12);

describe('window semantics on a 2-task-manager cluster at parallelism 4', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 2, slots: 2 }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('tumbling, sliding and session windows equal the reference', async () => {
    const window = fc.oneof(tumblingArb, slidingArb, sessionArb);
    await assertMatchesReference(scenarioArb(window, { parallelism: 4 }), () => {}, RUNS, { url: c.url, env: c.env });
  }, 240_000);

  it('with sources of parallelism 2 on both task managers too (disorder within the bound)', async () => {
    const arb = fc.oneof(tumblingArb, slidingArb, sessionArb).chain((window) => scenarioArb(fc.constant(window), {
      parallelism: 4, sourceParallelism: 2, source: 'collection',
      disorder: { kind: window.kind === 'session' ? 'belowBound' : 'withinBound' },
    }));
    await assertMatchesReference(arb, () => {}, RUNS, { url: c.url, env: c.env });
  }, 240_000);
});
