/** Checkpoint storage: the local directory and HDFS (through the WebHDFS emulator) behave alike; the choice by path. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startWebHdfsEmulator, type WebHdfsEmulator } from '../../test/emulators/webhdfs';
import { LocalCheckpointStorage, WebHdfsCheckpointStorage, checkpointStorageFor, defaultCheckpointDir, ensurePrivateDefaultCheckpointDir, type CheckpointStorage } from './checkpoint-storage';
import { WebHdfsClient } from './webhdfs-client';
import { readCheckpointMetadata, writeCheckpointMetadata, METADATA_VERSION } from '../protocol/checkpoint-metadata';

let hdfs: WebHdfsEmulator;
let localDir: string;
beforeAll(async () => {
  hdfs = await startWebHdfsEmulator();
  localDir = mkdtempSync(join(tmpdir(), 'rlink-cp-storage-'));
});
afterAll(async () => {
  await hdfs.close();
  rmSync(localDir, { recursive: true, force: true });
});

const kinds: Array<[string, () => { storage: CheckpointStorage; base: string; onDisk: (p: string) => string }]> = [
  ['local', () => ({ storage: new LocalCheckpointStorage(), base: localDir, onDisk: (p) => p })],
  ['hdfs', () => ({
    storage: checkpointStorageFor('hdfs://nn:8020/cp', {}, { 'checkpoint.webhdfs': hdfs.url, 'checkpoint.hdfs-user': 'rlink' }),
    base: 'hdfs://nn:8020/cp',
    onDisk: (p) => hdfs.localPath(p.replace(/^hdfs:\/\/[^/]*/, '')),
  })],
];

describe.each(kinds)('%s checkpoint storage', (_name, make) => {
  it('writes (creating directories), reads back, lists, overwrites, removes', async () => {
    const { storage, base, onDisk } = make();
    const file = storage.join(base, 'job1', 'chk-1', 'v-0.json');
    await storage.writeFile(file, '{"a":1}');
    expect(readFileSync(onDisk(file), 'utf8')).toBe('{"a":1}');
    expect((await storage.readFile(file))!.toString()).toBe('{"a":1}');
    await storage.writeFile(file, Buffer.from('{"a":2}'));
    expect((await storage.readFile(file))!.toString()).toBe('{"a":2}');
    expect(await storage.list(storage.join(base, 'job1', 'chk-1'))).toEqual(['v-0.json']); // no temporary file left
    expect(await storage.readFile(storage.join(base, 'job1', 'nope'))).toBeNull();
    expect(await storage.list(storage.join(base, 'nope'))).toEqual([]);
    await storage.mkdirs(storage.join(base, 'job1', 'chk-2'));
    expect(await storage.list(storage.join(base, 'job1'))).toEqual(['chk-1', 'chk-2']);
    await storage.remove(storage.join(base, 'job1', 'chk-1'), true);
    await storage.remove(storage.join(base, 'job1', 'never-was'), true);
    expect(existsSync(onDisk(storage.join(base, 'job1', 'chk-1')))).toBe(false);
    expect(await storage.list(storage.join(base, 'job1'))).toEqual(['chk-2']);
  });

  it('carries _metadata through writeCheckpointMetadata / readCheckpointMetadata', async () => {
    const { storage, base } = make();
    const path = storage.join(base, 'job2', 'chk-3', '_metadata');
    const meta = { version: METADATA_VERSION, jobId: 'job2', jobName: 'j', checkpointId: 3, timestamp: 1, savepoint: false, operators: { src: { vertex: 'src', parallelism: 1, files: [storage.join(base, 'job2', 'chk-3', 'src-0.json')] } } };
    const bytes = await writeCheckpointMetadata(path, meta, storage);
    expect(bytes).toBeGreaterThan(0);
    expect(await readCheckpointMetadata(path, storage)).toEqual(meta);
    await expect(readCheckpointMetadata(storage.join(base, 'job2', 'chk-4', '_metadata'), storage)).rejects.toThrow(/cannot be read: ENOENT/);
  });
});

describe('HDFS checkpoint storage: a rewrite is DELETE + RENAME', () => {
  it('between the two, or after a writer died there, the file reads and lists as its new version; remove takes both', async () => {
    const storage = checkpointStorageFor('hdfs://nn:8020/rw', {}, { 'checkpoint.webhdfs': hdfs.url, 'checkpoint.hdfs-user': 'rlink' });
    const client = new WebHdfsClient({ baseUrl: hdfs.url, user: 'rlink' });
    const file = 'hdfs://nn:8020/rw/jobs/j1.json';
    await storage.writeFile(file, 'v1');
    // The writer's CREATE of the temporary file and its DELETE of the file, then it dies before RENAME.
    await client.create('/rw/jobs/j1.json.tmp', Buffer.from('v2'), { overwrite: true });
    await client.delete('/rw/jobs/j1.json', false);
    expect((await storage.readFile(file))?.toString()).toBe('v2');
    expect(await storage.list('hdfs://nn:8020/rw/jobs')).toEqual(['j1.json']);
    // Both names present (CREATE done, DELETE not yet): the file as it was, listed once.
    await storage.writeFile(file, 'v3');
    await client.create('/rw/jobs/j1.json.tmp', Buffer.from('v4'), { overwrite: true });
    expect((await storage.readFile(file))?.toString()).toBe('v3');
    expect(await storage.list('hdfs://nn:8020/rw/jobs')).toEqual(['j1.json']);
    await storage.remove(file, false);
    expect(await storage.readFile(file)).toBeNull();
    expect(await storage.list('hdfs://nn:8020/rw/jobs')).toEqual([]);
  });
});

describe('checkpointStorageFor', () => {
  it('plain paths are local; hdfs:// goes through WebHDFS and keeps hdfs:// URLs in joined paths', () => {
    expect(checkpointStorageFor('/data/cp', {})).toBeInstanceOf(LocalCheckpointStorage);
    expect(checkpointStorageFor('relative/cp', {})).toBeInstanceOf(LocalCheckpointStorage);
    const s = checkpointStorageFor('hdfs://namenode:8020/rlink/cp', { RLINK_WEBHDFS: 'http://namenode:9870', HADOOP_USER_NAME: 'etl' });
    expect(s).toBeInstanceOf(WebHdfsCheckpointStorage);
    expect(s.describe).toBe('HDFS hdfs://namenode:8020 via WebHDFS http://namenode:9870');
    expect(s.join('hdfs://namenode:8020/rlink/cp', 'abc', 'chk-1')).toBe('hdfs://namenode:8020/rlink/cp/abc/chk-1');
    expect(s.join('hdfs://namenode:8020/rlink/cp/', '_metadata')).toBe('hdfs://namenode:8020/rlink/cp/_metadata');
  });

  it('the job property wins over the environment', async () => {
    const s = checkpointStorageFor('hdfs://nn/cp', { RLINK_WEBHDFS: 'http://127.0.0.1:1' }, { 'checkpoint.webhdfs': hdfs.url, 'checkpoint.hdfs-user': 'carol' });
    await s.writeFile('hdfs://nn/cp/owned', 'x');
    const status = await new WebHdfsClient({ baseUrl: hdfs.url }).getFileStatus('/cp/owned');
    expect(status!.owner).toBe('carol');
  });

  it('hdfs:// without a WebHDFS address, or another scheme, is a configuration error', () => {
    expect(() => checkpointStorageFor('hdfs://nn:8020/cp', {})).toThrow('checkpoint.dir hdfs://nn:8020/cp needs the WebHDFS address: set checkpoint.webhdfs=http://namenode:9870 or RLINK_WEBHDFS');
    expect(() => checkpointStorageFor('s3://bucket/cp', {})).toThrow(/s3:\/\/ is not supported/);
  });

  it('an unreachable namenode fails the write with the address in the message', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const s = checkpointStorageFor('hdfs://nn/cp', { RLINK_WEBHDFS: `http://127.0.0.1:${port}` });
    await expect(s.writeFile('hdfs://nn/cp/x', 'y')).rejects.toThrow(new RegExp(`^WebHDFS http://127\\.0\\.0\\.1:${port} unreachable: ECONNREFUSED`));
  });
});

describe('local checkpoint storage keeps state private', () => {
  it('creates directories 0700 and files 0600, also through createExclusive and mkdirs', async () => {
    const s = new LocalCheckpointStorage();
    const base = join(localDir, 'private');
    await s.writeFile(join(base, 'job', 'chk-1', 'op-0'), 'state');
    await s.createExclusive(join(base, 'leader', 'epoch-1'), 'lease');
    await s.mkdirs(join(base, 'job', 'chk-2'));
    for (const d of [base, join(base, 'job'), join(base, 'job', 'chk-1'), join(base, 'leader'), join(base, 'job', 'chk-2')]) {
      expect((statSync(d).mode & 0o777).toString(8), d).toBe('700');
    }
    for (const f of [join(base, 'job', 'chk-1', 'op-0'), join(base, 'leader', 'epoch-1')]) {
      expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    }
  });

  it('the default checkpoint directory is made private (0700), also when it exists open', () => {
    const dir = defaultCheckpointDir();
    mkdirSync(dir, { recursive: true });
    if (statSync(dir).uid === process.getuid?.()) chmodSync(dir, 0o755);
    expect(ensurePrivateDefaultCheckpointDir()).toBe(dir);
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
  });
});
