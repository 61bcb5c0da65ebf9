/**
 * `rlink stop standalone`: stops every task manager on the task-manager hosts, then the job managers
 * (SIGTERM, then SIGKILL after a grace period, by the host scripts). Idempotent: a host where nothing
 * runs reports "not running".
 */
import { errorMessage } from '../../core/errors';
import type { StandaloneConfig, TaskManagerHost } from '../config';
import { settleWithLimit } from '../concurrency';
import { combinedError, connectHosts } from './cluster-hosts';
import type { DaemonRow, StandaloneOptions } from './deploy';
import { planTopology, type Machine } from './topology';

export interface StopResult { daemons: DaemonRow[]; wallMs: number }

export async function stopStandalone(config: StandaloneConfig, tmHosts: TaskManagerHost[], opts: StandaloneOptions): Promise<StopResult> {
  const t0 = Date.now();
  const progress = opts.onProgress ?? (() => {});
  const topology = planTopology(config, tmHosts);
  const conn = await connectHosts(config, topology.machines, opts);
  const rows: DaemonRow[] = [];
  try {
    const tmMachines = unique(topology.taskManagers.map((d) => d.machine));
    const jmMachines = unique(topology.jobManagers.map((d) => d.machine));
    const failures: unknown[] = [];
    for (const [role, machines, script, args] of [
      ['taskmanager', tmMachines, 'stop_task_manager.sh', ['--all']],
      ['jobmanager', jmMachines, 'stop_job_manager.sh', []],
    ] as const) {
      const results = await settleWithLimit(machines, config.deploy.concurrency, async (m) => {
        const h = conn.hosts.get(m.key)!;
        progress(m.host, `stopping ${role === 'taskmanager' ? 'task managers' : 'the job manager'}`);
        // No scripts on the host: nothing was ever deployed there.
        const statuses = (await h.hasScripts()) ? await h.script(script, [...args]) : [];
        for (const s of statuses) {
          if (role === 'taskmanager' && !s.daemon.startsWith('taskmanager')) continue;
          rows.push({ host: m.host, role, name: s.daemon, pid: s.pid, slots: null, state: s.state === 'stopped' && s.pid === null ? 'not running' : s.state, detail: '' });
        }
        if (statuses.length === 0) rows.push({ host: m.host, role, name: role === 'jobmanager' ? 'jobmanager' : 'taskmanager-*', pid: null, slots: null, state: 'not running', detail: '' });
        progress(m.host, statuses.map((s) => `${s.daemon} ${s.state}`).join(', ') || 'nothing running');
      });
      results.forEach((r, i) => { if (r.status === 'rejected') { failures.push(r.reason); progress(machines[i]!.host, `failed: ${errorMessage(r.reason)}`); } });
    }
    if (failures.length > 0) throw combinedError(failures, topology.machines.length, 'RLINK_DEPLOY');
    return { daemons: rows, wallMs: Date.now() - t0 };
  } finally {
    await conn.close();
  }
}

function unique(ms: Machine[]): Machine[] {
  return [...new Map(ms.map((m) => [m.key, m])).values()];
}
