/**
 * Counters of one subtask. Plain numbers mutated on the hot path; the task reports a copy
 * periodically (progress line, REST, Prometheus).
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
  /** The task's current input watermark (−∞ before the first). */
  watermark = Number.NEGATIVE_INFINITY;

  private bytesInSource: { n: number } | undefined;

  /** Bytes arrive on the transport's side (before the task sees them): read them from its counter. */
  bindBytesIn(counter: { n: number }): void { this.bytesInSource = counter; }

  snapshot(): TaskMetricsSnapshot {
    if (this.bytesInSource) this.bytesIn = this.bytesInSource.n;
    return {
      recordsIn: this.recordsIn, recordsOut: this.recordsOut, recordsWritten: this.recordsWritten, bytesIn: this.bytesIn, bytesOut: this.bytesOut,
      recordsInvalid: this.recordsInvalid, lateRecordsDropped: this.lateRecordsDropped,
      backpressureMs: this.backpressureMs,
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
  backpressureMs: number;
  /** null while −∞ (no watermark yet) or +∞ (input ended). */
  watermark: number | null;
}
