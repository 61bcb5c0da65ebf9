/**
 * Savepoint round trip with real processes: a job is stopped with a savepoint at parallelism 2 and
 * resumed from it at parallelism 3 (`rlink job stop`, `rlink submit --from-savepoint`); the committed
 * output equals an uninterrupted run's. Operators are matched by uid; source positions are per file
 * and keyed window state per key group, so both are redistributed.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, writeJsonl } from '../helpers/cli';
import { startCluster, type TestCluster } from './cluster';

const APP = join(import.meta.dirname, 'apps', 'resumable.ts');

describe('stop with a savepoint, resume at another parallelism', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 2, slots: 3 }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('gives the output of an uninterrupted run', async () => {
    const input = join(c.dir, 'input');
    mkdirSync(input);
    // 4 files × 5000 records, each file in event-time order; 97 keys.
    for (let f = 0; f < 4; f++) {
      writeJsonl(join(input, `part-${f}.jsonl`), Array.from({ length: 5000 }, (_, i) => ({ k: (i * 7 + f) % 97, ts: i * 5, v: (i + f) % 100 })));
    }
    const common = [`input=${input}`, 'pipeline.batch-size=50'];
    const ref = await c.rlink(['submit', APP, '--jm', c.url, ...common, `output=${join(c.dir, 'reference')}`, 'parallelism=2']);
    expect(ref.exitCode, ref.stderr).toBe(0);

    const out = join(c.dir, 'resumed');
    const first = await c.rlink(['submit', APP, '--jm', c.url, '--detached', ...common, `output=${out}`, 'parallelism=2', 'slow=80']);
    expect(first.exitCode, first.stderr).toBe(0);
    const jobId = first.stdout.trim().split('\n').at(-1)!;
    await new Promise((r) => setTimeout(r, 1200));
    const stop = await c.rlink(['job', 'stop', jobId, '--jm', c.url, '--savepoint-dir', join(c.dir, 'savepoints'), '--json']);
    expect(stop.exitCode, stop.stderr + stop.stdout).toBe(0);
    const { savepoint, state } = JSON.parse(stop.stdout) as { savepoint: string; state: string };
    expect(state).toBe('FINISHED');
    expect(readdirSync(savepoint)).toContain('_metadata');
    // It really stopped mid-way: the sources had not read everything.
    const stopped = await c.get(`/jobs/${jobId}`);
    expect(stopped.vertices[0].metrics['write-records']).toBeLessThan(20_000);

    const resumed = await c.rlink(['submit', APP, '--jm', c.url, '--from-savepoint', savepoint, ...common, `output=${out}`, 'parallelism=3']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(canonical(readJsonl(out))).toEqual(canonical(readJsonl(join(c.dir, 'reference'))));
  }, 120_000);
});
