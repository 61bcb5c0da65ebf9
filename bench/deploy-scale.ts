/**
 * Deploy wall time, 16 hosts vs 1 (issue 5; floor: 16 hosts ≤ 3× one host). Hosts are network
 * namespaces with their own addresses, sshd and private work dir (test/infra/netns.ts; needs root).
 * Each round deploys from scratch (a fresh work dir, so the runtime is uploaded to every host):
 * `rlink deploy standalone` with a job manager on host 0 and one task manager per host, timed as the
 * user sees it (the whole CLI process), then `rlink stop standalone`. Rounds alternate 1 and 16 hosts
 * so both see the same machine state; the ratio is of the medians.
 *
 *   npm run bench -- deploy-scale            (BENCH_ROUNDS=3, BENCH_HOSTS=16, BENCH_CONCURRENCY=8)
 */
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNamespacedHosts, namespacesAvailable } from '../test/infra/netns';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'rlink.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 16);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WORK = '/srv/rlink-bench';

const avail = namespacesAvailable();
if (!avail.ok) { process.stderr.write(`deploy-scale needs network namespaces: ${avail.reason}\n`); process.exit(2); }

// Each simulated host is a fresh machine with its own (empty) home directory: this box's root
// .bashrc (pyenv init, ~150 ms of CPU per ssh command) would otherwise run on every "host" for
// every command. BENCH_SHARED_HOME=1 keeps it, for comparison.
const privateDirs = process.env.BENCH_SHARED_HOME ? [WORK] : [WORK, homedir()];
const fixture = await startNamespacedHosts(HOSTS, { privateDirs });
const dir = mkdtempSync(join(tmpdir(), 'rlink-bench-deploy-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function round(n: number, k: number): Promise<{ wallMs: number; deployMs: number }> {
  const hosts = fixture.hosts.slice(0, n);
  const config = join(dir, `standalone-${n}-${k}.yaml`);
  const tms = join(dir, `task_managers-${n}-${k}`);
  writeFileSync(config, [
    `application_manager_address: ["http://${hosts[0]!.address}:8770"]`,
    `task_manager_work_dir: ${WORK}/round-${n}-${k}`,
    'task_manager_slots: 1',
    `ssh: { user: ${fixture.user}, port: 22, identity_file: ${fixture.identityFile}, known_hosts: ${fixture.knownHostsFile} }`,
    `auth: { token_file: ${join(dir, 'token')} }`,
    `deploy: { concurrency: ${CONCURRENCY} }`,
  ].join('\n') + '\n');
  writeFileSync(tms, hosts.map((h) => h.address).join('\n') + '\n');
  const t0 = performance.now();
  const up = await execa('node', [BIN, 'deploy', 'standalone', '--config', config, '--task-managers', tms, '--json'], { reject: false, timeout: 300_000 });
  const wallMs = performance.now() - t0;
  if (up.exitCode !== 0) throw new Error(`deploy to ${n} hosts failed: ${up.stderr || up.stdout}`);
  const res = JSON.parse(up.stdout) as { wallMs: number; phases: Record<string, number> };
  const deployMs = res.wallMs;
  if (process.env.BENCH_PHASES) process.stdout.write(`  ${n} hosts: ${JSON.stringify(res.phases)}\n`);
  const down = await execa('node', [BIN, 'stop', 'standalone', '--config', config, '--task-managers', tms, '--json'], { reject: false, timeout: 120_000 });
  if (down.exitCode !== 0) throw new Error(`stop on ${n} hosts failed: ${down.stderr}`);
  return { wallMs, deployMs };
}

try {
  // Warm-up: builds the runtime bundle once, so no round pays for it.
  await round(1, -1);
  const one: number[] = [];
  const many: number[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    const a = await round(1, k);
    const b = await round(HOSTS, k);
    one.push(a.wallMs); many.push(b.wallMs);
    process.stdout.write(`round ${k + 1}: 1 host ${(a.wallMs / 1000).toFixed(2)} s (deploy ${(a.deployMs / 1000).toFixed(2)} s), ${HOSTS} hosts ${(b.wallMs / 1000).toFixed(2)} s (deploy ${(b.deployMs / 1000).toFixed(2)} s), ratio ${(b.wallMs / a.wallMs).toFixed(2)}\n`);
  }
  const ratio = median(many) / median(one);
  process.stdout.write(`median: 1 host ${(median(one) / 1000).toFixed(2)} s, ${HOSTS} hosts ${(median(many) / 1000).toFixed(2)} s, ratio ${ratio.toFixed(2)} (floor ≤ 3) ${ratio <= 3 ? 'OK' : 'NOT MET'}\n`);
} finally {
  await fixture.stop();
}
