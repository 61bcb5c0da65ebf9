import { describe, it, expect, afterEach } from 'vitest';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logging';
import { createJobManagerServer } from './server';
import { JobManager } from '../job-manager';
import { json, raw, startHarness, TOKEN, type Harness } from './testdata/harness';

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

/** Sends a WebSocket upgrade request and returns the first bytes answered. */
function upgrade(url: string, path: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    });
    let got = '';
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

describe('routing', () => {
  it('answers 404 for unknown routes and 405 with Allow for a known path with another method, in Flink\'s error shape', async () => {
    h = await startHarness();
    for (const path of ['/nope', '/jobs/a/b/c', '/job', '//jobs', '/overview/x']) {
      const r = await raw(h, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.text)).toEqual({ errors: [expect.stringContaining('no such endpoint')], code: 'RLINK_NOT_FOUND' });
    }
    const del = await fetch(`${h.url}/jobs`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET');
    expect((await json(del)).errors[0]).toMatch(/DELETE is not allowed/);
    const getUpload = await fetch(`${h.url}/job/application`);
    expect(getUpload.status).toBe(405);
    expect(getUpload.headers.get('allow')).toBe('POST');
  });

  it('ignores one trailing slash and the query string', async () => {
    h = await startHarness();
    expect((await fetch(`${h.url}/overview/`)).status).toBe(200);
    expect((await fetch(`${h.url}/jobs?x=1`)).status).toBe(200);
  });

  it('answers 400 for malformed percent-encoding and absolute-form targets', async () => {
    h = await startHarness();
    expect((await raw(h, 'GET', '/jobs/%E0%A4%A')).status).toBe(400);
    expect((await raw(h, 'GET', 'http://example.com/jobs')).status).toBe(400);
  });

  it('refuses to start without a token of at least 16 characters', () => {
    const logger = silentLogger();
    for (const token of ['', 'short', '               x']) {
      expect(() => createJobManagerServer({ jobManager: new JobManager(logger), token, dataDir: '/nonexistent', logger })).toThrow(/token/);
    }
  });
});

describe('read endpoints', () => {
  it('GET /overview: task managers, slots and jobs per state, with the rlink version', async () => {
    h = await startHarness({ slots: 3 });
    const o = await json(await fetch(`${h.url}/overview`));
    expect(o).toEqual({
      taskmanagers: 1, 'slots-total': 3, 'slots-available': 3,
      'jobs-running': 0, 'jobs-finished': 0, 'jobs-cancelled': 0, 'jobs-failed': 0,
      'rlink-version': expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it('GET /jobs, /jobs/overview and /taskmanagers in Flink\'s shapes', async () => {
    h = await startHarness({ slots: 2 });
    expect(await json(await fetch(`${h.url}/jobs`))).toEqual({ jobs: [] });
    expect(await json(await fetch(`${h.url}/jobs/overview`))).toEqual({ jobs: [] });
    const tms = await json(await fetch(`${h.url}/taskmanagers`));
    expect(tms).toEqual({ taskmanagers: [expect.objectContaining({ id: 'test-tm', slotsNumber: 2, freeSlots: 2 })] });
  });

  it('answers 404 for an unknown job', async () => {
    h = await startHarness();
    for (const p of ['/jobs/0123', '/jobs/0123/checkpoints']) {
      const r = await fetch(`${h.url}${p}`);
      expect(r.status).toBe(404);
      expect((await json(r)).errors[0]).toMatch(/job '0123' not found/);
    }
  });

  it('GET /metrics: Prometheus text with the cluster gauges', async () => {
    h = await startHarness({ slots: 2 });
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^rlink_taskmanagers 1$/m);
    expect(text).toMatch(/^rlink_slots_total 2$/m);
    expect(text).toMatch(/^rlink_jobs\{state="RUNNING"\} 0$/m);
    expect(text).toMatch(/^rlink_jobmanager_process_cpu_user_seconds_total /m);
  });
});

describe('WebSocket upgrades', () => {
  it('are refused with 404 without an upgrade handler', async () => {
    h = await startHarness();
    expect(await upgrade(h.url, '/taskmanager')).toMatch(/^HTTP\/1\.1 404/);
  });

  it('go to onUpgrade on /taskmanager only; other paths are 404', async () => {
    const seen: string[] = [];
    h = await startHarness({
      onUpgrade: (req, socket) => {
        seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      },
    });
    expect(await upgrade(h.url, '/taskmanager?x=1')).toMatch(/^HTTP\/1\.1 401/);
    expect(seen).toEqual(['/taskmanager?x=1 ']);
    expect(await upgrade(h.url, '/jobs')).toMatch(/^HTTP\/1\.1 404/);
    expect(seen).toHaveLength(1);
  });
});

describe('close()', () => {
  it('ends kept-alive connections and stops listening', async () => {
    const logger = silentLogger();
    const dir = await mkdtemp(join(tmpdir(), 'rlink-http-close-'));
    const s = createJobManagerServer({ jobManager: new JobManager(logger), token: TOKEN, dataDir: dir, logger });
    const { url } = await s.listen(0, '127.0.0.1');
    expect((await fetch(`${url}/overview`)).status).toBe(200); // leaves a kept-alive connection
    const t = Date.now();
    await s.close();
    expect(Date.now() - t).toBeLessThan(1500);
    await expect(fetch(`${url}/overview`)).rejects.toThrow();
    await rm(dir, { recursive: true, force: true });
  });
});
