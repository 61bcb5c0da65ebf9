/**
 * The client side of rlink on Kubernetes: `rlink deploy kubernetes` (create the cluster's objects,
 * wait until it runs its application's job or, without one, until its task managers registered),
 * `rlink status kubernetes` and `rlink stop kubernetes`. A deploy that fails at any step deletes
 * what it created, so nothing is left half-started; the failure names the pod and Kubernetes'
 * reason (ImagePullBackOff, Unschedulable, CrashLoopBackOff with the daemon's last words, …).
 *
 * The job manager is reached through the API server's service proxy (its REST API's reads: jobs,
 * task managers), so the client needs nothing but the kubeconfig: no port-forward, no exposed port.
 */
import { randomBytes } from 'node:crypto';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { RlinkError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import type { JobDetails } from '../../core/client/jobmanager-client';
import { poll, retry } from '../../core/util/retry';
import { JOBMANAGER_PORT, objectNames } from './application';
import type { KubernetesApi } from './kubernetes-api';
import {
  CONFIGMAP_MAX_BYTES, LABELS, applicationConfigMap, jobManagerDeployment, jobManagerService, ownedBy, selector, taskManagerDeployment, tokenSecret,
  type ClusterSpec, type Component,
} from './resources';

export interface KubernetesDeployOptions extends ClusterSpec {
  api: KubernetesApi;
  /** The cluster token (default: a fresh random one, as on YARN). */
  token?: string | undefined;
  /** How long the pods may take to run the job (application) or register (session); default 180 s. */
  startTimeoutMs?: number;
  logger: Logger;
  onProgress?: (message: string) => void;
}

export interface PodRow {
  pod: string;
  component: string;
  phase: string;
  ready: boolean;
  restarts: number;
  podIP: string | null;
  /** running, or Kubernetes' reason for what the pod is waiting for or why it ended. */
  state: string;
  detail: string | null;
}

export interface KubernetesDeployResult {
  name: string;
  namespace: string;
  server: string;
  mode: 'application' | 'session';
  /** The job manager inside the cluster: http://<service>.<namespace>.svc:8770. */
  jobManagerUrl: string;
  /** The Secret holding the cluster token (key `token`). */
  tokenSecret: string;
  /** Application mode: the application's job. */
  jobId?: string;
  taskManagers: number;
  pods: PodRow[];
  wallMs: number;
}

/** Reasons a container waits for that will not go away by waiting. */
const FAILED_WAITING = new Set(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff']);
/** Reasons that are normal for a moment (our Secret and ConfigMap follow the Deployment) but not for long. */
const SLOW_WAITING = new Set(['CreateContainerConfigError', 'ErrImagePull']);
const SLOW_WAITING_MS = 20_000;

/** Checks a cluster name: the Service and the Deployments are named after it (a DNS-1035 label). */
export function clusterNameProblem(name: string): string | undefined {
  // <name>-taskmanager must stay a valid label (63) with room for the pod-template hash.
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 40) {
    return `'${name}' is not a valid cluster name (lower-case letters, digits and '-', starting with a letter, at most 40 characters: it names the Kubernetes Service and Deployments)`;
  }
  return undefined;
}

export async function deployKubernetes(o: KubernetesDeployOptions): Promise<KubernetesDeployResult> {
  const t0 = Date.now();
  const progress = o.onProgress ?? (() => {});
  const problem = clusterNameProblem(o.name);
  if (problem) throw new RlinkError('RLINK_CONFIG', `--name ${problem}`);
  const names = objectNames(o.name);
  const ns = o.namespace;
  if (o.application) {
    const size = Math.ceil(o.application.bundle.length / 3) * 4 + JSON.stringify(o.application.job).length;
    if (size > CONFIGMAP_MAX_BYTES) {
      throw new RlinkError('RLINK_LIMIT', `the job's bundle is ${(o.application.bundle.length / 1048576).toFixed(2)} MiB: more than a ConfigMap holds (1 MiB with base64); keep large dependencies out of the app (rlink's own API is not bundled)`);
    }
  }
  if (await o.api.getDeployment(ns, names.jobManager)) {
    throw new RlinkError('RLINK_KUBERNETES', `a Deployment named ${names.jobManager} exists already in namespace ${ns} (\`rlink stop kubernetes --name ${o.name}\` removes that cluster)`);
  }
  const token = o.token ?? randomBytes(32).toString('hex');
  let created = false;
  try {
    progress(`creating ${o.application ? 'application' : 'session'} cluster ${o.name} in ${ns} at ${o.api.server}: 1 job manager (${o.jobVCores} CPU, ${o.jobMemoryMb} MiB), ${o.taskManagers} task manager${o.taskManagers === 1 ? '' : 's'} (${o.taskVCores} CPU, ${o.taskMemoryMb} MiB each), image ${o.image}`);
    const jm = await o.api.createDeployment(ns, jobManagerDeployment(o));
    created = true;
    const owner = ownedBy(jm);
    await o.api.createSecret(ns, tokenSecret(o, token, owner));
    const cm = applicationConfigMap(o, owner);
    if (cm) await o.api.createConfigMap(ns, cm);
    // The Service before the task managers: their pods get its environment variables.
    await o.api.createService(ns, jobManagerService(o, owner));
    await o.api.createDeployment(ns, taskManagerDeployment(o, owner));

    const startTimeoutMs = o.startTimeoutMs ?? 180_000;
    const firstSeen = new Map<string, number>();
    let last = 'no pod yet';
    let lastProgress = '';
    let jobId: string | undefined;
    const pods = await poll(async () => {
      const list = await o.api.listPods(ns, selector(o.name));
      const failure = clusterFailure(list, firstSeen);
      if (failure) throw new RlinkError('RLINK_KUBERNETES', failure);
      const summary = podSummary(list);
      if (summary !== lastProgress) { progress(summary); lastProgress = summary; }
      const r = await o.api.proxyGet(ns, names.service, JOBMANAGER_PORT, o.application ? 'jobs' : 'taskmanagers').catch((e: unknown) => ({ status: 0, body: errorMessage(e) }));
      if (r.status !== 200) { last = r.status === 503 ? 'the job manager is not ready yet' : `the job manager answered ${r.status || r.body}`; return undefined; }
      if (o.application) {
        const jobs = (JSON.parse(r.body) as { jobs: Array<{ id: string }> }).jobs;
        if (jobs.length === 0) { last = 'the job manager has not run the application yet (waiting for its task managers)'; return undefined; }
        jobId = jobs[0]!.id;
        progress(`job ${jobId} submitted by the job manager`);
        return list;
      }
      const registered = (JSON.parse(r.body) as { taskmanagers: unknown[] }).taskmanagers.length;
      if (registered < o.taskManagers) { last = `${registered} of ${o.taskManagers} task managers registered`; return undefined; }
      progress(`${registered} task managers registered`);
      return list;
    }, {
      timeoutMs: startTimeoutMs, intervalMs: 500,
      fail: () => new RlinkError('RLINK_KUBERNETES', `cluster ${o.name} in ${ns} did not ${o.application ? 'run its job' : 'come up'} within ${Math.round(startTimeoutMs / 1000)}s: ${last}`),
    });
    return {
      name: o.name, namespace: ns, server: o.api.server, mode: o.application ? 'application' : 'session',
      jobManagerUrl: `http://${names.service}.${ns}.svc:${JOBMANAGER_PORT}`, tokenSecret: names.secret,
      ...(jobId ? { jobId } : {}), taskManagers: o.taskManagers, pods: pods.map(podRow), wallMs: Date.now() - t0,
    };
  } catch (e) {
    progress(`failed: ${errorMessage(e)}; removing cluster ${o.name}`);
    if (created) await removeCluster(o.api, ns, o.name, 30_000).catch((x: unknown) => o.logger.error({ event: 'kubernetes.cleanup-failed', err: errorMessage(x) }, `could not remove cluster ${o.name}: ${errorMessage(x)}`));
    throw e;
  }
}

/** One line naming the first pod that failed and why; undefined while all may still come up. */
export function clusterFailure(pods: V1Pod[], firstSeen: Map<string, number> = new Map(), now = Date.now()): string | undefined {
  for (const p of pods) {
    const what = `pod ${p.metadata?.name} (${p.metadata?.labels?.[LABELS.component] ?? '?'})`;
    const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return `${what}: Unschedulable: ${scheduled.message ?? ''}`.trim();
    for (const s of p.status?.containerStatuses ?? []) {
      const waiting = s.state?.waiting;
      const ended = s.state?.terminated ?? s.lastState?.terminated;
      if (waiting?.reason === 'CrashLoopBackOff' || (ended && ended.exitCode !== 0)) {
        return `${what}: ${waiting?.reason === 'CrashLoopBackOff' ? 'CrashLoopBackOff: ' : ''}container ${s.name} exited with code ${ended?.exitCode ?? '?'}${lastWords(ended?.message)}`;
      }
      if (waiting?.reason && FAILED_WAITING.has(waiting.reason)) return `${what}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      if (waiting?.reason && SLOW_WAITING.has(waiting.reason)) {
        const key = `${p.metadata?.uid}/${s.name}/${waiting.reason}`;
        const since = firstSeen.get(key) ?? now;
        firstSeen.set(key, since);
        if (now - since >= SLOW_WAITING_MS) return `${what}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      }
    }
  }
  return undefined;
}

/** The last line of a termination message (a daemon's one-line failure, or its last log line's msg). */
function lastWords(message: string | undefined): string {
  const line = (message ?? '').trim().split('\n').filter((l) => l.trim() !== '').at(-1);
  if (!line) return '';
  try {
    const j = JSON.parse(line) as { msg?: string; error?: { message?: string } };
    const m = j.error?.message ?? j.msg;
    if (m) return `: ${m}`;
  } catch {
    // not JSON: the line itself
  }
  return `: ${line.length > 500 ? `${line.slice(0, 500)}…` : line}`;
}

function component(p: V1Pod): string { return p.metadata?.labels?.[LABELS.component] ?? '?'; }

export function podRow(p: V1Pod): PodRow {
  const s = p.status?.containerStatuses?.[0];
  const waiting = s?.state?.waiting;
  const terminated = s?.state?.terminated;
  const unscheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const state = p.metadata?.deletionTimestamp ? 'Terminating'
    : unscheduled ? (unscheduled.reason ?? 'Pending')
    : waiting ? (waiting.reason ?? 'Waiting')
    : terminated ? (terminated.reason ?? 'Terminated')
    : s?.state?.running ? 'Running' : (p.status?.phase ?? 'Unknown');
  const detail = unscheduled?.message ?? waiting?.message ?? terminated?.message?.trim().split('\n').at(-1) ?? null;
  return {
    pod: p.metadata?.name ?? '?', component: component(p), phase: p.status?.phase ?? 'Unknown', ready: s?.ready ?? false,
    restarts: s?.restartCount ?? 0, podIP: p.status?.podIP ?? null, state, detail,
  };
}

function podSummary(pods: V1Pod[]): string {
  const by = (c: Component) => pods.filter((p) => component(p) === c);
  const describe = (list: V1Pod[]) => {
    const counts = new Map<string, number>();
    for (const p of list) { const s = podRow(p).state; counts.set(s, (counts.get(s) ?? 0) + 1); }
    return [...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'none yet';
  };
  return `pods: job manager ${describe(by('jobmanager'))}; task managers ${describe(by('taskmanager'))}`;
}

/** Deletes a cluster's objects (the job manager's Deployment owns the rest; each is deleted explicitly too) and waits until its pods are gone. */
export async function removeCluster(api: KubernetesApi, ns: string, name: string, waitMs: number): Promise<{ deleted: string[]; podsGone: boolean }> {
  const names = objectNames(name);
  const deleted: string[] = [];
  const steps: Array<[Parameters<KubernetesApi['delete']>[0], string]> = [
    ['Deployment', names.taskManager], ['Deployment', names.jobManager], ['Service', names.service], ['ConfigMap', names.configMap], ['Secret', names.secret],
  ];
  for (const [kind, n] of steps) if (await api.delete(kind, ns, n)) deleted.push(`${kind}/${n}`);
  const podsGone = await poll(async () => ((await api.listPods(ns, selector(name))).length === 0 ? true : undefined), { timeoutMs: waitMs, intervalMs: 250, fail: () => new Error('pods left') })
    .catch(() => false);
  return { deleted, podsGone };
}

// ---------- status and stop ----------

export interface KubernetesStatus {
  name: string;
  namespace: string;
  server: string;
  deployments: Array<{ name: string; component: string; desired: number; ready: number; available: number }>;
  service: { name: string; clusterIP: string | null; port: number } | null;
  pods: PodRow[];
  /** The jobs as the job manager lists them (GET /jobs/overview through the API server); null when it cannot be asked. */
  jobs: Array<Record<string, unknown>> | null;
  jobsError?: string;
}

export async function statusKubernetes(api: KubernetesApi, ns: string, name: string): Promise<KubernetesStatus> {
  const names = objectNames(name);
  const deployments = await api.listDeployments(ns, selector(name));
  const service = await api.getService(ns, names.service);
  if (deployments.length === 0 && !service) throw new RlinkError('RLINK_KUBERNETES', `no rlink cluster named ${name} in namespace ${ns} at ${api.server}`);
  const pods = await api.listPods(ns, selector(name));
  let jobs: KubernetesStatus['jobs'] = null;
  let jobsError: string | undefined;
  try {
    const r = await api.proxyGet(ns, names.service, JOBMANAGER_PORT, 'jobs/overview');
    if (r.status === 200) jobs = (JSON.parse(r.body) as { jobs: Array<Record<string, unknown>> }).jobs;
    else jobsError = r.status === 503 ? 'the job manager is not ready' : `the job manager answered ${r.status}`;
  } catch (e) {
    jobsError = errorMessage(e);
  }
  return {
    name, namespace: ns, server: api.server,
    deployments: deployments.map((d: V1Deployment) => ({
      name: d.metadata?.name ?? '?', component: d.metadata?.labels?.[LABELS.component] ?? '?', desired: d.spec?.replicas ?? 0,
      ready: d.status?.readyReplicas ?? 0, available: d.status?.availableReplicas ?? 0,
    })).sort((a, b) => a.name.localeCompare(b.name)),
    service: service ? { name: names.service, clusterIP: service.spec?.clusterIP ?? null, port: JOBMANAGER_PORT } : null,
    pods: pods.map(podRow).sort((a, b) => a.component.localeCompare(b.component) || a.pod.localeCompare(b.pod)),
    jobs, ...(jobsError ? { jobsError } : {}),
  };
}

export interface KubernetesStopResult { name: string; namespace: string; deleted: string[]; podsGone: boolean }

/** Deletes the cluster (every object, every pod); an error when there is none. */
export async function stopKubernetes(api: KubernetesApi, ns: string, name: string, waitMs = 60_000): Promise<KubernetesStopResult> {
  const r = await removeCluster(api, ns, name, waitMs);
  if (r.deleted.length === 0) throw new RlinkError('RLINK_KUBERNETES', `no rlink cluster named ${name} in namespace ${ns} at ${api.server}`);
  return { name, namespace: ns, ...r };
}

// ---------- following the job through the API server ----------

/**
 * The application's job as the CLI follows it: GET /jobs/:id of the job manager through the API
 * server's service proxy. The job manager being replaced for a moment (503: no ready endpoint) is
 * waited out for up to 60 s; it cannot be cancelled this way (the token does not pass the proxy).
 */
export class KubernetesJobSource {
  constructor(private readonly api: KubernetesApi, private readonly ns: string, private readonly service: string) {}

  async job(id: string): Promise<JobDetails> {
    return retry(async () => {
      const r = await this.api.proxyGet(this.ns, this.service, JOBMANAGER_PORT, `jobs/${id}`);
      if (r.status === 200) return JSON.parse(r.body) as JobDetails;
      const message = (() => { try { return (JSON.parse(r.body) as { errors?: string[]; message?: string }).errors?.[0] ?? (JSON.parse(r.body) as { message?: string }).message; } catch { return r.body.slice(0, 200); } })();
      throw new RlinkError(r.status === 404 ? 'RLINK_NOT_FOUND' : 'RLINK_KUBERNETES', `the job manager of ${this.ns}/${this.service} answered ${r.status} for job ${id}${message ? `: ${message}` : ''}`, { retriable: r.status === 503 || r.status === 502 || r.status === 504 });
    }, {
      timeoutMs: 60_000, isRetriable: (e) => e instanceof RlinkError && e.retriable, backoff: { initialMs: 250, maxMs: 2_000 },
      fail: (last) => (last instanceof Error ? last : new RlinkError('RLINK_KUBERNETES', errorMessage(last))),
    });
  }

  /** Polls the job until it ends (FINISHED, FAILED, CANCELED). */
  async waitForJob(id: string, opts: { onUpdate?: (j: JobDetails) => void; intervalMs?: number } = {}): Promise<JobDetails> {
    for (;;) {
      const j = await this.job(id);
      opts.onUpdate?.(j);
      if (j.state === 'FINISHED' || j.state === 'FAILED' || j.state === 'CANCELED') return j;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
    }
  }
}
