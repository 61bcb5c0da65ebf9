/**
 * The overview, the job list and the task managers: each a read of the REST API rendered as a few
 * figures and a table, refreshed by the poll loop (app.ts).
 */
import { JOB_STATES, getJson, type ClusterOverview, type JobOverview, type TaskManager } from '../api';
import { badge, h, replace, stat, table } from '../dom';
import { bytes, duration, time } from '../format';

export interface Page {
  readonly element: HTMLElement;
  /** Reads what the page shows and renders it; rejects when the job manager cannot be read. */
  refresh(): Promise<void>;
  dispose?(): void;
}

export const jobLink = (j: { jid: string; name: string }) => h('a', { href: `#/jobs/${j.jid}`, 'data-testid': 'job-link', 'data-job-id': j.jid }, j.name);

function tasksSummary(tasks: Record<string, number>): string {
  return Object.entries(tasks).map(([s, n]) => `${n} ${s}`).join(', ') || '—';
}

function jobsTable(jobs: readonly JobOverview[], testid: string): HTMLElement {
  if (jobs.length === 0) return h('p', { class: 'empty', 'data-testid': testid }, 'No jobs.');
  const sorted = [...jobs].sort((a, b) => b['start-time'] - a['start-time']);
  return table(['Job', 'State', 'Started', 'Duration', 'Subtasks', 'Restarts', 'Id'],
    sorted.map((j) => [jobLink(j), badge(j.state), time(j['start-time']), duration(j.duration), tasksSummary(j.tasks), String(j.restarts), h('code', null, j.jid)]),
    { class: 'jobs', 'data-testid': testid });
}

export class OverviewPage implements Page {
  readonly element = h('section', { class: 'page overview', 'aria-labelledby': 'page-title' });

  async refresh(): Promise<void> {
    const [o, jobs] = await Promise.all([getJson<ClusterOverview>('/overview'), getJson<{ jobs: JobOverview[] }>('/jobs/overview')]);
    const byState = new Map<string, number>();
    for (const j of jobs.jobs) byState.set(j.state, (byState.get(j.state) ?? 0) + 1);
    const running = jobs.jobs.filter((j) => j.state === 'RUNNING' || j.state === 'RESTARTING' || j.state === 'CREATED' || j.state === 'FAILING' || j.state === 'CANCELLING');
    replace(this.element,
      h('h1', { id: 'page-title' }, 'Cluster overview'),
      h('div', { class: 'stats' },
        stat('Task managers', String(o.taskmanagers), 'overview-taskmanagers'),
        stat('Slots total', String(o['slots-total']), 'overview-slots-total'),
        stat('Slots available', String(o['slots-available']), 'overview-slots-available'),
        stat('Jobs running', String(o['jobs-running']), 'overview-jobs-running'),
        stat('Jobs finished', String(o['jobs-finished'])),
        stat('Jobs cancelled', String(o['jobs-cancelled'])),
        stat('Jobs failed', String(o['jobs-failed']))),
      h('h2', null, 'Jobs by state'),
      h('ul', { class: 'states', 'data-testid': 'jobs-by-state' },
        JOB_STATES.map((s) => h('li', { 'data-state': s, 'data-count': byState.get(s) ?? 0 }, badge(s), ' ', String(byState.get(s) ?? 0)))),
      h('h2', null, 'Running jobs'),
      jobsTable(running, 'running-jobs'),
      h('p', { class: 'version' }, `rlink ${o['rlink-version']}`));
  }
}

export class JobsPage implements Page {
  readonly element = h('section', { class: 'page jobs', 'aria-labelledby': 'page-title' });

  async refresh(): Promise<void> {
    const jobs = await getJson<{ jobs: JobOverview[] }>('/jobs/overview');
    replace(this.element, h('h1', { id: 'page-title' }, 'Jobs'), jobsTable(jobs.jobs, 'job-list'));
  }
}

export class TaskManagersPage implements Page {
  readonly element = h('section', { class: 'page taskmanagers', 'aria-labelledby': 'page-title' });

  async refresh(): Promise<void> {
    const { taskmanagers } = await getJson<{ taskmanagers: TaskManager[] }>('/taskmanagers');
    const rows = taskmanagers.map((t) => {
      const m = t.memory ?? null;
      const heap = m ? h('span', null, `${bytes(m.heapUsed)} / ${bytes(m.heapTotal)}`, h('meter', { min: 0, max: m.heapTotal, value: m.heapUsed, 'aria-label': 'heap used' })) : '—';
      return [
        h('code', { 'data-testid': 'tm-id' }, t.id),
        h('span', { 'data-testid': 'tm-slots' }, `${t.slotsNumber - t.freeSlots} used / ${t.slotsNumber}`),
        String(t.freeSlots),
        h('span', { 'data-testid': 'tm-heartbeat' }, `${duration(t.timeSinceLastHeartbeat)} ago`),
        h('span', { 'data-testid': 'tm-rss' }, m ? bytes(m.rss) : '—'),
        heap,
        m ? `${bytes(m.free)} free of ${bytes(m.physical)}` : '—',
        t.dataAddress ?? '—',
        time(t.registeredAt),
      ];
    });
    replace(this.element,
      h('h1', { id: 'page-title' }, 'Task managers'),
      taskmanagers.length === 0 ? h('p', { class: 'empty' }, 'No task manager is registered.')
        : table(['Id', 'Slots', 'Free', 'Last heartbeat', 'Memory (RSS)', 'Heap (main thread)', 'Host memory', 'Data address', 'Registered'], rows, { class: 'taskmanagers', 'data-testid': 'tm-table' }));
  }
}
