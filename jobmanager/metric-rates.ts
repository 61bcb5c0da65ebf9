import type { TaskMetricsSnapshot } from '../core/runtime/metrics';

/**
 * Per-second rates of every subtask, from the cumulative counters its task manager reports (every
 * 250 ms while it runs): records in and out per second, and Flink's time gauges
 * busyTimeMsPerSecond, backPressuredTimeMsPerSecond and idleTimeMsPerSecond.
 *
 *   report ─▶ sample {at, counters} ─▶ the samples of the last WINDOW_MS ─▶ (newest − oldest) / Δ
 *
 * Records per second divide by the job manager's clock between the two reports. The time gauges
 * divide by the subtask's own accounted time (busy + idle + backpressured), so they add up to 1000
 * whatever the reports' jitter. A subtask that stopped reporting (its task manager was lost) has no
 * rates after STALE_MS (the REST views show rates of RUNNING subtasks only); a counter that went
 * down (a restart: the new attempt counts from 0) starts the window afresh.
 */
export interface SubtaskRates {
  numRecordsInPerSecond: number;
  /** Records emitted to downstream subtasks per second. */
  numRecordsOutPerSecond: number;
  /** Records handed to sinks per second. */
  numRecordsWrittenPerSecond: number;
  /** Null when the task manager does not report busy and idle time. */
  busyTimeMsPerSecond: number | null;
  backPressuredTimeMsPerSecond: number | null;
  idleTimeMsPerSecond: number | null;
  /** When the newest report arrived (ms since the epoch). */
  at: number;
}

/** How far back the rates look, in ms. */
export const WINDOW_MS = 3_000;
/**
 * A subtask whose newest report is older than this has no rates, in ms. Generous: a slot thread
 * that has input all the time processes it without a break, and its reports can then come seconds
 * apart.
 */
export const STALE_MS = 10_000;

interface Sample { at: number; in: number; out: number; written: number; busy?: number; idle?: number; bp: number }

export class MetricRates {
  private readonly samples = new Map<string, Sample[]>();

  /** A report of subtask `id` arrived at `at`. */
  record(id: string, m: TaskMetricsSnapshot, at = Date.now()): void {
    const s: Sample = { at, in: m.recordsIn, out: m.recordsOut, written: m.recordsWritten, bp: m.backpressureMs };
    if (m.busyMs !== undefined) s.busy = m.busyMs;
    if (m.idleMs !== undefined) s.idle = m.idleMs;
    let list = this.samples.get(id);
    const last = list?.at(-1);
    if (!list || (last && (s.in < last.in || s.out < last.out || s.written < last.written || s.bp < last.bp || (s.busy ?? 0) < (last.busy ?? 0)))) {
      list = [];
      this.samples.set(id, list);
    }
    list.push(s);
    // Keep one sample older than the window, so that the window is always fully covered.
    while (list.length > 2 && list[1]!.at <= at - WINDOW_MS) list.shift();
  }

  /** The rates of subtask `id`, or undefined (fewer than two reports, or none lately). */
  rates(id: string, now = Date.now()): SubtaskRates | undefined {
    const list = this.samples.get(id);
    if (!list || list.length < 2) return undefined;
    const a = list[0]!;
    const b = list.at(-1)!;
    if (now - b.at > STALE_MS || b.at <= a.at) return undefined;
    const secs = (b.at - a.at) / 1000;
    const perSec = (x: number, y: number) => round((y - x) / secs);
    const r: SubtaskRates = {
      numRecordsInPerSecond: perSec(a.in, b.in), numRecordsOutPerSecond: perSec(a.out, b.out), numRecordsWrittenPerSecond: perSec(a.written, b.written),
      busyTimeMsPerSecond: null, backPressuredTimeMsPerSecond: null, idleTimeMsPerSecond: null, at: b.at,
    };
    if (a.busy !== undefined && b.busy !== undefined && a.idle !== undefined && b.idle !== undefined) {
      const busy = b.busy - a.busy, idle = b.idle - a.idle, bp = b.bp - a.bp;
      const total = busy + idle + bp;
      if (total > 0) {
        r.busyTimeMsPerSecond = Math.round((1000 * busy) / total);
        r.backPressuredTimeMsPerSecond = Math.round((1000 * bp) / total);
        r.idleTimeMsPerSecond = Math.round((1000 * idle) / total);
      }
    }
    return r;
  }

  /** Forgets every subtask (a job that ended needs no rates). */
  clear(): void { this.samples.clear(); }
}

function round(x: number): number { return Math.round(x * 10) / 10; }
