/**
 * YarnClient against a scripted HTTP stub: the request shapes it sends (paths, methods, bodies,
 * user.name), how it reads answers, and how every failure becomes one clear RLINK_YARN line.
 * The end-to-end behaviour against the YARN emulator is in test/emulators/yarn.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RlinkError } from '../../core/errors';
import { YarnClient, type YarnServiceSpec } from './yarn-client';

interface Seen { method: string; path: string; query: URLSearchParams; body: unknown }
type Answer = { status: number; body?: unknown; raw?: string; hang?: boolean };

let server: Server;
let url: string;
const seen: Seen[] = [];
let answer: (req: Seen) => Answer = () => ({ status: 200, body: {} });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://stub');
      const text = Buffer.concat(chunks).toString('utf8');
      const request: Seen = { method: req.method ?? '', path: u.pathname, query: u.searchParams, body: text ? JSON.parse(text) : undefined };
      seen.push(request);
      const a = answer(request);
      if (a.hang) return;
      const payload = a.raw ?? (a.body === undefined ? '' : JSON.stringify(a.body));
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(payload);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
});
afterEach(() => { seen.length = 0; answer = () => ({ status: 200, body: {} }); });

const spec: YarnServiceSpec = {
  name: 'rlink-demo',
  version: '1.0',
  queue: 'default',
  components: [
    { name: 'jobmanager', number_of_containers: 1, launch_command: 'node jm.js', resource: { cpus: 1, memory: '1024' }, restart_policy: 'NEVER' },
    {
      name: 'taskmanager', number_of_containers: 2, launch_command: 'node tm.js', resource: { cpus: 2, memory: '2048' }, dependencies: ['jobmanager'],
      configuration: { env: { RLINK_SLOTS: '2' }, files: [{ type: 'STATIC', src_file: 'hdfs://nn:8020/user/rlink/app.js', dest_file: 'app.js' }] },
    },
  ],
};

async function rejection(p: Promise<unknown>): Promise<RlinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RlinkError);
  expect((err as RlinkError).code).toBe('RLINK_YARN');
  return err as RlinkError;
}

describe('YarnClient requests', () => {
  it('creates a service: POST /app/v1/services with the spec as JSON and user.name', async () => {
    answer = () => ({ status: 202, body: { uri: '/app/v1/services/rlink-demo', diagnostics: 'Application ID: application_1_0001' } });
    await new YarnClient({ resourceManager: `${url}/`, user: 'rlink' }).createService(spec);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.path).toBe('/app/v1/services');
    expect(seen[0]!.query.get('user.name')).toBe('rlink');
    expect(seen[0]!.body).toEqual(spec);
  });

  it('flexes, stops, starts and destroys with the documented bodies', async () => {
    const yarn = new YarnClient({ resourceManager: url });
    await yarn.flexComponent('rlink-demo', 'taskmanager', 5);
    await yarn.stopService('rlink-demo');
    await yarn.startService('rlink-demo');
    await yarn.destroyService('rlink-demo');
    expect(seen.map((s) => [s.method, s.path, s.body])).toEqual([
      ['PUT', '/app/v1/services/rlink-demo/components/taskmanager', { number_of_containers: 5 }],
      ['PUT', '/app/v1/services/rlink-demo', { state: 'STOPPED' }],
      ['PUT', '/app/v1/services/rlink-demo', { state: 'STARTED' }],
      ['DELETE', '/app/v1/services/rlink-demo', undefined],
    ]);
    expect(seen.every((s) => !s.query.has('user.name'))).toBe(true);
    await expect(yarn.flexComponent('rlink-demo', 'taskmanager', -1)).rejects.toThrow(/whole number/);
  });

  it('destroying a service that does not exist is fine', async () => {
    answer = () => ({ status: 404, body: { diagnostics: "Service rlink-demo doesn't exist" } });
    await expect(new YarnClient({ resourceManager: url }).destroyService('rlink-demo')).resolves.toBeUndefined();
  });

  it('reads a service status and answers null for an unknown service', async () => {
    answer = (req) => req.path.endsWith('/gone')
      ? { status: 404, body: { diagnostics: 'Service gone not found' } }
      : {
        status: 200,
        body: {
          ...spec, id: 'application_1_0001', state: 'STABLE', launch_time: 1,
          components: [{
            ...spec.components[0], state: 'STABLE',
            containers: [{ id: 'container_1_0001_01_000002', state: 'READY', bare_host: 'nm1', ip: '10.0.0.1', hostname: 'nm1', launch_time: 1 }],
          }, { ...spec.components[1], state: 'FLEXING' }],
        },
      };
    const yarn = new YarnClient({ resourceManager: url });
    expect(await yarn.getService('gone')).toBeNull();
    const s = await yarn.getService('rlink-demo');
    expect(s).toEqual({
      name: 'rlink-demo', id: 'application_1_0001', state: 'STABLE',
      components: [
        { name: 'jobmanager', state: 'STABLE', number_of_containers: 1, containers: [{ id: 'container_1_0001_01_000002', state: 'READY', bare_host: 'nm1', ip: '10.0.0.1' }] },
        { name: 'taskmanager', state: 'FLEXING', number_of_containers: 2, containers: [] },
      ],
    });
  });

  it('lists cluster apps, including an empty list and filters', async () => {
    const yarn = new YarnClient({ resourceManager: url, user: 'rlink' });
    answer = () => ({ status: 200, body: { apps: null } });
    expect(await yarn.clusterApps()).toEqual([]);
    answer = () => ({
      status: 200,
      body: { apps: { app: [{ id: 'application_1_0001', name: 'rlink-demo', state: 'RUNNING', finalStatus: 'UNDEFINED', applicationType: 'yarn-service', user: 'rlink', queue: 'default' }] } },
    });
    expect(await yarn.clusterApps({ states: ['RUNNING', 'ACCEPTED'], applicationTypes: ['yarn-service'] })).toEqual([
      { id: 'application_1_0001', name: 'rlink-demo', state: 'RUNNING', finalStatus: 'UNDEFINED', applicationType: 'yarn-service' },
    ]);
    expect(seen.at(-1)!.path).toBe('/ws/v1/cluster/apps');
    expect(seen.at(-1)!.query.get('states')).toBe('RUNNING,ACCEPTED');
    expect(seen.at(-1)!.query.get('applicationTypes')).toBe('yarn-service');
  });
});

describe('YarnClient errors', () => {
  it('names the request, the status and the Services API diagnostics', async () => {
    answer = () => ({ status: 409, body: { diagnostics: 'Service name rlink-demo is already taken.' } });
    const err = await rejection(new YarnClient({ resourceManager: url }).createService(spec));
    expect(err.message).toBe('YARN POST /app/v1/services: 409 Service name rlink-demo is already taken.');
  });

  it('reads the RemoteException of the RM REST API', async () => {
    answer = () => ({ status: 403, body: { RemoteException: { exception: 'ForbiddenException', message: 'Unable to obtain user name, user not authenticated', javaClassName: 'org.apache.hadoop.yarn.webapp.ForbiddenException' } } });
    const err = await rejection(new YarnClient({ resourceManager: url }).clusterApps());
    expect(err.message).toBe('YARN GET /ws/v1/cluster/apps: 403 ForbiddenException: Unable to obtain user name, user not authenticated');
  });

  it('falls back to the text of a non-JSON error page, and marks 5xx retriable', async () => {
    answer = () => ({ status: 503, raw: '<html><body><h1>Service Unavailable</h1>\n<p>RM is in standby</p></body></html>' });
    const err = await rejection(new YarnClient({ resourceManager: url }).getService('x'));
    expect(err.message).toBe('YARN GET /app/v1/services/x: 503 Service Unavailable RM is in standby');
    expect(err.retriable).toBe(true);
  });

  it('names the URL of an unreachable ResourceManager', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const err = await rejection(new YarnClient({ resourceManager: `http://127.0.0.1:${port}` }).getService('x'));
    expect(err.message).toMatch(new RegExp(`^YARN GET /app/v1/services/x: ResourceManager http://127\\.0\\.0\\.1:${port} is unreachable \\(.*ECONNREFUSED.*\\)$`));
    expect(err.retriable).toBe(true);
  });

  it('bounds every request by timeoutMs', async () => {
    answer = () => ({ status: 200, hang: true });
    const started = Date.now();
    const err = await rejection(new YarnClient({ resourceManager: url, timeoutMs: 300 }).getService('x'));
    expect(err.message).toMatch(/unreachable \(no answer within 300 ms\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a ResourceManager address that is not an http URL', () => {
    expect(() => new YarnClient({ resourceManager: 'rm:8088' })).toThrow(/not a URL|http/);
    expect(() => new YarnClient({ resourceManager: 'ftp://rm:8088' })).toThrow(/http/);
  });
});

describe('YarnClient.waitForService', () => {
  const status = (state: string, containers: unknown[] = [], diagnostics?: string) => ({
    status: 200,
    body: { name: 'svc', id: 'application_1_0001', state, components: [{ name: 'tm', state: 'FLEXING', number_of_containers: 2, containers }], ...(diagnostics ? { diagnostics } : {}) },
  });

  it('polls until the condition holds', async () => {
    let calls = 0;
    answer = () => (++calls < 3 ? status('STARTED') : status('STABLE'));
    const s = await new YarnClient({ resourceManager: url }).waitForService('svc', (x) => x.state === 'STABLE', { timeoutMs: 5_000, pollMs: 20 });
    expect(s.state).toBe('STABLE');
    expect(calls).toBe(3);
  });

  it('throws on FAILED with the diagnostics of the failed containers', async () => {
    answer = () => status('FAILED', [
      { id: 'container_1_0001_01_000002', state: 'READY' },
      { id: 'container_1_0001_01_000003', state: 'FAILED', exit_status: 3, diagnostics: 'Container exited with a non-zero exit code 3.\nno such file' },
    ]);
    const err = await rejection(new YarnClient({ resourceManager: url }).waitForService('svc', (x) => x.state === 'STABLE', { timeoutMs: 5_000, pollMs: 20 }));
    expect(err.message).toBe('YARN service svc FAILED: container container_1_0001_01_000003 of tm exit status 3: Container exited with a non-zero exit code 3. no such file');
  });

  it('throws when the service stopped instead, and at the deadline', async () => {
    answer = () => status('STOPPED');
    const yarn = new YarnClient({ resourceManager: url });
    expect((await rejection(yarn.waitForService('svc', (x) => x.state === 'STABLE', { timeoutMs: 5_000, pollMs: 20 }))).message).toMatch(/^YARN service svc is STOPPED, not in the awaited state/);
    answer = () => status('STARTED', [{ id: 'c1', state: 'READY' }]);
    const err = await rejection(yarn.waitForService('svc', (x) => x.state === 'STABLE', { timeoutMs: 200, pollMs: 50 }));
    expect(err.message).toBe('YARN service svc did not reach the awaited state within 200 ms (last state STARTED: tm 1/2 FLEXING)');
    expect(err.retriable).toBe(true);
  });
});
