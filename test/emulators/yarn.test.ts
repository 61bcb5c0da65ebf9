/**
 * The YARN emulator with real container processes, driven through the product's YarnClient (and raw
 * REST where the client has no call): placement, STATIC files from the WebHDFS emulator, container
 * environment, dependencies, flex, restart policies, failure diagnostics, stop/start, RM kill,
 * destroy and close leaving no process behind, and (as root) a host in a network namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RlinkError } from '../../core/errors';
import { WebHdfsClient } from '../../core/fs/webhdfs-client';
import { YarnClient, type YarnServiceSpec, type YarnServiceStatus } from '../../deploy/yarn/yarn-client';
import { startWebHdfsEmulator, type WebHdfsEmulator } from './webhdfs';
import { startYarnEmulator, type YarnEmulator } from './yarn';

/** Running and not a zombie (a reparented zombie may linger when PID 1 does not reap). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Live processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const resource = { cpus: 1, memory: '256' };
const stable = (s: YarnServiceStatus) => s.state === 'STABLE';

let hdfs: WebHdfsEmulator;
let yarn: YarnEmulator;
let client: YarnClient;

beforeAll(async () => {
  hdfs = await startWebHdfsEmulator();
  yarn = await startYarnEmulator({ webhdfsUrl: hdfs.url });
  client = new YarnClient({ resourceManager: yarn.url, user: 'rlink', timeoutMs: 10_000 });
  const fs = new WebHdfsClient({ baseUrl: hdfs.url, user: 'rlink' });
  await fs.create('/user/rlink/demo/app.conf', 'greeting=hello from hdfs\n');
});

afterAll(async () => {
  await yarn?.close();
  await hdfs?.close();
});

describe('a service with two components', () => {
  const spec: YarnServiceSpec = {
    name: 'demo',
    version: '1.0',
    components: [
      { name: 'a', number_of_containers: 1, launch_command: 'sleep 30', resource },
      {
        name: 'b', number_of_containers: 3, resource, dependencies: ['a'],
        // A background child too: destroying the service must take the whole process group.
        launch_command: 'cat app.conf > out; env > env.txt; echo "${A-0_HOST} ${COMPONENT_INSTANCE_NAME}" > tokens.txt; sleep 30 & exec sleep 30',
        configuration: {
          env: { GREETING: 'hi from ${COMPONENT_INSTANCE_NAME}' },
          files: [{ type: 'STATIC', src_file: 'hdfs://namenode:8020/user/rlink/demo/app.conf', dest_file: 'app.conf' }],
        },
      },
    ],
  };
  const pidsOf = (component?: string) => yarn.containerProcesses().filter((p) => p.service === 'demo' && p.alive && (!component || p.component === component));

  it('reaches STABLE with 4 live container processes, b launched after a was ready', async () => {
    await client.createService(spec);
    const first = await client.getService('demo');
    expect(first?.state).toMatch(/^(ACCEPTED|STARTED)$/);
    const s = await client.waitForService('demo', stable, { timeoutMs: 15_000, pollMs: 100 });
    expect(s.id).toMatch(/^application_\d+_\d{4}$/);
    expect(s.components.map((c) => [c.name, c.state, c.containers.length])).toEqual([['a', 'STABLE', 1], ['b', 'STABLE', 3]]);
    for (const c of s.components.flatMap((k) => k.containers)) {
      expect(c.id).toMatch(new RegExp(`^container_${s.id!.slice('application_'.length)}_01_\\d{6}$`));
      expect(c.state).toBe('READY');
      expect(c.bare_host).toBe('127.0.0.1');
      expect(c.ip).toBe('127.0.0.1');
    }
    const procs = pidsOf();
    expect(procs).toHaveLength(4);
    expect(procs.every((p) => isRunning(p.pid))).toBe(true);
    // b waited for a's container to be READY (running ≥ 300 ms).
    const raw = yarn.services().find((x) => x.name === 'demo') as { components: { containers: { launch_time: number }[] }[] };
    const aLaunch = raw.components[0]!.containers[0]!.launch_time;
    expect(Math.min(...raw.components[1]!.containers.map((c) => c.launch_time))).toBeGreaterThanOrEqual(aLaunch + 300);
  });

  it('localizes the STATIC file from WebHDFS and gives the container YARN environment and tokens', async () => {
    const s = (await client.getService('demo'))!;
    const b0 = s.components[1]!.containers[0]!;
    const dir = yarn.containerDir(b0.id)!;
    expect(dir).toBe(join(yarn.workDir, s.id!, b0.id));
    await until('the container to write its files', () => {
      try { return readFileSync(join(dir, 'tokens.txt'), 'utf8').length > 0; } catch { return false; }
    });
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('greeting=hello from hdfs\n');
    const env = Object.fromEntries(readFileSync(join(dir, 'env.txt'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({
      CONTAINER_ID: b0.id, NM_HOST: '127.0.0.1', NM_PORT: expect.stringMatching(/^\d+$/), APPLICATION_ID: s.id,
      LOG_DIRS: dir, PWD: dir, HADOOP_USER_NAME: 'rlink', GREETING: 'hi from b-0',
    });
    expect(readFileSync(join(dir, 'tokens.txt'), 'utf8')).toBe('127.0.0.1 b-0\n');
  });

  it('shows the service in the RM applications as a running yarn-service', async () => {
    const s = (await client.getService('demo'))!;
    const apps = await client.clusterApps();
    expect(apps).toContainEqual({ id: s.id, name: 'demo', state: 'RUNNING', finalStatus: 'UNDEFINED', applicationType: 'yarn-service' });
    const one = (await (await fetch(`${yarn.url}/ws/v1/cluster/apps/${s.id}`)).json()) as { app: { user: string; runningContainers: number; allocatedMB: number } };
    expect(one.app).toMatchObject({ user: 'rlink', runningContainers: 4, allocatedMB: 1024 });
    expect(await (await fetch(`${yarn.url}/ws/v1/cluster/apps/${s.id}/state`)).json()).toEqual({ state: 'RUNNING' });
  });

  it('flexes b to 1: two containers stop and their processes are gone', async () => {
    const before = pidsOf('b');
    await client.flexComponent('demo', 'b', 1);
    const s = await client.waitForService('demo', (x) => stable(x) && x.components[1]!.containers.length === 1, { timeoutMs: 15_000, pollMs: 100 });
    expect(s.components[1]!.number_of_containers).toBe(1);
    const kept = s.components[1]!.containers[0]!.id;
    const stopped = before.filter((p) => p.id !== kept);
    expect(stopped).toHaveLength(2);
    for (const p of stopped) {
      expect(isRunning(p.pid)).toBe(false);
      expect(groupMembers(p.pid)).toEqual([]);
    }
    expect(pidsOf()).toHaveLength(2);
  });

  it('refuses a second service of the same name with 409', async () => {
    const err = await client.createService(spec).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RlinkError);
    expect((err as RlinkError).message).toBe('YARN POST /app/v1/services: 409 Service name demo is already taken.');
  });

  it('destroy leaves no process, not even a background child', async () => {
    const procs = pidsOf();
    expect(procs.length).toBe(2);
    await client.destroyService('demo');
    for (const p of procs) {
      expect(isRunning(p.pid)).toBe(false);
      expect(groupMembers(p.pid)).toEqual([]);
    }
    expect(yarn.containerProcesses().filter((p) => p.service === 'demo' && p.alive)).toEqual([]);
    expect(await client.getService('demo')).toBeNull();
    await client.destroyService('demo'); // absent: fine
    const app = (await client.clusterApps()).find((a) => a.name === 'demo');
    expect(app).toMatchObject({ state: 'FINISHED', finalStatus: 'ENDED' });
  });
});

describe('service validation', () => {
  const one = (over: Record<string, unknown>): YarnServiceSpec => ({
    name: 'valid', version: '1', components: [{ name: 'c', number_of_containers: 1, launch_command: 'sleep 1', resource, ...over }],
  });
  const refusal = async (spec: unknown) => {
    const err = await client.createService(spec as YarnServiceSpec).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RlinkError);
    return (err as RlinkError).message;
  };

  it('answers 400 with diagnostics for bad names, missing parts and oversized resources', async () => {
    expect(await refusal({ ...one({}), name: 'Bad_Name' })).toMatch(/^YARN POST \/app\/v1\/services: 400 Invalid service name "Bad_Name"/);
    expect(await refusal({ ...one({}), name: 'x'.repeat(64) })).toMatch(/400 Invalid service name/);
    expect(await refusal({ name: 'valid', version: '1', components: [] })).toMatch(/400 No component specified for service valid/);
    expect(await refusal({ name: 'valid', components: one({}).components })).toMatch(/400 Version of service valid is not provided/);
    expect(await refusal(one({ resource: undefined }))).toMatch(/400 Resource is not provided for component c/);
    expect(await refusal(one({ resource: { cpus: 1, memory: '16384' } }))).toMatch(/400 Component c asks for 16384 MB of memory, more than the maximum allocation of 8192 MB/);
    expect(await refusal(one({ resource: { cpus: 16, memory: '256' } }))).toMatch(/400 Component c asks for 16 vcores/);
    expect(await refusal(one({ dependencies: ['nope'] }))).toMatch(/400 Dependency nope of component c/);
    expect(await refusal(one({ restart_policy: 'SOMETIMES' }))).toMatch(/400 Invalid restart_policy/);
    const cyclic = [
      { name: 'x', number_of_containers: 1, launch_command: 'true', resource, dependencies: ['y'] },
      { name: 'y', number_of_containers: 1, launch_command: 'true', resource, dependencies: ['x'] },
    ];
    expect(await refusal({ name: 'valid', version: '1', components: cyclic })).toMatch(/400 Invalid dependencies, a cycle may exist among components x, y/);
    expect(await refusal(one({ configuration: { files: [{ type: 'HADOOP_XML', dest_file: 'core-site.xml' }] } }))).toMatch(/400 Config file type HADOOP_XML .* not supported by the emulator/);
    expect(await client.getService('valid')).toBeNull();
  });

  it('hands out application ids with the maximum resource capability', async () => {
    const res = await fetch(`${yarn.url}/ws/v1/cluster/apps/new-application`, { method: 'POST' });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['application-id']).toMatch(/^application_\d+_\d{4}$/);
    expect(body['maximum-resource-capability']).toEqual({ memory: 8192, vCores: 8 });
  });
});

describe('failing containers', () => {
  it('restart_policy NEVER: exit 3 fails the service, and waitForService says why', async () => {
    await client.createService({
      name: 'crash', version: '1',
      components: [{ name: 'boom', number_of_containers: 1, restart_policy: 'NEVER', resource, launch_command: 'echo "cannot open /data/input" >&2; exit 3' }],
    });
    const err = await client.waitForService('crash', stable, { timeoutMs: 15_000, pollMs: 100 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RlinkError);
    expect((err as RlinkError).code).toBe('RLINK_YARN');
    expect((err as RlinkError).message).toMatch(/^YARN service crash FAILED: Component boom failed: container container_\S+ \(instance boom-0\) on 127\.0\.0\.1 failed with exit status 3 \(restart_policy NEVER\): .*cannot open \/data\/input/);
    const s = (await client.getService('crash'))!;
    expect(s.state).toBe('FAILED');
    expect(s.components[0]!.state).toBe('FAILED');
    expect(s.components[0]!.containers[0]).toMatchObject({ state: 'FAILED', exit_status: 3 });
    expect((await client.clusterApps()).find((a) => a.id === s.id)).toMatchObject({ state: 'FINISHED', finalStatus: 'FAILED' });
    await client.destroyService('crash');
  });

  it('restart_policy ALWAYS (the default): restarts 3 times with new container ids, then fails', async () => {
    await client.createService({
      name: 'flaky', version: '1',
      components: [
        { name: 'ok', number_of_containers: 1, resource, launch_command: 'exec sleep 30' },
        { name: 'bad', number_of_containers: 1, resource, launch_command: 'echo "attempt $CONTAINER_ID" >&2; exit 2' },
      ],
    });
    const err = await client.waitForService('flaky', stable, { timeoutMs: 20_000, pollMs: 100 }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/FAILED: Component bad failed: .* failed with exit status 2 after 3 restarts/);
    const bad = yarn.containerProcesses().filter((p) => p.service === 'flaky' && p.component === 'bad');
    expect(new Set(bad.map((p) => p.id)).size).toBe(4);
    // The healthy component's container is stopped with the failed service.
    await until('the ok container to be stopped', () => yarn.containerProcesses().filter((p) => p.service === 'flaky' && p.alive).length === 0);
    const s = (await client.getService('flaky'))!;
    expect(s.components[0]!.containers[0]!.state).toBe('STOPPED');
    await client.destroyService('flaky');
  });

  it('restart_policy ON_FAILURE: a container that exits 0 stays SUCCEEDED and the service SUCCEEDED', async () => {
    await client.createService({
      name: 'batch', version: '1',
      components: [{ name: 'once', number_of_containers: 2, restart_policy: 'ON_FAILURE', resource, launch_command: 'sleep 0.4' }],
    });
    const s = await client.waitForService('batch', (x) => x.state === 'SUCCEEDED', { timeoutMs: 15_000, pollMs: 100 });
    expect(s.components[0]!.containers.map((c) => [c.state, c.exit_status])).toEqual([['SUCCEEDED', 0], ['SUCCEEDED', 0]]);
    await client.destroyService('batch');
  });

  it('a STATIC file that is not in HDFS fails the container with the WebHDFS error', async () => {
    await client.createService({
      name: 'nofile', version: '1',
      components: [{
        name: 'c', number_of_containers: 1, restart_policy: 'NEVER', resource, launch_command: 'cat x',
        configuration: { files: [{ type: 'STATIC', src_file: 'hdfs://nn/user/rlink/missing.jar', dest_file: 'x' }] },
      }],
    });
    const err = await client.waitForService('nofile', stable, { timeoutMs: 15_000, pollMs: 100 }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/Localization of hdfs:\/\/nn\/user\/rlink\/missing\.jar failed: WebHDFS OPEN \/user\/rlink\/missing\.jar: 404 FileNotFoundException/);
    await client.destroyService('nofile');
  });
});

describe('stopping, starting and killing', () => {
  const small: YarnServiceSpec = { name: 'cycle', version: '1', components: [{ name: 'w', number_of_containers: 2, resource, launch_command: 'exec sleep 30' }] };

  it('stop ends every process, start runs the service again as a new application', async () => {
    await client.createService(small);
    const first = await client.waitForService('cycle', stable, { timeoutMs: 15_000, pollMs: 100 });
    const pids = yarn.containerProcesses().filter((p) => p.service === 'cycle' && p.alive).map((p) => p.pid);
    expect(pids).toHaveLength(2);
    await client.stopService('cycle');
    expect((await client.getService('cycle'))!.state).toBe('STOPPED');
    expect(pids.filter(isRunning)).toEqual([]);
    await client.startService('cycle');
    const second = await client.waitForService('cycle', stable, { timeoutMs: 15_000, pollMs: 100 });
    expect(second.id).not.toBe(first.id);
    expect(yarn.containerProcesses().filter((p) => p.service === 'cycle' && p.alive)).toHaveLength(2);
  });

  it('an RM kill (PUT /ws/v1/cluster/apps/{id}/state KILLED) stops the service', async () => {
    const s = (await client.getService('cycle'))!;
    const res = await fetch(`${yarn.url}/ws/v1/cluster/apps/${s.id}/state?user.name=rlink`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'KILLED' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ state: 'KILLED' });
    expect((await client.getService('cycle'))!.state).toBe('STOPPED');
    expect(yarn.containerProcesses().filter((p) => p.service === 'cycle' && p.alive)).toEqual([]);
    expect((await client.clusterApps()).find((a) => a.id === s.id)).toMatchObject({ state: 'KILLED', finalStatus: 'KILLED' });
    await expect(client.waitForService('cycle', stable, { timeoutMs: 5_000, pollMs: 100 })).rejects.toThrow(/is STOPPED/);
    await client.destroyService('cycle');
  });

  it('kills a service at the end of its lifetime', async () => {
    await client.createService({ name: 'shortlived', version: '1', lifetime: 1, components: [{ name: 'w', number_of_containers: 1, resource, launch_command: 'exec sleep 30' }] });
    const s = await client.waitForService('shortlived', (x) => x.state === 'STOPPED', { timeoutMs: 10_000, pollMs: 100 });
    expect((await client.clusterApps()).find((a) => a.id === s.id)).toMatchObject({ state: 'KILLED', finalStatus: 'KILLED' });
    await until('the container to be stopped', () => yarn.containerProcesses().filter((p) => p.service === 'shortlived' && p.alive).length === 0);
    await client.destroyService('shortlived');
  });

  it('records a plain application submission and kills it', async () => {
    const { 'application-id': id } = (await (await fetch(`${yarn.url}/ws/v1/cluster/apps/new-application`, { method: 'POST' })).json()) as { 'application-id': string };
    const submit = await fetch(`${yarn.url}/ws/v1/cluster/apps?user.name=rlink`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'application-id': id, 'application-name': 'plain', 'application-type': 'RLINK', 'am-container-spec': { commands: { command: 'true' } }, resource: { memory: 512, vCores: 1 } }),
    });
    expect(submit.status).toBe(202);
    expect(submit.headers.get('location')).toBe(`${yarn.url}/ws/v1/cluster/apps/${id}`);
    expect((await client.clusterApps()).find((a) => a.id === id)).toEqual({ id, name: 'plain', state: 'RUNNING', finalStatus: 'UNDEFINED', applicationType: 'RLINK' });
    await fetch(`${yarn.url}/ws/v1/cluster/apps/${id}/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'KILLED' }) });
    expect((await client.clusterApps({ states: ['KILLED'] })).map((a) => a.id)).toContain(id);
    const missing = await fetch(`${yarn.url}/ws/v1/cluster/apps/application_1_9999`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { RemoteException: { exception: string } }).RemoteException.exception).toBe('NotFoundException');
  });
});

describe('close()', () => {
  it('kills every container of every service', async () => {
    const own = await startYarnEmulator({ webhdfsUrl: hdfs.url });
    const c = new YarnClient({ resourceManager: own.url });
    await c.createService({ name: 'left-running', version: '1', components: [{ name: 'w', number_of_containers: 2, resource, launch_command: 'trap "" TERM; sleep 30 & wait' }] });
    await c.waitForService('left-running', stable, { timeoutMs: 15_000, pollMs: 100 });
    const pids = own.containerProcesses().map((p) => p.pid);
    expect(pids).toHaveLength(2);
    const started = Date.now();
    await own.close(); // the shells ignore SIGTERM: SIGKILL after the 5 s grace
    expect(Date.now() - started).toBeLessThan(9_000);
    for (const pid of pids) {
      expect(isRunning(pid)).toBe(false);
      expect(groupMembers(pid)).toEqual([]);
    }
    await expect(c.getService('left-running')).rejects.toThrow(/is unreachable/);
  }, 20_000);
});

/** Whether this process may create network namespaces (root, with `ip netns`). */
function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `rlyprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!canUseNetns())('a NodeManager host in a network namespace', () => {
  const ns = `rlyarn${process.pid}`;
  const hostVeth = `rly${process.pid}h`.slice(0, 15);
  const nsVeth = `rly${process.pid}c`.slice(0, 15);
  const subnet = `10.231.${process.pid % 250}`;
  let own: YarnEmulator;

  beforeAll(async () => {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('netns', 'add', ns);
    ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth, 'netns', ns);
    ip('addr', 'add', `${subnet}.1/24`, 'dev', hostVeth);
    ip('link', 'set', hostVeth, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.2/24`, 'dev', nsVeth);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsVeth, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    await new WebHdfsClient({ baseUrl: hdfs.url, user: 'rlink' }).create('/user/rlink/ns/server.cjs',
      "const server = require('http').createServer((q, s) => s.end(process.env.NM_HOST + ' ' + process.env.CONTAINER_ID));\n" +
      "server.listen(0, process.env.NM_HOST, () => require('fs').writeFileSync('port', String(server.address().port)));\n");
    own = await startYarnEmulator({ webhdfsUrl: hdfs.url, hosts: [{ address: '127.0.0.1' }, { address: `${subnet}.2`, namespace: ns }] });
  });

  afterAll(async () => {
    await own?.close();
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not created */ }
    try { execFileSync('ip', ['link', 'del', hostVeth], { stdio: 'ignore' }); } catch { /* went with the namespace */ }
  });

  it('places containers round-robin; the namespaced one runs inside the namespace and serves on its address', async () => {
    const c = new YarnClient({ resourceManager: own.url });
    await c.createService({
      name: 'placed', version: '1',
      components: [{
        name: 'srv', number_of_containers: 2, resource, launch_command: 'exec node server.cjs',
        configuration: { files: [{ type: 'STATIC', src_file: 'hdfs://nn/user/rlink/ns/server.cjs', dest_file: 'server.cjs' }] },
      }],
    });
    const s = await c.waitForService('placed', stable, { timeoutMs: 20_000, pollMs: 100 });
    const containers = s.components[0]!.containers;
    expect(containers.map((k) => k.bare_host)).toEqual(['127.0.0.1', `${subnet}.2`]);
    for (const k of containers) {
      let text = '';
      await until(`the server of ${k.id}`, async () => {
        let port = '';
        try { port = readFileSync(join(own.containerDir(k.id)!, 'port'), 'utf8'); } catch { return false; }
        text = await fetch(`http://${k.ip}:${port}/`).then((r) => r.text(), () => '');
        return text !== '';
      });
      expect(text).toBe(`${k.ip} ${k.id}`);
    }
    const namespaced = own.containerProcesses().find((p) => p.host === `${subnet}.2`)!;
    const nsInode = statSync(`/run/netns/${ns}`).ino;
    expect(readlinkSync(`/proc/${namespaced.pid}/ns/net`)).toBe(`net:[${nsInode}]`);
    const pids = own.containerProcesses().map((p) => p.pid);
    await c.destroyService('placed');
    expect(pids.filter(isRunning)).toEqual([]);
  });
});
