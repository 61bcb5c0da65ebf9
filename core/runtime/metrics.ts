import { performance } from 'node:perf_hooks';

/** What a task waits for when it is not busy: input (idle) or downstream credit (backpressured). */
export type TaskWait = 'idle' | 'backpressure';

/**
 * What the subtasks of this thread spent processing (ms): in total and per vertex. Module state is
 * per thread (a slot's worker thread loads its own copy), so this is the slot's.
 */
const threadClock = { processingMs: 0, byVertex: new Map<string, number>() };

/** The start of a stretch of processing (see {@link TaskMetrics.processingStarts}). */
export interface ProcessingMark { at: number; thread: number }

/**
 * Counters of one subtask. Plain numbers mutated on the hot path; the task reports a copy
 * periodically (progress line, REST, Prometheus).
 *
 * Time is accounted as Flink does: from the moment the task runs, every millisecond is busy,
 * idle (waiting for input) or backpressured (waiting for downstream credit). The task loop marks
 * its waits ({@link beginWait} / {@link endWait}); busy is the rest. The job manager turns the
 * cumulative values into busyTimeMsPerSecond, idleTimeMsPerSecond and backPressuredTimeMsPerSecond.
 *
 * Unlike Flink's tasks, the subtasks of a slot share one thread (a slot holds subtask i of every
 * vertex of its job): while one processes, the others wait for the thread. The task marks its own
 * processing ({@link processingStarts} / {@link processingEnded}), so that what another subtask of
 * the thread processed while this one was between two waits is not this one's busy time: it is
 * backpressure when that subtask is downstream of this one (it is working off what this one sent,
 * as a consumer in another thread would while this one waits for its credit), and left out of the
 * three otherwise (an upstream or unrelated subtask had the thread).
 *
 *   thread:  [source emits][── map processes the batch ──][source emits][── map ──] …
 *   source:   busy          backpressured (map downstream)  busy          backpressured
 *   map:      (left out)    busy                            (left out)    busy
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
  /** This task's vertex and the vertices downstream of it, as keys of the thread clock. */
  private vertex = '';
  private downstream: readonly string[] = [];
  private ownProcessingMs = 0;
  /** Between waits, what downstream subtasks of the thread processed (backpressure) and what others did (not ours). */
  private downstreamMs = 0;
  private othersMs = 0;
  /** The thread's, this task's and its downstream's processing when the current stretch between waits began. */
  private stretch: { thread: number; own: number; downstream: number } | undefined;

  /**
   * Names this task's vertex and the vertices downstream of it (keys unique in the thread, e.g.
   * `job:vertex`): processing by those while this task is ready is backpressure.
   */
  place(vertex: string, downstream: readonly string[]): void {
    this.vertex = vertex;
    this.downstream = downstream.filter((d) => d !== vertex);
  }

  /** The task runs: from now on its time is busy, idle or backpressured. */
  startClock(now = performance.now()): void {
    if (this.runningSince !== undefined) return;
    this.runningSince = now;
    this.openStretch();
  }

  /** The task stopped running: its time no longer grows (an open wait ends here). */
  stopClock(now = performance.now()): void {
    if (this.runningSince === undefined || this.stoppedAt !== undefined) return;
    this.endWait(now);
    this.closeStretch();
    this.stoppedAt = now;
    // The thread (a slot's worker) outlives the job: forget this subtask's processing time.
    threadClock.byVertex.delete(this.vertex);
  }

  /** The task starts waiting for input or for credit (a wait already open ends first). */
  beginWait(kind: TaskWait, now = performance.now()): void {
    if (this.wait) this.endWait(now);
    this.closeStretch();
    this.wait = { kind, since: now };
  }

  /** The wait ends: its time goes to idle or backpressure. */
  endWait(now = performance.now()): void {
    const w = this.wait;
    if (!w) return;
    this.wait = undefined;
    if (w.kind === 'idle') this.idleMs += now - w.since;
    else this.backpressureMs += now - w.since;
    if (this.runningSince !== undefined && this.stoppedAt === undefined) this.openStretch();
  }

  /** The task starts processing (a poll of its source, a batch, a watermark, a timer, a barrier). */
  processingStarts(now = performance.now()): ProcessingMark { return { at: now, thread: threadClock.processingMs }; }

  /**
   * … and ends. What other subtasks of the thread processed inside it (through an await) is theirs:
   * only the rest counts as this task's processing.
   */
  processingEnded(mark: ProcessingMark, now = performance.now()): void {
    const d = Math.max(0, now - mark.at - (threadClock.processingMs - mark.thread));
    threadClock.processingMs += d;
    threadClock.byVertex.set(this.vertex, (threadClock.byVertex.get(this.vertex) ?? 0) + d);
    this.ownProcessingMs += d;
  }

  private downstreamClock(): number {
    let n = 0;
    for (const v of this.downstream) n += threadClock.byVertex.get(v) ?? 0;
    return n;
  }

  private openStretch(): void {
    this.stretch = { thread: threadClock.processingMs, own: this.ownProcessingMs, downstream: this.downstreamClock() };
  }

  private closeStretch(): void {
    const f = this.stretchForeign();
    this.downstreamMs += f.downstream;
    this.othersMs += f.others;
    this.stretch = undefined;
  }

  /** What the thread's other subtasks processed during the current stretch: downstream ones, and the rest. */
  private stretchForeign(): { downstream: number; others: number } {
    const s = this.stretch;
    if (!s) return { downstream: 0, others: 0 };
    const downstream = Math.max(0, this.downstreamClock() - s.downstream);
    const all = Math.max(0, threadClock.processingMs - s.thread - (this.ownProcessingMs - s.own));
    return { downstream, others: Math.max(0, all - downstream) };
  }

  /** Bytes arrive on the transport's side (before the task sees them): read them from its counter. */
  bindBytesIn(counter: { n: number }): void { this.bytesInSource = counter; }

  snapshot(now = performance.now()): TaskMetricsSnapshot {
    if (this.bytesInSource) this.bytesIn = this.bytesInSource.n;
    // A wait in progress counts up to now, so a task blocked for seconds shows it at once.
    const open = this.wait && this.stoppedAt === undefined ? now - this.wait.since : 0;
    const f = this.stretchForeign();
    const idle = this.idleMs + (this.wait?.kind === 'idle' ? open : 0);
    const backpressure = this.backpressureMs + this.downstreamMs + f.downstream + (this.wait?.kind === 'backpressure' ? open : 0);
    const running = this.runningSince === undefined ? 0 : (this.stoppedAt ?? now) - this.runningSince - this.othersMs - f.others;
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
  /**
   * Milliseconds spent waiting for downstream credit since the task started running (and, in a
   * shared slot thread, ready while a downstream subtask of the thread processed).
   */
  backpressureMs: number;
  /** Milliseconds spent waiting for input (absent from task managers that do not measure it). */
  idleMs?: number;
  /** Milliseconds spent neither idle nor backpressured: processing (absent when not measured). */
  busyMs?: number;
  /** null while −∞ (no watermark yet) or +∞ (input ended). */
  watermark: number | null;
}
