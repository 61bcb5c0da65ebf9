/** Bad input against a cluster of real processes: each a clear error, nothing crashes. */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { execa } from 'execa';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { BIN, ROOT } from '../helpers/cli';
import { startCluster, type TestCluster } from './cluster';

describe('a cluster given bad input', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ taskManagers: 1, slots: 2 }); }, 60_000);
  afterAll(async () => { await c?.stop(); });

  it('refuses a submit with a wrong token (401) in one line, and stores nothing', async () => {
    const r = await execa('node', [BIN, 'submit', join(ROOT, 'examples', 'rlink-simple.ts'), '--jm', c.url], {
      env: { RLINK_TOKEN: 'x'.repeat(32) }, reject: false, stdin: 'ignore',
    });
    expect(r.exitCode).toBe(1);
    const lines = String(r.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rlink submit: job manager .* refused the cluster token \(401\)/);
    expect((await c.get('/jobs')).jobs).toHaveLength(0);
  });

  it('fails a job whose build throws on the task manager, naming the error', async () => {
    const r = await c.rlink(['submit', join(import.meta.dirname, 'apps', 'build-throws-on-tm.ts'), '--jm', c.url]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^rlink submit: job throws-on-taskmanager .* FAILED: .*no such table on this host/);
    expect((await c.get('/overview')).taskmanagers).toBe(1); // the task manager survived
  });

  it('answers a garbage bundle with a clear 400 when it is run', async () => {
    const bad = join(c.dir, 'garbage.mjs');
    writeFileSync(bad, 'this is not javascript {{{');
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('this is not javascript {{{')]), 'garbage.mjs');
    const up = await fetch(`${c.url}/job/application`, { method: 'POST', body: form, headers: { authorization: `Bearer ${c.token}` } });
    expect(up.status).toBe(200);
    const { application_id } = await up.json() as { application_id: string };
    const run = await fetch(`${c.url}/job/application/${application_id}`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' } });
    expect(run.status).toBe(400);
    expect(((await run.json()) as { errors: string[] }).errors[0]).toMatch(/failed to load/);
  });

  it('closes a control socket that sends a malformed frame, and keeps serving', async () => {
    const ws = new WebSocket(`${c.url.replace('http', 'ws')}/taskmanager`, { headers: { authorization: `Bearer ${c.token}` } });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('{"type": "register", "oops"');
    expect(await closed).toBe(1007);
    expect((await c.get('/overview')).taskmanagers).toBe(1);
  });

  it('refuses a task manager started with the wrong token: one line, non-zero exit', async () => {
    const r = await execa('node', [BIN, 'taskmanager', 'start', '--jm', c.url, '--slots', '1', '--work-dir', join(c.dir, 'tm-bad')], {
      env: { RLINK_TOKEN: 'y'.repeat(32) }, reject: false, stdin: 'ignore', timeout: 30_000,
    });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr).trim().split('\n').at(-1)).toMatch(/^rlink taskmanager start: job manager .* refused the cluster token \(401\)/);
  });

  it('refuses a second job manager on the same port, naming the port', async () => {
    const port = new URL(c.url).port;
    const r = await execa('node', [BIN, 'jobmanager', 'start', '--port', port, '--data-dir', join(c.dir, 'jm2')], {
      env: c.env, reject: false, stdin: 'ignore', timeout: 30_000,
    });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr).trim().split('\n').at(-1)).toBe(`rlink jobmanager start: port ${port} on 127.0.0.1 is already in use (is another job manager running?)`);
  });
});
