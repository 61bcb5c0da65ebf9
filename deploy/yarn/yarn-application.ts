/**
 * The client side of rlink on YARN: `rlink submit --yarn` (upload, create the service, wait until the
 * job runs), `rlink yarn status` and `rlink yarn kill`. A submission that fails at any step destroys
 * the service and deletes the application directory again, so nothing is left half-started.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../core/logging';
import { RlinkError, errorMessage } from '../../core/errors';
import { WebHdfsClient } from '../../core/fs/webhdfs-client';
import { JobManagerClient } from '../../core/client/jobmanager-client';
import { poll } from '../../core/util/retry';
import { ensureRuntimeBundle } from '../runtime/runtime-bundle';
import { YarnClient, type YarnServiceStatus } from './yarn-client';
import { FILES, applicationDir, serviceNameProblem, serviceSpec, type ApplicationFile, type JobDescription, type JobManagerAddressFile, type ServiceResources } from './application';

export interface YarnEndpoints {
  webhdfs: string;
  resourceManager: string;
  user: string;
}

export interface YarnSubmitOptions extends YarnEndpoints, ServiceResources {
  application: string;
  /** The job's bundle (made by the CLI with esbuild). */
  bundlePath: string;
  jobName: string;
  args: Record<string, string>;
  /** The node binary inside the containers (default: node). */
  node?: string;
  logger: Logger;
  onProgress?: (message: string) => void;
  /** How long the service may take to run the job (default 180 s). */
  startTimeoutMs?: number;
}

export interface YarnSubmission {
  application: string;
  applicationId: string | undefined;
  directory: string;
  jobManagerUrl: string;
  jobId: string;
  token: string;
}

function clients(e: YarnEndpoints, logger?: Logger) {
  return {
    hdfs: new WebHdfsClient({ baseUrl: e.webhdfs, user: e.user }),
    yarn: new YarnClient({ resourceManager: e.resourceManager, user: e.user, ...(logger ? { logger } : {}) }),
  };
}

export async function submitToYarn(o: YarnSubmitOptions): Promise<YarnSubmission> {
  const progress = o.onProgress ?? (() => {});
  const problem = serviceNameProblem(o.application);
  if (problem) throw new RlinkError('RLINK_CONFIG', `--applicationName ${problem}`);
  const { hdfs, yarn } = clients(o, o.logger);
  if (await yarn.getService(o.application)) {
    throw new RlinkError('RLINK_YARN', `a YARN service named ${o.application} exists already at ${o.resourceManager} (\`rlink yarn kill ${o.application}\` removes it)`);
  }
  const dir = applicationDir(o.user, o.application);
  const token = randomBytes(32).toString('hex');
  let created = false;
  try {
    const runtime = await ensureRuntimeBundle();
    progress(`uploading the runtime and the job to ${o.webhdfs}${dir}`);
    await hdfs.delete(dir, true);
    await hdfs.mkdirs(dir, '700');
    await hdfs.create(`${dir}/${FILES.runtime}`, await readFile(runtime.path), { overwrite: true });
    await hdfs.create(`${dir}/${FILES.bundle}`, await readFile(o.bundlePath), { overwrite: true });
    const job: JobDescription = { name: o.jobName, args: o.args, taskManagers: o.taskManagers };
    await hdfs.create(`${dir}/${FILES.job}`, JSON.stringify(job), { overwrite: true });
    await hdfs.create(`${dir}/${FILES.token}`, token, { overwrite: true, permission: '600' });

    progress(`creating YARN service ${o.application}: 1 job manager, ${o.taskManagers} task managers (${o.memoryMb} MB, ${o.vCores} vcores each)`);
    await yarn.createService(serviceSpec({
      name: o.application, dir, webhdfs: o.webhdfs, user: o.user, node: o.node ?? 'node',
      taskManagers: o.taskManagers, memoryMb: o.memoryMb, vCores: o.vCores, masterMemoryMb: o.masterMemoryMb, masterVCores: o.masterVCores,
      ...(o.queue ? { queue: o.queue } : {}),
    }));
    created = true;

    // Until the job manager has submitted the job: watch the service (a failed container fails the
    // submission with YARN's diagnostics) and the application directory.
    const startTimeoutMs = o.startTimeoutMs ?? 180_000;
    let lastState = '';
    return await poll(async (): Promise<YarnSubmission | undefined> => {
      const svc = await yarn.getService(o.application);
      if (!svc) throw new RlinkError('RLINK_YARN', `YARN service ${o.application} disappeared while starting`);
      if (svc.state !== lastState) { progress(`service ${o.application} ${svc.state}`); lastState = svc.state; }
      const failure = serviceFailure(svc);
      if (failure) throw new RlinkError('RLINK_YARN', `YARN service ${o.application} failed to start: ${failure}`);
      const app = await hdfs.tryOpen(`${dir}/${FILES.application}`);
      if (!app) return undefined;
      const outcome = JSON.parse(app.toString()) as ApplicationFile;
      if (outcome.state === 'FAILED') throw new RlinkError('RLINK_YARN', `YARN service ${o.application}: the job manager could not run the job: ${outcome.error}`);
      const jm = JSON.parse((await hdfs.open(`${dir}/${FILES.jobManager}`)).toString()) as JobManagerAddressFile;
      progress(`job ${outcome.jobId} submitted to the job manager at ${jm.url}`);
      return { application: o.application, applicationId: svc.id, directory: dir, jobManagerUrl: jm.url, jobId: outcome.jobId, token };
    }, {
      timeoutMs: startTimeoutMs, intervalMs: 250,
      fail: () => new RlinkError('RLINK_YARN', `YARN service ${o.application} did not run the job within ${Math.round(startTimeoutMs / 1000)}s (state ${lastState})`),
    });
  } catch (e) {
    progress(`failed: ${errorMessage(e)}; cleaning up`);
    if (created) await yarn.destroyService(o.application).catch((x: unknown) => o.logger.error({ err: errorMessage(x) }, `could not destroy YARN service ${o.application}`));
    await hdfs.delete(dir, true).catch((x: unknown) => o.logger.error({ err: errorMessage(x) }, `could not delete ${dir}`));
    throw e;
  }
}

/** A failed service or container, with YARN's diagnostics; undefined while all is well. */
function serviceFailure(svc: YarnServiceStatus): string | undefined {
  for (const c of svc.components) {
    for (const k of c.containers) {
      if (k.state === 'FAILED' || (k.exit_status !== undefined && k.exit_status !== 0 && k.exit_status !== null)) {
        return `component ${c.name} container ${k.id}${k.bare_host ? ` on ${k.bare_host}` : ''} exited${k.exit_status !== undefined ? ` with code ${k.exit_status}` : ''}${k.diagnostics ? `: ${k.diagnostics.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      }
    }
  }
  if (svc.state === 'FAILED') return svc.diagnostics ?? 'the service FAILED';
  return undefined;
}

export interface YarnApplicationStatus {
  application: string;
  service: YarnServiceStatus | null;
  jobManagerUrl: string | null;
  jobs: Array<Record<string, unknown>>;
}

export async function yarnStatus(e: YarnEndpoints & { application: string }): Promise<YarnApplicationStatus> {
  const { hdfs, yarn } = clients(e);
  const service = await yarn.getService(e.application);
  if (!service) throw new RlinkError('RLINK_YARN', `no YARN service named ${e.application} at ${e.resourceManager}`);
  const dir = applicationDir(e.user, e.application);
  let jobManagerUrl: string | null = null;
  let jobs: Array<Record<string, unknown>> = [];
  const jm = await hdfs.tryOpen(`${dir}/${FILES.jobManager}`).catch(() => null);
  if (jm) {
    jobManagerUrl = (JSON.parse(jm.toString()) as JobManagerAddressFile).url;
    const token = (await hdfs.tryOpen(`${dir}/${FILES.token}`).catch(() => null))?.toString().trim();
    jobs = await new JobManagerClient(jobManagerUrl, token).jobs().then((r) => r.jobs).catch(() => []);
  }
  return { application: e.application, service, jobManagerUrl, jobs };
}

/** Destroys the service and deletes its HDFS directory; an error when neither exists. */
export async function yarnKill(e: YarnEndpoints & { application: string }): Promise<{ application: string; service: boolean; directory: boolean }> {
  const { hdfs, yarn } = clients(e);
  const service = (await yarn.getService(e.application)) !== null;
  if (service) await yarn.destroyService(e.application);
  const directory = await hdfs.delete(applicationDir(e.user, e.application), true);
  if (!service && !directory) throw new RlinkError('RLINK_YARN', `no YARN service named ${e.application} at ${e.resourceManager} (and no ${applicationDir(e.user, e.application)} in HDFS)`);
  return { application: e.application, service, directory };
}
