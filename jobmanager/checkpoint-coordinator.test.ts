/**
 * The checkpoint coordinator's edge: a checkpoint aborted (the job ended) while its `_metadata` is being
 * written must not leave a `_metadata` behind that names snapshot files already removed (a restore
 * from "the newest checkpoint" would then find the files gone).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineApp, sources, sinks } from '../index';
import { Props } from '../core/api/props';
import { buildStreamGraph } from '../core/api/app';
import { buildJobGraph } from '../core/graph/job-graph';
import { allSubtasks } from '../core/graph/execution-graph';
import { silentLogger } from '../core/logging';
import { stringifySnapshot } from '../core/protocol/checkpoint-metadata';
import { LocalCheckpointStorage, type CheckpointStorage } from '../core/fs/checkpoint-storage';
import { CheckpointCoordinator } from './checkpoint-coordinator';

/** Local storage whose `_metadata` writes wait until released: the window the race needs. */
class SlowMetadataStorage extends LocalCheckpointStorage {
  release!: () => void;
  readonly metadataStarted: Promise<void>;
  readonly metadataWritten: Promise<void>;
  private started!: () => void;
  private written!: () => void;
  private readonly gate = new Promise<void>((r) => { this.release = r; });
  constructor() {
    super();
    this.metadataStarted = new Promise((r) => { this.started = r; });
    this.metadataWritten = new Promise((r) => { this.written = r; });
  }
  override async writeFile(path: string, data: Buffer | string): Promise<void> {
    if (!path.endsWith('_metadata')) return super.writeFile(path, data);
    this.started();
    await this.gate;
    try { await super.writeFile(path, data); } finally { this.written(); }
  }
}

describe('CheckpointCoordinator', () => {
  it('a checkpoint aborted while its _metadata is written leaves no checkpoint directory behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlink-coord-'));
    try {
      const app = defineApp({ name: 'tiny', build(env) { env.fromSource(sources.collection([{ a: 1 }]), { parallelism: 2, uid: 'src' }).sinkTo(sinks.print()); } });
      const job = buildJobGraph(buildStreamGraph(app, new Props()).graph);
      const storage = new SlowMetadataStorage();
      const coordinator: CheckpointCoordinator = new CheckpointCoordinator({
        jobId: 'abcdef0123456789abcdef0123456789', jobName: 'tiny', job, baseDir: dir, intervalMs: undefined, logger: silentLogger(),
        storageFor: (): CheckpointStorage => storage,
        trigger: ({ checkpointId, target }) => {
          for (const s of allSubtasks(job)) {
            const path = storage.join(target, `${s.vertex}-${s.index}.json`);
            const text = stringifySnapshot({ vertex: s.vertex, index: s.index, parallelism: 2, checkpointId, operators: [] });
            void storage.writeFile(path, text).then(() => coordinator.acknowledge(checkpointId, s, path, text.length));
          }
        },
        notifyComplete: () => {},
        canTrigger: () => true,
      });
      const done = coordinator.trigger(false);
      await storage.metadataStarted; // every subtask acknowledged; _metadata on its way
      const target = join(coordinator.jobDir, 'chk-1');
      coordinator.stop('the job finished'); // aborts it: removes the directory
      await expect(done).rejects.toThrow('checkpoint 1 failed: the job finished');
      for (const end = Date.now() + 5000; existsSync(target) && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(target)).toBe(false);
      storage.release(); // the _metadata write lands after the removal
      await storage.metadataWritten;
      for (const end = Date.now() + 5000; existsSync(target) && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(join(target, '_metadata'))).toBe(false);
      expect(existsSync(target)).toBe(false);
      expect(coordinator.completed).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
