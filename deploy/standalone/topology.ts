/**
 * What a standalone cluster is made of, from standalone.yaml and task_managers: the machines to
 * reach over SSH (one session each, however many daemons they run) and the daemons on them.
 */
import type { StandaloneConfig, TaskManagerHost } from '../config';

export interface Machine {
  /** host:sshPort — the key of a machine. */
  key: string;
  host: string;
  sshPort: number;
}

export type DaemonRole = 'jobmanager' | 'taskmanager';

export interface Daemon {
  role: DaemonRole;
  machine: Machine;
  /** The daemon's name on its host: its pid file is run/<name>.pid (see scripts/lib.sh). */
  name: string;
  /** jobmanager: its URL; taskmanager: the URL of the job manager it joins. */
  jobManagerUrl: string;
  /** Task managers: the instance on their host and the id they register with. */
  instance?: number;
  taskManagerId?: string;
}

export interface Topology {
  machines: Machine[];
  jobManagers: Daemon[];
  taskManagers: Daemon[];
}

export function planTopology(config: StandaloneConfig, hosts: TaskManagerHost[]): Topology {
  const machines = new Map<string, Machine>();
  const machine = (host: string, sshPort: number): Machine => {
    const key = `${host}:${sshPort}`;
    let m = machines.get(key);
    if (!m) { m = { key, host, sshPort }; machines.set(key, m); }
    return m;
  };
  const jobManagers: Daemon[] = config.jobManagers.map((jm) => ({
    role: 'jobmanager', machine: machine(jm.host, config.ssh.port), name: 'jobmanager', jobManagerUrl: jm.url,
  }));
  const leader = config.jobManagers[0]!.url;
  const taskManagers: Daemon[] = hosts.map((h) => ({
    role: 'taskmanager', machine: machine(h.host, h.sshPort), name: `taskmanager-${h.instance}`, jobManagerUrl: leader,
    instance: h.instance, taskManagerId: `tm-${h.host}-${h.instance}`,
  }));
  return { machines: [...machines.values()], jobManagers, taskManagers };
}

/** The address to bind a job manager to: the URL's host when it is an IP literal, else every interface. */
export function jobManagerBind(url: string): string {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':') ? host : '0.0.0.0';
}
