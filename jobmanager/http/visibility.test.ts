/**
 * The dashboard's endpoints: the page and its assets (open, with a Content-Security-Policy, nothing
 * from another origin), per-second rates in GET /jobs/:id, back pressure in Flink's shape, and the
 * exception history of a job whose attempts fail.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '../../core/app/bundle';
import { bundleTestApp, json, pollJob, run, startHarness, upload, type Harness, type Json } from './testdata/harness';
import { CONTENT_SECURITY_POLICY } from './dashboard-routes';

let bundles: string;
let endless: Bundle;
let failing: Bundle;
beforeAll(async () => {
  bundles = await mkdtemp(join(tmpdir(), 'rlink-http-bundles-'));
  endless = await bundleTestApp('endless-app.ts', bundles);
  failing = await bundleTestApp('failing-app.ts', bundles);
});
afterAll(async () => { await rm(bundles, { recursive: true, force: true }); });

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

async function start(x: Harness, b: Bundle = endless, args: Record<string, string> = {}): Promise<string> {
  const up = await upload(x, readFileSync(b.path));
  const r = await run(x, up.body.application_id, { args: { output: join(x.tmp, `out-${Math.random()}`), ...args } });
  expect(r.status).toBe(200);
  return r.body.jobid as string;
}

describe('GET / (the dashboard)', () => {
  it('serves the page and its assets without a token, with a Content-Security-Policy and nothing from another origin', async () => {
    h = await startHarness();
    const page = await fetch(`${h.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<script src="/dashboard/app.js" defer></script>');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|<style>| style=/); // nothing inline: the CSP would refuse it

    const js = await fetch(`${h.url}/dashboard/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await js.text();
    expect(code.length).toBeGreaterThan(5000);
    // The only URL in the script is the SVG namespace: no CDN, no other origin.
    expect(code.match(/https?:\/\/[^"'`\s)]*/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    const etag = js.headers.get('etag')!;
    expect((await fetch(`${h.url}/dashboard/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const css = await fetch(`${h.url}/dashboard/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).not.toMatch(/https?:\/\/|@import/);
    const missing = await fetch(`${h.url}/dashboard/nope.js`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).errors[0]).toMatch(/no such dashboard file/);
  });
});

describe('rates and back pressure', () => {
  it('GET /jobs/:id lists vertices by id with per-second rates; /vertices/:vid/backpressure answers in Flink\'s shape', async () => {
    h = await startHarness({ slots: 1 });
    const id = await start(h);
    const j = await pollJob(h, id, (x) => x.vertices.every((v: Json) => typeof v.metrics.busyTimeMsPerSecond === 'number' && v.metrics.numRecordsInPerSecond > 0), 20_000);
    const v = j.vertices[0];
    expect(v.id).toBe(j.plan.jobGraph.vertices[0].id);
    // 200 records per second from the generator, over the last seconds.
    expect(v.metrics.numRecordsInPerSecond).toBeGreaterThan(100);
    expect(v.metrics.numRecordsInPerSecond).toBeLessThan(400);
    const sum = v.metrics.busyTimeMsPerSecond + v.metrics.backPressuredTimeMsPerSecond + v.metrics.idleTimeMsPerSecond;
    expect(sum).toBeGreaterThanOrEqual(998);
    expect(sum).toBeLessThanOrEqual(1002);
    // A paced source mostly sleeps between its records: idle, not backpressured.
    expect(v.metrics.idleTimeMsPerSecond).toBeGreaterThan(500);
    expect(v.backpressureLevel).toBe('ok');
    expect(v.metrics['accumulated-idle-time']).toBeGreaterThan(0);

    const bp = await json(await fetch(`${h.url}/jobs/${id}/vertices/${v.id}/backpressure`));
    expect(bp).toMatchObject({ status: 'ok', backpressureLevel: 'ok', 'backpressure-level': 'ok' });
    expect(bp['end-timestamp']).toBeGreaterThan(Date.now() - 5000);
    expect(bp.subtasks).toHaveLength(1);
    expect(bp.subtasks[0]).toMatchObject({ subtask: 0, 'attempt-number': 0, backpressureLevel: 'ok' });
    expect(bp.subtasks[0].ratio + bp.subtasks[0].busyRatio + bp.subtasks[0].idleRatio).toBeCloseTo(1, 2);
    expect(bp.subtasks[0].idleTimeMsPerSecond).toBe(Math.round(bp.subtasks[0].idleRatio * 1000));

    const unknown = await fetch(`${h.url}/jobs/${id}/vertices/nope/backpressure`);
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).errors[0]).toMatch(/has no vertex 'nope'/);
    expect((await fetch(`${h.url}/jobs/ffff/vertices/${v.id}/backpressure`)).status).toBe(404);
  });
});

describe('GET /jobs/:id/exceptions', () => {
  it('is empty for a job that did not fail', async () => {
    h = await startHarness({ slots: 1 });
    const id = await start(h);
    await pollJob(h, id, (x) => x.vertices.every((v: Json) => v.status === 'RUNNING'));
    expect(await json(await fetch(`${h.url}/jobs/${id}/exceptions`))).toEqual({
      'root-exception': null, timestamp: null, 'all-exceptions': [], truncated: false, exceptionHistory: { entries: [], truncated: false },
    });
  });

  it('lists the failure of every attempt, newest first, with the task and its code', async () => {
    h = await startHarness({ slots: 1 });
    const id = await start(h, failing, { 'restart.strategy': 'fixed-delay', 'restart.attempts': '1', 'restart.delay': '50ms' });
    await pollJob(h, id, (x) => x.state === 'FAILED');
    const x = await json(await fetch(`${h.url}/jobs/${id}/exceptions`));
    const entries = x.exceptionHistory.entries;
    expect(entries.map((e: Json) => e.attempt)).toEqual([1, 0]);
    for (const e of entries) {
      expect(e).toMatchObject({ exceptionName: 'RLINK_TASK_FAILED', taskName: expect.stringMatching(/Poison.*\(1\/1\)/), taskManagerId: 'test-tm', concurrentExceptions: [] });
      expect(e.stacktrace).toContain('record 2 is poison');
    }
    expect(entries[0].timestamp).toBeGreaterThanOrEqual(entries[1].timestamp);
    expect(x['root-exception']).toBe(entries[0].stacktrace);
    expect(x['all-exceptions']).toHaveLength(2);
    expect((await fetch(`${h.url}/jobs/ffff/exceptions`)).status).toBe(404);
  });
});
