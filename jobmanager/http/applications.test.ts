import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Bundle } from '../../core/app/bundle';
import { TOKEN, auth, bundleTestApp, json, pollJob, raw, run, startHarness, upload, uploadForm, type Harness } from './testdata/harness';

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

const appsDir = (x: Harness) => join(x.dataDir, 'applications');
const entries = (x: Harness) => (existsSync(appsDir(x)) ? readdirSync(appsDir(x)) : []);

describe('POST /job/application (upload)', () => {
  it('answers 401 without a token and stores nothing', async () => {
    h = await startHarness();
    const res = await fetch(`${h.url}/job/application`, { method: 'POST', body: uploadForm('export default 1') });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = await json(res);
    expect(body.errors[0]).toMatch(/Authorization: Bearer/);
    expect(entries(h)).toEqual([]);
  });

  it('answers 401 for a wrong token, and for a token in another scheme', async () => {
    h = await startHarness();
    for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer ', `Basic ${TOKEN}`, TOKEN]) {
      const res = await fetch(`${h.url}/job/application`, { method: 'POST', headers: { authorization }, body: uploadForm('export default 1') });
      expect(res.status, authorization).toBe(401);
      expect((await json(res)).errors).toHaveLength(1);
    }
    expect(entries(h)).toEqual([]);
  });

  it('stores the bundle under an id of its own, with its sha256, whatever the client calls it', async () => {
    h = await startHarness();
    const content = readFileSync(small.path);
    const r = await upload(h, content, '../../etc/evil name.mjs');
    expect(r.status).toBe(200);
    expect(r.body.application_id).toMatch(/^app-[0-9a-f]{16}$/);
    expect(r.body.hash).toBe(createHash('sha256').update(content).digest('hex'));
    expect(r.body.bytes).toBe(content.length);
    const stored = join(appsDir(h), r.body.application_id, 'app.mjs');
    expect(readFileSync(stored).equals(content)).toBe(true);
    expect(entries(h)).toEqual([r.body.application_id]);
    expect(existsSync(join(h.dataDir, '..', 'etc'))).toBe(false);
  });

  it('returns the same application for the same content', async () => {
    h = await startHarness();
    const a = await upload(h, 'export default 1;');
    const b = await upload(h, 'export default 1;', 'other.js');
    const c = await upload(h, 'export default 2;');
    expect(b.body.application_id).toBe(a.body.application_id);
    expect(c.body.application_id).not.toBe(a.body.application_id);
    expect(entries(h).sort()).toEqual([a.body.application_id, c.body.application_id].sort());
  });

  it('answers 413 for a bundle above the limit and leaves nothing on disk', async () => {
    h = await startHarness({ maxUploadBytes: 1024 });
    const res = await fetch(`${h.url}/job/application`, { method: 'POST', headers: auth, body: uploadForm('x'.repeat(200_000)) });
    expect(res.status).toBe(413);
    expect((await json(res)).errors[0]).toMatch(/larger than the upload limit of 1024 bytes/);
    expect(entries(h)).toEqual([]);
  });

  it('answers 413 when the limit is crossed mid-stream (no Content-Length), and leaves nothing on disk', async () => {
    h = await startHarness({ maxUploadBytes: 64 * 1024 });
    const boundary = 'rlinkboundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mjs"\r\n\r\n`;
    const parts = [head, 'y'.repeat(200_000), `\r\n--${boundary}--\r\n`];
    const stream = new ReadableStream<Uint8Array>({
      start(c) { for (const p of parts) c.enqueue(new TextEncoder().encode(p)); c.close(); },
    });
    const res = await fetch(`${h.url}/job/application`, {
      method: 'POST', headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, body: stream, duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await json(res)).errors[0]).toMatch(/upload limit/);
    // The partial file is removed once the write stream closed.
    for (let i = 0; i < 50 && entries(h).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(entries(h)).toEqual([]);
  });

  it('answers 400 for a multipart body without the field file, 415 for another content type', async () => {
    h = await startHarness();
    const form = new FormData();
    form.append('other', 'value');
    const res = await fetch(`${h.url}/job/application`, { method: 'POST', headers: auth, body: form });
    expect(res.status).toBe(400);
    expect((await json(res)).errors[0]).toMatch(/no field 'file'/);
    const wrongField = await fetch(`${h.url}/job/application`, { method: 'POST', headers: auth, body: uploadForm('export default 1', 'a.mjs', 'bundle') });
    expect(wrongField.status).toBe(400);
    const plain = await fetch(`${h.url}/job/application`, { method: 'POST', headers: { ...auth, 'content-type': 'application/javascript' }, body: 'export default 1' });
    expect(plain.status).toBe(415);
    const broken = await fetch(`${h.url}/job/application`, {
      method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=zzz' }, body: '--zzz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
    });
    expect(broken.status).toBe(400);
    expect(entries(h)).toEqual([]);
  });

  it('refuses an upload with Expect: 100-continue and no token before the body is sent', async () => {
    h = await startHarness();
    const r = await raw(h, 'POST', '/job/application', { expect: '100-continue', 'content-type': 'multipart/form-data; boundary=b', 'content-length': '10' }, '0123456789');
    expect(r.status).toBe(401);
  });
});

describe('POST /job/application/:id (run)', () => {
  it('runs an uploaded bundle to FINISHED and reports vertices with metrics', async () => {
    h = await startHarness({ slots: 4 });
    const out = join(h.tmp, 'out.jsonl');
    const up = await upload(h, readFileSync(small.path), 'small.mjs');
    expect(up.status).toBe(200);
    const r = await run(h, up.body.application_id, { args: { output: out, factor: 2 } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ jobid: expect.stringMatching(/^[0-9a-f]{32}$/), application_id: up.body.application_id, name: 'http-small' });

    const j = await pollJob(h, r.body.jobid, (x) => ['FINISHED', 'FAILED', 'CANCELED'].includes(x.state));
    expect(j.error).toBeUndefined();
    expect(j.state).toBe('FINISHED');
    expect(j.jid).toBe(r.body.jobid);
    expect(j.application_id).toBe(up.body.application_id);
    expect(j.timestamps.CREATED).toBeGreaterThan(0);
    expect(j.timestamps.RUNNING).toBeGreaterThanOrEqual(j.timestamps.CREATED);
    expect(j.timestamps.FINISHED).toBeGreaterThanOrEqual(j.timestamps.RUNNING);
    expect(j.timestamps.FAILED).toBe(0);
    expect(j['end-time']).toBeGreaterThanOrEqual(j['start-time']);
    expect(j.plan.jobGraph.vertices).toHaveLength(j.vertices.length);
    expect(j.plan.nodes.nodes.map((n: { name: string }) => n.name)).toEqual(expect.arrayContaining(['Source: rows', 'Scale', 'Count']));

    // The last metrics reports may land just after FINISHED.
    const done = await pollJob(h, r.body.jobid, (x) => x.vertices.every((v: { subtasks: Array<{ name: string | null }> }) => v.subtasks.every((s) => s.name !== null)), 5_000);
    const [source, count, sink] = done.vertices;
    expect(done.vertices).toHaveLength(3);
    expect(source.name).toMatch(/Source: rows/);
    expect(source.parallelism).toBe(1);
    expect(count.parallelism).toBe(2);
    expect(count.subtasks).toHaveLength(2);
    for (const v of done.vertices) expect(v.status).toBe('FINISHED');
    expect(source.metrics['write-records']).toBe(100);
    expect(count.metrics['read-records']).toBe(100);
    expect(sink.metrics['records-written']).toBe(100);
    expect(Object.keys(sink.metrics).sort()).toEqual([
      'accumulated-backpressured-time', 'accumulated-busy-time', 'accumulated-idle-time', 'backPressuredTimeMsPerSecond', 'backpressure-ms', 'busyTimeMsPerSecond',
      'idleTimeMsPerSecond', 'invalid-records', 'late-records-dropped', 'numRecordsInPerSecond', 'numRecordsOutPerSecond', 'numRecordsWrittenPerSecond',
      'read-bytes', 'read-records', 'records-written', 'watermark', 'write-bytes', 'write-records']);
    // Rates describe running subtasks: a finished job has none.
    expect(sink.metrics.numRecordsInPerSecond).toBeNull();
    expect(sink.metrics.busyTimeMsPerSecond).toBeNull();
    expect(sink.backpressureLevel).toBeNull();
    expect(count.subtasks.map((s: { subtask: number }) => s.subtask)).toEqual([0, 1]);

    // The output: running counts, the last per key is 20 records × factor 2.
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { k: number; n: number });
    expect(rows).toHaveLength(100);
    expect(Math.max(...rows.map((x) => x.n))).toBe(40);
  });

  it('accepts args as "key=value" strings and as a plain map', async () => {
    h = await startHarness({ slots: 4 });
    const up = await upload(h, readFileSync(small.path));
    const a = await run(h, up.body.application_id, { args: [`output=${join(h.tmp, 'a.jsonl')}`] });
    expect(a.status).toBe(200);
    const b = await run(h, up.body.application_id, { output: join(h.tmp, 'b.jsonl') });
    expect(b.status).toBe(200);
    for (const id of [a.body.jobid, b.body.jobid]) expect((await pollJob(h, id, (x) => x.state === 'FINISHED' || x.state === 'FAILED')).state).toBe('FINISHED');
    const bad = await run(h, up.body.application_id, { args: ['no-equals-sign'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(/not key=value/);
  });

  it('answers 400 with the message when a property is missing (a build error), and creates no job', async () => {
    h = await startHarness();
    const up = await upload(h, readFileSync(small.path));
    const r = await run(h, up.body.application_id, { args: {} });
    expect(r.status).toBe(400);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0]).toMatch(/missing required property 'output'/);
    expect(r.body.errors[0]).not.toMatch(/\n/);
    expect(r.body.code).toBe('RLINK_MISSING_PROP');
    expect(h.jm.jobs.size).toBe(0);
  });

  it('accepts garbage at upload, and answers 400 naming the application when it is run', async () => {
    h = await startHarness();
    const up = await upload(h, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0xff, 0x20, 0x3c, 0x3d]), 'not-js.mjs');
    expect(up.status).toBe(200);
    const r = await run(h, up.body.application_id, {});
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toContain(`app ${up.body.application_id} failed to load`);
    expect(r.body.code).toBe('RLINK_APP_BUILD');

    const noApp = await upload(h, 'export const x = 1;');
    const r2 = await run(h, noApp.body.application_id, {});
    expect(r2.status).toBe(400);
    expect(r2.body.errors[0]).toMatch(/does not export an app/);
  });

  it('creates the job on a cluster without slots; the job then fails', async () => {
    h = await startHarness();
    const up = await upload(h, readFileSync(small.path));
    const r = await run(h, up.body.application_id, { args: { output: join(h.tmp, 'x.jsonl') } });
    expect(r.status).toBe(200);
    const j = await pollJob(h, r.body.jobid, (x) => x.state === 'FAILED');
    expect(j.error).toMatch(/slot/i);
  });

  it('answers 401 before anything else, 404 for an unknown id, 400 for malformed JSON', async () => {
    h = await startHarness();
    const noToken = await fetch(`${h.url}/job/application/app-0000000000000000`, { method: 'POST', body: '{' });
    expect(noToken.status).toBe(401);
    const unknown = await run(h, 'app-0000000000000000', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toMatch(/application 'app-0000000000000000' not found/);
    const up = await upload(h, readFileSync(small.path));
    const malformed = await fetch(`${h.url}/job/application/${up.body.application_id}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"args": ' });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).errors[0]).toMatch(/malformed JSON/);
    const wrongArgs = await run(h, up.body.application_id, { args: 'output=x' });
    expect(wrongArgs.status).toBe(400);
  });
});

describe('POST /job/application/:id/shutdown', () => {
  it('cancels the running jobs of the application and removes its files once they ended', async () => {
    h = await startHarness({ slots: 2 });
    const up = await upload(h, readFileSync(endless.path));
    const id = up.body.application_id as string;
    const r = await run(h, id, { args: { output: join(h.tmp, 'endless') } });
    expect(r.status).toBe(200);
    await pollJob(h, r.body.jobid, (x) => x.state === 'RUNNING' && x.vertices.every((v: { status: string }) => v.status === 'RUNNING'));

    const noToken = await fetch(`${h.url}/job/application/${id}/shutdown`, { method: 'POST' });
    expect(noToken.status).toBe(401);
    const res = await fetch(`${h.url}/job/application/${id}/shutdown`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ application_id: id, canceled: [r.body.jobid] });
    expect((await pollJob(h, r.body.jobid, (x) => x.state === 'CANCELED')).state).toBe('CANCELED');

    // A shut-down application takes no new jobs; its files go once its jobs ended.
    for (let i = 0; i < 100 && existsSync(join(appsDir(h), id)); i++) await new Promise((x) => setTimeout(x, 20));
    expect(existsSync(join(appsDir(h), id))).toBe(false);
    expect((await run(h, id, { args: { output: 'x' } })).status).toBe(404);
    expect((await fetch(`${h.url}/job/application/${id}/shutdown`, { method: 'POST', headers: auth })).status).toBe(404);
    // The same content uploaded again is a new application.
    const again = await upload(h, readFileSync(endless.path));
    expect(again.body.application_id).not.toBe(id);
  });

  it('removes an application without jobs at once', async () => {
    h = await startHarness();
    const up = await upload(h, 'export default 1;');
    const res = await fetch(`${h.url}/job/application/${up.body.application_id}/shutdown`, { method: 'POST', headers: auth });
    expect(await json(res)).toEqual({ application_id: up.body.application_id, canceled: [] });
    for (let i = 0; i < 50 && entries(h).length > 0; i++) await new Promise((x) => setTimeout(x, 20));
    expect(entries(h)).toEqual([]);
  });
});

describe('bundle downloads', () => {
  it('serves the bundle by application id and by content hash, with the token only', async () => {
    h = await startHarness();
    const content = readFileSync(small.path);
    const up = await upload(h, content);
    const byId = await fetch(`${h.url}/job/application/${up.body.application_id}/bundle`, { headers: auth });
    expect(byId.status).toBe(200);
    expect(byId.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(Buffer.from(await byId.arrayBuffer()).equals(content)).toBe(true);
    const byHash = await fetch(`${h.url}/bundles/${up.body.hash}`, { headers: auth });
    expect(byHash.status).toBe(200);
    expect(Buffer.from(await byHash.arrayBuffer()).equals(content)).toBe(true);
    const byPrefix = await fetch(`${h.url}/bundles/${(up.body.hash as string).slice(0, 16)}`, { headers: auth });
    expect(byPrefix.status).toBe(200);
    await byPrefix.arrayBuffer();

    expect((await fetch(`${h.url}/job/application/${up.body.application_id}/bundle`)).status).toBe(401);
    expect((await fetch(`${h.url}/bundles/${up.body.hash}`)).status).toBe(401);
    expect((await fetch(`${h.url}/bundles/${'0'.repeat(64)}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${h.url}/job/application/app-ffffffffffffffff/bundle`, { headers: auth })).status).toBe(404);
  });
});

describe('path traversal', () => {
  it('never reaches outside the data directory through ids', async () => {
    h = await startHarness();
    const outside = join(dirname(h.dataDir), 'secret.mjs');
    writeFileSync(outside, 'export default "secret";');
    const up = await upload(h, 'export default 1;');
    const id = up.body.application_id as string;
    const attempts = [
      '/job/application/..%2F..%2Fsecret.mjs/bundle',
      '/job/application/%2e%2e/bundle',
      `/job/application/${id}%2F..%2F..%2F..%2Fsecret.mjs/bundle`,
      '/job/application/../../secret.mjs/bundle',
      '/job/application/..%5C..%5Csecret.mjs/bundle',
      '/bundles/..%2F..%2Fsecret.mjs',
      '/bundles/%2e%2e%2f%2e%2e%2fsecret.mjs',
      '/job/application/%ZZ/bundle',
    ];
    for (const path of attempts) {
      const r = await raw(h, 'GET', path, auth);
      expect([400, 404], path).toContain(r.status);
      expect(r.text).not.toContain('export default');
      expect(JSON.parse(r.text).errors).toHaveLength(1);
    }
    for (const path of ['/job/application/..%2F..%2Fsecret.mjs', '/job/application/..%2F..%2Fsecret.mjs/shutdown', `/job/application/${id}%2F..%2F..`]) {
      const r = await raw(h, 'POST', path, { ...auth, 'content-type': 'application/json' }, '{}');
      expect([400, 404], path).toContain(r.status);
    }
    expect(readFileSync(outside, 'utf8')).toBe('export default "secret";');
    expect(readdirSync(dirname(h.dataDir)).sort()).toEqual(['data', 'secret.mjs']);
    expect(entries(h)).toEqual([id]);
  });
});
