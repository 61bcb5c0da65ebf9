/**
 * Bootstrap of a daemon in a Kubernetes pod (`--kubernetes-service <service>`), from what the
 * kubelet gives every container (no API access needed): the token from RLINK_TOKEN (a secretKeyRef
 * to the cluster's Secret), the advertised host from POD_IP (the downward API), the task manager's
 * id from HOSTNAME (the pod's name), and the job manager from the Service's environment variables
 * (`<SERVICE>_SERVICE_HOST`, `<SERVICE>_SERVICE_PORT_HTTP`), set for every Service that existed
 * when the pod was created; the Service's DNS name otherwise. With `--kubernetes-application <dir>`
 * (the mounted ConfigMap), a job manager runs the application's job once its task managers
 * registered; if it cannot, the daemon ends with that reason (the pod's termination message).
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { RlinkError, errorMessage } from '../../core/errors';
import { resolveToken } from '../../core/security/token';
import { FILES, JOBMANAGER_PORT, JOBMANAGER_PORT_NAME, serviceEnvPrefix, type KubernetesJobDescription } from '../kubernetes/application';
import { submitApplication } from '../yarn/container-bootstrap';
import type { ClusterBootstrap, JobManagerStarted } from './bootstrap';

/** How long a job manager waits for its application's task managers. */
const APPLICATION_TIMEOUT_MS = 300_000;

export class KubernetesBootstrap implements ClusterBootstrap {
  readonly kind = 'kubernetes' as const;

  constructor(private readonly service: string, private readonly applicationDir?: string, private readonly env: NodeJS.ProcessEnv = process.env) {
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(service)) throw new RlinkError('RLINK_CONFIG', `--kubernetes-service '${service}' is not a Service name (a DNS label)`);
  }

  async token(): Promise<string> {
    const token = resolveToken({ env: this.env });
    if (!token) throw new RlinkError('RLINK_KUBERNETES', `no cluster token in this pod: RLINK_TOKEN is not set (it comes from the Secret ${this.service}-token)`);
    return token;
  }

  advertisedHost(): string { return this.env.POD_IP || hostname(); }

  taskManagerId(): string | undefined { return this.env.HOSTNAME ? `tm-${this.env.HOSTNAME}` : undefined; }

  async jobManagerUrls(): Promise<string> {
    const prefix = serviceEnvPrefix(this.service);
    const host = this.env[`${prefix}_SERVICE_HOST`];
    const port = this.env[`${prefix}_SERVICE_PORT_${JOBMANAGER_PORT_NAME.toUpperCase()}`] ?? this.env[`${prefix}_SERVICE_PORT`];
    if (host && port) return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    // A pod created before its Service has no variables for it: the cluster DNS name then.
    return `http://${this.service}:${JOBMANAGER_PORT}`;
  }

  async jobManagerStarted(s: JobManagerStarted): Promise<string> {
    if (this.applicationDir === undefined) return s.url;
    const dir = resolve(this.applicationDir);
    const log = s.logger.child({ component: 'kubernetes' });
    void (async () => {
      try {
        const job = JSON.parse(await readFile(join(dir, FILES.job), 'utf8')) as KubernetesJobDescription;
        const jobId = await submitApplication({ jobManagerUrl: s.url, token: s.token, bundle: join(dir, FILES.bundle), job, timeoutMs: APPLICATION_TIMEOUT_MS, code: 'RLINK_KUBERNETES' });
        log.info({ event: 'kubernetes.job-submitted', job: jobId }, `submitted the application's job ${job.name} (${jobId})`);
      } catch (e) {
        log.error({ event: 'kubernetes.job-failed', err: errorMessage(e) }, `could not run the application's job: ${errorMessage(e)}`);
        s.fatal(new RlinkError('RLINK_KUBERNETES', `could not run the application's job: ${errorMessage(e)}`));
      }
    })();
    return s.url;
  }
}
