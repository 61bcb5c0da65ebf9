import { performance } from 'node:perf_hooks';

/** What a task waits for when it is not busy: input (idle) or downstream credit (backpressured). */
export type TaskWait = 'idle' | 'backpressure';

/**
 * Counters of one subtask. Plain numbers mutated on the hot path; the task reports a copy
 * periodically (progress line, REST, Prometheus).
 *
 * Time is accounted as Flink does: from the moment the task runs, every millisecond is busy,
 * idle (waiting for input) or backpressured (waiting for downstream credit). The task loop marks
 * its waits ({@link beginWait} / {@link endWait}); busy is the rest. The job manager turns the
 * cumulative values into busyTimeMsPerSecond, idleTimeMsPerSecond and backPressuredTimeMsPerSecond.
 */
export class TaskMetrics {
  recordsIn = 0;
  recordsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Records handed to a sink of this task. */
  recordsWritten = 0;
  /** Records that could not be parsed or lacked their timestamp: dropped, counted, logged. */
  recordsInvalid = 0;
  /** Late records dropped by windows (no side output configured). */
  lateRecordsDropped = 0;
  /** Milliseconds the task waited for downstream credit (backpressure). */
  backpressureMs = 0;
  /** Milliseconds the task waited for input (nothing to process). */
  idleMs = 0;
  /** The task's current input watermark (−∞ before the first). */
  watermark = Number.NEGATIVE_INFINITY;

  private bytesInSource: { n: number } | undefined;
  /** The task's clock: running since / stopped at (performance.now() ms). */
  private runningSince: number | undefined;
  private stoppedAt: number | undefined;
  private wait: { kind: TaskWait; since: number } | undefined;

  /** The task runs: from now on its time is busy, idle or backpressured. */
  startClock(now = performance.now()): void {
    this.runningSince ??= now;
  }

  /** The task stopped running: its time no longer grows (an open wait ends here). */
  stopClock(now = performance.now()): void {
    if (this.runningSince === undefined || this.stoppedAt !== undefined) return;
    this.endWait(now);
    this.stoppedAt = now;
  }

  /** The task starts waiting for input or for credit (a wait already open ends first). */
  beginWait(kind: TaskWait, now = performance.now()): void {
    if (this.wait) this.endWait(now);
    this.wait = { kind, since: now };
  }

  /** The wait ends: its time goes to idle or backpressure. */
  endWait(now = performance.now()): void {
    const w = this.wait;
    if (!w) return;
    this.wait = undefined;
    if (w.kind === 'idle') this.idleMs += now - w.since;
    else this.backpressureMs += now - w.since;
  }

  /** Bytes arrive on the transport's side (before the task sees them): read them from its counter. */
  bindBytesIn(counter: { n: number }): void { this.bytesInSource = counter; }

  snapshot(now = performance.now()): TaskMetricsSnapshot {
    if (this.bytesInSource) this.bytesIn = this.bytesInSource.n;
    // A wait in progress counts up to now, so a task blocked for seconds shows it at once.
    const open = this.wait && this.stoppedAt === undefined ? now - this.wait.since : 0;
    const idle = this.idleMs + (this.wait?.kind === 'idle' ? open : 0);
    const backpressure = this.backpressureMs + (this.wait?.kind === 'backpressure' ? open : 0);
    const running = this.runningSince === undefined ? 0 : (this.stoppedAt ?? now) - this.runningSince;
    return {
      recordsIn: this.recordsIn, recordsOut: this.recordsOut, recordsWritten: this.recordsWritten, bytesIn: this.bytesIn, bytesOut: this.bytesOut,
      recordsInvalid: this.recordsInvalid, lateRecordsDropped: this.lateRecordsDropped,
      backpressureMs: Math.round(backpressure),
      idleMs: Math.round(idle),
      busyMs: Math.round(Math.max(0, running - idle - backpressure)),
      watermark: Number.isFinite(this.watermark) ? this.watermark : null,
    };
  }
}

export interface TaskMetricsSnapshot {
  recordsIn: number;
  recordsOut: number;
  recordsWritten: number;
  bytesIn: number;
  bytesOut: number;
  recordsInvalid: number;
  lateRecordsDropped: number;
  /** Milliseconds spent waiting for downstream credit since the task started running. */
  backpressureMs: number;
  /** Milliseconds spent waiting for input (absent from task managers that do not measure it). */
  idleMs?: number;
  /** Milliseconds spent neither idle nor backpressured: processing (absent when not measured). */
  busyMs?: number;
  /** null while −∞ (no watermark yet) or +∞ (input ended). */
  watermark: number | null;
}
