/**
 * A YARN application of rlink: its directory in HDFS and the service that runs it.
 *
 * Flink's YARN client ships its jars to a staging directory and starts an application master that
 * it then parses log lines from; rlink-rs starts a Java bridge process. Here the whole exchange is
 * files in one HDFS directory and the YARN Services REST API:
 *
 *   /user/<hdfs user>/.rlink/<application name>/
 *     rlink.mjs         the runtime bundle (localized into every container as a STATIC file)
 *     job.mjs           the job's bundle
 *     job.json          what to run: arguments, the number of task managers to wait for
 *     token             the cluster token (permission 600)
 *     jobmanager.json   written by the job manager once it listens: { url }
 *     application.json  written by the job manager once it submitted the job: { state, jobId | error }
 */
import type { YarnServiceSpec } from './yarn-client';

export const FILES = {
  runtime: 'rlink.mjs',
  bundle: 'job.mjs',
  job: 'job.json',
  token: 'token',
  jobManager: 'jobmanager.json',
  application: 'application.json',
} as const;

export interface JobDescription {
  name: string;
  args: Record<string, string>;
  taskManagers: number;
}

export interface JobManagerAddressFile { url: string; containerId?: string }
export type ApplicationFile = { state: 'SUBMITTED'; jobId: string } | { state: 'FAILED'; error: string };

export function applicationDir(user: string, application: string): string {
  return `/user/${user}/.rlink/${application}`;
}

/** YARN service names are DNS labels: lower case letters, digits and '-', starting with a letter, ≤ 63. */
export function serviceNameProblem(name: string): string | undefined {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name) || name.endsWith('-')) return `'${name}' is not a valid YARN service name (lower-case letters, digits and '-', starting with a letter, at most 63 characters)`;
  return undefined;
}

export interface ServiceResources {
  taskManagers: number;
  memoryMb: number;
  vCores: number;
  masterMemoryMb: number;
  masterVCores: number;
  queue?: string;
}

/**
 * The service: a `jobmanager` component (1 container, never restarted: a new job manager would not
 * know the running job) and a `taskmanager` component of N containers (restarted on failure; the job
 * then restarts from its last checkpoint). Each task manager gets one slot per vcore.
 */
export function serviceSpec(opts: { name: string; dir: string; webhdfs: string; user: string; node: string } & ServiceResources): YarnServiceSpec {
  const runtime = { type: 'STATIC' as const, src_file: `hdfs://${opts.dir}/${FILES.runtime}`, dest_file: FILES.runtime };
  const env = { RLINK_WEBHDFS: opts.webhdfs, HADOOP_USER_NAME: opts.user, RLINK_LOG_LEVEL: 'info' };
  const yarnFlags = `--yarn-app ${opts.dir} --webhdfs ${opts.webhdfs}`;
  return {
    name: opts.name,
    version: '1',
    ...(opts.queue ? { queue: opts.queue } : {}),
    components: [
      {
        name: 'jobmanager', number_of_containers: 1, restart_policy: 'NEVER',
        resource: { cpus: opts.masterVCores, memory: String(opts.masterMemoryMb) },
        launch_command: `${opts.node} ${FILES.runtime} jobmanager start --port 0 --bind 0.0.0.0 --data-dir ./jobmanager ${yarnFlags}`,
        configuration: { env, files: [runtime] },
      },
      {
        name: 'taskmanager', number_of_containers: opts.taskManagers, restart_policy: 'ON_FAILURE', dependencies: ['jobmanager'],
        resource: { cpus: opts.vCores, memory: String(opts.memoryMb) },
        launch_command: `${opts.node} ${FILES.runtime} taskmanager start --slots ${opts.vCores} --bind 0.0.0.0 --work-dir ./taskmanager ${yarnFlags}`,
        configuration: { env, files: [runtime] },
      },
    ],
  };
}
