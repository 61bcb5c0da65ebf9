import * as api from '../index';
import { installApi } from '../core/app/load';
import type { Logger } from '../core/logging';
import { RlinkError } from '../core/errors';
import { JobManager } from './job-manager';
import { TaskManagerEndpoint } from './taskmanager-endpoint';
import { createJobManagerServer } from './http/server';

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
}

export interface JobManagerDaemon {
  url: string;
  jobManager: JobManager;
  close(): Promise<void>;
}

/** A job manager process: the REST API and the task managers' control socket on one port. */
export async function startJobManager(opts: JobManagerDaemonOptions): Promise<JobManagerDaemon> {
  installApi(api);
  const bind = opts.bind ?? '127.0.0.1';
  const jobManager = new JobManager(opts.logger, {}, opts.defaultProperties);
  const endpoint = new TaskManagerEndpoint({
    jobManager, token: opts.token, logger: opts.logger,
    ...(opts.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}),
  });
  const server = createJobManagerServer({
    jobManager, token: opts.token, dataDir: opts.dataDir, logger: opts.logger,
    ...(opts.maxUploadBytes !== undefined ? { maxUploadBytes: opts.maxUploadBytes } : {}),
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
  opts.logger.info({ event: 'jobmanager.started', url }, `job manager listening on ${url}`);
  return {
    url, jobManager,
    close: async () => { endpoint.close(); for (const j of jobManager.jobs.values()) j.cancel(); await server.close(); },
  };
}
