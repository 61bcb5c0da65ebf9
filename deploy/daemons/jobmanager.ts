/**
 * `jobmanager start`: the job manager daemon in the foreground, wherever it was started (a terminal,
 * a host script, a YARN container, a Kubernetes pod). Its flags are declared here once; the CLI
 * command and the runtime bundle both call {@link runJobManager}, which asks the environment's
 * bootstrap (deploy/bootstrap/) for the token and what to do once listening, and starts
 * jobmanager/daemon.ts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/logging';
import { RlinkError } from '../../core/errors';
import { DEFAULT_TOKEN_FILE, ensureTokenFile } from '../../core/security/token';
import { toMillis } from '../../core/time/duration';
import { startJobManager } from '../../jobmanager/daemon';
import { jobManagerBootstrap } from '../bootstrap';
import type { FlagTable } from './flags';
import { untilStopped, type DaemonIo } from './signals';

export interface JobManagerFlags {
  port: number;
  bind: string;
  'token-file'?: string | undefined;
  'data-dir': string;
  'heartbeat-timeout': string;
  property?: string[] | undefined;
  'yarn-app'?: string | undefined;
  webhdfs?: string | undefined;
  'kubernetes-service'?: string | undefined;
  'kubernetes-application'?: string | undefined;
  'max-upload-mb': number;
  'metadata-dir'?: string | undefined;
  'advertised-url'?: string | undefined;
  'lease-timeout': string;
  'log-level'?: string | undefined;
}

export const JOBMANAGER_SUMMARY = 'Start a job manager in the foreground.';
export const JOBMANAGER_DESCRIPTION = `Serves the REST API and the task managers' control socket on one port. Listens on loopback unless --bind says otherwise. Mutating requests and task managers need the cluster token: from RLINK_TOKEN or --token-file; with neither, one is generated (mode 0600) in ${DEFAULT_TOKEN_FILE}.`;

export const JOBMANAGER_FLAGS: FlagTable<Omit<JobManagerFlags, 'log-level'>> = {
  port: { type: 'integer', description: 'HTTP port.', default: 8770, min: 0, max: 65535 },
  bind: { type: 'string', description: 'Listen address.', default: '127.0.0.1' },
  'token-file': { type: 'string', description: `File holding the cluster token (default: $RLINK_TOKEN, else generated in ${DEFAULT_TOKEN_FILE}).` },
  'data-dir': { type: 'string', description: 'Where uploaded applications are kept.', default: join(homedir(), '.rlink', 'jobmanager') },
  'heartbeat-timeout': { type: 'string', description: 'A task manager silent this long is lost.', default: '10s' },
  property: { type: 'string', multiple: true, description: 'A cluster default for a system property, as key=value (repeatable): jobs inherit it unless they set the key themselves (e.g. checkpoint.dir=/data/rlink/checkpoints).' },
  'yarn-app': { type: 'string', helpGroup: 'YARN', description: 'Inside a YARN container: the application\'s HDFS directory (token from there; the address is published there; the application\'s job is run once its task managers registered).' },
  webhdfs: { type: 'string', helpGroup: 'YARN', description: 'WebHDFS address for --yarn-app (default: $RLINK_WEBHDFS).' },
  'kubernetes-service': { type: 'string', helpGroup: 'KUBERNETES', description: 'Inside a Kubernetes pod: the cluster\'s Service (token from RLINK_TOKEN, advertised at POD_IP).' },
  'kubernetes-application': { type: 'string', helpGroup: 'KUBERNETES', description: 'Inside a Kubernetes pod: the directory of the mounted application (job.mjs, job.json); its job is run once its task managers registered.' },
  'max-upload-mb': { type: 'integer', description: 'Largest accepted job bundle, in MiB.', default: 64, min: 1 },
  'metadata-dir': { type: 'string', helpGroup: 'HIGH AVAILABILITY', description: 'High availability: a directory every job manager of the cluster reaches (shared path, or hdfs://…). Jobs are recorded there and survive this process; job managers on the same directory elect a leader, the others stand by.' },
  'advertised-url': { type: 'string', helpGroup: 'HIGH AVAILABILITY', description: 'The URL task managers and clients reach this job manager at (default: the listen address); the leader publishes it to standbys.' },
  'lease-timeout': { type: 'string', helpGroup: 'HIGH AVAILABILITY', description: 'A leader that does not renew its lease for this long is replaced by a standby.', default: '6s' },
};

export interface JobManagerReady {
  url: string;
  tokenFile: string | null;
}

/** Starts the job manager, prints its ready line, runs until SIGINT/SIGTERM (or a fatal error), then stops it. */
export async function runJobManager(flags: JobManagerFlags, io: DaemonIo): Promise<JobManagerReady> {
  const logger = createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'info' });
  const bootstrap = jobManagerBootstrap(flags);
  let token = await bootstrap.token();
  let tokenFile: string | null = flags['token-file'] ?? null;
  if (!token) {
    const t = ensureTokenFile(DEFAULT_TOKEN_FILE);
    token = t.token;
    tokenFile = t.file;
    process.stderr.write(`${t.created ? 'generated a cluster token in' : 'using the cluster token in'} ${t.file} (mode ${t.mode})\n`);
  }
  const heartbeatTimeoutMs = toMillis(flags['heartbeat-timeout'], '--heartbeat-timeout');
  if (heartbeatTimeoutMs < 100) throw new RlinkError('RLINK_CONFIG', `--heartbeat-timeout ${flags['heartbeat-timeout']} is too short (at least 100ms)`);
  const jm = await startJobManager({
    port: flags.port, bind: flags.bind, token, dataDir: flags['data-dir'], logger,
    heartbeatTimeoutMs, maxUploadBytes: flags['max-upload-mb'] * 1024 * 1024,
    defaultProperties: parseDefaultProperties(flags.property ?? []),
    ...(flags['metadata-dir'] ? { metadataDir: flags['metadata-dir'], leaseMs: toMillis(flags['lease-timeout'], '--lease-timeout') } : {}),
    ...(flags['advertised-url'] ? { advertisedUrl: flags['advertised-url'] } : {}),
  });
  let fatal: Error | undefined;
  let onFatal!: () => void;
  const failed = new Promise<void>((r) => { onFatal = r; });
  let url: string;
  try {
    url = await bootstrap.jobManagerStarted({ url: jm.url, token, logger, fatal: (e) => { fatal ??= e; onFatal(); } });
  } catch (e) {
    await jm.close();
    throw e;
  }
  const ready: JobManagerReady = { url, tokenFile };
  if (io.json) io.log(JSON.stringify(ready));
  else io.log(`job manager listening on ${jm.url}${flags['metadata-dir'] ? ` (high availability through ${flags['metadata-dir']}: leads once elected)` : ''}`);
  await untilStopped(io, failed);
  await jm.close();
  if (fatal) throw fatal;
  return ready;
}

/** `key=value` pairs of --property; a pair without `=` is refused, naming it. */
export function parseDefaultProperties(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new RlinkError('RLINK_CONFIG', `--property ${p}: expected key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
