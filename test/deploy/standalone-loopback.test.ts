/**
 * `rlink deploy|status|stop standalone` against a real OpenSSH server on loopback: the whole flow on
 * one machine (two task managers on the same host), and the faults a user meets first: an unknown
 * key in standalone.yaml, a refused key, an unknown and a changed host key, an unreachable host, a
 * port already taken on a host — each a clear one-line error, a non-zero exit, nothing left running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { startLoopbackSshd, restartWithNewHostKey, sshdAvailable, freePort, pidAlive as alive, type SshFixture } from '../infra/sshd';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { tumblingReference } from './reference-job';
import { writeClusterFiles } from './cluster-files';

const ssh = sshdAvailable();
let fixture: SshFixture;
let dir: string;

describe.skipIf(!ssh.ok && !process.env.RLINK_REQUIRE_SSHD)(`standalone deploy over SSH on loopback${ssh.ok ? '' : ` (skipped: ${ssh.reason})`}`, () => {
  beforeAll(async () => {
    fixture = await startLoopbackSshd();
    dir = tempDir('rlink-deploy-lo-');
  }, 60_000);
  afterAll(async () => { await fixture?.stop(); });

  it('deploys, runs a windowed job with exact results, reports status, and stops leaving nothing', async () => {
    const jmPort = await freePort();
    const files = writeClusterFiles(dir, fixture, {
      jobManagerUrls: [`http://127.0.0.1:${jmPort}`], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`, `127.0.0.1:${fixture.hosts[0]!.port}`],
      workDir: join(dir, 'work'), bindIp: '127.0.0.1',
      extra: `checkpoint: { dir: ${join(dir, 'checkpoints')}, interval: 10s }`,
    });
    const up = await rlink(['deploy', 'standalone', ...files.args, '--json'], { timeoutMs: 180_000 });
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    const result = JSON.parse(up.stdout);
    expect(result.jobManagerUrl).toBe(`http://127.0.0.1:${jmPort}`);
    expect(result.tokenCreated).toBe(true);
    expect((readFileSync(files.tokenFile).length)).toBeGreaterThan(16);
    expect(result.daemons.map((d: any) => `${d.role}/${d.name}/${d.state}/${d.slots}`)).toEqual([
      'jobmanager/jobmanager/running/null', 'taskmanager/taskmanager-0/registered/2', 'taskmanager/taskmanager-1/registered/2',
    ]);
    expect(result.hostsUploaded).toBe(1);
    // The runtime and scripts are on the host, the token with mode 0600.
    expect(existsSync(join(dir, 'work', 'lib', 'rlink.mjs'))).toBe(true);
    expect((await import('node:fs')).statSync(join(dir, 'work', 'token')).mode & 0o777).toBe(0o600);

    // A second deploy is idempotent: same version (no upload), daemons already running.
    const again = await rlink(['deploy', 'standalone', ...files.args, '--json'], { timeoutMs: 120_000 });
    expect(again.exitCode, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second.hostsUploaded).toBe(0);
    expect(second.daemons.map((d: any) => d.pid)).toEqual(result.daemons.map((d: any) => d.pid));

    const { records, expected } = tumblingReference(3_000, 11);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const job = await rlink(['submit', join(ROOT, 'test', 'deploy', 'apps', 'tumbling.ts'), `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`,
      '--jm', result.jobManagerUrl, '--token-file', files.tokenFile, '--json']);
    expect(job.exitCode, job.stderr).toBe(0);
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(expected));
    // standalone.yaml's checkpoint section became the cluster's default checkpoint.dir for the job.
    expect(existsSync(join(dir, 'checkpoints', JSON.parse(job.stdout).jobId))).toBe(true);

    const status = await rlink(['status', 'standalone', ...files.args]);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/HOST\s+ROLE\s+NAME\s+PID\s+SLOTS\s+STATE/);
    expect(status.stdout.match(/registered/g)).toHaveLength(2);

    const down = await rlink(['stop', 'standalone', ...files.args, '--json']);
    expect(down.exitCode, down.stderr).toBe(0);
    const stopped = JSON.parse(down.stdout).daemons;
    expect(stopped.map((d: any) => `${d.name}:${d.state}`).sort()).toEqual(['jobmanager:stopped', 'taskmanager-0:stopped', 'taskmanager-1:stopped']);
    for (const d of result.daemons) expect(alive(d.pid)).toBe(false);
    const after = await rlink(['status', 'standalone', ...files.args, '--json']);
    expect(JSON.parse(after.stdout).daemons.every((d: any) => d.state === 'not running')).toBe(true);
  }, 300_000);

  it('refuses an unknown key in standalone.yaml, naming the file and line', async () => {
    const files = writeClusterFiles(tempDir('rlink-deploy-bad-'), fixture, {
      jobManagerUrls: ['http://127.0.0.1:1'], taskManagerHosts: ['127.0.0.1'], workDir: join(dir, 'w-bad'), extra: 'task_manager_slotz: 4',
    });
    const r = await rlink(['deploy', 'standalone', ...files.args]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`${files.config}:9: task_manager_slotz: unknown key`);
    expect(r.stderr).toMatch(/did you mean task_manager_slots/);
  });

  it('refuses a host whose key is not in known_hosts, and accepts it with --accept-new-host-keys', async () => {
    const d = tempDir('rlink-deploy-hk-');
    const emptyKnownHosts = join(d, 'known_hosts');
    writeFileSync(emptyKnownHosts, '');
    const jmPort = await freePort();
    const files = writeClusterFiles(d, fixture, {
      jobManagerUrls: [`http://127.0.0.1:${jmPort}`], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`], workDir: join(d, 'work'), bindIp: '127.0.0.1', knownHosts: emptyKnownHosts,
    });
    const refused = await rlink(['deploy', 'standalone', ...files.args]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${fixture.hosts[0]!.port}: host key SHA256:\\S+ \\(ssh-ed25519\\) is not in ${emptyKnownHosts}`));
    expect(existsSync(join(d, 'work', 'run'))).toBe(false);
    const accepted = await rlink(['deploy', 'standalone', ...files.args, '--accept-new-host-keys', '--json'], { timeoutMs: 120_000 });
    expect(accepted.exitCode, accepted.stderr).toBe(0);
    expect(readFileSync(emptyKnownHosts, 'utf8')).toMatch(new RegExp(`\\[127\\.0\\.0\\.1\\]:${fixture.hosts[0]!.port} ssh-ed25519 `));
    const down = await rlink(['stop', 'standalone', ...files.args]);
    expect(down.exitCode, down.stderr).toBe(0);
  }, 180_000);

  it('refuses a key the server does not accept, naming the host and the key', async () => {
    const d = tempDir('rlink-deploy-key-');
    const otherKey = join(d, 'id_other');
    await (await import('execa')).execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const files = writeClusterFiles(d, fixture, {
      jobManagerUrls: ['http://127.0.0.1:1'], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`], workDir: join(d, 'work'), identityFile: otherKey,
    });
    const r = await rlink(['deploy', 'standalone', ...files.args]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${fixture.hosts[0]!.port}.*refused key ${otherKey.replace(/[.]/g, '\\.')}`));
  });

  it('names an unreachable host', async () => {
    const d = tempDir('rlink-deploy-unreach-');
    const closed = await freePort();
    const files = writeClusterFiles(d, fixture, {
      jobManagerUrls: ['http://127.0.0.1:1'], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`, `127.0.0.1:${closed}`], workDir: join(d, 'work'),
    });
    const r = await rlink(['deploy', 'standalone', ...files.args]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${closed}: connection refused`));
    expect(existsSync(join(d, 'work', 'run'))).toBe(false);
  });

  it('reports a port already taken on the job-manager host and leaves nothing started', async () => {
    const d = tempDir('rlink-deploy-port-');
    const blocker: Server = createServer();
    const port = await new Promise<number>((res) => blocker.listen(0, '127.0.0.1', () => res((blocker.address() as { port: number }).port)));
    try {
      const files = writeClusterFiles(d, fixture, {
        jobManagerUrls: [`http://127.0.0.1:${port}`], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`], workDir: join(d, 'work'), bindIp: '127.0.0.1',
      });
      const r = await rlink(['deploy', 'standalone', ...files.args]);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1: start_job_manager\\.sh: jobmanager failed to start on .*port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(existsSync(join(d, 'work', 'run', 'jobmanager.pid'))).toBe(false);
      expect(existsSync(join(d, 'work', 'run', 'taskmanager-0.pid'))).toBe(false);
    } finally { blocker.close(); }
  });

  it('rolls back: a task manager that cannot start stops the job manager this deploy started', async () => {
    const d = tempDir('rlink-deploy-rollback-');
    const jmPort = await freePort();
    const files = writeClusterFiles(d, fixture, {
      jobManagerUrls: [`http://127.0.0.1:${jmPort}`], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`], workDir: join(d, 'work'),
      bindIp: '10.254.254.254', // not an address of this host: the task manager's data server cannot listen
    });
    const r = await rlink(['deploy', 'standalone', ...files.args], { timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/rlink deploy standalone: 127\.0\.0\.1: start_task_manager\.sh: taskmanager-0 failed to start/);
    expect(r.stderr).toContain('rolled back: jobmanager stopped');
    expect(existsSync(join(d, 'work', 'run', 'jobmanager.pid'))).toBe(false);
    const refused = await fetch(`http://127.0.0.1:${jmPort}/overview`).then(() => 'answered', () => 'refused');
    expect(refused).toBe('refused');
  }, 120_000);

  it('refuses a changed host key, always, naming the known_hosts line', async () => {
    const d = tempDir('rlink-deploy-changed-');
    const files = writeClusterFiles(d, fixture, {
      jobManagerUrls: ['http://127.0.0.1:1'], taskManagerHosts: [`127.0.0.1:${fixture.hosts[0]!.port}`], workDir: join(d, 'work'),
    });
    await restartWithNewHostKey(fixture, 0);
    for (const extra of [[], ['--accept-new-host-keys']]) {
      const r = await rlink(['deploy', 'standalone', ...files.args, ...extra]);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`HOST KEY CHANGED: ${fixture.knownHostsFile.replace(/[.]/g, '\\.')}:\\d+ has SHA256:`));
    }
  }, 60_000);
});
