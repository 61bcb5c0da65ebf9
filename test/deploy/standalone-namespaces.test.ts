/**
 * `rlink deploy standalone` to hosts that are network namespaces with their own addresses
 * (10.200.x.y), each with its own sshd and its own private work dir (test/infra/netns.ts): one job
 * manager and three task managers on three hosts, a windowed job with exact results, and
 * `rlink stop standalone` leaving no process but sshd behind. Also a host without Node: the deploy
 * names it, exits non-zero and starts nothing anywhere. Needs root; skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startNamespacedHosts, namespacesAvailable, processesInNamespace, type NamespacedFixture } from '../infra/netns';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { tumblingReference } from './reference-job';
import { writeClusterFiles } from './cluster-files';

const ns = namespacesAvailable();
const WORK = '/srv/rlink-e2e';
let fixture: NamespacedFixture;

async function daemonsLeft(f: NamespacedFixture): Promise<string[]> {
  const left: string[] = [];
  for (const h of f.hosts) for (const p of await processesInNamespace(h.namespace!)) if (!/sshd|host\d+\.start\.sh/.test(p.cmd)) left.push(`${h.address}: ${p.pid} ${p.cmd}`);
  return left;
}

describe.skipIf(!ns.ok)(`standalone deploy to namespaced hosts${ns.ok ? '' : ` (skipped: ${ns.reason})`}`, () => {
  beforeAll(async () => { fixture = await startNamespacedHosts(5, { privateDirs: [WORK], withoutNode: [3], oldNode: [4] }); }, 120_000);
  afterAll(async () => { await fixture?.stop(); });

  it('brings up 1 job manager + 3 task managers on 3 hosts, runs a windowed job exactly, and stops leaving nothing', async () => {
    const [a, b, c] = fixture.hosts;
    const dir = tempDir('rlink-deploy-ns-');
    const files = writeClusterFiles(dir, fixture, {
      jobManagerUrls: [`http://${a!.address}:8770`], taskManagerHosts: [a!.address, b!.address, c!.address], workDir: WORK, slots: 2,
    });
    const up = await rlink(['deploy', 'standalone', ...files.args, '--json'], { timeoutMs: 240_000 });
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    const result = JSON.parse(up.stdout);
    expect(result.daemons.map((d: any) => `${d.host}/${d.role}/${d.state}/${d.slots ?? '-'}`)).toEqual([
      `${a!.address}/jobmanager/running/-`,
      `${a!.address}/taskmanager/registered/2`, `${b!.address}/taskmanager/registered/2`, `${c!.address}/taskmanager/registered/2`,
    ]);
    // Three separate machines: each got its own copy of the runtime in its private work dir.
    expect(result.hostsUploaded).toBe(3);
    const overview = await (await fetch(`${result.jobManagerUrl}/taskmanagers`)).json() as { taskmanagers: { id: string; dataAddress?: string }[] };
    expect(overview.taskmanagers.map((t) => t.id).sort()).toEqual([a, b, c].map((h) => `tm-${h!.address}-0`).sort());

    const { records, expected } = tumblingReference(5_000, 23);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const job = await rlink(['submit', join(ROOT, 'test', 'deploy', 'apps', 'tumbling.ts'), `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`,
      '--jm', result.jobManagerUrl, '--token-file', files.tokenFile], { timeoutMs: 120_000 });
    expect(job.exitCode, job.stderr).toBe(0);
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(expected));

    const status = await rlink(['status', 'standalone', ...files.args, '--json']);
    expect(JSON.parse(status.stdout).daemons.map((d: any) => d.state)).toEqual(['running', 'registered', 'registered', 'registered']);

    const down = await rlink(['stop', 'standalone', ...files.args, '--json'], { timeoutMs: 120_000 });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await daemonsLeft(fixture)).toEqual([]);
  }, 400_000);

  it('names a host without Node and one with an old Node, exits non-zero, and starts nothing anywhere', async () => {
    const [a, , , noNode, oldNode] = fixture.hosts;
    const dir = tempDir('rlink-deploy-nonode-');
    const files = writeClusterFiles(dir, fixture, {
      jobManagerUrls: [`http://${a!.address}:8771`], taskManagerHosts: [a!.address, noNode!.address, oldNode!.address], workDir: WORK,
    });
    const r = await rlink(['deploy', 'standalone', ...files.args], { timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`rlink deploy standalone: ${noNode!.address}: Node.js not found (looked for 'node')`);
    expect(r.stderr).toContain(`and 1 more of 3 hosts: ${oldNode!.address}: Node.js v18.19.0 is too old (rlink needs ≥ 20)`);
    expect(await daemonsLeft(fixture)).toEqual([]);
  }, 150_000);
});
