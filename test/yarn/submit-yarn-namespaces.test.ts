/**
 * `rlink submit --yarn` with the YARN emulator's containers inside network namespaces (NodeManager
 * hosts 10.200.x.N, test/infra/netns.ts): the job manager publishes its namespace address, task
 * managers on the other hosts find it through HDFS and the shuffle crosses hosts. Root only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startWebHdfsEmulator, type WebHdfsEmulator } from '../emulators/webhdfs';
import { startYarnEmulator, type YarnEmulator } from '../emulators/yarn';
import { startNamespacedHosts, namespacesAvailable, type NamespacedFixture } from '../infra/netns';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { tumblingReference } from '../deploy/reference-job';

const ns = namespacesAvailable();
let fixture: NamespacedFixture;
let hdfs: WebHdfsEmulator;
let yarn: YarnEmulator;
let webhdfsUrl: string;

describe.skipIf(!ns.ok)(`rlink submit --yarn onto namespaced NodeManager hosts${ns.ok ? '' : ` (skipped: ${ns.reason})`}`, () => {
  beforeAll(async () => {
    fixture = await startNamespacedHosts(3);
    // The namenode and the RM listen on the bridge, where the containers' namespaces reach them.
    hdfs = await startWebHdfsEmulator({ bind: '0.0.0.0' });
    webhdfsUrl = `http://${fixture.rootAddress}:${new URL(hdfs.url).port}`;
    yarn = await startYarnEmulator({ webhdfsUrl, hosts: fixture.hosts.map((h) => ({ address: h.address, namespace: h.namespace! })) });
  }, 120_000);
  afterAll(async () => { await yarn?.close(); await hdfs?.close(); await fixture?.stop(); });

  it('runs the job across hosts with exact results, and yarn kill leaves no container', async () => {
    const dir = tempDir('rlink-yarn-ns-');
    const { records, expected } = tumblingReference(4_000, 9);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const args = ['--webhdfs', webhdfsUrl, '--resource-manager', yarn.url, '--hdfs-user', 'rlinktest', '--config', '/nonexistent/standalone.yaml'];
    const r = await rlink(['submit', '--yarn', join(ROOT, 'test', 'deploy', 'apps', 'tumbling.ts'), `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`,
      '--applicationName', 'tumbling-ns', '--num_task_managers', '2', ...args, '--json'], { timeoutMs: 240_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).state).toBe('FINISHED');
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(expected));
    const procs = yarn.containerProcesses().filter((p) => p.service === 'tumbling-ns' && p.alive);
    // Three containers placed round-robin: one per host.
    expect(procs.map((p) => p.host).sort()).toEqual(fixture.hosts.map((h) => h.address).sort());
    const st = JSON.parse((await rlink(['yarn', 'status', 'tumbling-ns', ...args, '--json'])).stdout);
    expect(st.jobManagerUrl).toMatch(new RegExp(`^http://${procs.find((p) => p.component === 'jobmanager')!.host.replace(/\./g, '\\.')}:\\d+$`));
    const kill = await rlink(['yarn', 'kill', 'tumbling-ns', ...args]);
    expect(kill.exitCode, kill.stderr).toBe(0);
    await expect.poll(() => yarn.containerProcesses().filter((p) => p.service === 'tumbling-ns' && p.alive).length, { timeout: 15_000 }).toBe(0);
  }, 300_000);
});
