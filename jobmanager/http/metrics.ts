import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobManager } from '../job-manager';
import { jobCounts } from './views';
import { subtaskId } from '../../core/graph/execution-graph';

/**
 * `GET /metrics`: the cluster and every subtask in the Prometheus text format. Each scrape fills a
 * fresh registry from the job manager's current state (the task managers report counters to the job
 * manager; nothing here keeps its own totals), merged with the job manager process's own metrics.
 *
 *   rlink_taskmanagers, rlink_slots_total, rlink_slots_available, rlink_jobs{state}
 *   rlink_task_*{job_id, job_name, vertex, vertex_name, subtask}
 *     (counters, and Flink's time gauges: rlink_task_{busy,idle,backpressured}_time_ms_per_second)
 *   rlink_taskmanager_memory_bytes{taskmanager, kind}
 *   rlink_jobmanager_process_* / rlink_jobmanager_nodejs_*   (prom-client's defaults)
 */
const TASK_LABELS = ['job_id', 'job_name', 'vertex', 'vertex_name', 'subtask'] as const;

export class MetricsExporter {
  /** The job manager process's metrics (CPU, memory, event loop), collected at scrape time. */
  private readonly processRegistry = new Registry();

  constructor(private readonly jm: JobManager) {
    collectDefaultMetrics({ register: this.processRegistry, prefix: 'rlink_jobmanager_' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const reg = this.snapshot();
    const merged = Registry.merge([this.processRegistry, reg]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** A registry with the cluster's and the tasks' current values. */
  snapshot(): Registry {
    const reg = new Registry();
    const registers = [reg];
    const tms = this.jm.taskManagerList();
    new Gauge({ name: 'rlink_taskmanagers', help: 'Registered task managers.', registers }).set(tms.length);
    new Gauge({ name: 'rlink_slots_total', help: 'Slots offered by the registered task managers.', registers }).set(tms.reduce((a, t) => a + t.slotsNumber, 0));
    new Gauge({ name: 'rlink_slots_available', help: 'Slots not used by a running job.', registers }).set(tms.reduce((a, t) => a + t.freeSlots, 0));
    const jobs = new Gauge({ name: 'rlink_jobs', help: 'Jobs by state.', labelNames: ['state'], registers });
    for (const [state, n] of Object.entries(jobCounts(this.jm))) jobs.set({ state }, n);
    const memory = new Gauge({ name: 'rlink_taskmanager_memory_bytes', help: 'A task manager\'s memory as its latest heartbeat reported it: rss (the process), heap_used and heap_total (its main thread\'s V8 heap), physical and free (the host).', labelNames: ['taskmanager', 'kind'], registers });
    for (const t of tms) {
      if (!t.memory) continue;
      const m = t.memory;
      for (const [kind, v] of [['rss', m.rss], ['heap_used', m.heapUsed], ['heap_total', m.heapTotal], ['physical', m.physical], ['free', m.free]] as const) memory.set({ taskmanager: t.id, kind }, v);
    }

    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: TASK_LABELS, registers });
    const recordsIn = counter('rlink_task_records_in_total', 'Records a subtask received.');
    const recordsOut = counter('rlink_task_records_out_total', 'Records a subtask emitted.');
    const written = counter('rlink_task_records_written_total', 'Records a subtask handed to its sinks.');
    const bytesIn = counter('rlink_task_bytes_in_total', 'Bytes a subtask received over channels.');
    const bytesOut = counter('rlink_task_bytes_out_total', 'Bytes a subtask sent over channels.');
    const invalid = counter('rlink_task_invalid_records_total', 'Records dropped as unparsable or without a timestamp.');
    const late = counter('rlink_task_late_records_dropped_total', 'Late records dropped by windows.');
    const backpressure = counter('rlink_task_backpressure_seconds_total', 'Time a subtask waited for downstream credit, in seconds.');
    const busyTotal = counter('rlink_task_busy_seconds_total', 'Time a subtask was busy (neither idle nor backpressured) since it started running, in seconds.');
    const idleTotal = counter('rlink_task_idle_seconds_total', 'Time a subtask waited for input since it started running, in seconds.');
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: TASK_LABELS, registers });
    const busyRate = gauge('rlink_task_busy_time_ms_per_second', 'Flink\'s busyTimeMsPerSecond: ms per second a subtask was busy, over the last seconds (absent when not running).');
    const backpressuredRate = gauge('rlink_task_backpressured_time_ms_per_second', 'Flink\'s backPressuredTimeMsPerSecond: ms per second a subtask waited for downstream credit.');
    const idleRate = gauge('rlink_task_idle_time_ms_per_second', 'Flink\'s idleTimeMsPerSecond: ms per second a subtask waited for input.');
    const watermark = new Gauge({ name: 'rlink_task_watermark_milliseconds', help: 'The input watermark of a subtask, in ms since the epoch (absent before the first).', labelNames: TASK_LABELS, registers });

    for (const master of this.jm.jobs.values()) {
      const vertexName = new Map(master.job.vertices.map((v) => [v.id, v.name]));
      for (const t of master.metrics.values()) {
        const labels = {
          job_id: master.jobId, job_name: master.name, vertex: t.subtask.vertex,
          vertex_name: vertexName.get(t.subtask.vertex) ?? t.name, subtask: String(t.subtask.index),
        };
        const m = t.metrics;
        recordsIn.inc(labels, m.recordsIn);
        recordsOut.inc(labels, m.recordsOut);
        written.inc(labels, m.recordsWritten);
        bytesIn.inc(labels, m.bytesIn);
        bytesOut.inc(labels, m.bytesOut);
        invalid.inc(labels, m.recordsInvalid);
        late.inc(labels, m.lateRecordsDropped);
        backpressure.inc(labels, m.backpressureMs / 1000);
        busyTotal.inc(labels, (m.busyMs ?? 0) / 1000);
        idleTotal.inc(labels, (m.idleMs ?? 0) / 1000);
        if (m.watermark !== null) watermark.set(labels, m.watermark);
        const r = t.state === 'RUNNING' ? master.rates.rates(subtaskId(t.subtask.vertex, t.subtask.index)) : undefined;
        if (r?.busyTimeMsPerSecond != null) busyRate.set(labels, r.busyTimeMsPerSecond);
        if (r?.backPressuredTimeMsPerSecond != null) backpressuredRate.set(labels, r.backPressuredTimeMsPerSecond);
        if (r?.idleTimeMsPerSecond != null) idleRate.set(labels, r.idleTimeMsPerSecond);
      }
    }
    return reg;
  }
}
