import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { JobGraph } from '../core/graph/job-graph';
import { allSubtasks, subtaskId } from '../core/graph/execution-graph';
import type { SubtaskRef } from '../core/protocol/control-messages';
import { METADATA_FILE, METADATA_VERSION, readCheckpointMetadata, readSubtaskSnapshot, writeCheckpointMetadata, type CheckpointMetadata } from '../core/protocol/checkpoint-metadata';
import { LocalCheckpointStorage, checkpointStorageFor, type CheckpointStorage } from '../core/fs/checkpoint-storage';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';

export interface CompletedCheckpoint {
  id: number;
  savepoint: boolean;
  /** The directory of the checkpoint and its _metadata file. */
  dir: string;
  metadataPath: string;
  triggeredAt: number;
  completedAt: number;
  bytes: number;
  subtasks: number;
}

export interface FailedCheckpoint { id: number; triggeredAt: number; failedAt: number; reason: string; savepoint: boolean }

interface Pending {
  id: number;
  savepoint: boolean;
  target: string;
  triggeredAt: number;
  acks: Map<string, { path: string; bytes: number; at: number }>;
  timeout: NodeJS.Timeout;
  done: (c: CompletedCheckpoint | Error) => void;
}

export interface CheckpointCoordinatorOptions {
  jobId: string;
  jobName: string;
  job: JobGraph;
  /** checkpoint.dir: checkpoints go to <dir>/<job id>/chk-<n>. */
  baseDir: string;
  intervalMs: number | undefined;
  timeoutMs?: number;
  minPauseMs?: number;
  /** Completed checkpoints kept on disk (savepoints are never deleted). */
  retain?: number;
  logger: Logger;
  /** Sends the trigger to every task manager of the current attempt. */
  trigger(c: { checkpointId: number; timestamp: number; savepoint: boolean; target: string }): void;
  /** Tells every task manager that checkpoint `id` completed (sinks commit). */
  notifyComplete(checkpointId: number): void;
  /**
   * Runs once a checkpoint's `_metadata` is written, before the task managers hear of it: the job
   * manager's HA store records the checkpoint here, so a commit never gets ahead of what a recovering
   * job manager restores from. A rejection fails the checkpoint (no sink commits it).
   */
  beforeNotify?(c: CompletedCheckpoint): Promise<void>;
  /** Checkpoints are taken only while every subtask runs. */
  canTrigger(): boolean;
  /** The storage of a checkpoint or savepoint path (local or hdfs://); default: chosen by the path and the environment. */
  storageFor?(path: string): CheckpointStorage;
}

/**
 * The checkpoint coordinator (Flink's CheckpointCoordinator, one checkpoint at a time): triggers a
 * checkpoint every `checkpoint.interval` (never sooner than the minimum pause after the last one),
 * collects every subtask's acknowledgement, writes `_metadata`, tells the task managers (two-phase
 * commit sinks then publish), and keeps the last `retain` checkpoints on disk. A checkpoint that a task
 * declines or that times out fails, is counted and logged; the job goes on.
 *
 *   trigger(n) ─▶ sources inject barrier n ─▶ tasks align, snapshot, write, ack ─▶ all acked
 *     ─▶ _metadata written ─▶ COMPLETED ─▶ checkpoint-complete(n) to every task manager
 */
export class CheckpointCoordinator {
  private nextId = 1;
  private pending: Pending | undefined;
  /** Directories of recent checkpoints that failed or were aborted, by id: late acks of them are cleaned up. */
  private readonly abandoned = new Map<number, string>();
  private readonly removals = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private lastCompletedAt = 0;
  readonly completed: CompletedCheckpoint[] = [];
  readonly failed: FailedCheckpoint[] = [];
  /** Checkpoints completed over the job's life (`completed` keeps only the retained ones). */
  completedCount = 0;
  /** Restores from a checkpoint or savepoint over the job's life. */
  restoredCount = 0;
  restoredFrom: { id: number; path: string; at: number } | undefined;
  private readonly log: Logger;
  private readonly expected: SubtaskRef[];
  private stopped = true;

  constructor(private readonly o: CheckpointCoordinatorOptions) {
    this.log = o.logger.child({ component: 'checkpoint-coordinator', job: o.jobId });
    this.expected = allSubtasks(o.job).map((s) => ({ vertex: s.vertex, index: s.index }));
  }

  get jobDir(): string { return this.storage(this.o.baseDir).join(this.o.baseDir, this.o.jobId); }

  private storage(path: string): CheckpointStorage {
    return this.o.storageFor ? this.o.storageFor(path) : checkpointStorageFor(path);
  }

  /** Fails with a clear error when checkpoint.dir cannot be written. */
  async checkWritable(): Promise<void> {
    const storage = this.storage(this.o.baseDir);
    try {
      await storage.mkdirs(this.jobDir);
      if (storage instanceof LocalCheckpointStorage) await access(this.jobDir, constants.W_OK);
    } catch (e) {
      throw new RlinkError('RLINK_CONFIG', `checkpoint.dir ${this.o.baseDir} is not writable: ${errorMessage(e)}`, { context: { file: this.o.baseDir, key: 'checkpoint.dir' } });
    }
  }

  /** Starts periodic checkpoints (when an interval is set). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops triggering and fails a checkpoint in flight (the attempt it belongs to is over). */
  stop(reason: string): void {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.abortPending(reason);
  }

  private schedule(): void {
    if (this.stopped || this.o.intervalMs === undefined || this.timer) return;
    const sinceLast = Date.now() - this.lastCompletedAt;
    const wait = Math.max(this.o.intervalMs, (this.o.minPauseMs ?? 0) - sinceLast);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      if (!this.pending && this.o.canTrigger()) void this.trigger(false).catch(() => {});
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  /** Triggers a checkpoint (or a savepoint into `savepointDir`); resolves when it completes. */
  trigger(savepoint: boolean, savepointDir?: string): Promise<CompletedCheckpoint> {
    if (this.pending) return Promise.reject(new RlinkError('RLINK_CONFIG', `checkpoint ${this.pending.id} is still in progress`, { retriable: true }));
    if (!this.o.canTrigger()) return Promise.reject(new RlinkError('RLINK_CONFIG', 'not every task of the job is running: no checkpoint now', { retriable: true }));
    const id = this.nextId;
    let target: string;
    try {
      target = savepoint && savepointDir ? this.storage(savepointDir).join(savepointDir, `savepoint-${this.o.jobId.slice(0, 6)}-${id}`) : this.storage(this.o.baseDir).join(this.jobDir, `chk-${id}`);
    } catch (e) {
      return Promise.reject(e); // e.g. an hdfs:// savepoint directory without a WebHDFS address
    }
    this.nextId++;
    const triggeredAt = Date.now();
    return new Promise<CompletedCheckpoint>((resolve, reject) => {
      const timeoutMs = this.o.timeoutMs ?? 10 * 60_000;
      this.pending = {
        id, savepoint, target, triggeredAt, acks: new Map(),
        timeout: setTimeout(() => this.fail(id, `timed out after ${timeoutMs} ms`), timeoutMs),
        done: (c) => (c instanceof Error ? reject(c) : resolve(c)),
      };
      this.log.info({ event: 'checkpoint.triggered', checkpointId: id, savepoint, target }, `${savepoint ? 'savepoint' : 'checkpoint'} ${id} triggered`);
      this.o.trigger({ checkpointId: id, timestamp: triggeredAt, savepoint, target });
    });
  }

  acknowledge(checkpointId: number, subtask: SubtaskRef, path: string, bytes: number): void {
    const p = this.pending;
    if (!p || p.id !== checkpointId) {
      // A late ack of a checkpoint that failed (or was aborted when the attempt ended): its files were
      // written after the directory was removed; remove them again, as Flink discards late state.
      const target = this.abandoned.get(checkpointId);
      if (target !== undefined) this.discard(target);
      return;
    }
    p.acks.set(subtaskId(subtask.vertex, subtask.index), { path, bytes, at: Date.now() });
    if (p.acks.size === this.expected.length) void this.complete(p);
  }

  decline(checkpointId: number, subtask: SubtaskRef, reason: string): void {
    if (this.pending?.id === checkpointId) this.fail(checkpointId, `${subtaskId(subtask.vertex, subtask.index)} declined: ${reason}`);
  }

  private async complete(p: Pending): Promise<void> {
    const operators: CheckpointMetadata['operators'] = {};
    for (const v of this.o.job.vertices) {
      const files = Array.from({ length: v.parallelism }, (_, i) => p.acks.get(subtaskId(v.id, i))!.path);
      for (const n of v.nodes) operators[n] = { vertex: v.id, parallelism: v.parallelism, files };
    }
    const storage = this.storage(p.target);
    const metadataPath = storage.join(p.target, METADATA_FILE);
    let bytes = 0;
    try {
      const metaBytes = await writeCheckpointMetadata(metadataPath, {
        version: METADATA_VERSION, jobId: this.o.jobId, jobName: this.o.jobName, checkpointId: p.id,
        timestamp: p.triggeredAt, savepoint: p.savepoint, operators,
      }, storage);
      bytes = metaBytes + [...p.acks.values()].reduce((a, x) => a + x.bytes, 0);
    } catch (e) {
      this.fail(p.id, `cannot write ${metadataPath}: ${errorMessage(e)}`);
      return;
    }
    // Failed (e.g. aborted as the job ended) while _metadata was written: fail() removed the directory,
    // and a write that landed after that would leave a _metadata naming snapshot files that are gone.
    if (this.pending !== p) return this.discard(p.target);
    const c: CompletedCheckpoint = {
      id: p.id, savepoint: p.savepoint, dir: p.target, metadataPath, triggeredAt: p.triggeredAt,
      completedAt: Date.now(), bytes, subtasks: p.acks.size,
    };
    if (this.o.beforeNotify) {
      try { await this.o.beforeNotify(c); } catch (e) {
        this.fail(p.id, `cannot record it in the job manager's metadata storage: ${errorMessage(e)}`);
        return;
      }
      if (this.pending !== p) return this.discard(p.target);
    }
    clearTimeout(p.timeout);
    this.pending = undefined;
    this.completed.push(c);
    this.completedCount++;
    this.lastCompletedAt = c.completedAt;
    this.log.info({ event: 'checkpoint.completed', checkpointId: c.id, durationMs: c.completedAt - c.triggeredAt, bytes }, `${c.savepoint ? 'savepoint' : 'checkpoint'} ${c.id} completed in ${c.completedAt - c.triggeredAt} ms (${bytes} bytes)`);
    this.o.notifyComplete(c.id);
    p.done(c);
    await this.prune();
  }

  private fail(checkpointId: number, reason: string): void {
    const p = this.pending;
    if (!p || p.id !== checkpointId) return;
    clearTimeout(p.timeout);
    this.pending = undefined;
    this.failed.push({ id: p.id, triggeredAt: p.triggeredAt, failedAt: Date.now(), reason, savepoint: p.savepoint });
    this.log.warn({ event: 'checkpoint.failed', checkpointId, reason }, `checkpoint ${checkpointId} failed: ${reason}`);
    p.done(new RlinkError('RLINK_TASK_FAILED', `checkpoint ${checkpointId} failed: ${reason}`));
    this.discard(p.target);
    this.abandoned.set(p.id, p.target);
    if (this.abandoned.size > 16) this.abandoned.delete(this.abandoned.keys().next().value!);
  }

  /** Removes a failed checkpoint's directory in the background; {@link whenDiscarded} waits for it. */
  private discard(target: string): void {
    const removal = this.storage(target).remove(target, true).catch(() => {}).finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  /** Resolves when the removals of failed checkpoints under way have ended (or after `timeoutMs`). */
  async whenDiscarded(timeoutMs = 5000): Promise<void> {
    if (this.removals.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.removals), new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
  }

  private abortPending(reason: string): void {
    if (this.pending) this.fail(this.pending.id, reason);
  }

  /** Keeps the newest `retain` checkpoints in their storage. */
  private async prune(): Promise<void> {
    const keep = this.o.retain ?? 3;
    const regular = this.completed.filter((c) => !c.savepoint);
    for (const old of regular.slice(0, Math.max(0, regular.length - keep))) {
      this.completed.splice(this.completed.indexOf(old), 1);
      await this.storage(old.dir).remove(old.dir, true).catch((e: unknown) => this.log.warn({ event: 'checkpoint.prune-failed', dir: old.dir, err: errorMessage(e) }, `cannot remove ${old.dir}`));
    }
  }

  /**
   * The newest completed checkpoint whose files are intact; a corrupt or truncated one is skipped
   * (and logged) in favour of the one before it.
   */
  async latestIntact(): Promise<CompletedCheckpoint | undefined> {
    for (let i = this.completed.length - 1; i >= 0; i--) {
      const c = this.completed[i]!;
      try {
        const meta = await readCheckpointMetadata(c.metadataPath, this.storage(c.metadataPath));
        if (meta.checkpointId !== c.id) throw new Error(`its _metadata is of checkpoint ${meta.checkpointId}`);
        for (const op of Object.values(meta.operators)) {
          for (let i = 0; i < op.files.length; i++) {
            const f = op.files[i];
            if (f) await readSubtaskSnapshot(f, this.storage(f), { checkpointId: meta.checkpointId, vertex: op.vertex, index: i });
          }
        }
        return c;
      } catch (e) {
        this.log.error({ event: 'checkpoint.corrupt', checkpointId: c.id, err: errorMessage(e) }, `checkpoint ${c.id} is unusable (${errorMessage(e)}): falling back to the previous one`);
      }
    }
    return undefined;
  }

  /**
   * A recovering job manager's view of the job's checkpoints (from its HA store): the retained
   * completed checkpoints (the restore candidates, oldest first) and the counts of the job's life.
   */
  recover(state: { completed: CompletedCheckpoint[]; completedCount: number; restoredCount: number }): void {
    this.completed.splice(0, this.completed.length, ...state.completed);
    this.completedCount = state.completedCount;
    this.restoredCount = state.restoredCount;
    for (const c of state.completed) this.nextId = Math.max(this.nextId, c.id + 1);
  }

  /** Continues numbering after a restored checkpoint. */
  restoredCheckpoint(id: number, path: string): void {
    this.restoredFrom = { id, path, at: Date.now() };
    this.restoredCount++;
    this.nextId = Math.max(this.nextId, id + 1);
  }

  get inProgress(): { id: number; triggeredAt: number; acknowledged: number; savepoint: boolean } | undefined {
    const p = this.pending;
    return p ? { id: p.id, triggeredAt: p.triggeredAt, acknowledged: p.acks.size, savepoint: p.savepoint } : undefined;
  }

  get subtaskCount(): number { return this.expected.length; }
}
