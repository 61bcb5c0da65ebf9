import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '../../core/app/bundle';
import { auth, bundleTestApp, json, pollJob, run, startHarness, upload, type Harness } from './testdata/harness';

let bundles: string;
let small: Bundle;
let endless: Bundle;

beforeAll(async () => {
  bundles = await mkdtemp(join(tmpdir(), 'rlink-http-bundles-'));
  small = await bundleTestApp('small-app.ts', bundles);
  endless = await bundleTestApp('endless-app.ts', bundles);
});
afterAll(async () => { await rm(bundles, { recursive: true, force: true }); });

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

async function startEndless(x: Harness): Promise<string> {
  const up = await upload(x, readFileSync(endless.path));
  const r = await run(x, up.body.application_id, { args: { output: join(x.tmp, `out-${Math.random()}`) } });
  expect(r.status).toBe(200);
  await pollJob(x, r.body.jobid, (j) => j.vertices.every((v: { status: string }) => v.status === 'RUNNING'));
  return r.body.jobid as string;
}

describe('cancel', () => {
  it('PATCH /jobs/:id?mode=cancel cancels a running job (202 {}) and requires the token', async () => {
    h = await startHarness({ slots: 2 });
    const id = await startEndless(h);
    expect((await fetch(`${h.url}/jobs/${id}?mode=cancel`, { method: 'PATCH' })).status).toBe(401);
    expect((await fetch(`${h.url}/jobs/${id}?mode=cancel`, { method: 'PATCH', headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await pollJob(h, id, () => true)).state).toBe('RUNNING');

    const res = await fetch(`${h.url}/jobs/${id}?mode=cancel`, { method: 'PATCH', headers: auth });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({});
    const j = await pollJob(h, id, (x) => x.state === 'CANCELED');
    expect(j.timestamps.CANCELLING).toBeGreaterThan(0);
    expect(j.timestamps.CANCELED).toBeGreaterThanOrEqual(j.timestamps.CANCELLING);
    expect(j.vertices.every((v: { status: string }) => v.status === 'CANCELED')).toBe(true);

    const jobs = await json(await fetch(`${h.url}/jobs`));
    expect(jobs).toEqual({ jobs: [{ id, status: 'CANCELED' }] });
    const o = await json(await fetch(`${h.url}/overview`));
    expect(o['jobs-cancelled']).toBe(1);
    expect(o['jobs-running']).toBe(0);
  });

  it('POST /jobs/:id/cancel cancels too; unknown jobs are 404, other modes 400', async () => {
    h = await startHarness({ slots: 2 });
    const id = await startEndless(h);
    expect((await fetch(`${h.url}/jobs/${id}?mode=savepoint`, { method: 'PATCH', headers: auth })).status).toBe(400);
    expect((await fetch(`${h.url}/jobs/ffff?mode=cancel`, { method: 'PATCH', headers: auth })).status).toBe(404);
    expect((await fetch(`${h.url}/jobs/ffff/cancel`, { method: 'POST', headers: auth })).status).toBe(404);
    const res = await fetch(`${h.url}/jobs/${id}/cancel`, { method: 'POST', headers: auth });
    expect(res.status).toBe(202);
    await pollJob(h, id, (x) => x.state === 'CANCELED');
    // Cancelling a finished job is accepted and changes nothing.
    expect((await fetch(`${h.url}/jobs/${id}/cancel`, { method: 'POST', headers: auth })).status).toBe(202);
  });
});

describe('stop and checkpoints', () => {
  it('POST /jobs/:id/stop requires the token, takes a savepoint, answers its location, and ends the job FINISHED', async () => {
    h = await startHarness({ slots: 2 });
    const id = await startEndless(h);
    await pollJob(h, id, (x) => x.state === 'RUNNING' && x.vertices.every((v: { status: string }) => v.status === 'RUNNING'));
    const target = join(h.tmp, 'savepoints');
    const body = JSON.stringify({ targetDirectory: target, drain: false });
    expect((await fetch(`${h.url}/jobs/${id}/stop`, { method: 'POST', body })).status).toBe(401);
    const res = await fetch(`${h.url}/jobs/${id}/stop`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    const { location } = await json(res) as { location: string };
    expect(location.startsWith(target)).toBe(true);
    expect(existsSync(join(location, '_metadata'))).toBe(true);
    expect((await pollJob(h, id, (x) => x.state !== 'RUNNING' && x.state !== 'CANCELLING')).state).toBe('FINISHED');
    const cps = await json(await fetch(`${h.url}/jobs/${id}/checkpoints`)) as any;
    expect(cps.counts.completed).toBe(1);
    expect(cps.latest.savepoint.external_path).toBe(location);
    expect(cps.latest.savepoint.is_savepoint).toBe(true);
  });

  it('POST /jobs/:id/stop without a target directory is a 400', async () => {
    h = await startHarness({ slots: 2 });
    const id = await startEndless(h);
    const res = await fetch(`${h.url}/jobs/${id}/stop`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(((await json(res)) as { errors: string[] }).errors[0]).toMatch(/target directory/);
  });

  it('GET /jobs/:id/checkpoints has Flink\'s shape, with zero counts before any checkpoint', async () => {
    h = await startHarness({ slots: 2 });
    const id = await startEndless(h);
    const v = await json(await fetch(`${h.url}/jobs/${id}/checkpoints`)) as any;
    expect(v.counts).toEqual({ restored: 0, total: 0, in_progress: 0, completed: 0, failed: 0 });
    expect(v.latest).toEqual({ completed: null, savepoint: null, failed: null, restored: null });
    expect(v.history).toEqual([]);
  });
});

describe('GET /metrics after a job ran', () => {
  it('has every task metric, labelled by job, vertex and subtask', async () => {
    h = await startHarness({ slots: 4 });
    const up = await upload(h, readFileSync(small.path));
    const r = await run(h, up.body.application_id, { args: { output: join(h.tmp, 'out.jsonl') } });
    await pollJob(h, r.body.jobid, (x) => x.state === 'FINISHED' && x.vertices.every((v: { subtasks: Array<{ name: string | null }> }) => v.subtasks.every((s) => s.name !== null)));
    const res = await fetch(`${h.url}/metrics`);
    const text = await res.text();
    for (const name of [
      'rlink_taskmanagers', 'rlink_slots_total', 'rlink_jobs',
      'rlink_task_records_in_total', 'rlink_task_records_out_total', 'rlink_task_records_written_total',
      'rlink_task_bytes_in_total', 'rlink_task_bytes_out_total', 'rlink_task_invalid_records_total',
      'rlink_task_late_records_dropped_total', 'rlink_task_backpressure_seconds_total',
    ]) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
    expect(text).toMatch(/^rlink_jobs\{state="FINISHED"\} 1$/m);
    const written = text.split('\n').filter((l) => l.startsWith('rlink_task_records_written_total{'));
    expect(written.length).toBeGreaterThan(0);
    expect(written.join('\n')).toContain(`job_id="${r.body.jobid}"`);
    expect(written.join('\n')).toContain('job_name="http-small"');
    expect(written.join('\n')).toMatch(/subtask="0"/);
    const total = written.reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    expect(total).toBe(100);
  });
});
