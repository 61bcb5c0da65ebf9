import * as api from '../index';
import { installApi } from '../core/app/load';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import { checkpointStorageFor } from '../core/fs/checkpoint-storage';
import { CLOSE } from '../core/protocol/control-socket';
import { JobManager } from './job-manager';
import { TaskManagerEndpoint } from './taskmanager-endpoint';
import { createJobManagerServer } from './http/server';
import { ApplicationStore } from './http/application-store';
import { LeaderElection } from './ha/leader-election';
import { FileSystemJobStore, type JobRecord, type JobStore } from './ha/job-store';
import type { Leadership } from './ha/leadership';

export interface JobManagerDaemonOptions {
  port: number;
  /** Listen address (default 127.0.0.1: loopback only). */
  bind?: string;
  token: string;
  /** Where uploaded applications are stored. */
  dataDir: string;
  logger: Logger;
  heartbeatTimeoutMs?: number;
  maxUploadBytes?: number;
  /** Cluster defaults for system properties (a job's own value wins), as Flink's flink-conf.yaml. */
  defaultProperties?: Record<string, string>;
  /**
   * High availability (`metadata_storage: { type: FileSystem, path }`): a directory every job manager
   * of the cluster reaches (local, shared, or hdfs://). Jobs are recorded there and survive this
   * process; several job managers on it elect one leader, the others stand by.
   */
  metadataDir?: string;
  /** A leader that does not renew its lease for this long is replaced (default 6 s). */
  leaseMs?: number;
  /** The URL task managers and clients reach this job manager at (default: the listen address). */
  advertisedUrl?: string;
}

export interface JobManagerDaemon {
  url: string;
  jobManager: JobManager;
  /** Resolves once this job manager leads (at once without HA). */
  leading: Promise<void>;
  close(): Promise<void>;
}

/**
 * A job manager process: the REST API and the task managers' control socket on one port. With a
 * metadata directory, it joins the leader election first and serves only while it leads; on being
 * elected it recovers every job the previous leader left unfinished.
 */
export async function startJobManager(opts: JobManagerDaemonOptions): Promise<JobManagerDaemon> {
  installApi(api);
  const bind = opts.bind ?? '127.0.0.1';
  const log = opts.logger;
  let election: LeaderElection | undefined;
  const leadership: Leadership | undefined = opts.metadataDir === undefined ? undefined : {
    get isLeader() { return election?.isLeader ?? false; },
    get epoch() { return election?.leaderEpoch ?? 0; },
    get leaderUrl() { return election?.leader?.url; },
  };
  const storage = opts.metadataDir === undefined ? undefined : checkpointStorageFor(opts.metadataDir, process.env, opts.defaultProperties ?? {});
  const jobStore: JobStore | undefined = storage && opts.metadataDir !== undefined
    ? new FileSystemJobStore(storage, opts.metadataDir, () => election!.fence(), log) : undefined;
  const jobManager = new JobManager(log, {
    defaultProperties: opts.defaultProperties ?? {},
    ...(jobStore ? { store: jobStore, leaderEpoch: () => election?.leaderEpoch ?? 0 } : {}),
  });
  const endpoint = new TaskManagerEndpoint({
    jobManager, token: opts.token, logger: log,
    ...(opts.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}),
    ...(leadership ? { leadership } : {}),
  });
  const applications = new ApplicationStore(opts.dataDir, log.child({ component: 'jobmanager.http' }));
  const server = createJobManagerServer({
    jobManager, token: opts.token, dataDir: opts.dataDir, logger: log, store: applications,
    ...(opts.maxUploadBytes !== undefined ? { maxUploadBytes: opts.maxUploadBytes } : {}),
    ...(leadership ? { leadership } : {}),
    onUpgrade: (req, socket, head) => endpoint.handleUpgrade(req, socket, head),
  });
  let url: string;
  try {
    ({ url } = await server.listen(opts.port, bind));
  } catch (e) {
    endpoint.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new RlinkError('RLINK_CONFIG', `port ${opts.port} on ${bind} is already in use (is another job manager running?)`, { context: { host: bind } });
    if (code === 'EADDRNOTAVAIL') throw new RlinkError('RLINK_CONFIG', `cannot listen on ${bind}: no such local address`, { context: { host: bind } });
    throw e;
  }
  const selfUrl = opts.advertisedUrl ?? url;
  log.info({ event: 'jobmanager.started', url, ha: opts.metadataDir !== undefined }, `job manager listening on ${url}`);

  let resolveLeading!: () => void;
  const leading = new Promise<void>((r) => { resolveLeading = r; });
  if (storage && jobStore && opts.metadataDir !== undefined) {
    election = new LeaderElection({
      storage, dir: opts.metadataDir, url: selfUrl, logger: log, ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
      onChange: (e) => {
        if (e.kind === 'elected') {
          void recoverJobs(jobManager, jobStore, applications, log).finally(resolveLeading);
        } else {
          jobManager.suspendAll();
          endpoint.disconnectAll(CLOSE.staleLeader, `this job manager lost its leadership (epoch ${e.epoch})`);
        }
      },
    });
    election.start();
  } else resolveLeading();

  return {
    url: selfUrl, jobManager, leading,
    close: async () => {
      election?.stop();
      endpoint.close();
      // Without HA a stopping job manager cancels its jobs; with HA they stay recorded for the next leader.
      if (!jobStore) for (const j of jobManager.jobs.values()) j.cancel();
      else jobManager.suspendAll();
      await server.close();
    },
  };
}

/** Takes over the unfinished jobs of the metadata storage: each resumes from its latest completed checkpoint. */
async function recoverJobs(jm: JobManager, store: JobStore, applications: ApplicationStore, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'jobmanager.recovery' });
  let records: JobRecord[];
  try { records = await store.loadJobs(); } catch (e) {
    log.error({ event: 'recovery.failed', err: errorMessage(e) }, `cannot read the jobs of the metadata storage: ${errorMessage(e)}`);
    return;
  }
  for (const rec of records) {
    if (jm.jobs.has(rec.jobId)) continue;
    const terminal = rec.status === 'FINISHED' || rec.status === 'FAILED' || rec.status === 'CANCELED';
    if (terminal) continue;
    try {
      if (rec.status === 'CANCELLING') {
        // Cancelled before the failover: the old leader's tasks were cancelled with their connections.
        await store.saveJob({ ...rec, status: 'CANCELED', endTime: Date.now() });
        log.info({ event: 'recovery.canceled', job: rec.jobId }, `job ${rec.name} (${rec.jobId}) was being cancelled: CANCELED`);
        continue;
      }
      if (!rec.bundleHash) throw new RlinkError('RLINK_INTERNAL', 'its record names no bundle');
      const app = await applications.ensureBundle(rec.bundleHash, () => store.loadBundle(rec.bundleHash!));
      jm.recover(rec, { kind: 'bundle', path: app.path, hash: app.hash });
      log.info({ event: 'recovery.job', job: rec.jobId, status: rec.status, attempt: rec.attempt }, `recovering job ${rec.name} (${rec.jobId}), ${rec.status} at attempt ${rec.attempt}`);
    } catch (e) {
      log.error({ event: 'recovery.job-failed', job: rec.jobId, err: errorMessage(e) }, `cannot recover job ${rec.name} (${rec.jobId}): ${errorMessage(e)}`);
    }
  }
}
