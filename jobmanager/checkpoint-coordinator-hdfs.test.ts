/**
 * The checkpoint coordinator with an hdfs:// checkpoint.dir (WebHDFS emulator): `_metadata` and
 * retention deletes go through WebHDFS, savepoints go to an hdfs:// directory, and a corrupt newest
 * checkpoint is skipped for the one before, as on a local disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { defineApp, sources, sinks } from '../index';
import { Props } from '../core/api/props';
import { buildStreamGraph } from '../core/api/app';
import { buildJobGraph } from '../core/graph/job-graph';
import { allSubtasks } from '../core/graph/execution-graph';
import { silentLogger } from '../core/logging';
import { stringifySnapshot } from '../core/protocol/checkpoint-metadata';
import { checkpointStorageFor } from '../core/fs/checkpoint-storage';
import { startWebHdfsEmulator, type WebHdfsEmulator } from '../test/emulators/webhdfs';
import { CheckpointCoordinator } from './checkpoint-coordinator';

describe('CheckpointCoordinator with checkpoint.dir=hdfs://', () => {
  let hdfs: WebHdfsEmulator;
  beforeAll(async () => { hdfs = await startWebHdfsEmulator(); });
  afterAll(async () => { await hdfs.close(); });

  it('writes _metadata through WebHDFS, keeps `retain` checkpoints, takes savepoints into hdfs://, skips a corrupt one', async () => {
    const app = defineApp({
      name: 'tiny',
      build(env) { env.fromSource(sources.collection([{ a: 1 }]), { parallelism: 2, uid: 'src' }).sinkTo(sinks.print(), { uid: 'out' }); },
    });
    const job = buildJobGraph(buildStreamGraph(app, new Props()).graph);
    const storageFor = (p: string) => checkpointStorageFor(p, {}, { 'checkpoint.webhdfs': hdfs.url });
    const jobId = 'abcdef0123456789abcdef0123456789';
    const coordinator: CheckpointCoordinator = new CheckpointCoordinator({
      jobId, jobName: 'tiny', job, baseDir: 'hdfs://nn:8020/cp', intervalMs: undefined, retain: 2, logger: silentLogger(), storageFor,
      // Plays the task managers: each subtask writes its snapshot where the barrier says, then acknowledges.
      trigger: ({ checkpointId, target }) => {
        for (const s of allSubtasks(job)) {
          const storage = storageFor(target);
          const path = storage.join(target, `${s.vertex}-${s.index}.json`);
          const text = stringifySnapshot({ vertex: s.vertex, index: s.index, parallelism: 2, checkpointId, operators: [] });
          void storage.writeFile(path, text).then(() => coordinator.acknowledge(checkpointId, s, path, text.length));
        }
      },
      notifyComplete: () => {},
      canTrigger: () => true,
    });
    await coordinator.checkWritable();
    expect(existsSync(hdfs.localPath(`/cp/${jobId}`))).toBe(true);

    const c1 = await coordinator.trigger(false);
    expect(c1.metadataPath).toBe(`hdfs://nn:8020/cp/${jobId}/chk-1/_metadata`);
    const meta = JSON.parse(readFileSync(hdfs.localPath(`/cp/${jobId}/chk-1/_metadata`), 'utf8')) as { operators: Record<string, { files: string[] }> };
    expect(meta.operators.src!.files).toEqual([0, 1].map((i) => `hdfs://nn:8020/cp/${jobId}/chk-1/${job.vertices[0]!.id}-${i}.json`));
    await coordinator.trigger(false);
    await coordinator.trigger(false);
    // pruning runs right after completion
    const listing = () => readdirSync(hdfs.localPath(`/cp/${jobId}`)).sort().join(',');
    for (const end = Date.now() + 5000; listing() !== 'chk-2,chk-3' && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    expect(listing()).toBe('chk-2,chk-3');

    const sp = await coordinator.trigger(true, 'hdfs://nn:8020/savepoints');
    expect(sp.dir).toBe('hdfs://nn:8020/savepoints/savepoint-abcdef-4');
    expect(existsSync(hdfs.localPath('/savepoints/savepoint-abcdef-4/_metadata'))).toBe(true);

    expect((await coordinator.latestIntact())!.id).toBe(4); // the savepoint is the newest
    writeFileSync(hdfs.localPath(`/savepoints/savepoint-abcdef-4/${job.vertices[0]!.id}-0.json`), '{"truncated');
    expect((await coordinator.latestIntact())!.id).toBe(3);
  });

  it('an hdfs:// savepoint directory without a WebHDFS address is refused before anything is triggered', async () => {
    const app = defineApp({ name: 'tiny2', build(env) { env.fromSource(sources.collection([{ a: 1 }])).sinkTo(sinks.print()); } });
    const job = buildJobGraph(buildStreamGraph(app, new Props()).graph);
    const coordinator = new CheckpointCoordinator({
      jobId: '0123456789abcdef0123456789abcdef', jobName: 'tiny2', job, baseDir: '/unused', intervalMs: undefined, logger: silentLogger(),
      storageFor: (p) => checkpointStorageFor(p, {}), trigger: () => {}, notifyComplete: () => {}, canTrigger: () => true,
    });
    await expect(coordinator.trigger(true, 'hdfs://nn/sp')).rejects.toThrow('checkpoint.dir hdfs://nn/sp needs the WebHDFS address');
    expect(coordinator.inProgress).toBeUndefined();
  });
});
