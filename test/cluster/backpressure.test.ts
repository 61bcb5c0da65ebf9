/**
 * Backpressure across processes: a source that could make millions of records per second feeds a
 * sink that takes 10 ms per batch, on two task managers. Credit-based flow control must hold every
 * process's memory flat and slow the source to the sink's pace.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type TestCluster } from './cluster';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

describe('backpressure between task managers', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 2, slots: 1 }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('keeps memory bounded and paces the source to the slow sink', async () => {
    const r = await c.rlink(['submit', join(import.meta.dirname, 'apps', 'slow-sink.ts'), '--jm', c.url, '--detached']);
    expect(r.exitCode, r.stderr).toBe(0);
    const jobId = r.stdout.trim().split('\n').at(-1)!;
    const pids = [c.jobManager.pid, ...c.taskManagers.map((t) => t.pid)];
    const vertexMetrics = async () => {
      const j = await c.get(`/jobs/${jobId}`);
      return { state: j.state as string, source: j.vertices[0].metrics, sink: j.vertices[1].metrics };
    };
    // Warm up, then sample memory and progress for 6 s.
    await new Promise((res) => setTimeout(res, 2000));
    const first = { rss: pids.map(rssMb), m: await vertexMetrics(), at: Date.now() };
    const samples: number[][] = [];
    for (let k = 0; k < 12; k++) { await new Promise((res) => setTimeout(res, 500)); samples.push(pids.map(rssMb)); }
    const last = { rss: pids.map(rssMb), m: await vertexMetrics(), at: Date.now() };
    expect(last.m.state).toBe('RUNNING');
    const secs = (last.at - first.at) / 1000;
    const sourceRate = (last.m.source['write-records']! - first.m.source['write-records']!) / secs;
    const sinkRate = (last.m.sink['records-written']! - first.m.sink['records-written']!) / secs;
    const growth = pids.map((_, i) => Math.max(...samples.map((s) => s[i]!)) - first.rss[i]!);
    // eslint-disable-next-line no-console -- the measurement is the point of this test
    console.info(JSON.stringify({ sourceRate: Math.round(sourceRate), sinkRate: Math.round(sinkRate), rssMb: last.rss.map(Math.round), growthMb: growth.map(Math.round), backpressureMs: last.m.source['backpressure-ms'] }));
    // The source runs at the sink's pace (within what the channels hold), not at its own speed.
    expect(sourceRate).toBeLessThan(sinkRate * 1.5 + 50_000);
    expect(sinkRate).toBeGreaterThan(1000);
    // In flight: at most the credit windows (32 batches per channel) and the writers' buffers.
    expect(last.m.source['write-records']! - last.m.sink['records-written']!).toBeLessThan(200_000);
    // Memory stays flat: no process grows by more than 64 MB while the source is held back.
    for (const g of growth) expect(g).toBeLessThan(64);
    expect(last.m.source['backpressure-ms']).toBeGreaterThan(1000);
    await c.rlink(['job', 'cancel', jobId, '--jm', c.url]);
  }, 60_000);
});
