/** The deploy seam: which bootstrap the flags select, and what each reads from its environment. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesBootstrap, StandaloneBootstrap, YarnBootstrap, jobManagerBootstrap, taskManagerBootstrap } from './index';

const TOKEN = 'a-cluster-token-of-32-characters';

describe('bootstrap selection', () => {
  it('is standalone by default, YARN with --yarn-app, Kubernetes with --kubernetes-service', () => {
    expect(taskManagerBootstrap({ jm: 'http://h:1' })).toBeInstanceOf(StandaloneBootstrap);
    expect(taskManagerBootstrap({ 'yarn-app': '/user/x/.rlink/app', webhdfs: 'http://nn:9870' })).toBeInstanceOf(YarnBootstrap);
    expect(taskManagerBootstrap({ 'kubernetes-service': 'clicks' })).toBeInstanceOf(KubernetesBootstrap);
    expect(jobManagerBootstrap({ 'kubernetes-service': 'clicks', 'kubernetes-application': 'job' }).kind).toBe('kubernetes');
  });

  it('refuses contradictions, naming the flags', () => {
    expect(() => taskManagerBootstrap({ 'yarn-app': '/a', 'kubernetes-service': 'b' })).toThrow('--yarn-app and --kubernetes-service cannot be used together');
    expect(() => jobManagerBootstrap({ 'kubernetes-application': 'job' })).toThrow('--kubernetes-application needs --kubernetes-service');
    expect(() => new KubernetesBootstrap('Not_A_Service')).toThrow("--kubernetes-service 'Not_A_Service' is not a Service name");
  });
});

describe('StandaloneBootstrap', () => {
  it('takes the token from --token-file or RLINK_TOKEN, the job manager from --jm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlink-bootstrap-'));
    writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
    expect(await new StandaloneBootstrap({ tokenFile: join(dir, 'token') }).token()).toBe(TOKEN);
    expect(await new StandaloneBootstrap({ env: { RLINK_TOKEN: TOKEN } }).token()).toBe(TOKEN);
    expect(await new StandaloneBootstrap({ jobManagerUrl: 'http://a:1,http://b:1' }).jobManagerUrls()).toBe('http://a:1,http://b:1');
    await expect(new StandaloneBootstrap({}).jobManagerUrls()).rejects.toThrow('Missing required flag jm');
    expect(await new StandaloneBootstrap({}).jobManagerStarted({ url: 'http://127.0.0.1:8770' })).toBe('http://127.0.0.1:8770');
  });
});

describe('KubernetesBootstrap', () => {
  const env = { RLINK_TOKEN: TOKEN, POD_IP: '10.244.1.7', HOSTNAME: 'clicks-taskmanager-5d8f9c7b6d-x2k4q', CLICKS_SERVICE_HOST: '10.96.0.12', CLICKS_SERVICE_PORT: '8770', CLICKS_SERVICE_PORT_HTTP: '8770' };

  it('reads the token, the pod address and name, and the Service from the pod environment', async () => {
    const b = new KubernetesBootstrap('clicks', undefined, env);
    expect(await b.token()).toBe(TOKEN);
    expect(b.advertisedHost()).toBe('10.244.1.7');
    expect(b.taskManagerId()).toBe('tm-clicks-taskmanager-5d8f9c7b6d-x2k4q');
    expect(await b.jobManagerUrls()).toBe('http://10.96.0.12:8770');
  });

  it('falls back to the Service DNS name, and says where the token should have come from', async () => {
    expect(await new KubernetesBootstrap('clicks', undefined, {}).jobManagerUrls()).toBe('http://clicks:8770');
    await expect(new KubernetesBootstrap('clicks', undefined, {}).token()).rejects.toThrow('no cluster token in this pod: RLINK_TOKEN is not set (it comes from the Secret clicks-token)');
  });
});
