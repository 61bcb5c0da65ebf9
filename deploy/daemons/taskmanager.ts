/**
 * `taskmanager start`: the task manager daemon in the foreground. Its flags are declared here once;
 * the CLI command and the runtime bundle both call {@link runTaskManager}, which asks the
 * environment's bootstrap (deploy/bootstrap/) for the token, the job manager and the advertised
 * host, and starts taskmanager/daemon.ts.
 */
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/logging';
import { RlinkError } from '../../core/errors';
import { MAX_SLOTS_PER_TASK_MANAGER } from '../../core/protocol/control-messages';
import { startTaskManager } from '../../taskmanager/daemon';
import { taskManagerBootstrap } from '../bootstrap';
import type { FlagTable } from './flags';
import { untilStopped, type DaemonIo } from './signals';

export interface TaskManagerFlags {
  jm?: string | undefined;
  slots?: number | undefined;
  bind: string;
  'data-port': number;
  'advertised-host'?: string | undefined;
  'work-dir': string;
  'token-file'?: string | undefined;
  'yarn-app'?: string | undefined;
  webhdfs?: string | undefined;
  'kubernetes-service'?: string | undefined;
  id?: string | undefined;
  'heartbeat-interval': number;
  'log-level'?: string | undefined;
}

export const TASKMANAGER_SUMMARY = 'Start a task manager in the foreground and connect it to a job manager.';

export const TASKMANAGER_FLAGS: FlagTable<Omit<TaskManagerFlags, 'log-level'>> = {
  jm: { type: 'string', description: 'The job manager\'s URL (required unless --yarn-app or --kubernetes-service); with high availability the job managers\' URLs, comma-separated, tried in order.' },
  slots: { type: 'integer', description: 'Slots (worker threads); default: the number of cores.', min: 1, max: MAX_SLOTS_PER_TASK_MANAGER },
  bind: { type: 'string', description: 'Listen address of the data (shuffle) server.', default: '127.0.0.1' },
  'data-port': { type: 'integer', description: 'Port of the data server (0: any free port).', default: 0, min: 0, max: 65535 },
  'advertised-host': { type: 'string', description: 'Host name other task managers use to reach this one.' },
  'work-dir': { type: 'string', description: 'Where job bundles are cached.', default: join(homedir(), '.rlink', 'taskmanager') },
  'token-file': { type: 'string', description: 'File holding the cluster token (default: $RLINK_TOKEN, else ~/.rlink/token when it exists).' },
  'yarn-app': { type: 'string', helpGroup: 'YARN', description: 'Inside a YARN container: the application\'s HDFS directory (token and job manager address from there).' },
  webhdfs: { type: 'string', helpGroup: 'YARN', description: 'WebHDFS address for --yarn-app (default: $RLINK_WEBHDFS).' },
  'kubernetes-service': { type: 'string', helpGroup: 'KUBERNETES', description: 'Inside a Kubernetes pod: the job manager\'s Service (found through its environment variables; token from RLINK_TOKEN, advertised at POD_IP).' },
  id: { type: 'string', description: 'This task manager\'s id (default: tm-<hostname>-<random>); deploys name them tm-<host>-<instance>.' },
  'heartbeat-interval': { type: 'integer', description: 'Milliseconds between heartbeats.', default: 1000, min: 10, hidden: true },
};

export interface TaskManagerReady {
  id: string;
  dataAddress: string;
}

/** Starts the task manager, prints its ready line, runs until SIGINT/SIGTERM or until the job manager refuses it. */
export async function runTaskManager(flags: TaskManagerFlags, io: DaemonIo): Promise<TaskManagerReady> {
  const logger = createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'info' });
  const bootstrap = taskManagerBootstrap(flags);
  const token = await bootstrap.token();
  if (!token) throw new RlinkError('RLINK_CONFIG', 'no cluster token: set RLINK_TOKEN or pass --token-file');
  const jobManagerUrl = await bootstrap.jobManagerUrls();
  const advertisedHost = flags['advertised-host'] ?? bootstrap.advertisedHost();
  const id = flags.id ?? bootstrap.taskManagerId();
  const tm = await startTaskManager({
    jobManagerUrl, token, slots: flags.slots ?? availableParallelism(), bind: flags.bind, dataPort: flags['data-port'],
    workDir: flags['work-dir'], logger, heartbeatMs: flags['heartbeat-interval'],
    ...(advertisedHost ? { advertisedHost } : {}),
    ...(id ? { id } : {}),
  });
  const ready: TaskManagerReady = { id: tm.id, dataAddress: tm.dataAddress };
  if (io.json) io.log(JSON.stringify(ready));
  else io.log(`task manager ${tm.id} started (data at ${tm.dataAddress}), connecting to ${String(jobManagerUrl)}`);
  // Test hook: SIGUSR2 stops heartbeats (the job manager must then declare this task manager lost).
  process.on('SIGUSR2', () => tm.pauseHeartbeats());
  await untilStopped(io, tm.done);
  await tm.stop();
  await tm.done;
  return ready;
}
