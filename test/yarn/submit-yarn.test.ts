/**
 * `rlink submit --yarn` end to end against the WebHDFS and YARN emulators (test/emulators: they
 * emulate the documented REST APIs; containers are real local processes): the service runs 1 + N
 * containers, the job's results are exact, `rlink yarn status` shows it and `rlink yarn kill` removes
 * every container and the HDFS directory. Then the faults: a WebHDFS RemoteException, a service
 * whose containers fail to start — each a clear message, a non-zero exit, nothing left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startWebHdfsEmulator, type WebHdfsEmulator } from '../emulators/webhdfs';
import { startYarnEmulator, type YarnEmulator } from '../emulators/yarn';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { tumblingReference } from '../deploy/reference-job';
import { expected as pacedExpected } from '../cluster/apps/paced-windows';

let hdfs: WebHdfsEmulator;
let yarn: YarnEmulator;
const APP = join(ROOT, 'test', 'deploy', 'apps', 'tumbling.ts');
const user = 'rlinktest';

function yarnArgs(): string[] {
  return ['--webhdfs', hdfs.url, '--resource-manager', yarn.url, '--hdfs-user', user, '--config', '/nonexistent/standalone.yaml'];
}

beforeAll(async () => {
  hdfs = await startWebHdfsEmulator();
  yarn = await startYarnEmulator({ webhdfsUrl: hdfs.url });
});
afterAll(async () => { await yarn?.close(); await hdfs?.close(); });

describe('rlink submit --yarn', () => {
  it('runs the job as a YARN service of 1 + N containers with exact results; yarn kill removes it', async () => {
    const dir = tempDir('rlink-yarn-');
    const { records, expected } = tumblingReference(3_000, 5);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const r = await rlink(['submit', '--yarn', APP, `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`,
      '--applicationName', 'tumbling', '--num_task_managers', '2', '--v_cores', '1', '--memory_mb', '512', ...yarnArgs(), '--json'], { timeoutMs: 240_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('FINISHED');
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(expected));

    // The service: a jobmanager container and two taskmanager containers, with the flags' resources.
    const svc = yarn.services().find((s: any) => s.name === 'tumbling') as any;
    expect(svc.components.map((c: any) => `${c.name}:${c.number_of_containers}:${c.resource.memory}:${c.resource.cpus}`))
      .toEqual(['jobmanager:1:1024:1', 'taskmanager:2:512:1']);
    const procs = yarn.containerProcesses().filter((p) => p.service === 'tumbling' && p.alive);
    expect(procs.map((p) => p.component).sort()).toEqual(['jobmanager', 'taskmanager', 'taskmanager']);
    // The HDFS application directory holds the runtime, the job and the job manager's address.
    for (const f of ['rlink.mjs', 'job.mjs', 'job.json', 'token', 'jobmanager.json', 'application.json']) {
      expect(existsSync(hdfs.localPath(`/user/${user}/.rlink/tumbling/${f}`)), f).toBe(true);
    }

    const st = await rlink(['yarn', 'status', 'tumbling', ...yarnArgs(), '--json']);
    expect(st.exitCode, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout);
    expect(status.service.state).toBe('STABLE');
    expect(status.jobs.map((j: any) => j.state)).toEqual(['FINISHED']);
    expect(status.jobManagerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const kill = await rlink(['yarn', 'kill', 'tumbling', ...yarnArgs()]);
    expect(kill.exitCode, kill.stderr).toBe(0);
    expect(kill.stdout).toContain('service destroyed');
    expect(yarn.services().find((s: any) => s.name === 'tumbling')).toBeUndefined();
    await expect.poll(() => yarn.containerProcesses().filter((p) => p.service === 'tumbling' && p.alive).length, { timeout: 10_000 }).toBe(0);
    expect(existsSync(hdfs.localPath(`/user/${user}/.rlink/tumbling`))).toBe(false);
    const again = await rlink(['yarn', 'kill', 'tumbling', ...yarnArgs()]);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toContain('no YARN service named tumbling');
  }, 300_000);

  it('--detached returns the job id once the job runs; the service stays until yarn kill', async () => {
    const dir = tempDir('rlink-yarn-det-');
    const { records, expected } = tumblingReference(1_000, 3);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const r = await rlink(['submit', '--yarn', APP, `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`, '--applicationName', 'detached', '--v_cores', '2', '--detached', ...yarnArgs(), '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const { jobId, jobManagerUrl, state } = JSON.parse(r.stdout);
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(['RUNNING', 'FINISHED']).toContain(state);
    // The job goes on without the client; the job manager is still there to ask.
    await expect.poll(async () => (await (await fetch(`${jobManagerUrl}/jobs/${jobId}`)).json() as { state: string }).state, { timeout: 60_000 }).toBe('FINISHED');
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(expected));
    expect(yarn.containerProcesses().filter((p) => p.service === 'detached' && p.alive)).toHaveLength(2);
    expect((await rlink(['yarn', 'kill', 'detached', ...yarnArgs()])).exitCode).toBe(0);
  }, 150_000);

  it('--detached still reports a job that cannot run (one slot for a job that needs two)', async () => {
    const r = await rlink(['submit', '--yarn', APP, 'input=/x', 'output=/y', '--applicationName', 'too-small', '--detached', ...yarnArgs()], { timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/job deploy-tumbling \([0-9a-f]{32}\) FAILED: .*slot/i);
    expect((await rlink(['yarn', 'kill', 'too-small', ...yarnArgs()])).exitCode).toBe(0);
  }, 150_000);

  it('a killed task-manager container is restarted by YARN and the job recovers from its last checkpoint in HDFS, exactly', async () => {
    const dir = tempDir('rlink-yarn-kill-');
    const paced = join(ROOT, 'test', 'cluster', 'apps', 'paced-windows.ts');
    const r = await rlink(['submit', '--yarn', paced, `output=${join(dir, 'out')}`, 'count=60000', 'rate=12000', 'checkpoint.interval=300ms',
      'checkpoint.dir=hdfs://namenode:8020/rlink/checkpoints', 'restart.strategy=fixed-delay', 'restart.attempts=5', 'restart.delay=200ms',
      '--applicationName', 'failover', '--num_task_managers', '2', '--detached', ...yarnArgs(), '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const { jobId, jobManagerUrl } = JSON.parse(r.stdout);
    const job = async () => (await (await fetch(`${jobManagerUrl}/jobs/${jobId}`)).json()) as { state: string; restarts: number };
    await expect.poll(async () => ((await (await fetch(`${jobManagerUrl}/jobs/${jobId}/checkpoints`)).json()) as { counts: { completed: number } }).counts.completed, { timeout: 30_000 }).toBeGreaterThan(0);
    const victim = yarn.containerProcesses().find((p) => p.service === 'failover' && p.component === 'taskmanager' && p.alive)!;
    process.kill(-victim.pid, 'SIGKILL');
    // YARN (ON_FAILURE) starts a new container; the job restarts on it from the last checkpoint.
    await expect.poll(() => yarn.containerProcesses().filter((p) => p.service === 'failover' && p.component === 'taskmanager' && p.alive).length, { timeout: 30_000 }).toBe(2);
    await expect.poll(async () => (await job()).state, { timeout: 90_000, interval: 250 }).toBe('FINISHED');
    expect((await job()).restarts).toBeGreaterThanOrEqual(1);
    // The checkpoints went to HDFS through WebHDFS (the containers get the address from the service).
    const chk = hdfs.localPath(`/rlink/checkpoints/${jobId}`);
    expect(readdirSync(chk).filter((d) => d.startsWith('chk-')).some((d) => existsSync(join(chk, d, '_metadata')))).toBe(true);
    expect(canonical(readJsonl(join(dir, 'out')))).toEqual(canonical(pacedExpected(60_000)));
    expect(yarn.containerProcesses().filter((p) => p.service === 'failover' && p.component === 'taskmanager').length).toBe(3);
    expect((await rlink(['yarn', 'kill', 'failover', ...yarnArgs()])).exitCode).toBe(0);
  }, 200_000);

  it('surfaces a WebHDFS RemoteException and creates no service', async () => {
    hdfs.faults.failNext('MKDIRS', 'AccessControlException', `Permission denied: user=${user}, access=WRITE, inode="/user":hdfs:supergroup:drwxr-xr-x`);
    const r = await rlink(['submit', '--yarn', APP, 'input=/x', 'output=/y', '--applicationName', 'denied', ...yarnArgs()]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/WebHDFS MKDIRS \/user\/rlinktest\/\.rlink\/denied: AccessControlException: Permission denied: user=rlinktest/);
    expect(yarn.services().find((s: any) => s.name === 'denied')).toBeUndefined();
  });

  it('reports a service whose containers fail to start, and removes it and its directory', async () => {
    const r = await rlink(['submit', '--yarn', APP, 'input=/x', 'output=/y', '--applicationName', 'broken', '--node-path', '/nonexistent/node', ...yarnArgs()], { timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/YARN service broken failed to start: component jobmanager container container_\S+ on 127\.0\.0\.1 exited with code 127/);
    expect(yarn.services().find((s: any) => s.name === 'broken')).toBeUndefined();
    expect(yarn.containerProcesses().filter((p) => p.service === 'broken' && p.alive)).toHaveLength(0);
    expect(existsSync(hdfs.localPath(`/user/${user}/.rlink/broken`))).toBe(false);
  }, 150_000);

  it('refuses a service name YARN would refuse, before touching anything', async () => {
    const r = await rlink(['submit', '--yarn', APP, 'input=/x', 'output=/y', '--applicationName', 'Bad_Name', ...yarnArgs()]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("--applicationName 'Bad_Name' is not a valid YARN service name");
  });
});
