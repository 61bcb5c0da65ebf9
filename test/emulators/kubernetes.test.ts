/**
 * The Kubernetes API emulator with real container processes, driven through @kubernetes/client-node
 * (the client the product uses) with a kubeconfig the emulator writes: the API's validation and
 * errors, Deployments → ReplicaSets → pods, the pod environment (Secrets, fieldRefs, Service
 * variables, `$(VAR)`), volumes below the working directory, readiness, Services (ClusterIP and the
 * API server's proxy), restarts and CrashLoopBackOff, replacement of deleted pods, image pull and
 * config errors, scheduling, garbage collection, and close leaving no process behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { startKubernetesEmulator, parseQuantity, type KubernetesEmulator } from './kubernetes';
import { groupHasLiveMembers } from './process-group';

const dir = mkdtempSync(join(tmpdir(), 'rlink-k8s-emu-test-'));
const SERVER = join(dir, 'echo-server.mjs');
// A tiny HTTP server that tells what its container sees.
writeFileSync(SERVER, `
import http from 'node:http';
import fs from 'node:fs';
const port = Number(process.argv[2] ?? 8080);
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    pod: process.env.HOSTNAME, ip: process.env.POD_IP, auth: req.headers.authorization ?? null, path: req.url,
    secret: process.env.SECRET ?? null, greeting: process.env.GREETING ?? null, args: process.argv.slice(2), cwd: process.cwd(),
    conf: fs.existsSync('conf/app.conf') ? fs.readFileSync('conf/app.conf', 'utf8') : null,
    service: process.env.ECHO_SERVICE_HOST ? process.env.ECHO_SERVICE_HOST + ':' + process.env.ECHO_SERVICE_PORT_WEB : null,
  }));
});
server.listen(port, process.env.POD_IP, () => process.stdout.write('listening on ' + process.env.POD_IP + ':' + port + '\\n'));
process.on('SIGTERM', () => { process.stdout.write('SIGTERM\\n'); server.close(); process.exit(0); });
`);
const CRASHER = join(dir, 'crasher.mjs');
writeFileSync(CRASHER, "process.stderr.write('first line\\nthe reason it failed\\n'); process.exit(3);\n");

let k8s: KubernetesEmulator;
let core: CoreV1Api;
let apps: AppsV1Api;
const ns = 'default';

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The API's Status body of a failed call, parsed. */
async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const x = e as { code: number; body?: string };
    const status = x.body ? JSON.parse(x.body) : {};
    return { code: x.code, reason: status.reason, message: status.message };
  }
  throw new Error('the call succeeded');
}

function deployment(name: string, opts: { replicas?: number; image?: string; labels?: Record<string, string>; podSpec?: Record<string, unknown>; container?: Record<string, unknown> } = {}): V1Deployment {
  const labels = opts.labels ?? { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: 'main', image: opts.image ?? 'echo:1', args: ['8080'], ...(opts.container ?? {}) }],
          ...(opts.podSpec ?? {}),
        },
      },
    },
  };
}

const podsOf = async (app: string): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;

function httpGet(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 5_000, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  k8s = await startKubernetesEmulator({
    images: { 'echo:1': { entrypoint: [process.execPath, SERVER], workingDir: '/srv', env: { GREETING: 'from the image' } }, 'crasher:1': { entrypoint: [process.execPath, CRASHER] } },
    allocatable: { cpu: 8, memory: '16Gi' },
    crashLoopBackoffMs: 200, maxCrashLoopBackoffMs: 800,
  });
  const kc = new KubeConfig();
  kc.loadFromFile(k8s.writeKubeconfig(join(dir, 'kubeconfig')));
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});

afterAll(async () => {
  const pids = k8s?.containerProcesses().map((p) => p.pid) ?? [];
  await k8s?.close();
  // Nothing left behind: every container's process group is empty.
  for (const pid of pids) expect(groupHasLiveMembers(pid), `process group ${pid}`).toBe(false);
});

describe('the API', () => {
  it('serves the kubeconfig it writes, and refuses a wrong token with 401', async () => {
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name).sort()).toEqual(['default', 'kube-system']);
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(k8s.writeKubeconfig(join(dir, 'bad-kubeconfig')), 'utf8').replace(k8s.token, 'wrong'));
    const bad = kc.makeApiClient(CoreV1Api);
    expect((await failure(bad.listNamespace())).code).toBe(401);
  });

  it('validates as the API server does: 422 naming the field, 409 for a taken name, 404 for a missing one', async () => {
    const mismatch = deployment('mismatch');
    mismatch.spec!.template.metadata!.labels = { app: 'other' };
    const e1 = await failure(apps.createNamespacedDeployment({ namespace: ns, body: mismatch }));
    expect(e1).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(e1.message).toBe('Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`');
    const e2 = await failure(core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 80 }] } } }));
    expect(e2.code).toBe(422);
    expect(e2.message).toMatch(/^Service "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a DNS-1035 label must consist of lower case/);
    const e3 = await failure(apps.createNamespacedDeployment({ namespace: ns, body: deployment('bad-limits', { container: { resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } } }) }));
    expect(e3.message).toContain('spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1');
    const e4 = await failure(apps.createNamespacedDeployment({ namespace: ns, body: deployment('no-volume', { container: { volumeMounts: [{ name: 'conf', mountPath: '/srv/conf' }] } }) }));
    expect(e4.message).toContain('spec.template.spec.containers[0].volumeMounts[0].name: Not found: "conf"');
    const big = await failure(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'big' }, binaryData: { blob: Buffer.alloc(1024 * 1024 + 1).toString('base64') } } }));
    expect(big.message).toBe('ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'once' }, data: { a: 'b' } } });
    expect(await failure(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'once' }, data: {} } }))).toEqual({ code: 409, reason: 'AlreadyExists', message: 'configmaps "once" already exists' });
    expect(await failure(apps.readNamespacedDeployment({ namespace: ns, name: 'nothing' }))).toEqual({ code: 404, reason: 'NotFound', message: 'deployments.apps "nothing" not found' });
    expect(await failure(core.createNamespacedSecret({ namespace: 'nowhere', body: { metadata: { name: 's' } } }))).toMatchObject({ code: 404, message: 'namespaces "nowhere" not found' });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'once' });
  });

  it('parses quantities as the API does', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity('abc')).toBeUndefined();
  });
});

describe('a Deployment behind a Service', () => {
  it('runs its pods as processes with the pod environment, volumes, readiness, endpoints and a ClusterIP', async () => {
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'echo-secret' }, stringData: { token: 's3cret' } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'echo-conf' }, data: { 'app.conf': 'mode=test\n' } } });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } } });
    const d = deployment('echo', {
      replicas: 2,
      podSpec: { volumes: [{ name: 'conf', configMap: { name: 'echo-conf' } }], terminationGracePeriodSeconds: 5 },
      container: {
        args: ['$(PORT)', '$$(PORT)'], ports: [{ name: 'http', containerPort: 8080 }],
        env: [
          { name: 'PORT', value: '8080' },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'SECRET', valueFrom: { secretKeyRef: { name: 'echo-secret', key: 'token' } } },
        ],
        volumeMounts: [{ name: 'conf', mountPath: '/srv/conf' }],
        readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
      },
    });
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: d });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.spec?.template.spec?.restartPolicy).toBe('Always'); // the API server's defaults
    await until('2 available replicas', async () => (await apps.readNamespacedDeployment({ namespace: ns, name: 'echo' })).status?.availableReplicas === 2);

    const rs = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=echo' })).items;
    expect(rs).toHaveLength(1);
    expect(rs[0]!.metadata?.name).toMatch(/^echo-[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(rs[0]!.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'echo', controller: true });
    const pods = await podsOf('echo');
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(new RegExp(`^${rs[0]!.metadata!.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.podIP).toMatch(/^127\.\d+\.\d+\.\d+$/);
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, restartCount: 0 });
      // What the container sees.
      const seen = JSON.parse((await httpGet(p.status!.podIP!, 8080, '/x')).body);
      expect(seen).toMatchObject({ pod: p.metadata!.name, ip: p.status!.podIP, secret: 's3cret', greeting: 'from the image', args: ['8080', '$(PORT)'], conf: 'mode=test\n' });
      expect(seen.service).toMatch(/^127\.\d+\.\d+\.\d+:80$/);
    }
    const ep = await core.readNamespacedEndpoints({ namespace: ns, name: 'echo' });
    expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip).sort()).toEqual(pods.map((p) => p.status!.podIP).sort());
    expect(ep.subsets?.[0]?.ports?.[0]).toMatchObject({ name: 'web', port: 8080 });

    // The ClusterIP forwards to both pods (round robin), and so does the API server's proxy, which
    // never passes the caller's credentials on.
    const svc = await core.readNamespacedService({ namespace: ns, name: 'echo' });
    const answered = new Set<string>();
    for (let i = 0; i < 4; i++) answered.add(JSON.parse((await httpGet(svc.spec!.clusterIP!, 80, '/')).body).pod);
    expect(answered.size).toBe(2);
    const viaApi = await core.connectGetNamespacedServiceProxyWithPath({ namespace: ns, name: 'echo:web', path: 'jobs/1' }) as unknown;
    const parsed = (typeof viaApi === 'string' ? JSON.parse(viaApi) : viaApi) as { path: string; auth: string | null };
    expect(parsed).toMatchObject({ path: '/jobs/1', auth: null });
  });

  it('replaces a deleted pod (replicas kept) and restarts a killed container in place', async () => {
    const [victim, other] = await podsOf('echo');
    const proc = k8s.containerProcesses().find((p) => p.pod === victim!.metadata!.name && p.alive)!;
    await core.deleteNamespacedPod({ namespace: ns, name: victim!.metadata!.name! });
    await until('the pod to go and a new one to be ready', async () => {
      const now = await podsOf('echo');
      return now.length === 2 && !now.some((p) => p.metadata?.name === victim!.metadata!.name) && now.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    });
    expect(groupHasLiveMembers(proc.pid)).toBe(false);
    // It got SIGTERM first (graceful deletion).
    const log = readFileSync(join(k8s.podDir(ns, other!.metadata!.name!)!, '..', victim!.metadata!.name!, 'containers', 'main', '0.log'), 'utf8');
    expect(log).toContain('SIGTERM');

    const target = k8s.containerProcesses().find((p) => p.pod === other!.metadata!.name && p.alive)!;
    process.kill(-target.pid, 'SIGKILL');
    const restarted = await until('the container to run again', async () => {
      const p = await core.readNamespacedPod({ namespace: ns, name: other!.metadata!.name! });
      const s = p.status?.containerStatuses?.[0];
      return s?.restartCount === 1 && s.state?.running ? p : undefined;
    });
    expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error', signal: 9 });
    expect(k8s.containerProcesses().filter((p) => p.pod === other!.metadata!.name)).toHaveLength(2);
  });

  it('deletes what a Deployment owns with it (garbage collection), processes included', async () => {
    const owner = await apps.readNamespacedDeployment({ namespace: ns, name: 'echo' });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'echo-owned', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'echo', uid: owner.metadata!.uid!, controller: true }] }, data: {} } });
    const pids = k8s.containerProcesses().filter((p) => p.pod.startsWith('echo-') && p.alive).map((p) => p.pid);
    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'echo' });
    await until('the pods to go', async () => (await podsOf('echo')).length === 0);
    expect((await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=echo' })).items).toHaveLength(0);
    expect((await failure(core.readNamespacedConfigMap({ namespace: ns, name: 'echo-owned' }))).code).toBe(404);
    for (const pid of pids) expect(groupHasLiveMembers(pid)).toBe(false);
    await core.deleteNamespacedService({ namespace: ns, name: 'echo' });
  });
});

describe('pods that cannot run', () => {
  it('keeps restarting a crashing container with a growing back-off, its log tail as termination message', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('crash', { image: 'crasher:1', container: { args: [], terminationMessagePolicy: 'FallbackToLogsOnError' } }) });
    const pod = await until('CrashLoopBackOff', async () => {
      const [p] = await podsOf('crash');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    });
    const s = pod.status!.containerStatuses![0]!;
    expect(s.restartCount).toBeGreaterThanOrEqual(2);
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(s.lastState?.terminated?.message).toContain('the reason it failed');
    expect(s.state?.waiting?.message).toMatch(/^back-off \S+ restarting failed container=main pod=crash-/);
    const log = await core.readNamespacedPodLog({ namespace: ns, name: pod.metadata!.name!, tailLines: 1, previous: true });
    expect(log).toBe('the reason it failed\n');
    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'crash' });
  });

  it('reports an unknown image (ErrImagePull, then ImagePullBackOff), a missing Secret until it exists, a mount the emulator cannot make, and a pod too big for the node', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('noimage', { image: 'nowhere/missing:9' }) });
    const reasons = new Set<string>();
    await until('ImagePullBackOff', async () => {
      const r = (await podsOf('noimage'))[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) reasons.add(r);
      return r === 'ImagePullBackOff';
    });
    expect(reasons.has('ErrImagePull') || reasons.has('ImagePullBackOff')).toBe(true);
    expect((await podsOf('noimage'))[0]?.status?.phase).toBe('Pending');

    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('nosecret', { container: { env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, { name: 'SECRET', valueFrom: { secretKeyRef: { name: 'later', key: 'token' } } }] } }) });
    const waiting = await until('CreateContainerConfigError', async () => (await podsOf('nosecret'))[0]?.status?.containerStatuses?.[0]?.state?.waiting);
    expect(waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'secret "later" not found' });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'later' }, stringData: { token: 'now' } } });
    await until('the container to run', async () => (await podsOf('nosecret'))[0]?.status?.containerStatuses?.[0]?.state?.running !== undefined);

    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'elsewhere' }, data: { a: 'b' } } });
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('elsewhere', { podSpec: { volumes: [{ name: 'c', configMap: { name: 'elsewhere' } }] }, container: { volumeMounts: [{ name: 'c', mountPath: '/etc/elsewhere' }] } }) });
    const cannot = await until('CreateContainerError', async () => (await podsOf('elsewhere'))[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerError' ? (await podsOf('elsewhere'))[0] : undefined);
    expect(cannot.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe("the emulator mounts volumes only below the container's working directory /srv, not at /etc/elsewhere");

    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('huge', { container: { resources: { requests: { cpu: '64', memory: '1Gi' } } } }) });
    const pending = await until('Unschedulable', async () => {
      const [p] = await podsOf('huge');
      return p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ? p : undefined;
    });
    expect(pending.status?.phase).toBe('Pending');
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toMatch(/^0\/1 nodes are available: 1 Insufficient cpu\./);

    for (const name of ['noimage', 'nosecret', 'elsewhere', 'huge']) await apps.deleteNamespacedDeployment({ namespace: ns, name });
    await until('every pod gone', async () => (await core.listNamespacedPod({ namespace: ns })).items.length === 0);
  });
});
