/**
 * `rlink deploy standalone`: brings a cluster up on the hosts of standalone.yaml and task_managers.
 *
 * Flink's start-cluster.sh loops over the hosts with plain ssh (no host-key policy of its own, no
 * rollback) and rlink-rs leaves the hosts to the operator; here every step is checked and reported
 * per host: (1) in parallel under a concurrency limit, each machine is reached over SSH with its host
 * key verified, its Node checked, the runtime bundle and scripts uploaded unless the same version is
 * there, and the cluster token installed; (2) the job managers start; (3) the task managers start;
 * (4) the deploy waits until every task manager has registered. If any step fails, the daemons this
 * deploy started are stopped again, so a failed deploy leaves nothing half-started.
 */
import type { Logger } from '../../core/logging';
import { RlinkError, errorMessage } from '../../core/errors';
import { ensureTokenFile } from '../../core/security/token';
import { JobManagerClient } from '../../core/client/jobmanager-client';
import { poll } from '../../core/util/retry';
import type { StandaloneConfig, TaskManagerHost } from '../config';
import { settleWithLimit } from '../concurrency';
import { ensureRuntimeBundle } from '../runtime/runtime-bundle';
import { combinedError, connectHosts } from './cluster-hosts';
import type { DaemonStatus } from './remote-host';
import { jobManagerBind, planTopology, type Daemon, type DaemonRole } from './topology';

export interface StandaloneOptions {
  logger: Logger;
  acceptNewHostKeys?: boolean;
  /** One line of progress for a host (the CLI shows one line per host). */
  onProgress?: (host: string, message: string) => void;
  /** How long to wait for every task manager to register (default 60 s). */
  registrationTimeoutMs?: number;
}

/** One row of the summary table. */
export interface DaemonRow {
  host: string;
  role: DaemonRole;
  name: string;
  pid: number | null;
  slots: number | null;
  state: string;
  /** The job manager's URL, or the task manager's id. */
  detail: string;
}

export interface DeployResult {
  jobManagerUrl: string;
  tokenFile: string;
  tokenCreated: boolean;
  runtimeVersion: string;
  hostsUploaded: number;
  daemons: DaemonRow[];
  wallMs: number;
  /** Milliseconds per phase: connect, prepare (Node, runtime, token), jobmanagers, taskmanagers, registration. */
  phases: Record<string, number>;
}

export async function deployStandalone(config: StandaloneConfig, tmHosts: TaskManagerHost[], opts: StandaloneOptions): Promise<DeployResult> {
  const t0 = Date.now();
  const progress = opts.onProgress ?? (() => {});
  const topology = planTopology(config, tmHosts);
  const bundle = await ensureRuntimeBundle();
  const token = ensureTokenFile(config.auth.tokenFile);
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => { const now = Date.now(); phases[name] = now - mark; mark = now; };
  const conn = await connectHosts(config, topology.machines, opts);
  phase('connect');
  const host = (d: Daemon) => conn.hosts.get(d.machine.key)!;
  const started: { daemon: Daemon; status: DaemonStatus }[] = [];
  const statuses = new Map<Daemon, DaemonStatus>();
  let hostsUploaded = 0;
  try {
    // 1. Every machine: Node, runtime, token.
    const tokenFiles = new Map<string, string>();
    const prepared = await settleWithLimit(topology.machines, config.deploy.concurrency, async (m) => {
      const h = conn.hosts.get(m.key)!;
      progress(m.host, 'checking Node.js');
      const probe = await h.probe();
      const node = probe.node;
      if (probe.installed !== bundle.version) progress(m.host, `Node.js ${node}; uploading the runtime`);
      const installed = await h.installRuntime(bundle, probe.installed);
      if (installed === 'uploaded') hostsUploaded++;
      tokenFiles.set(m.key, await h.installToken(token.token));
      progress(m.host, `Node.js ${node}; runtime ${installed}; token installed`);
    });
    failOn(prepared, topology.machines.map((m) => m.host), progress);
    phase('prepare');

    // 2. Job managers, then 3. task managers.
    const defaults = clusterDefaults(config);
    await startAll(topology.jobManagers, async (d) => {
      progress(d.machine.host, 'starting the job manager');
      const port = new URL(d.jobManagerUrl).port || '80';
      return host(d).script('start_job_manager.sh', [
        '--port', port, '--bind', jobManagerBind(d.jobManagerUrl), '--token-file', tokenFiles.get(d.machine.key)!,
        '--data-dir', `${config.workDir}/jobmanager`, '--advertised-url', d.jobManagerUrl,
        ...(config.metadataStorage.type === 'FileSystem' ? ['--metadata-dir', config.metadataStorage.path] : []),
        ...defaults.flatMap((p) => ['--property', p]),
      ]);
    });
    phase('jobmanagers');
    await startAll(topology.taskManagers, async (d) => {
      progress(d.machine.host, `starting ${d.name}`);
      return host(d).script('start_task_manager.sh', [
        // Every job manager, in order: with HA the task manager fails over to the next one.
        '--instance', String(d.instance), '--jm', topology.jobManagers.map((j) => j.jobManagerUrl).join(','), '--slots', String(config.slots),
        '--bind', config.taskManagerBindIp, '--advertised-host', d.machine.host,
        '--token-file', tokenFiles.get(d.machine.key)!, '--work-dir', `${config.workDir}/${d.name}`, '--id', d.taskManagerId!,
      ]);
    });

    phase('taskmanagers');
    // 4. Every task manager registered with the leader (the first job manager that answers as one).
    const leader = topology.jobManagers[0]!.jobManagerUrl;
    const registered = await waitForRegistration(topology.jobManagers.map((j) => j.jobManagerUrl), token.token, topology.taskManagers, opts.registrationTimeoutMs ?? 60_000, config.workDir);
    phase('registration');
    for (const d of topology.taskManagers) progress(d.machine.host, `${d.name} registered (${registered.get(d.taskManagerId!) ?? '?'} slots)`);
    return {
      jobManagerUrl: leader, tokenFile: token.file, tokenCreated: token.created, runtimeVersion: bundle.version, hostsUploaded,
      daemons: [
        ...topology.jobManagers.map((d) => row(d, statuses.get(d), null, 'running')),
        ...topology.taskManagers.map((d) => row(d, statuses.get(d), registered.get(d.taskManagerId!) ?? null, 'registered')),
      ],
      wallMs: Date.now() - t0,
      phases,
    };
  } catch (e) {
    await rollBack();
    throw e;
  } finally {
    await conn.close();
  }

  async function startAll(daemons: Daemon[], start: (d: Daemon) => Promise<DaemonStatus[]>): Promise<void> {
    const results = await settleWithLimit(daemons, config.deploy.concurrency, async (d) => {
      const [s] = await start(d);
      if (!s) throw host(d).error(`${d.name}: the start script printed no status`);
      statuses.set(d, s);
      if (s.state === 'started') started.push({ daemon: d, status: s });
      progress(d.machine.host, s.state === 'started' ? `${d.name} started (pid ${s.pid})` : `${d.name} already running (pid ${s.pid})`);
    });
    failOn(results, daemons.map((d) => d.machine.host), progress);
  }

  /** Stops what this deploy started: task managers first, then job managers. */
  async function rollBack(): Promise<void> {
    const order = [...started].sort((a, b) => (a.daemon.role === b.daemon.role ? 0 : a.daemon.role === 'taskmanager' ? -1 : 1));
    for (const role of ['taskmanager', 'jobmanager'] as const) {
      await settleWithLimit(order.filter((s) => s.daemon.role === role), config.deploy.concurrency, async ({ daemon: d }) => {
        progress(d.machine.host, `rolling back: stopping ${d.name}`);
        const script = role === 'jobmanager' ? 'stop_job_manager.sh' : 'stop_task_manager.sh';
        const args = role === 'jobmanager' ? [] : ['--instance', String(d.instance)];
        try { await host(d).script(script, args); progress(d.machine.host, `rolled back: ${d.name} stopped`); } catch (e) {
          opts.logger.error({ event: 'deploy.rollback-failed', host: d.machine.host, err: errorMessage(e) }, `could not stop ${d.name} on ${d.machine.host}`);
        }
      });
    }
  }
}

/** System-property defaults the job managers hand to every job (standalone.yaml's checkpoint section). */
export function clusterDefaults(config: StandaloneConfig): string[] {
  const out: string[] = [];
  if (config.checkpoint?.dir) out.push(`checkpoint.dir=${config.checkpoint.dir}`);
  if (config.checkpoint?.interval) out.push(`checkpoint.interval=${config.checkpoint.interval}`);
  if (config.checkpoint?.dir.startsWith('hdfs://') && config.yarn?.webhdfs) out.push(`checkpoint.webhdfs=${config.yarn.webhdfs}`);
  return out;
}

function failOn(results: PromiseSettledResult<unknown>[], hosts: string[], progress: (h: string, m: string) => void): void {
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ host: hosts[i]!, reason: r.reason as unknown }] : []));
  for (const f of failed) progress(f.host, `failed: ${errorMessage(f.reason)}`);
  if (failed.length > 0) throw combinedError(failed.map((f) => f.reason), results.length, 'RLINK_DEPLOY');
}

function row(d: Daemon, s: DaemonStatus | undefined, slots: number | null, state: string): DaemonRow {
  return { host: d.machine.host, role: d.role, name: d.name, pid: s?.pid ?? null, slots, state, detail: d.role === 'jobmanager' ? d.jobManagerUrl : d.taskManagerId! };
}

/** Waits until every task manager's id is listed by the job manager; its slots by id. */
async function waitForRegistration(url: string | string[], token: string, tms: Daemon[], timeoutMs: number, workDir: string): Promise<Map<string, number>> {
  const client = new JobManagerClient(url, token);
  let lastError = '';
  let missing: Daemon[] = tms;
  return poll(async () => {
    const seen = new Map<string, number>();
    try {
      const r = await client.taskManagers();
      for (const t of r.taskmanagers) seen.set(String(t.id), Number(t.slotsNumber ?? 0));
    } catch (e) { lastError = errorMessage(e); }
    missing = tms.filter((d) => !seen.has(d.taskManagerId!));
    return missing.length === 0 ? seen : undefined;
  }, {
    timeoutMs, intervalMs: 100,
    fail: () => {
      const first = missing[0]!;
      return new RlinkError('RLINK_DEPLOY', `${first.machine.host}: ${first.name} did not register with the job manager at ${url} within ${Math.round(timeoutMs / 1000)}s`
        + `${missing.length > 1 ? ` (nor ${missing.slice(1).map((d) => `${d.name} on ${d.machine.host}`).join(', ')})` : ''}`
        + `${lastError ? `; last error: ${lastError}` : ''}; see ${workDir}/log/${first.name}.log on that host`, { context: { host: first.machine.host } });
    },
  });
}
