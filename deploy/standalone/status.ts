/**
 * `rlink status standalone`: what runs on each host (from its pid files, over SSH) and what the job
 * manager sees (registered task managers and their slots).
 */
import { errorMessage } from '../../core/errors';
import { readTokenFile } from '../../core/security/token';
import { JobManagerClient } from '../../core/client/jobmanager-client';
import type { StandaloneConfig, TaskManagerHost } from '../config';
import { settleWithLimit } from '../concurrency';
import { connectHosts } from './cluster-hosts';
import type { DaemonRow, StandaloneOptions } from './deploy';
import type { DaemonStatus } from './remote-host';
import { planTopology } from './topology';

export interface StatusResult { jobManagerUrl: string; jobManagerReachable: boolean; daemons: DaemonRow[] }

export async function statusStandalone(config: StandaloneConfig, tmHosts: TaskManagerHost[], opts: StandaloneOptions): Promise<StatusResult> {
  const topology = planTopology(config, tmHosts);
  const conn = await connectHosts(config, topology.machines, opts);
  try {
    const perMachine = new Map<string, DaemonStatus[] | string>();
    await settleWithLimit(topology.machines, config.deploy.concurrency, async (m) => {
      try { perMachine.set(m.key, await conn.hosts.get(m.key)!.status()); } catch (e) { perMachine.set(m.key, errorMessage(e)); }
    });
    const leader = topology.jobManagers[0]!.jobManagerUrl;
    const registered = new Map<string, number>();
    let reachable = false;
    try {
      let token: string | undefined;
      try { token = readTokenFile(config.auth.tokenFile); } catch { token = undefined; }
      const r = await new JobManagerClient(leader, token).taskManagers();
      reachable = true;
      for (const t of r.taskmanagers) registered.set(String(t.id), Number(t.slotsNumber ?? 0));
    } catch { reachable = false; }
    const rows: DaemonRow[] = [];
    for (const d of [...topology.jobManagers, ...topology.taskManagers]) {
      const st = perMachine.get(d.machine.key);
      const s = Array.isArray(st) ? st.find((x) => x.daemon === d.name) : undefined;
      let state = typeof st === 'string' ? `unknown (${st})` : !s ? 'not running' : s.state;
      if (d.role === 'jobmanager' && s?.state === 'running') state = d === topology.jobManagers[0] && !reachable ? 'running (REST unreachable)' : 'running';
      if (d.role === 'taskmanager' && s?.state === 'running') state = registered.has(d.taskManagerId!) ? 'registered' : 'running (not registered)';
      rows.push({
        host: d.machine.host, role: d.role, name: d.name, pid: s?.pid ?? null,
        slots: d.role === 'taskmanager' ? registered.get(d.taskManagerId!) ?? null : null, state,
        detail: d.role === 'jobmanager' ? d.jobManagerUrl : d.taskManagerId!,
      });
    }
    return { jobManagerUrl: leader, jobManagerReachable: reachable, daemons: rows };
  } finally {
    await conn.close();
  }
}
