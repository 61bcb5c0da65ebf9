import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, rename, rm, stat, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ConnectorContext, Sink, SinkWriter } from '../../core/api/connector';
import { RlinkError, errorMessage } from '../../core/errors';

/** Options of {@link fileSink} (`sinks.file`). */
export interface FileSinkOptions {
  /**
   * Where the output goes. With parallelism 1: exactly this file. Otherwise: a directory holding one
   * `part-<subtask>.jsonl` per subtask. Parent directories are created.
   */
  path: string;
}

/**
 * What a file sink's `prepareCommit` returns (JSON): one durable, still invisible staged chunk, to be
 * appended to `target` on commit. `staged` is null when nothing was written since the last checkpoint;
 * committing it still creates `target` (empty) if absent.
 */
export interface FileCommittable {
  target: string;
  staged: string | null;
  /** Bytes in the staged file. */
  bytes: number;
  checkpointId: number;
  attempt: number;
}

/** One entry of the commit journal `.<target>.commits`: what was (or is being) appended where. */
interface JournalEntry {
  staged: string;
  /** Size of the target before this chunk was added. */
  start: number;
  bytes: number;
  /** `rename`: the staged file became the target (it was empty); `append`: it was copied onto its end. */
  mode: 'rename' | 'append';
  done: boolean;
  /** The checkpoint the chunk belongs to: a restore to an older checkpoint rolls it back. */
  cp?: number;
}

/** Journal entries kept (older ones can no longer be re-committed: their checkpoints are long done). */
const JOURNAL_KEEP = 1000;
/** write() returns a promise (backpressure) once this many bytes wait to be written. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * `sinks.file`: JSON lines, exactly once. Records go to a hidden staging file next to the target
 * (`.<name>.<attempt>-<token>-<seq>.inprogress`); a checkpoint makes it durable and renames it to
 * `….cp<id>.pending`; when the checkpoint completes, `commit` appends it to the target. The commit is
 * journaled (`.<name>.commits`) so that committing the same chunk again after a failure never
 * duplicates data, even if the failure interrupted an append half way.
 */
export function fileSink<T = unknown>(opts: FileSinkOptions): Sink<T> {
  if (!opts || typeof opts.path !== 'string' || opts.path === '') {
    throw new RlinkError('RLINK_CONFIG', 'file sink: option "path" is required');
  }
  return {
    kind: 'file',
    describe: () => ({ kind: 'file', path: opts.path, format: 'jsonl' }),
    createWriter: (ctx) => new FileSinkWriter<T>(opts, ctx),
  };
}

interface Staging { path: string; fh: FileHandle; bytes: number }

export class FileSinkWriter<T> implements SinkWriter<T> {
  readonly target: string;
  private readonly dir: string;
  private readonly base: string;
  private readonly token = randomBytes(3).toString('hex');
  private seq = 0;
  private staging: Staging | undefined;
  private opening: Promise<Staging> | undefined;
  private buffer: Buffer[] = [];
  private buffered = 0;
  private flushing: Promise<void> | undefined;
  private error: unknown;
  private committing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FileSinkOptions, private readonly ctx: ConnectorContext) {
    this.target = ctx.parallelism === 1 ? opts.path : join(opts.path, `part-${ctx.subtaskIndex}.jsonl`);
    this.dir = dirname(this.target);
    this.base = basename(this.target);
  }

  /**
   * Prepares the output location. `restored` (optional, the sink's checkpointed committables) marks a
   * restart from a checkpoint: without it the job runs from its beginning (a first run, or a restart
   * with no checkpoint to restore), so earlier output at the target is removed and written again.
   * Staging files left by earlier attempts that were never prepared (`.inprogress`) are deleted; prepared
   * ones (`.pending`) are kept for a restored checkpoint to commit, unless `restored` shows they are not
   * part of it.
   */
  async open(restored?: unknown): Promise<void> {
    const fresh = restored === undefined;
    await this.prepareLayout(fresh);
    const keep = restored === undefined ? undefined : referencedStaged(restored);
    const prefix = `.${this.base}.`;
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith(prefix)) continue;
      const stale = name.endsWith('.inprogress')
        || (name.endsWith('.pending') && (fresh || (keep !== undefined && !keep.has(name))))
        || (fresh && (name === `.${this.base}.commits` || name === `.${this.base}.commits.tmp` || name === `.${this.base}.fence`));
      if (stale) await rm(join(this.dir, name), { force: true });
    }
    if (fresh) await rm(this.target, { force: true });
    // Restored from checkpoint K: what checkpoints after K committed is undone (they are replayed),
    // so the target holds exactly what K covers, whichever checkpoint the job falls back to.
    // Fence: commits of older attempts (a task of a failed attempt that has not noticed yet) are refused
    // from now on, so they cannot race this attempt's roll-back and commits.
    await writeFence(this.target, this.ctx.jobId, this.ctx.attempt);
    const k = restoredCheckpointId(restored);
    if (k !== undefined) await rollBackAfter(this.target, k);
    if (fresh && this.ctx.parallelism > 1 && this.ctx.subtaskIndex === 0) await this.removeSurplusParts();
  }

  write(values: T[]): Promise<void> | void {
    if (this.error !== undefined) throw this.failure();
    const n = values.length;
    if (n === 0) return;
    let s = '';
    for (let i = 0; i < n; i++) s += (JSON.stringify(values[i]) ?? 'null') + '\n';
    // Encoded at once: the bytes live off the heap, the batch's strings die young.
    const bytes = Buffer.from(s, 'utf8');
    this.buffer.push(bytes);
    this.buffered += bytes.length;
    if (!this.flushing) this.flushing = this.flushLoop();
    if (this.buffered >= HIGH_WATER_BYTES) return this.drain();
  }

  async prepareCommit(checkpointId: number): Promise<FileCommittable> {
    await this.drain();
    const st = this.staging;
    this.staging = undefined;
    const base = { target: this.target, checkpointId, attempt: this.ctx.attempt };
    if (!st) return { ...base, staged: null, bytes: 0 };
    await st.fh.sync();
    await st.fh.close();
    const pending = st.path.replace(/\.inprogress$/, `.cp${checkpointId}.pending`);
    await rename(st.path, pending);
    await syncDir(this.dir);
    return { ...base, staged: pending, bytes: st.bytes };
  }

  commit(committables: unknown[]): Promise<void> {
    const run = this.committing.then(() => this.commitAll(committables));
    this.committing = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.buffer = [];
    this.buffered = 0;
    if (this.flushing) await this.flushing;
    await this.opening?.catch(() => undefined);
    const st = this.staging;
    this.staging = undefined;
    // Left as .inprogress: never committed, deleted by the next open().
    if (st) await st.fh.close().catch(() => undefined);
    await this.committing;
  }

  // ---- writing ----

  /** Writes the buffer out, coalescing batches that arrive while a write is in flight. Never rejects. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.buffer.length > 0) {
        const bytes = this.buffer.length === 1 ? this.buffer[0]! : Buffer.concat(this.buffer, this.buffered);
        this.buffer = [];
        this.buffered = 0;
        const st = this.staging ?? await this.openStaging();
        let off = 0;
        while (off < bytes.length) {
          const { bytesWritten } = await st.fh.write(bytes, off, bytes.length - off);
          off += bytesWritten;
        }
        st.bytes += bytes.length;
        this.ctx.metrics.bytesOut += bytes.length;
      }
    } catch (err) {
      this.error = err;
      this.buffer = [];
      this.buffered = 0;
    } finally {
      this.flushing = undefined;
    }
  }

  private openStaging(): Promise<Staging> {
    if (!this.opening) {
      const path = join(this.dir, `.${this.base}.${this.ctx.attempt}-${this.token}-${this.seq++}.inprogress`);
      this.opening = open(path, 'w').then((fh) => {
        this.staging = { path, fh, bytes: 0 };
        return this.staging;
      }).finally(() => { this.opening = undefined; });
    }
    return this.opening;
  }

  /** Waits until everything written so far is in the staging file. */
  private async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.error !== undefined) throw this.failure();
  }

  private failure(): RlinkError {
    const err = this.error;
    return err instanceof RlinkError ? err
      : new RlinkError('RLINK_TASK_FAILED', `file sink: cannot write ${this.target}: ${errorMessage(err)}`, { retriable: true, context: { file: this.target }, cause: err });
  }

  // ---- layout ----

  private async prepareLayout(fresh: boolean): Promise<void> {
    const path = this.opts.path;
    const p = this.ctx.parallelism;
    const existing = await lstat(path).catch(() => undefined);
    if (p === 1) {
      if (existing?.isDirectory()) {
        throw new RlinkError('RLINK_CONFIG', `file sink: ${path} is a directory, but with parallelism 1 the output is a single file at that path`, { context: { file: path } });
      }
      await mkdir(this.dir, { recursive: true });
      return;
    }
    for (let tries = 0; ; tries++) {
      const st = await lstat(path).catch(() => undefined);
      if (st && !st.isDirectory()) {
        if (!fresh) {
          throw new RlinkError('RLINK_CONFIG', `file sink: ${path} is a file, but with parallelism ${p} the output is a directory of part files`, { context: { file: path } });
        }
        // A fresh run replacing the single-file output of an earlier run at parallelism 1.
        await rm(path, { force: true }).catch(() => undefined);
      }
      try {
        await mkdir(path, { recursive: true });
        return;
      } catch (err) {
        // Another subtask may be replacing the file with the directory at the same time.
        if (tries >= 5) throw new RlinkError('RLINK_CONFIG', `file sink: cannot create directory ${path}: ${errorMessage(err)}`, { context: { file: path }, cause: err });
        await new Promise((r) => setTimeout(r, 10 * (tries + 1)));
      }
    }
  }

  /** Fresh run, subtask 0: part files of an earlier run with a higher parallelism would be stale output. */
  private async removeSurplusParts(): Promise<void> {
    const p = this.ctx.parallelism;
    for (const name of await readdir(this.opts.path)) {
      const m = /^\.?part-(\d+)\.jsonl(\..*)?$/.exec(name);
      if (!m || Number(m[1]) < p) continue;
      if (!name.startsWith('.') && m[2] !== undefined) continue;
      await rm(join(this.opts.path, name), { force: true });
    }
  }

  // ---- committing ----

  private async commitAll(committables: unknown[]): Promise<void> {
    const fence = await readFence(this.target);
    if (fence && fence.jobId === this.ctx.jobId && fence.attempt > this.ctx.attempt) {
      this.ctx.logger.warn({ event: 'sink.fenced', target: this.target, attempt: this.ctx.attempt, fence: fence.attempt }, `file sink: attempt ${this.ctx.attempt} no longer commits to ${this.target} (attempt ${fence.attempt} took over)`);
      return;
    }
    const byTarget = new Map<string, FileCommittable[]>();
    for (const c of committables) {
      if (!isCommittable(c)) continue;
      let list = byTarget.get(c.target);
      if (!list) byTarget.set(c.target, (list = []));
      list.push(c);
    }
    for (const [target, list] of byTarget) {
      list.sort((a, b) => a.checkpointId - b.checkpointId);
      await commitToTarget(target, list);
    }
  }
}

/** Appends the staged chunks to `target` in order, each at most once (see the journal). */
async function commitToTarget(target: string, list: FileCommittable[]): Promise<void> {
  const dir = dirname(target);
  const journalPath = join(dir, `.${basename(target)}.commits`);
  const journal = await readJournal(journalPath);
  let touched = false;
  for (const c of list) {
    if (c.staged === null) {
      // Nothing new: the target must still exist (a subtask without records has an empty part file).
      const fh = await open(target, 'a');
      await fh.close();
      continue;
    }
    const name = basename(c.staged);
    let entry = journal.find((e) => e.staged === name);
    if (entry?.done) { await rm(c.staged, { force: true }); continue; }
    const stagedSize = await stat(c.staged).then((s) => s.size, () => undefined);
    if (entry) {
      // A commit of this chunk was interrupted.
      if (stagedSize === undefined && entry.mode === 'rename') {
        entry.done = true; touched = true; continue; // the rename happened
      }
      if (stagedSize === undefined) throw lostChunk(c);
      const size = await stat(target).then((s) => s.size, () => 0);
      if (size > entry.start) await truncate(target, entry.start);
    } else {
      if (stagedSize === undefined) throw lostChunk(c);
      if (stagedSize !== c.bytes) {
        throw new RlinkError('RLINK_INTERNAL', `file sink: staged file ${c.staged} has ${stagedSize} bytes, expected ${c.bytes}`, { context: { file: c.staged } });
      }
      const size = await stat(target).then((s) => s.size, () => 0);
      entry = { staged: name, start: size, bytes: c.bytes, mode: size === 0 ? 'rename' : 'append', done: false, cp: c.checkpointId };
      journal.push(entry);
      await writeJournal(journalPath, journal);
    }
    if (entry.mode === 'rename') {
      await rename(c.staged, target);
    } else {
      await pipeline(createReadStream(c.staged), createWriteStream(target, { flags: 'a' }));
      const fh = await open(target, 'r+');
      try { await fh.sync(); } finally { await fh.close(); }
    }
    await syncDir(dir);
    entry.done = true;
    await writeJournal(journalPath, journal);
    touched = false;
    if (entry.mode === 'append') await unlink(c.staged);
  }
  if (touched) await writeJournal(journalPath, journal);
}

function fencePath(target: string): string { return join(dirname(target), `.${basename(target)}.fence`); }

/** The newest attempt of a job writing to `target` (another job's fence is simply replaced). */
async function writeFence(target: string, jobId: string, attempt: number): Promise<void> {
  const f = await readFence(target);
  if (f && f.jobId === jobId && f.attempt > attempt) return;
  const tmp = `${fencePath(target)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ jobId, attempt }));
  await rename(tmp, fencePath(target));
}

async function readFence(target: string): Promise<{ jobId: string; attempt: number } | undefined> {
  try {
    const f = JSON.parse(await readFile(fencePath(target), 'utf8')) as { jobId?: unknown; attempt?: unknown };
    return typeof f.jobId === 'string' && typeof f.attempt === 'number' ? { jobId: f.jobId, attempt: f.attempt } : undefined;
  } catch { return undefined; }
}

/** Truncates `target` to before the first chunk committed for a checkpoint after `k`; forgets those chunks. */
async function rollBackAfter(target: string, k: number): Promise<void> {
  const journalPath = join(dirname(target), `.${basename(target)}.commits`);
  const journal = await readJournal(journalPath);
  const later = journal.filter((e) => e.cp !== undefined && e.cp > k);
  if (later.length === 0) return;
  const cut = Math.min(...later.map((e) => e.start));
  const size = await stat(target).then((s) => s.size, () => 0);
  if (size > cut) await truncate(target, cut);
  await writeJournal(journalPath, journal.filter((e) => !later.includes(e)));
}

function restoredCheckpointId(restored: unknown): number | undefined {
  const k = (restored as { restoredCheckpointId?: unknown } | undefined)?.restoredCheckpointId;
  return typeof k === 'number' ? k : undefined;
}

function lostChunk(c: FileCommittable): RlinkError {
  return new RlinkError('RLINK_INTERNAL', `file sink: cannot commit checkpoint ${c.checkpointId}: its staged file ${c.staged} is gone and was never committed to ${c.target}`, { context: { file: c.staged ?? c.target } });
}

async function readJournal(path: string): Promise<JournalEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { entries?: JournalEntry[] };
    return Array.isArray(parsed.entries) ? parsed.entries : [];
  } catch (err) {
    throw new RlinkError('RLINK_INTERNAL', `file sink: commit journal ${path} is corrupt: ${errorMessage(err)}`, { context: { file: path }, cause: err });
  }
}

/** Writes the journal atomically (temporary file, fsync, rename). */
async function writeJournal(path: string, entries: JournalEntry[]): Promise<void> {
  const kept = entries.length > JOURNAL_KEEP ? entries.slice(entries.length - JOURNAL_KEEP) : entries;
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify({ entries: kept }));
  const fh = await open(tmp, 'r+');
  try { await fh.sync(); } finally { await fh.close(); }
  await rename(tmp, path);
}

/** Makes renames in `dir` durable (best effort: not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // ignore
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function isCommittable(c: unknown): c is FileCommittable {
  if (!c || typeof c !== 'object') return false;
  const o = c as Partial<FileCommittable>;
  return typeof o.target === 'string' && (o.staged === null || typeof o.staged === 'string') && typeof o.bytes === 'number' && typeof o.checkpointId === 'number';
}

/** Basenames of the staged files referenced by restored sink state (committables, possibly nested). */
function referencedStaged(restored: unknown): Set<string> {
  const out = new Set<string>();
  const visit = (x: unknown, depth: number): void => {
    if (depth > 6 || !x || typeof x !== 'object') return;
    if (Array.isArray(x)) { for (const y of x) visit(y, depth + 1); return; }
    if (isCommittable(x)) { if (x.staged) out.add(basename(x.staged)); return; }
    for (const v of Object.values(x as Record<string, unknown>)) visit(v, depth + 1);
  };
  visit(restored, 0);
  return out;
}
