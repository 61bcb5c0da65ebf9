/**
 * Chaos: task managers are SIGKILLed repeatedly (at least 5 times, each replaced) while a checkpointed
 * job runs. The committed output must equal the fault-free reference — nothing lost, nothing
 * duplicated — and the keyed semantics check (per-key sequence numbers exactly once and in order,
 * kept in checkpointed state) must raise no alert. Reports the kills survived and the time from each
 * kill to RUNNING again.
 */
import { describe, it, afterAll, beforeAll } from 'vitest';
import { startCluster, type TestCluster } from './cluster';
import { runChaos } from './chaos-runner';

const KILLS = Number(process.env.RLINK_CHAOS_KILLS ?? 5);

describe('chaos: repeated task-manager kills', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 3, slots: 2 }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it(`survives ${KILLS} SIGKILLs with exactly the fault-free output and no semantics alert`, async () => {
    const N = 600_000;
    await runChaos(c, N, KILLS, ['rate=25000']);
  }, 180_000);
});
