/**
 * `rlink deploy|status|stop kubernetes` end to end against the Kubernetes API emulator
 * (test/emulators/kubernetes.ts: the documented REST API, with pods run as local processes from the
 * real runtime bundle as the image's entry point): a job runs in application mode with exact
 * results, the cluster is made of the objects the docs list, status shows it, stop removes every
 * object and process; a task manager killed (its container, then its pod) is restarted by the
 * emulated kubelet and Deployment controller and the job recovers from its checkpoint, exactly; a
 * session cluster takes a job submitted from inside the cluster; failures (an image that cannot be
 * pulled, a pod too big for the node, a taken name, a bad kubernetes: key, no kubeconfig) are one
 * line naming the cause and leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { startKubernetesEmulator, type KubernetesEmulator } from '../emulators/kubernetes';
import { ensureRuntimeBundle } from '../../deploy/runtime/runtime-bundle';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import { tumblingReference } from '../deploy/reference-job';
import { expected as pacedExpected } from '../cluster/apps/paced-windows';

let k8s: KubernetesEmulator;
let env: Record<string, string>;
const dir = tempDir('rlink-k8s-');
const APP = join(ROOT, 'test', 'deploy', 'apps', 'tumbling.ts');
const PACED = join(ROOT, 'test', 'cluster', 'apps', 'paced-windows.ts');
const IMAGE = 'registry.example.com/rlink:test';
const common = ['--image_path', IMAGE, '--config', '/nonexistent/standalone.yaml'];

const alive = (prefix: string) => k8s.containerProcesses().filter((p) => p.pod.startsWith(prefix) && p.alive);

beforeAll(async () => {
  const runtime = await ensureRuntimeBundle();
  k8s = await startKubernetesEmulator({
    images: { [IMAGE]: { entrypoint: [process.execPath, runtime.path], workingDir: '/opt/rlink/work' } },
    allocatable: { cpu: 8, memory: '32Gi' }, crashLoopBackoffMs: 300, maxCrashLoopBackoffMs: 2_000,
  });
  env = { KUBECONFIG: k8s.writeKubeconfig(join(dir, 'kubeconfig'), { namespace: 'default' }) };
}, 120_000);

afterAll(async () => { await k8s?.close(); });

describe('rlink deploy kubernetes', () => {
  it('runs an app with exact results on a job manager Deployment + Service and a task manager Deployment; status shows it; stop removes everything', async () => {
    const { records, expected } = tumblingReference(3_000, 5);
    writeJsonl(join(dir, 'in.jsonl'), records);
    const out = join(dir, 'out');
    const r = await rlink(['deploy', 'kubernetes', APP, `input=${join(dir, 'in.jsonl')}`, `output=${out}`, '--name', 'tumbling', '--num_task_managers', '2',
      '--task_v_cores', '1', '--task_memory_mb', '512', '--job_memory_mb', '768', ...common, '--json'], { env, timeoutMs: 240_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ name: 'tumbling', namespace: 'default', mode: 'application', state: 'FINISHED', taskManagers: 2, tokenSecret: 'tumbling-token', jobManagerUrl: 'http://tumbling.default.svc:8770' });
    expect(canonical(readJsonl(out))).toEqual(canonical(expected));

    // The objects, as docs/deploy.md lists them.
    const owner = k8s.objects('deployments', 'default').find((d) => d.metadata.name === 'tumbling')!;
    expect(owner.spec.template.spec.containers[0]).toMatchObject({ image: IMAGE, resources: { requests: { cpu: '1', memory: '768Mi' }, limits: { cpu: '1', memory: '768Mi' } } });
    const tm = k8s.objects('deployments', 'default').find((d) => d.metadata.name === 'tumbling-taskmanager')!;
    expect(tm.spec.replicas).toBe(2);
    expect(tm.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '1', memory: '512Mi' });
    for (const [resource, name] of [['deployments', 'tumbling-taskmanager'], ['services', 'tumbling'], ['secrets', 'tumbling-token'], ['configmaps', 'tumbling-job']] as const) {
      const o = k8s.objects(resource, 'default').find((x) => x.metadata.name === name);
      expect(o, `${resource}/${name}`).toBeDefined();
      expect(o!.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'tumbling', uid: owner.metadata.uid })]);
      expect(o!.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'rlink', 'app.kubernetes.io/instance': 'tumbling' });
    }
    expect(Object.keys(k8s.objects('configmaps', 'default').find((c) => c.metadata.name === 'tumbling-job')!.binaryData)).toEqual(['job.mjs']);
    expect(alive('tumbling-').map((p) => p.container).sort()).toEqual(['jobmanager', 'taskmanager', 'taskmanager']);

    const st = await rlink(['status', 'kubernetes', '--name', 'tumbling', '--config', '/nonexistent/standalone.yaml', '--json'], { env });
    expect(st.exitCode, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout);
    expect(status.deployments).toEqual([
      { name: 'tumbling', component: 'jobmanager', desired: 1, ready: 1, available: 1 },
      { name: 'tumbling-taskmanager', component: 'taskmanager', desired: 2, ready: 2, available: 2 },
    ]);
    expect(status.pods.map((p: any) => `${p.component}:${p.state}:${p.ready}`)).toEqual(['jobmanager:Running:true', 'taskmanager:Running:true', 'taskmanager:Running:true']);
    expect(status.service).toMatchObject({ name: 'tumbling', port: 8770 });
    expect(status.jobs.map((j: any) => j.state)).toEqual(['FINISHED']);
    const human = await rlink(['status', 'kubernetes', '--name', 'tumbling', '--config', '/nonexistent/standalone.yaml'], { env });
    expect(human.stdout).toMatch(/tumbling-taskmanager\s+taskmanager\s+2\/2/);

    const stop = await rlink(['stop', 'kubernetes', '--name', 'tumbling', '--config', '/nonexistent/standalone.yaml', '--json'], { env });
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ podsGone: true, deleted: ['Deployment/tumbling-taskmanager', 'Deployment/tumbling'] });
    for (const resource of ['deployments', 'replicasets', 'pods', 'services', 'secrets', 'configmaps']) {
      expect(k8s.objects(resource, 'default').filter((o) => o.metadata.name.startsWith('tumbling')), resource).toEqual([]);
    }
    expect(alive('tumbling-')).toEqual([]);
    const again = await rlink(['stop', 'kubernetes', '--name', 'tumbling', '--config', '/nonexistent/standalone.yaml'], { env });
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr.trim()).toBe(`rlink stop kubernetes: no rlink cluster named tumbling in namespace default at ${k8s.url}`);
  }, 300_000);

  it('recovers from a killed task-manager container and a deleted task-manager pod, from its checkpoints, exactly', async () => {
    const out = join(dir, 'paced-out');
    const chk = join(dir, 'chk');
    const r = await rlink(['deploy', 'kubernetes', PACED, `output=${out}`, 'count=200000', 'rate=10000', 'checkpoint.interval=300ms', `checkpoint.dir=${chk}`,
      'restart.strategy=fixed-delay', 'restart.attempts=10', 'restart.delay=200ms', '--name', 'failover', '--num_task_managers', '2', '--detached', ...common, '--json'], { env, timeoutMs: 180_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const { jobId } = JSON.parse(r.stdout);
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    const job = async () => {
      const s = JSON.parse((await rlink(['status', 'kubernetes', '--name', 'failover', '--config', '/nonexistent/standalone.yaml', '--json'], { env })).stdout);
      return s as { jobs: Array<{ jid: string; state: string }>; pods: Array<{ pod: string; component: string; restarts: number; ready: boolean }> };
    };
    // The newest completed checkpoint's id (not how many there are: only the last 3 are kept, so a count stops at 3).
    const completed = () => Math.max(0, ...readdirSync(join(chk, jobId)).filter((d) => /^chk-\d+$/.test(d) && existsSync(join(chk, jobId, d, '_metadata'))).map((d) => Number(d.slice(4))));
    await expect.poll(() => (existsSync(join(chk, jobId)) ? completed() : 0), { timeout: 30_000 }).toBeGreaterThan(0);

    // 1. The container's process dies: the kubelet restarts it in the same pod.
    const victim = alive('failover-taskmanager-')[0]!;
    process.kill(-victim.pid, 'SIGKILL');
    await expect.poll(async () => (await job()).pods.find((p) => p.pod === victim.pod)?.restarts, { timeout: 30_000 }).toBe(1);
    // The job restarts from its checkpoint (20 s of paced input leave time for both faults even on a loaded machine).
    const details = async () => await (await fetch(`${k8s.url}/api/v1/namespaces/default/services/failover:8770/proxy/jobs/${jobId}`, { headers: { authorization: `Bearer ${k8s.token}` } })).json() as { restarts: number; state: string };
    await expect.poll(async () => { const d = await details(); return d.restarts >= 1 && d.state === 'RUNNING'; }, { timeout: 60_000, interval: 500 }).toBe(true);
    const before = completed();
    await expect.poll(completed, { timeout: 60_000 }).toBeGreaterThan(before);

    // 2. The pod is deleted: the Deployment's ReplicaSet makes a new one (replicas kept).
    const other = alive('failover-taskmanager-').find((p) => p.pod !== victim.pod)!;
    const del = await fetch(`${k8s.url}/api/v1/namespaces/default/pods/${other.pod}`, { method: 'DELETE', headers: { authorization: `Bearer ${k8s.token}` } });
    expect(del.status).toBe(200);
    await expect.poll(async () => {
      const pods = (await job()).pods.filter((p) => p.component === 'taskmanager');
      return pods.length === 2 && !pods.some((p) => p.pod === other.pod) && pods.every((p) => p.ready);
    }, { timeout: 30_000 }).toBe(true);

    await expect.poll(async () => (await job()).jobs.find((j) => j.jid === jobId)?.state, { timeout: 120_000, interval: 500 }).toBe('FINISHED');
    expect((await details()).restarts).toBeGreaterThanOrEqual(2);
    expect(canonical(readJsonl(out))).toEqual(canonical(pacedExpected(200_000)));
    expect(k8s.containerProcesses().filter((p) => p.pod.startsWith('failover-taskmanager-')).length).toBe(4); // 2 + a restart + a new pod
    expect((await rlink(['stop', 'kubernetes', '--name', 'failover', '--config', '/nonexistent/standalone.yaml'], { env })).exitCode).toBe(0);
  }, 300_000);

  it('brings up a session cluster without an app; a job submitted from inside the cluster runs on it', async () => {
    const r = await rlink(['deploy', 'kubernetes', '--name', 'session', '--num_task_managers', '2', ...common, '--json'], { env, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ mode: 'session', taskManagers: 2, jobManagerUrl: 'http://session.default.svc:8770' });
    expect(result.jobId).toBeUndefined();
    expect(result.pods.filter((p: any) => p.component === 'taskmanager' && p.ready)).toHaveLength(2);
    // From inside the cluster: the Service's ClusterIP and the token of the Secret (as a pod would have them).
    const svc = k8s.objects('services', 'default').find((s) => s.metadata.name === 'session')!;
    const token = Buffer.from(k8s.objects('secrets', 'default').find((s) => s.metadata.name === 'session-token')!.data.token, 'base64').toString();
    const { records, expected } = tumblingReference(500, 11);
    writeJsonl(join(dir, 'session-in.jsonl'), records);
    const sub = await rlink(['submit', APP, `input=${join(dir, 'session-in.jsonl')}`, `output=${join(dir, 'session-out')}`, '--jm', `http://${svc.spec.clusterIP}:8770`], { env: { RLINK_TOKEN: token }, timeoutMs: 120_000 });
    expect(sub.exitCode, sub.stderr).toBe(0);
    expect(canonical(readJsonl(join(dir, 'session-out')))).toEqual(canonical(expected));
    expect((await rlink(['stop', 'kubernetes', '--name', 'session', '--config', '/nonexistent/standalone.yaml'], { env })).exitCode).toBe(0);
  }, 200_000);

  it('names an image that cannot be pulled and removes what it created', async () => {
    const r = await rlink(['deploy', 'kubernetes', APP, 'input=/x', 'output=/y', '--name', 'badimage', '--image_path', 'nowhere/rlink:0', '--config', '/nonexistent/standalone.yaml'], { env, timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^rlink deploy kubernetes: pod badimage-[a-z0-9]+-[a-z0-9]{5} \((jobmanager|taskmanager)\): ImagePullBackOff: Back-off pulling image "nowhere\/rlink:0"$/);
    await expect.poll(() => k8s.objects('pods', 'default').filter((p) => p.metadata.name.startsWith('badimage')).length, { timeout: 30_000 }).toBe(0);
    for (const resource of ['deployments', 'services', 'secrets', 'configmaps']) expect(k8s.objects(resource, 'default').filter((o) => o.metadata.name.startsWith('badimage')), resource).toEqual([]);
  }, 150_000);

  it('reports a job manager that cannot run the application (its last words), and a job that cannot get its slots', async () => {
    const noInput = await rlink(['deploy', 'kubernetes', APP, 'output=/y', '--name', 'noinput', ...common], { env, timeoutMs: 120_000 });
    expect(noInput.exitCode).not.toBe(0);
    expect(noInput.stderr.trim().split('\n').at(-1)).toMatch(/^rlink deploy kubernetes: pod noinput-[a-z0-9]+-[a-z0-9]{5} \(jobmanager\): (CrashLoopBackOff: )?container jobmanager exited with code 1: rlink jobmanager start: could not run the application's job: .*input/);
    await expect.poll(() => k8s.objects('pods', 'default').filter((p) => p.metadata.name.startsWith('noinput')).length, { timeout: 30_000 }).toBe(0);

    const small = await rlink(['deploy', 'kubernetes', APP, 'input=/x', 'output=/y', '--name', 'too-small', '--detached', ...common], { env, timeoutMs: 120_000 });
    expect(small.exitCode).not.toBe(0);
    expect(small.stderr).toMatch(/job deploy-tumbling \([0-9a-f]{32}\) FAILED: .*slot/i);
    expect((await rlink(['stop', 'kubernetes', '--name', 'too-small', '--config', '/nonexistent/standalone.yaml'], { env })).exitCode).toBe(0);
  }, 200_000);

  it('writes the image\'s build context: a Dockerfile and the runtime as its entry point', async () => {
    const out = join(dir, 'image');
    const r = await rlink(['kubernetes', 'image', out, '--tag', 'registry.example.com/rlink:0.9', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dir: out, files: ['Dockerfile', 'rlink.mjs', '.dockerignore'], dockerBuild: `docker build -t registry.example.com/rlink:0.9 ${out}` });
    expect(readFileSync(join(out, 'Dockerfile'), 'utf8')).toContain('ENTRYPOINT ["node", "/opt/rlink/rlink.mjs"]');
    const version = await execa(process.execPath, [join(out, 'rlink.mjs'), '--version']);
    expect(version.stdout).toMatch(/^rlink runtime \d+\.\d+\.\d+/);
  });

  it('names a pod the node has no room for (Unschedulable), a name already taken, a bad kubernetes: key, and a missing kubeconfig', async () => {
    const big = await rlink(['deploy', 'kubernetes', APP, 'input=/x', 'output=/y', '--name', 'toobig', '--task_v_cores', '64', ...common], { env, timeoutMs: 120_000 });
    expect(big.exitCode).not.toBe(0);
    expect(big.stderr.trim().split('\n').at(-1)).toMatch(/^rlink deploy kubernetes: pod toobig-taskmanager-\S+ \(taskmanager\): Unschedulable: 0\/1 nodes are available: 1 Insufficient cpu\./);
    await expect.poll(() => k8s.objects('deployments', 'default').filter((p) => p.metadata.name.startsWith('toobig')).length, { timeout: 30_000 }).toBe(0);

    await fetch(`${k8s.url}/apis/apps/v1/namespaces/default/deployments`, {
      method: 'POST', headers: { authorization: `Bearer ${k8s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'taken' }, spec: { replicas: 0, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: IMAGE }] } } } }),
    });
    const taken = await rlink(['deploy', 'kubernetes', APP, 'input=/x', 'output=/y', '--name', 'taken', ...common], { env });
    expect(taken.stderr.trim()).toBe('rlink deploy kubernetes: a Deployment named taken exists already in namespace default (`rlink stop kubernetes --name taken` removes that cluster)');

    const yaml = join(dir, 'standalone.yaml');
    writeFileSync(yaml, 'kubernetes:\n  namespace: default\n  image_pth: rlink:1\n');
    const bad = await rlink(['deploy', 'kubernetes', APP, 'input=/x', 'output=/y', '--name', 'x', '--config', yaml], { env });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain(`${yaml}:3: kubernetes.image_pth: unknown key`);
    expect(bad.stderr).toContain('did you mean image_path?');

    const none = await rlink(['status', 'kubernetes', '--name', 'x', '--config', '/nonexistent/standalone.yaml'], { env: { KUBECONFIG: join(dir, 'nothing-here'), HOME: dir } });
    expect(none.stderr.trim()).toBe(`rlink status kubernetes: no kubeconfig: set KUBECONFIG, create ~/.kube/config, or pass --kubeconfig (KUBECONFIG=${join(dir, 'nothing-here')} names no existing file)`);
    const badName = await rlink(['deploy', 'kubernetes', '--name', 'Bad_Name', ...common], { env });
    expect(badName.stderr.trim()).toMatch(/^rlink deploy kubernetes: --name 'Bad_Name' is not a valid cluster name/);
  }, 200_000);
});
