import { Flags } from '@oclif/core';
import { loadStandaloneConfig, loadTaskManagers, type StandaloneConfig, type TaskManagerHost } from '../../deploy/config';
import type { DaemonRow, StandaloneOptions } from '../../deploy/standalone';
import { createLogger } from '../../core/logging';
import { HostProgress, renderTable } from './host-progress';

/** Flags of `rlink deploy|stop|status standalone`. */
export const standaloneFlags = {
  config: Flags.string({ description: 'The cluster file.', default: 'standalone.yaml' }),
  'task-managers': Flags.string({ description: 'The task-manager host list (one host[:ssh_port] per line).', default: 'task_managers' }),
  'accept-new-host-keys': Flags.boolean({ description: 'Trust and record the host key of a host not yet in known_hosts (as ssh\'s StrictHostKeyChecking=accept-new). A changed key is always refused.', default: false }),
};

type StandaloneFlags = { config: string; 'task-managers': string; 'accept-new-host-keys': boolean; 'log-level'?: string | undefined };

/**
 * What every standalone command starts from: both files, validated (every problem at once, each with
 * file and line), and the options of the deploy layer (logger, host-key policy, progress lines on
 * stderr unless `progress` is false).
 */
export function loadCluster(flags: StandaloneFlags, progress: boolean): { config: StandaloneConfig; hosts: TaskManagerHost[]; options: StandaloneOptions } {
  const config = loadStandaloneConfig(flags.config);
  const hosts = loadTaskManagers(flags['task-managers'], config.ssh.port);
  const options: StandaloneOptions = {
    logger: createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'warn' }),
    acceptNewHostKeys: flags['accept-new-host-keys'],
    onProgress: new HostProgress(process.stderr, progress).update,
  };
  return { config, hosts, options };
}

export function daemonTable(rows: DaemonRow[]): string {
  return renderTable(['HOST', 'ROLE', 'NAME', 'PID', 'SLOTS', 'STATE', 'DETAIL'], rows.map((r) => [r.host, r.role, r.name, r.pid, r.slots, r.state, r.detail]));
}
