/**
 * The calls rlink makes to the Kubernetes API, through @kubernetes/client-node: the kubeconfig
 * loaded the client's standard way (KUBECONFIG, ~/.kube/config, or the pod's service account), the
 * typed APIs for Deployments, Services, Secrets, ConfigMaps and pods, and the API server's service
 * proxy for the job manager's REST API (its reads: the API server removes the caller's
 * Authorization header, so nothing that needs the cluster token goes through it).
 *
 * Every failure is one RLINK_KUBERNETES error naming the call and what the API server answered
 * (`Kubernetes create Deployment rlink/clicks: 409 AlreadyExists: deployments.apps "clicks" already
 * exists`), or that the API server could not be reached. Reads are retried on network errors and
 * 429/5xx for a few seconds (core/util/retry.ts); every call is bounded in time.
 */
import { existsSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException, AppsV1Api, CoreV1Api, KubeConfig,
  type V1ConfigMap, type V1Deployment, type V1Pod, type V1Secret, type V1Service,
} from '@kubernetes/client-node';
import { RlinkError, errorMessage } from '../../core/errors';
import { DeadlineError, retry } from '../../core/util/retry';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** Every call's bound. */
const CALL_TIMEOUT_MS = 30_000;
/** How long a read is retried while the API server is unreachable or overloaded. */
const READ_RETRY_MS = 10_000;

export interface KubernetesApiOptions {
  /** A kubeconfig file (default: the client's standard loading). */
  kubeconfig?: string | undefined;
  /** A context of the kubeconfig (default: its current one). */
  context?: string | undefined;
  /** How long reads are retried while the API server is unreachable or overloaded (default 10 s). */
  readRetryMs?: number;
}

type Kind = 'Deployment' | 'Service' | 'Secret' | 'ConfigMap' | 'Pod';

export class KubernetesApi {
  readonly server: string;
  /** The namespace of the kubeconfig's context ('default' when it names none). */
  readonly contextNamespace: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(private readonly kc: KubeConfig, private readonly readRetryMs = READ_RETRY_MS) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new RlinkError('RLINK_KUBERNETES', `the kubeconfig's context ${kc.getCurrentContext() || '(none)'} names no cluster`);
    this.server = cluster.server;
    this.contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  /** Loads the kubeconfig as kubectl does; one line naming what is missing otherwise. */
  static load(o: KubernetesApiOptions = {}): KubernetesApi {
    const env = process.env;
    const kc = new KubeConfig();
    try {
      if (o.kubeconfig) {
        if (!existsSync(o.kubeconfig)) throw new RlinkError('RLINK_CONFIG', `kubeconfig ${o.kubeconfig} does not exist`);
        kc.loadFromFile(o.kubeconfig);
      } else {
        // The client falls back to http://localhost:8080 when it finds nothing: say so instead.
        const found = (env.KUBECONFIG ?? '').split(':').some((f) => f !== '' && existsSync(f))
          || existsSync(join(env.HOME ?? homedir(), '.kube', 'config'))
          || (existsSync(SERVICE_ACCOUNT_TOKEN) && env.KUBERNETES_SERVICE_HOST !== undefined);
        if (!found) throw new RlinkError('RLINK_CONFIG', `no kubeconfig: set KUBECONFIG, create ~/.kube/config, or pass --kubeconfig (${env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG} names no existing file` : 'KUBECONFIG is not set'})`);
        kc.loadFromDefault();
      }
    } catch (e) {
      if (e instanceof RlinkError) throw e;
      throw new RlinkError('RLINK_CONFIG', `cannot read the kubeconfig: ${errorMessage(e)}`, { cause: e });
    }
    if (o.context) {
      const names = kc.getContexts().map((c) => c.name);
      if (!names.includes(o.context)) throw new RlinkError('RLINK_CONFIG', `the kubeconfig has no context ${o.context} (it has: ${names.join(', ') || 'none'})`);
      kc.setCurrentContext(o.context);
    }
    return new KubernetesApi(kc, o.readRetryMs);
  }

  // ---------- typed calls ----------

  createDeployment(namespace: string, body: V1Deployment): Promise<V1Deployment> {
    return this.call('create', 'Deployment', namespace, body.metadata?.name, () => this.apps.createNamespacedDeployment({ namespace, body }));
  }
  getDeployment(namespace: string, name: string): Promise<V1Deployment | null> {
    return this.read('Deployment', namespace, name, () => this.apps.readNamespacedDeployment({ namespace, name }));
  }
  listDeployments(namespace: string, labelSelector: string): Promise<V1Deployment[]> {
    return this.read('Deployment', namespace, undefined, async () => (await this.apps.listNamespacedDeployment({ namespace, labelSelector })).items).then((r) => r ?? []);
  }
  createService(namespace: string, body: V1Service): Promise<V1Service> {
    return this.call('create', 'Service', namespace, body.metadata?.name, () => this.core.createNamespacedService({ namespace, body }));
  }
  getService(namespace: string, name: string): Promise<V1Service | null> {
    return this.read('Service', namespace, name, () => this.core.readNamespacedService({ namespace, name }));
  }
  createSecret(namespace: string, body: V1Secret): Promise<V1Secret> {
    return this.call('create', 'Secret', namespace, body.metadata?.name, () => this.core.createNamespacedSecret({ namespace, body }));
  }
  createConfigMap(namespace: string, body: V1ConfigMap): Promise<V1ConfigMap> {
    return this.call('create', 'ConfigMap', namespace, body.metadata?.name, () => this.core.createNamespacedConfigMap({ namespace, body }));
  }
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return this.read('Pod', namespace, undefined, async () => (await this.core.listNamespacedPod({ namespace, labelSelector })).items).then((r) => r ?? []);
  }

  /** Deletes an object; false when it did not exist. Dependents go too (propagationPolicy Background). */
  async delete(kind: Exclude<Kind, 'Pod'> | 'Pod', namespace: string, name: string): Promise<boolean> {
    const body = { propagationPolicy: 'Background' };
    const fn = {
      Deployment: () => this.apps.deleteNamespacedDeployment({ namespace, name, body }),
      Service: () => this.core.deleteNamespacedService({ namespace, name, body }),
      Secret: () => this.core.deleteNamespacedSecret({ namespace, name, body }),
      ConfigMap: () => this.core.deleteNamespacedConfigMap({ namespace, name, body }),
      Pod: () => this.core.deleteNamespacedPod({ namespace, name, body }),
    }[kind] as () => Promise<unknown>;
    const r = await this.read(kind, namespace, name, fn, 'delete');
    return r !== null;
  }

  // ---------- the job manager's REST API through the API server's service proxy ----------

  /**
   * GET `path` of a Service's port through the API server (`…/services/<name>:<port>/proxy/<path>`).
   * Returns the status and body of the proxied answer (503 when the Service has no ready endpoint).
   */
  async proxyGet(namespace: string, service: string, port: number | string, path: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    const url = new URL(`${this.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(`${service}:${port}`)}/proxy/${path.split('/').map(encodeURIComponent).join('/')}`);
    const opts: RequestOptions & Record<string, unknown> = { method: 'GET', headers: { accept: 'application/json' } };
    try {
      await this.kc.applyToHTTPSOptions(opts as never);
    } catch (e) {
      throw new RlinkError('RLINK_KUBERNETES', `Kubernetes proxy to service ${namespace}/${service}: cannot authenticate: ${errorMessage(e)}`);
    }
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { ...opts, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(this.unreachable(e)));
      });
      req.on('timeout', () => req.destroy(new DeadlineError(timeoutMs)));
      req.on('error', (e) => reject(this.unreachable(e)));
      req.end();
    });
  }

  // ---------- plumbing ----------

  private unreachable(e: unknown): RlinkError {
    const cause = (e as { code?: string }).code ?? errorMessage(e);
    return new RlinkError('RLINK_KUBERNETES', `cannot reach the Kubernetes API at ${this.server}: ${cause}`, { retriable: true, cause: e });
  }

  private describe(verb: string, kind: Kind, namespace: string, name: string | undefined): string {
    return `Kubernetes ${verb} ${kind} ${namespace}${name ? `/${name}` : ''}`;
  }

  /** One call, bounded in time, its failure as one RLINK_KUBERNETES line. */
  private async call<T>(verb: string, kind: Kind, namespace: string, name: string | undefined, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([fn(), new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DeadlineError(CALL_TIMEOUT_MS)), CALL_TIMEOUT_MS); })]);
    } catch (e) {
      throw this.failure(e, this.describe(verb, kind, namespace, name));
    } finally {
      clearTimeout(timer);
    }
  }

  /** A read (or a delete): null on 404, retried a few seconds on network errors and 429/5xx. */
  private read<T>(kind: Kind, namespace: string, name: string | undefined, fn: () => Promise<T>, verb = name ? 'get' : 'list'): Promise<T | null> {
    return retry(async () => {
      try {
        return await this.call(verb, kind, namespace, name, fn);
      } catch (e) {
        if ((e as RlinkError).cause instanceof ApiException && ((e as RlinkError).cause as ApiException<unknown>).code === 404) return null;
        throw e;
      }
    }, {
      timeoutMs: this.readRetryMs,
      isRetriable: (e) => e instanceof RlinkError && e.retriable,
      fail: (last) => (last instanceof Error ? last : new RlinkError('RLINK_KUBERNETES', `${this.describe(verb, kind, namespace, name)}: ${errorMessage(last)}`)),
      backoff: { initialMs: 200, maxMs: 2_000 },
    });
  }

  private failure(e: unknown, what: string): RlinkError {
    if (e instanceof RlinkError) return e;
    if (e instanceof ApiException) {
      const status = parseStatus(e.body);
      const reason = status?.reason ?? (e.code === 401 ? 'Unauthorized' : e.code === 403 ? 'Forbidden' : '');
      const message = status?.message ?? (e.code === 401 ? 'the credentials of the kubeconfig were refused' : '');
      const retriable = e.code === 429 || e.code >= 500;
      return new RlinkError('RLINK_KUBERNETES', `${what}: ${e.code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`, { retriable, cause: e });
    }
    if (e instanceof DeadlineError) return new RlinkError('RLINK_KUBERNETES', `${what}: no answer from ${this.server} within ${Math.round(e.ms / 1000)} s`, { retriable: true, cause: e });
    const code = (e as { code?: string }).code;
    if (code || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up/.test(errorMessage(e))) {
      return new RlinkError('RLINK_KUBERNETES', `cannot reach the Kubernetes API at ${this.server}: ${code ?? errorMessage(e)}`, { retriable: true, cause: e });
    }
    return new RlinkError('RLINK_KUBERNETES', `${what}: ${errorMessage(e)}`, { cause: e });
  }
}

function parseStatus(body: unknown): { reason?: string; message?: string } | undefined {
  if (typeof body === 'object' && body !== null) return body as { reason?: string; message?: string };
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    return JSON.parse(body) as { reason?: string; message?: string };
  } catch {
    return { message: body.slice(0, 300) };
  }
}
