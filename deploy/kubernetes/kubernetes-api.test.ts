/**
 * KubernetesApi against a scripted HTTP stub: the kubeconfig loading rules, the requests it sends
 * (paths, bodies, the bearer token; the service proxy's path), and how every failure becomes one
 * RLINK_KUBERNETES line. End to end against the API emulator: test/kubernetes/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RlinkError } from '../../core/errors';
import { KubernetesApi } from './kubernetes-api';

interface Seen { method: string; path: string; auth: string | undefined; body: unknown }
let server: Server;
let url: string;
const seen: Seen[] = [];
let answer: (req: Seen) => { status: number; body?: unknown } = () => ({ status: 200, body: {} });
const dir = mkdtempSync(join(tmpdir(), 'rlink-k8s-api-'));

function kubeconfig(server: string, opts: { namespace?: string; token?: string; name?: string } = {}): string {
  const file = join(dir, opts.name ?? 'config');
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config',
    'clusters: [{ name: c, cluster: { server: "' + server + '", insecure-skip-tls-verify: true } }]',
    'users: [{ name: u, user: { token: ' + (opts.token ?? 'tkn') + ' } }]',
    'contexts: [{ name: main, context: { cluster: c, user: u' + (opts.namespace ? `, namespace: ${opts.namespace}` : '') + ' } }, { name: other, context: { cluster: c, user: u } }]',
    'current-context: main', '',
  ].join('\n'));
  return file;
}

/** Runs `fn` with these environment variables (undefined: unset), then restores them. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => { for (const [k, x] of Object.entries(v)) { if (x === undefined) delete process.env[k]; else process.env[k] = x; } };
  apply(vars);
  try { return fn(); } finally { apply(saved); }
}

const status = (code: number, reason: string, message: string) => ({ status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code } });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const s: Seen = { method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, body: text ? JSON.parse(text) : undefined };
      seen.push(s);
      const a = answer(s);
      const body = JSON.stringify(a.body ?? {});
      res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('loading the kubeconfig', () => {
  it('reads the file, its context\'s namespace, and another context on request', () => {
    const api = KubernetesApi.load({ kubeconfig: kubeconfig(url, { namespace: 'streaming' }) });
    expect(api.server).toBe(url);
    expect(api.contextNamespace).toBe('streaming');
    expect(KubernetesApi.load({ kubeconfig: kubeconfig(url, { namespace: 'streaming' }), context: 'other' }).contextNamespace).toBe('default');
    expect(withEnv({ KUBECONFIG: kubeconfig(url, { namespace: 'x', name: 'from-env' }) }, () => KubernetesApi.load()).contextNamespace).toBe('x');
  });

  it('names what is missing: no kubeconfig anywhere, a missing file, an unknown context', () => {
    expect(() => withEnv({ KUBECONFIG: undefined, HOME: dir }, () => KubernetesApi.load())).toThrow('no kubeconfig: set KUBECONFIG, create ~/.kube/config, or pass --kubeconfig (KUBECONFIG is not set)');
    expect(() => KubernetesApi.load({ kubeconfig: join(dir, 'nope') })).toThrow(`kubeconfig ${join(dir, 'nope')} does not exist`);
    expect(() => KubernetesApi.load({ kubeconfig: kubeconfig(url), context: 'prod' })).toThrow('the kubeconfig has no context prod (it has: main, other)');
  });
});

describe('calls', () => {
  const api = () => KubernetesApi.load({ kubeconfig: kubeconfig(url), readRetryMs: 1_500 });

  it('sends the typed objects with the kubeconfig\'s token, and reads a 404 as null', async () => {
    seen.length = 0;
    answer = (s) => (s.method === 'POST' ? { status: 201, body: { ...(s.body as object), metadata: { name: 'x', uid: 'u-1' } } } : status(404, 'NotFound', 'deployments.apps "x" not found'));
    const created = await api().createDeployment('ns1', { metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
    expect(created.metadata?.uid).toBe('u-1');
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/apis/apps/v1/namespaces/ns1/deployments', auth: 'Bearer tkn' });
    expect(await api().getDeployment('ns1', 'x')).toBeNull();
    expect(await api().delete('Secret', 'ns1', 'x')).toBe(false);
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/ns1/secrets/x', body: { propagationPolicy: 'Background' } });
  });

  it('turns refusals into one line naming the call, the status, the reason and the message', async () => {
    answer = () => status(409, 'AlreadyExists', 'services "x" already exists');
    await expect(api().createService('ns1', { metadata: { name: 'x' } })).rejects.toThrow('Kubernetes create Service ns1/x: 409 AlreadyExists: services "x" already exists');
    answer = () => status(403, 'Forbidden', 'secrets is forbidden: User "dev" cannot create resource "secrets" in API group "" in the namespace "ns1"');
    const e = await api().createSecret('ns1', { metadata: { name: 's' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RlinkError);
    expect((e as RlinkError).code).toBe('RLINK_KUBERNETES');
    expect((e as RlinkError).message).toBe('Kubernetes create Secret ns1/s: 403 Forbidden: secrets is forbidden: User "dev" cannot create resource "secrets" in API group "" in the namespace "ns1"');
    answer = () => ({ status: 401, body: {} });
    await expect(api().listPods('ns1', 'a=b')).rejects.toThrow('Kubernetes list Pod ns1: 401 Unauthorized: the credentials of the kubeconfig were refused');
  });

  it('retries reads through an overloaded API server, and gives up naming it', async () => {
    let n = 0;
    answer = () => (++n < 3 ? status(503, 'ServiceUnavailable', 'etcd is slow') : { status: 200, body: { items: [{ metadata: { name: 'p' } }] } });
    expect((await api().listPods('ns1', 'a=b')).map((p) => p.metadata?.name)).toEqual(['p']);
    expect(n).toBe(3);
    answer = () => status(503, 'ServiceUnavailable', 'etcd is slow');
    await expect(api().listPods('ns1', 'a=b')).rejects.toThrow('Kubernetes list Pod ns1: 503 ServiceUnavailable: etcd is slow');
    const t0 = Date.now();
    const closed = KubernetesApi.load({ kubeconfig: kubeconfig('http://127.0.0.1:1', { name: 'closed' }), readRetryMs: 500 });
    await expect(closed.getService('ns1', 'x')).rejects.toThrow('cannot reach the Kubernetes API at http://127.0.0.1:1: ECONNREFUSED');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('reaches a Service through the API server\'s proxy, path segments encoded', async () => {
    seen.length = 0;
    answer = () => ({ status: 200, body: { jobs: [] } });
    const r = await api().proxyGet('ns1', 'clicks', 8770, 'jobs/a b');
    expect(r).toEqual({ status: 200, body: '{"jobs":[]}' });
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/ns1/services/clicks%3A8770/proxy/jobs/a%20b', auth: 'Bearer tkn' });
  });
});
