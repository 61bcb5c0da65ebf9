/**
 * What the job manager and task manager do differently inside a YARN container (`--yarn-app <dir>`):
 * the token comes from the application's HDFS directory, the job manager publishes its address
 * there and then runs the application's job itself (YARN "application mode"), and task managers
 * find the job manager through that file. The container's host comes from YARN's NM_HOST.
 */
import { hostname } from 'node:os';
import { RlinkError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { WebHdfsClient } from '../../core/fs/webhdfs-client';
import { JobManagerClient } from '../../core/client/jobmanager-client';
import { poll } from '../../core/util/retry';
import { FILES, type ApplicationFile, type JobDescription, type JobManagerAddressFile } from './application';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface YarnContainer {
  dir: string;
  hdfs: WebHdfsClient;
  /** The address other containers and the client reach this one at. */
  host: string;
  containerId: string | undefined;
}

export function yarnContainer(appDir: string, webhdfs: string | undefined, env: NodeJS.ProcessEnv = process.env): YarnContainer {
  const base = webhdfs ?? env.RLINK_WEBHDFS;
  if (!base) throw new RlinkError('RLINK_CONFIG', '--yarn-app needs the WebHDFS address: --webhdfs or RLINK_WEBHDFS');
  return {
    dir: appDir,
    hdfs: new WebHdfsClient({ baseUrl: base, ...(env.HADOOP_USER_NAME ? { user: env.HADOOP_USER_NAME } : {}) }),
    host: env.NM_HOST ?? hostname(),
    containerId: env.CONTAINER_ID,
  };
}

export async function fetchToken(c: YarnContainer): Promise<string> {
  return (await c.hdfs.open(`${c.dir}/${FILES.token}`)).toString().trim();
}

export async function publishJobManager(c: YarnContainer, port: number): Promise<string> {
  const url = `http://${c.host}:${port}`;
  const file: JobManagerAddressFile = { url, ...(c.containerId ? { containerId: c.containerId } : {}) };
  await c.hdfs.create(`${c.dir}/${FILES.jobManager}`, JSON.stringify(file), { overwrite: true });
  return url;
}

/** Polls the application directory until the job manager has published its address (bounded). */
export async function discoverJobManager(c: YarnContainer, timeoutMs = 120_000): Promise<string> {
  return poll(async () => {
    const buf = await c.hdfs.tryOpen(`${c.dir}/${FILES.jobManager}`);
    return buf ? (JSON.parse(buf.toString()) as JobManagerAddressFile).url : undefined;
  }, {
    timeoutMs, intervalMs: 250,
    fail: () => new RlinkError('RLINK_YARN', `no job manager published its address in ${c.dir}/${FILES.jobManager} within ${Math.round(timeoutMs / 1000)}s`),
  });
}

/**
 * Application mode: once the expected task managers have registered, submit the application's job
 * to this job manager (through its own REST API, as any client would) and record the outcome in
 * application.json for the client that is waiting.
 */
export async function runApplication(c: YarnContainer, jobManagerUrl: string, token: string, log: Logger, timeoutMs = 300_000): Promise<void> {
  let outcome: ApplicationFile;
  const tmp = await mkdtemp(join(tmpdir(), 'rlink-yarn-app-'));
  try {
    const job = JSON.parse((await c.hdfs.open(`${c.dir}/${FILES.job}`)).toString()) as JobDescription;
    const bundle = join(tmp, FILES.bundle);
    await writeFile(bundle, await c.hdfs.open(`${c.dir}/${FILES.bundle}`));
    const jobid = await submitApplication({ jobManagerUrl, token, bundle, job, timeoutMs, code: 'RLINK_YARN' });
    log.info({ event: 'yarn.job-submitted', job: jobid }, `submitted the application's job ${job.name} (${jobid})`);
    outcome = { state: 'SUBMITTED', jobId: jobid };
  } catch (e) {
    log.error({ event: 'yarn.job-failed', err: errorMessage(e) }, `could not submit the application's job: ${errorMessage(e)}`);
    outcome = { state: 'FAILED', error: errorMessage(e) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await c.hdfs.create(`${c.dir}/${FILES.application}`, JSON.stringify(outcome), { overwrite: true });
}

/**
 * Application mode, shared by YARN and Kubernetes: waits (bounded) until the application's task
 * managers have registered with the job manager, then submits its job through the job manager's own
 * REST API, as any client would. Returns the job id.
 */
export async function submitApplication(o: { jobManagerUrl: string; token: string; bundle: string; job: JobDescription; timeoutMs: number; code: 'RLINK_YARN' | 'RLINK_KUBERNETES' }): Promise<string> {
  const client = new JobManagerClient(o.jobManagerUrl, o.token);
  let registered = 0;
  await poll(async () => {
    registered = (await client.taskManagers()).taskmanagers.length;
    return registered >= o.job.taskManagers ? registered : undefined;
  }, {
    timeoutMs: o.timeoutMs, intervalMs: 200,
    fail: () => new RlinkError(o.code, `only ${registered} of ${o.job.taskManagers} task managers registered within ${Math.round(o.timeoutMs / 1000)}s`),
  });
  const { application_id: applicationId } = await client.uploadApplication(o.bundle);
  const { jobid } = await client.runApplication(applicationId, o.job.args);
  return jobid;
}
