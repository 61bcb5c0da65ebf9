import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logging';
import { RlinkError } from '../core/errors';
import { TaskExecutor } from './task-executor';
import { JobManagerConnection } from './jobmanager-connection';
import { SlotDirectory } from './data-plane/slot-directory';
import { BundleCache } from './bundle-cache';
import { workerScript } from '../core/app/worker-scripts';
import { loadAppBundle } from '../core/app/load';
import { parseAddresses } from '../core/client/jobmanager-client';
import { slotCountProblem } from '../core/protocol/control-messages';

export interface TaskManagerDaemonOptions {
  /** The job manager's URL; with HA the leader and its standbys, in order (a list, or comma-separated). */
  jobManagerUrl: string | readonly string[];
  token: string;
  slots: number;
  /** Address the data (shuffle) server listens on (default 127.0.0.1). */
  bind?: string;
  /** Its port (default 0: any free port). */
  dataPort?: number;
  /** Host other task managers use to reach it (default: the bind address, or this host's name for 0.0.0.0). */
  advertisedHost?: string;
  workDir: string;
  logger: Logger;
  id?: string;
  heartbeatMs?: number;
}

export interface TaskManagerDaemon {
  id: string;
  dataAddress: string;
  /** Resolves when the daemon stops; rejects when the job manager refused it (wrong token). */
  done: Promise<void>;
  /** Test hook: stop sending heartbeats while staying connected. */
  pauseHeartbeats(): void;
  stop(): Promise<void>;
}

/**
 * A task manager process: slots on worker threads (TaskExecutor), each with its own data plane, the
 * slot directory that tells other task managers where each slot listens (SlotDirectory), a bundle
 * cache, and the control connection to the job manager. Slot workers start with the first task they
 * get (a worker is a V8 isolate: tens of MB and a few hundred ms of CPU). Losing the job manager cancels what runs here (the job manager redeploys after a restart).
 */
export async function startTaskManager(opts: TaskManagerDaemonOptions): Promise<TaskManagerDaemon> {
  const id = opts.id ?? `tm-${hostname()}-${randomUUID().slice(0, 6)}`;
  const log = opts.logger.child({ component: 'taskmanager', taskManager: id });
  const bind = opts.bind ?? '127.0.0.1';
  const advertisedHost = opts.advertisedHost ?? (bind === '0.0.0.0' || bind === '::' ? hostname() : bind);
  const problem = slotCountProblem(opts.slots);
  if (problem) throw new RlinkError('RLINK_LIMIT', `--slots ${opts.slots}: ${problem}`);
  const jobManagerUrls = parseAddresses(opts.jobManagerUrl);
  let executor: TaskExecutor | undefined;
  // Each slot worker owns its data sockets (data-plane/); this task manager's data address is the
  // directory that tells other task managers where each slot listens.
  const shuffle = new SlotDirectory({
    taskManagerId: id, token: opts.token, bind, port: opts.dataPort ?? 0, advertisedHost, logger: log,
    addressOf: (slot) => executor?.slotDataAddress(slot),
  });
  let dataAddress: string;
  try {
    dataAddress = await shuffle.start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new RlinkError('RLINK_CONFIG', `data port ${opts.dataPort} on ${bind} is already in use`, { context: { host: bind } });
    if (code === 'EADDRNOTAVAIL') throw new RlinkError('RLINK_CONFIG', `cannot listen on ${bind}: no such local address`, { context: { host: bind } });
    throw e;
  }
  let connection: JobManagerConnection | undefined;
  const bundles = new BundleCache(opts.workDir, () => connection?.jobManagerUrl ?? jobManagerUrls[0]!, opts.token);
  executor = new TaskExecutor({
    id, slots: opts.slots, mode: 'threads', workerScript: workerScript('slot'), logger: log, dataAddress,
    network: { token: opts.token, bind, advertisedHost },
    localizeApp: (ref) => bundles.localize(ref),
    resolveApp: async (ref) => loadAppBundle((await bundles.localize(ref) as { path: string }).path),
  });
  let refused: RlinkError | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (e: RlinkError) => void;
  const done = new Promise<void>((res, rej) => { resolveDone = res; rejectDone = rej; });
  connection = new JobManagerConnection({
    jobManagerUrls, token: opts.token, taskManagerId: id, logger: log,
    ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
    onConnected: (send) => executor!.connect(send),
    onDisconnected: (reason) => { log.warn({ event: 'jm.lost', reason }, `lost the job manager (${reason}): cancelling local tasks`); executor!.cancelAll(); },
    onRefused: (e) => { refused = e; void stop(); },
  });
  connection.start();
  const conn = connection;
  log.info({ event: 'taskmanager.started', slots: opts.slots, dataAddress }, `task manager ${id} started with ${opts.slots} slots, data at ${dataAddress}`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      conn.close();
      await executor!.shutdown();
      await shuffle.stop();
      if (refused) rejectDone(refused); else resolveDone();
    })();
    return stopping;
  };
  return { id, dataAddress, done, pauseHeartbeats: () => conn.pauseHeartbeats(), stop };
}
