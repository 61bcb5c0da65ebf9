import { Flags } from '@oclif/core';
import { loadStandaloneConfig, loadTaskManagers, type StandaloneConfig, type TaskManagerHost } from '../../deploy/config';
import type { DaemonRow } from '../../deploy/standalone';
import { renderTable } from './host-progress';

/** Flags of `rlink deploy|stop|status standalone`. */
export const standaloneFlags = {
  config: Flags.string({ description: 'The cluster file.', default: 'standalone.yaml' }),
  'task-managers': Flags.string({ description: 'The task-manager host list (one host[:ssh_port] per line).', default: 'task_managers' }),
  'accept-new-host-keys': Flags.boolean({ description: 'Trust and record the host key of a host not yet in known_hosts (as ssh\'s StrictHostKeyChecking=accept-new). A changed key is always refused.', default: false }),
};

/** Both files, validated (every problem at once, each with file and line). */
export function loadCluster(flags: { config: string; 'task-managers': string }): { config: StandaloneConfig; hosts: TaskManagerHost[] } {
  const config = loadStandaloneConfig(flags.config);
  const hosts = loadTaskManagers(flags['task-managers'], config.ssh.port);
  return { config, hosts };
}

export function daemonTable(rows: DaemonRow[]): string {
  return renderTable(['HOST', 'ROLE', 'NAME', 'PID', 'SLOTS', 'STATE', 'DETAIL'], rows.map((r) => [r.host, r.role, r.name, r.pid, r.slots, r.state, r.detail]));
}
