/**
 * One job: its state, the actions (cancel, savepoint, stop with a savepoint), and three tabs:
 *
 *   #/jobs/<id>                      the DAG and a table of its vertices
 *   #/jobs/<id>/vertices/<vertex>    … with that vertex's subtasks and back pressure
 *   #/jobs/<id>/checkpoints          counts, latest, summary, history, latest restore
 *   #/jobs/<id>/exceptions           the failure causes of the job's attempts
 */
import {
  ApiError, TERMINAL, getJson, jobPath, mutate,
  type Backpressure, type Checkpoints, type Exceptions, type JobDetails, type Vertex,
} from '../api';
import { DagView } from '../dag';
import { formDialog, notice, tokenFields } from '../dialogs';
import { badge, h, replace, stat, table, type Child } from '../dom';
import { bytes, duration, level, percent, rate, time, watermark } from '../format';
import type { Page } from './simple';

export type JobTab = 'graph' | 'checkpoints' | 'exceptions';

const SAVEPOINT_DIR_KEY = 'rlink.savepointDir';

export class JobPage implements Page {
  readonly element = h('section', { class: 'page job', 'aria-labelledby': 'page-title' });
  private readonly header = h('div', { class: 'job-header' });
  private readonly actions = h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Job actions' });
  private readonly tabs = h('nav', { class: 'tabs', 'aria-label': 'Job views' });
  private readonly content = h('div', { class: 'tab-content' });
  private readonly dagBox = h('div', { class: 'dag-scroll', 'data-testid': 'dag-container' });
  private readonly vertexTable = h('div', { class: 'vertex-table' });
  private readonly vertexPanel = h('div', { class: 'vertex-panel' });
  private dag: DagView | undefined;
  private dagKey = '';
  private last: JobDetails | undefined;
  private cancelButton: HTMLButtonElement;
  private savepointButton: HTMLButtonElement;
  private stopButton: HTMLButtonElement;

  constructor(private readonly jobId: string, private tab: JobTab, private vertexId: string | undefined) {
    this.cancelButton = h('button', { type: 'button', class: 'danger', 'data-testid': 'action-cancel', onclick: () => void this.cancel() }, 'Cancel job');
    this.savepointButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'action-savepoint', onclick: () => void this.savepoint(false) }, 'Savepoint');
    this.stopButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'action-stop', onclick: () => void this.savepoint(true) }, 'Stop with savepoint');
    this.actions.append(this.savepointButton, this.stopButton, this.cancelButton);
    this.element.append(this.header, this.actions, this.tabs, this.content);
    this.renderTabs();
  }

  /** Same job, another tab or vertex (the hash changed). */
  setRoute(tab: JobTab, vertexId: string | undefined): void {
    const tabChanged = tab !== this.tab;
    this.tab = tab;
    this.vertexId = vertexId;
    this.dag?.select(vertexId);
    if (tabChanged) { replace(this.content); this.renderTabs(); }
    if (!vertexId) replace(this.vertexPanel);
  }

  private renderTabs(): void {
    const base = `#/jobs/${this.jobId}`;
    const tab = (id: JobTab, label: string, href: string) => h('a', { href, class: this.tab === id ? 'active' : '', 'aria-current': this.tab === id ? 'page' : null, 'data-testid': `tab-${id}` }, label);
    replace(this.tabs, tab('graph', 'Overview', base), tab('checkpoints', 'Checkpoints', `${base}/checkpoints`), tab('exceptions', 'Exceptions', `${base}/exceptions`));
  }

  async refresh(): Promise<void> {
    const path = jobPath(this.jobId);
    const details = getJson<JobDetails>(path);
    const extra = this.tab === 'checkpoints' ? getJson<Checkpoints>(`${path}/checkpoints`)
      : this.tab === 'exceptions' ? getJson<Exceptions>(`${path}/exceptions`)
        : this.vertexId ? getJson<Backpressure>(`${path}/vertices/${encodeURIComponent(this.vertexId)}/backpressure`).catch(() => undefined) : Promise.resolve(undefined);
    let j: JobDetails;
    try {
      j = await details;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(this.element, h('h1', { id: 'page-title' }, 'Job not found'), h('p', null, `The job manager does not know job ${this.jobId} (ended jobs are kept up to a limit, and not across restarts).`));
        return;
      }
      throw e;
    }
    this.last = j;
    const x = await extra;
    this.renderHeader(j);
    if (this.tab === 'graph') this.renderGraph(j, x as Backpressure | undefined);
    else if (this.tab === 'checkpoints') this.renderCheckpoints(x as Checkpoints);
    else this.renderExceptions(x as Exceptions);
  }

  private renderHeader(j: JobDetails): void {
    const end = j['end-time'] > 0 ? j['end-time'] : null;
    replace(this.header,
      h('h1', { id: 'page-title', 'data-testid': 'job-title', 'data-state': j.state }, h('span', { 'data-testid': 'job-name' }, j.name), ' ', badge(j.state, 'big')),
      h('dl', { class: 'facts' },
        h('dt', null, 'Id'), h('dd', null, h('code', { 'data-testid': 'job-id' }, j.jid)),
        h('dt', null, 'Started'), h('dd', null, time(j['start-time'])),
        end ? [h('dt', null, 'Ended'), h('dd', null, time(end))] : null,
        h('dt', null, 'Duration'), h('dd', null, duration(j.duration)),
        h('dt', null, 'Attempt'), h('dd', null, String(j.attempt)),
        h('dt', null, 'Restarts'), h('dd', null, String(j.restarts))),
      j['waiting-for-slots'] ? h('p', { class: 'warning' }, 'Waiting for free slots.') : null,
      j.error ? h('p', { class: 'error', 'data-testid': 'job-error' }, `${j.errorCode ? `${j.errorCode}: ` : ''}${j.error}`) : null);
    const terminal = TERMINAL.has(j.state);
    this.cancelButton.disabled = terminal || j.state === 'CANCELLING';
    this.savepointButton.disabled = j.state !== 'RUNNING';
    this.stopButton.disabled = j.state !== 'RUNNING';
  }

  private renderGraph(j: JobDetails, bp: Backpressure | undefined): void {
    if (this.content.firstChild !== this.dagBox) replace(this.content, this.dagBox, this.vertexPanel, this.vertexTable);
    const graph = j.plan.jobGraph.vertices;
    const key = graph.map((v) => v.id).join(',');
    if (!this.dag || key !== this.dagKey) {
      this.dag = new DagView(graph, (vid) => { location.hash = `#/jobs/${this.jobId}/vertices/${vid}`; });
      this.dagKey = key;
      replace(this.dagBox, this.dag.element);
    }
    this.dag.select(this.vertexId);
    this.dag.update(j.vertices, j.now);
    if (!this.dagBox.hasAttribute('data-ready')) {
      this.dagBox.setAttribute('data-ready', 'true');
      // The load-time test reads these marks: navigation start → the DAG in the DOM with its first
      // figures, and → the frame that shows it painted (layout included).
      performance.mark('rlink:dag-drawn');
      requestAnimationFrame(() => window.setTimeout(() => performance.mark('rlink:dag-painted'), 0));
    }
    replace(this.vertexTable, h('h2', null, 'Vertices'), table(
      ['Vertex', 'Parallelism', 'Status', 'In', 'Out', 'Records in', 'Records out', 'Watermark', 'Busy', 'Backpressured', 'Idle'],
      j.vertices.map((v) => [
        h('a', { href: `#/jobs/${this.jobId}/vertices/${v.id}` }, v.name), String(v.parallelism), badge(v.status),
        rate(v.metrics.numRecordsInPerSecond), rate(outRate(v)), String(v.metrics['read-records']), String(v.metrics['write-records'] + v.metrics['records-written']),
        watermark(v.metrics.watermark, j.now), percent(v.metrics.busyTimeMsPerSecond), levelCell(v.metrics.backPressuredTimeMsPerSecond), percent(v.metrics.idleTimeMsPerSecond),
      ]), { class: 'vertices', 'data-testid': 'vertex-table' }));
    const v = this.vertexId ? j.vertices.find((x) => x.id === this.vertexId) : undefined;
    if (v) this.renderVertex(v, bp, j.now);
    else replace(this.vertexPanel);
  }

  private renderVertex(v: Vertex, bp: Backpressure | undefined, now: number): void {
    const bySubtask = new Map((bp?.subtasks ?? []).map((x) => [x.subtask, x]));
    replace(this.vertexPanel,
      h('h2', null, v.name),
      h('p', { class: 'bp-summary', 'data-testid': 'bp-level', 'data-level': bp?.backpressureLevel ?? 'unknown' },
        'Back pressure: ', h('span', { class: `level level-${bp?.backpressureLevel ?? 'unknown'}` }, (bp?.backpressureLevel ?? 'no measurement yet').toUpperCase()),
        bp?.['end-timestamp'] ? ` (measured ${time(bp['end-timestamp'])})` : ''),
      table(['Subtask', 'Status', 'Task manager', 'In', 'Out', 'Watermark', 'Busy', 'Backpressured', 'Idle', 'Level'],
        v.subtasks.map((st) => {
          const b = bySubtask.get(st.subtask);
          return [
            String(st.subtask), badge(st.status), st.taskmanager ?? '—', rate(st.metrics.numRecordsInPerSecond), rate(outRate(st)),
            watermark(st.metrics.watermark, now),
            b ? `${Math.round(b.busyRatio * 100)}%` : '—', b ? `${Math.round(b.ratio * 100)}%` : '—', b ? `${Math.round(b.idleRatio * 100)}%` : '—',
            b ? h('span', { class: `level level-${b.backpressureLevel}` }, b.backpressureLevel.toUpperCase()) : '—',
          ];
        }), { class: 'subtasks', 'data-testid': 'subtask-table' }));
  }

  private renderCheckpoints(c: Checkpoints): void {
    const entry = (label: string, x: Checkpoints['latest']['completed'], testid: string): Child => h('div', { class: 'card', 'data-testid': testid },
      h('h3', null, label),
      x ? h('dl', { class: 'facts' },
        h('dt', null, 'Id'), h('dd', null, String(x.id)),
        h('dt', null, 'Completed'), h('dd', null, time(x.latest_ack_timestamp)),
        h('dt', null, 'Duration'), h('dd', null, duration(x.end_to_end_duration)),
        h('dt', null, 'Size'), h('dd', null, bytes(x.state_size)),
        h('dt', null, 'Path'), h('dd', null, h('code', null, x.external_path ?? '—'))) : h('p', { class: 'empty' }, 'None.'));
    const r = c.latest.restored;
    const f = c.latest.failed;
    replace(this.content,
      h('div', { class: 'stats' },
        stat('Completed', String(c.counts.completed), 'checkpoints-completed'),
        stat('Failed', String(c.counts.failed), 'checkpoints-failed'),
        stat('In progress', String(c.counts.in_progress)),
        stat('Restored', String(c.counts.restored), 'checkpoints-restored'),
        stat('Total', String(c.counts.total))),
      h('div', { class: 'cards' },
        entry('Latest checkpoint', c.latest.completed, 'latest-checkpoint'),
        entry('Latest savepoint', c.latest.savepoint, 'latest-savepoint'),
        h('div', { class: 'card', 'data-testid': 'latest-restore' }, h('h3', null, 'Latest restore'),
          r ? h('dl', { class: 'facts' }, h('dt', null, 'Id'), h('dd', null, String(r.id)), h('dt', null, 'Restored'), h('dd', null, time(r.restore_timestamp)),
            h('dt', null, 'From'), h('dd', null, h('code', null, r.external_path))) : h('p', { class: 'empty' }, 'Never restored.')),
        h('div', { class: 'card' }, h('h3', null, 'Latest failure'),
          f ? h('dl', { class: 'facts' }, h('dt', null, 'Id'), h('dd', null, String(f.id)), h('dt', null, 'Failed'), h('dd', null, time(f.failure_timestamp)),
            h('dt', null, 'Why'), h('dd', null, f.failure_message ?? '—')) : h('p', { class: 'empty' }, 'None.'))),
      h('h2', null, 'Summary'),
      table(['', 'Minimum', 'Average', 'Maximum'], [
        ['End-to-end duration', duration(c.summary.end_to_end_duration.min), duration(c.summary.end_to_end_duration.avg), duration(c.summary.end_to_end_duration.max)],
        ['State size', bytes(c.summary.state_size.min), bytes(c.summary.state_size.avg), bytes(c.summary.state_size.max)],
      ], { class: 'summary' }),
      h('h2', null, 'History'),
      c.history.length === 0 ? h('p', { class: 'empty' }, 'No checkpoint yet.') : table(
        ['Id', 'Status', 'Kind', 'Triggered', 'Duration', 'Size', 'Acknowledged', 'Path or failure'],
        c.history.map((x) => [
          String(x.id), badge(x.status), x.is_savepoint ? 'savepoint' : 'checkpoint', time(x.trigger_timestamp), duration(x.end_to_end_duration), bytes(x.state_size),
          x.num_subtasks !== undefined ? `${x.num_acknowledged_subtasks ?? 0}/${x.num_subtasks}` : '—',
          x.status === 'FAILED' ? (x.failure_message ?? '—') : h('code', null, x.external_path ?? '—'),
        ]), { class: 'history', 'data-testid': 'checkpoint-history' }));
  }

  private renderExceptions(x: Exceptions): void {
    const entries = x.exceptionHistory.entries;
    replace(this.content,
      h('h2', null, 'Root exception'),
      x['root-exception'] ? h('pre', { class: 'exception', 'data-testid': 'root-exception' }, x['root-exception']) : h('p', { class: 'empty', 'data-testid': 'root-exception' }, 'The job has not failed.'),
      h('h2', null, 'History'),
      entries.length === 0 ? h('p', { class: 'empty' }, 'No failures.') : table(['Time', 'Attempt', 'Code', 'Task', 'Task manager', 'Message'],
        entries.map((e) => [time(e.timestamp), String(e.attempt), h('code', null, e.exceptionName), e.taskName ?? '—', e.taskManagerId ?? '—', h('pre', { class: 'exception' }, e.stacktrace)]),
        { class: 'exceptions', 'data-testid': 'exception-history' }),
      x.exceptionHistory.truncated ? h('p', { class: 'hint' }, 'Older failures were dropped (the job manager keeps the latest 100).') : null);
  }

  private async cancel(): Promise<void> {
    const name = this.last?.name ?? this.jobId;
    const v = await formDialog({ title: 'Cancel job', message: `Cancel ${name}? Its subtasks stop; sinks keep what their last completed checkpoint committed.`, fields: tokenFields(), submit: 'Cancel job', danger: true, testid: 'cancel-dialog' });
    if (!v) return;
    try {
      await mutate('PATCH', `${jobPath(this.jobId)}?mode=cancel`);
      notice('ok', `Cancelling ${name}.`);
    } catch (e) {
      notice('error', `Cancel failed: ${message(e)}`);
    }
  }

  private async savepoint(stop: boolean): Promise<void> {
    const name = this.last?.name ?? this.jobId;
    let remembered = '';
    try { remembered = sessionStorage.getItem(SAVEPOINT_DIR_KEY) ?? ''; } catch { /* none */ }
    const v = await formDialog({
      title: stop ? 'Stop with a savepoint' : 'Take a savepoint',
      message: stop ? `Take a savepoint of ${name}, then stop it (FINISHED).` : `Take a savepoint of ${name}; it keeps running.`,
      fields: [
        { name: 'dir', label: 'Target directory', required: true, value: remembered, hint: 'An absolute path every task manager can write (shared storage), or hdfs://…' },
        ...(stop ? [{ name: 'drain', label: 'Drain: end the input first, so every window fires and every sink commits', type: 'checkbox' as const }] : []),
        ...tokenFields(),
      ],
      submit: stop ? 'Stop job' : 'Take savepoint', danger: stop, testid: stop ? 'stop-dialog' : 'savepoint-dialog',
    });
    if (!v || typeof v.dir !== 'string') return;
    try { sessionStorage.setItem(SAVEPOINT_DIR_KEY, v.dir); } catch { /* not kept */ }
    notice('info', stop ? `Stopping ${name} with a savepoint…` : `Taking a savepoint of ${name}…`, 8000);
    try {
      const path = `${jobPath(this.jobId)}/${stop ? 'stop' : 'savepoints'}`;
      const body = stop ? { targetDirectory: v.dir, drain: v.drain === true } : { 'target-directory': v.dir };
      const r = await mutate<{ location: string }>('POST', path, body);
      notice('ok', `Savepoint ${stop ? 'taken, job stopping' : 'taken'}: ${r.location}`, 30_000);
    } catch (e) {
      notice('error', `${stop ? 'Stop' : 'Savepoint'} failed: ${message(e)}`);
    }
  }
}

function outRate(v: { metrics: Vertex['metrics'] }): number | null {
  const m = v.metrics;
  return m.numRecordsOutPerSecond === null || m.numRecordsOutPerSecond === undefined ? null : m.numRecordsOutPerSecond + (m.numRecordsWrittenPerSecond ?? 0);
}

function levelCell(bpMs: number | null | undefined): Child {
  const l = level(bpMs);
  return l === null ? '—' : h('span', { class: `level level-${l}` }, `${percent(bpMs)} ${l.toUpperCase()}`);
}

function message(e: unknown): string {
  if (e instanceof ApiError) return e.status === 401 ? 'the job manager refused the token (enter it again)' : e.message;
  return e instanceof Error ? e.message : String(e);
}
