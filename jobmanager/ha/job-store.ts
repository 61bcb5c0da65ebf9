import type { CheckpointStorage } from '../../core/fs/checkpoint-storage';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { s, type Infer } from '../../core/protocol/schema';
import { JobGraphSchema } from '../../core/protocol/control-messages';
import type { BuiltJob } from '../build/built-job';

/**
 * What a job manager persists so that its jobs outlive it (Flink's JobGraphStore, CheckpointIDCounter
 * and CompletedCheckpointStore in one record per job), in the metadata storage of
 * `metadata_storage: { type: FileSystem, path }`:
 *
 *   <path>/jobs/<job id>.json     the job record below, rewritten (atomically) on every change
 *   <path>/bundles/<sha256>.mjs   the job's bundle, so a standby on another host can run it
 *
 * The record is written when the job is submitted, when its status or attempt changes, and when a
 * checkpoint completes — before any task manager hears of that checkpoint, so a sink never commits
 * what a recovering job manager would not restore. Writes are fenced by the leader epoch.
 */
const Restore = s.object({ checkpointId: s.int({ min: 1 }), metadataPath: s.string({ max: 4096 }) });
const Completed = s.object({
  id: s.int({ min: 1 }), savepoint: s.boolean(), dir: s.string({ max: 4096 }), metadataPath: s.string({ max: 4096 }),
  triggeredAt: s.number(), completedAt: s.number(), bytes: s.number({ min: 0 }), subtasks: s.int({ min: 0 }),
});

export const JOB_RECORD_VERSION = 1;

export const JobRecordSchema = s.object({
  version: s.literal(JOB_RECORD_VERSION),
  jobId: s.string({ min: 1, max: 64, pattern: /^[\w-]+$/ }),
  name: s.string({ max: 10_000 }),
  built: s.object({ name: s.string({ max: 10_000 }), props: s.record(s.string({ max: 64 * 1024 })), graph: s.json(), job: JobGraphSchema, fingerprint: s.string({ max: 128 }) }),
  bundleHash: s.nullable(s.string({ min: 64, max: 64, pattern: /^[0-9a-f]+$/ })),
  applicationId: s.nullable(s.string({ max: 64 })),
  status: s.oneOf(['CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING'] as const),
  attempt: s.int({ min: 0 }),
  restarts: s.int({ min: 0 }),
  startTime: s.number(),
  endTime: s.number(),
  failure: s.nullable(s.object({ message: s.string({ max: 64 * 1024 }), code: s.string({ max: 64 }) })),
  initialRestore: s.nullable(Restore),
  checkpoints: s.object({ completed: s.array(Completed, { max: 1000 }), completedCount: s.int({ min: 0 }), restoredCount: s.int({ min: 0 }) }),
  /** The epoch of the leader that wrote it. */
  leaderEpoch: s.int({ min: 0 }),
});
export type JobRecord = Infer<typeof JobRecordSchema> & { built: BuiltJob };

export interface JobStore {
  /** Whether records survive this process (false: the in-memory default, `metadata_storage: Memory`). */
  readonly durable: boolean;
  saveJob(rec: JobRecord): Promise<void>;
  /** Every readable record; unreadable ones are logged and skipped. */
  loadJobs(): Promise<JobRecord[]>;
  removeJob(jobId: string): Promise<void>;
  saveBundle(hash: string, bytes: Buffer): Promise<void>;
  loadBundle(hash: string): Promise<Buffer | null>;
}

/** `metadata_storage: { type: Memory }`: nothing outlives the job manager. */
export const MEMORY_JOB_STORE: JobStore = {
  durable: false,
  async saveJob() {},
  async loadJobs() { return []; },
  async removeJob() {},
  async saveBundle() {},
  async loadBundle() { return null; },
};

export class FileSystemJobStore implements JobStore {
  readonly durable = true;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly log: Logger;

  /** `fence` throws unless this job manager still leads; every write calls it first. */
  constructor(private readonly storage: CheckpointStorage, private readonly dir: string, private readonly fence: () => number, logger: Logger) {
    this.log = logger.child({ component: 'jobmanager.job-store' });
  }

  private jobsDir(): string { return this.storage.join(this.dir, 'jobs'); }

  /** Writes of one job happen in the order they were asked for. */
  saveJob(rec: JobRecord): Promise<void> {
    const text = JSON.stringify(rec);
    const prev = this.chains.get(rec.jobId) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(async () => {
      this.fence();
      await this.storage.writeFile(this.storage.join(this.jobsDir(), `${rec.jobId}.json`), text);
    });
    this.chains.set(rec.jobId, next);
    void next.finally(() => { if (this.chains.get(rec.jobId) === next) this.chains.delete(rec.jobId); }).catch(() => {});
    return next;
  }

  async loadJobs(): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (const name of await this.storage.list(this.jobsDir())) {
      if (!/^[\w-]+\.json$/.test(name)) continue;
      const path = this.storage.join(this.jobsDir(), name);
      try {
        const bytes = await this.storage.readFile(path);
        if (!bytes) continue;
        out.push(JobRecordSchema.check(JSON.parse(bytes.toString('utf8')), name) as JobRecord);
      } catch (e) {
        this.log.error({ event: 'job-store.unreadable', file: path, err: errorMessage(e) }, `job record ${path} is unreadable, skipped: ${errorMessage(e)}`);
      }
    }
    return out;
  }

  async removeJob(jobId: string): Promise<void> {
    this.fence();
    await this.storage.remove(this.storage.join(this.jobsDir(), `${jobId}.json`), false);
  }

  async saveBundle(hash: string, bytes: Buffer): Promise<void> {
    const dir = this.storage.join(this.dir, 'bundles');
    if ((await this.storage.list(dir)).includes(`${hash}.mjs`)) return; // content-addressed: there already
    const path = this.storage.join(dir, `${hash}.mjs`);
    this.fence();
    await this.storage.writeFile(path, bytes);
  }

  loadBundle(hash: string): Promise<Buffer | null> {
    return this.storage.readFile(this.storage.join(this.dir, 'bundles', `${hash}.mjs`));
  }
}
