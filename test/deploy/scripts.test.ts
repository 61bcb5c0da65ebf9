/**
 * The runtime bundle and the host scripts, on this machine without SSH: a work dir laid out as a
 * deploy leaves it (lib/rlink.mjs + scripts/), daemons started and stopped by the scripts by hand,
 * a windowed job run on that cluster with exact results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, basename } from 'node:path';
import { createServer } from 'node:net';
import { freePort, pidAlive as alive } from '../infra/sshd';
import { ensureRuntimeBundle, type RuntimeBundle } from '../../deploy/runtime/runtime-bundle';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { tumblingReference } from './reference-job';

let bundle: RuntimeBundle;
let work: string;
const token = randomBytes(24).toString('hex');

function sh(script: string, args: string[], env: Record<string, string> = {}) {
  return execa('sh', [join(work, 'scripts', script), ...args], { reject: false, env: { ...env }, timeout: 60_000 });
}
function statusLines(out: string): { daemon: string; state: string; pid: number | null; ready: any }[] {
  return out.split('\n').filter((l) => l.startsWith('RLINK_STATUS ')).map((l) => JSON.parse(l.slice('RLINK_STATUS '.length)));
}
beforeAll(async () => {
  bundle = await ensureRuntimeBundle();
  work = tempDir('rlink-host-');
  mkdirSync(join(work, 'lib'));
  mkdirSync(join(work, 'scripts'));
  copyFileSync(bundle.path, join(work, 'lib', 'rlink.mjs'));
  for (const s of bundle.scripts) { copyFileSync(s, join(work, 'scripts', basename(s))); chmodSync(join(work, 'scripts', basename(s)), 0o755); }
  writeFileSync(join(work, 'token'), token, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await sh('stop_task_manager.sh', ['--all']);
  await sh('stop_job_manager.sh', []);
});

describe('the runtime bundle', () => {
  it('is one self-contained file that reports its version', async () => {
    const r = await execa('node', [join(work, 'lib', 'rlink.mjs'), '--version'], { cwd: work, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^rlink runtime \d+\.\d+\.\d+/);
    expect(bundle.version).toMatch(/^[0-9a-f]{64}$/);
    // Nothing outside the file: it runs from a directory with no node_modules anywhere above it.
    expect(existsSync(join(work, 'node_modules'))).toBe(false);
  });
});

describe('the host scripts', () => {
  let jmUrl = '';
  it('start a job manager, idempotently', async () => {
    const port = await freePort();
    const first = await sh('start_job_manager.sh', ['--port', String(port), '--token-file', join(work, 'token'), '--data-dir', join(work, 'jobmanager')]);
    expect(first.exitCode, first.stderr).toBe(0);
    const [s] = statusLines(first.stdout);
    expect(s!.state).toBe('started');
    expect(alive(s!.pid!)).toBe(true);
    jmUrl = s!.ready.url;
    expect(jmUrl).toBe(`http://127.0.0.1:${port}`);
    expect(readFileSync(join(work, 'run', 'jobmanager.pid'), 'utf8').trim()).toBe(String(s!.pid));
    const second = await sh('start_job_manager.sh', ['--port', String(port), '--token-file', join(work, 'token')]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain(`already running (pid ${s!.pid})`);
    expect(statusLines(second.stdout)[0]!.state).toBe('running');
  });

  it('start two task managers and run a windowed job with exact results', async () => {
    for (const i of [0, 1]) {
      const r = await sh('start_task_manager.sh', ['--instance', String(i), '--jm', jmUrl, '--slots', '2', '--token-file', join(work, 'token'), '--work-dir', join(work, `tm-${i}`), '--id', `tm-local-${i}`]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(statusLines(r.stdout)[0]!.state).toBe('started');
    }
    const dir = tempDir('rlink-scripts-job-');
    const { records, expected } = tumblingReference(2_000);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const r = await rlink(['submit', join(ROOT, 'test', 'deploy', 'apps', 'tumbling.ts'), `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`, '--jm', jmUrl], { env: { RLINK_TOKEN: token } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(expected));
    const st = await sh('status.sh', []);
    expect(statusLines(st.stdout).map((l) => `${l.daemon}:${l.state}`).sort()).toEqual(['jobmanager:running', 'taskmanager-0:running', 'taskmanager-1:running']);
  });

  it('refuse a port already taken, naming it, and leave no pid file', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((res) => blocker.listen(0, '127.0.0.1', () => res((blocker.address() as { port: number }).port)));
    const other = tempDir('rlink-host2-');
    mkdirSync(join(other, 'scripts')); mkdirSync(join(other, 'lib'));
    copyFileSync(join(work, 'lib', 'rlink.mjs'), join(other, 'lib', 'rlink.mjs'));
    for (const s of bundle.scripts) copyFileSync(s, join(other, 'scripts', basename(s)));
    const r = await execa('sh', [join(other, 'scripts', 'start_job_manager.sh'), '--port', String(port), '--token-file', join(work, 'token')], { reject: false, timeout: 60_000 });
    blocker.close();
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    expect(existsSync(join(other, 'run', 'jobmanager.pid'))).toBe(false);
  });

  it('refuse a Node older than 20 with a clear message', async () => {
    const fake = join(work, 'old-node');
    writeFileSync(fake, '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    const r = await sh('start_task_manager.sh', ['--instance', '7', '--jm', jmUrl], { RLINK_NODE: fake });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Node\.js v18\.19\.0 on .* is too old \(rlink needs ≥ 20\)/);
    const missing = await sh('start_task_manager.sh', ['--instance', '7', '--jm', jmUrl], { RLINK_NODE: join(work, 'no-such-node') });
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toMatch(/node not found on/);
  });

  it('stop waits, escalates to SIGKILL when needed, and is idempotent', async () => {
    const pids = statusLines((await sh('status.sh', [])).stdout).map((l) => l.pid!);
    expect(pids).toHaveLength(3);
    // A task manager that ignores SIGTERM (stopped with SIGSTOP) is killed after the timeout.
    const tm1 = statusLines((await sh('status.sh', [])).stdout).find((l) => l.daemon === 'taskmanager-1')!.pid!;
    process.kill(tm1, 'SIGSTOP');
    const t0 = Date.now();
    const r = await sh('stop_task_manager.sh', ['--instance', '1'], { RLINK_STOP_TIMEOUT: '1' });
    expect(r.stdout).toContain('sending SIGKILL');
    expect(statusLines(r.stdout)[0]!.state).toBe('killed');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const rest = await sh('stop_task_manager.sh', ['--all']);
    expect(statusLines(rest.stdout).map((l) => l.state)).toEqual(['stopped']);
    const jm = await sh('stop_job_manager.sh', []);
    expect(statusLines(jm.stdout)[0]!.state).toBe('stopped');
    const again = await sh('stop_job_manager.sh', []);
    expect(again.stdout).toContain('jobmanager not running');
    for (const p of pids) expect(alive(p)).toBe(false);
  });
});
