/**
 * checkpoint.dir=hdfs://… end to end, against the WebHDFS emulator: `rlink run` writes its checkpoints
 * (snapshot files and `_metadata`) through WebHDFS, and a second run restores from one of them
 * (`--from-savepoint hdfs://…`), with the WebHDFS address once as a job property, once from RLINK_WEBHDFS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, rlink, tempDir, writeJsonl } from '../helpers/cli';
import { startWebHdfsEmulator, type WebHdfsEmulator } from '../emulators/webhdfs';

const APP = join(import.meta.dirname, '..', 'cluster', 'apps', 'resumable.ts');
const FILES = 4;
const PER_FILE = 3000;

describe('checkpoints in HDFS (WebHDFS emulator)', () => {
  let hdfs: WebHdfsEmulator;
  let dir: string;
  beforeAll(async () => { hdfs = await startWebHdfsEmulator(); dir = tempDir(); });
  afterAll(async () => { await hdfs?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('rlink run writes _metadata and snapshots into HDFS; a run from an hdfs:// checkpoint restores from it', async () => {
    const input = join(dir, 'input');
    mkdirSync(input);
    for (let f = 0; f < FILES; f++) {
      writeJsonl(join(input, `part-${f}.jsonl`), Array.from({ length: PER_FILE }, (_, i) => ({ k: (i * 7 + f) % 31, ts: i * 5, v: (i + f) % 100 })));
    }
    const out = join(dir, 'out');
    const common = [`input=${input}`, `output=${out}`, 'parallelism=2', 'pipeline.batch-size=50', 'slow=30'];
    const first = await rlink(['run', APP, ...common, '--json', 'checkpoint.interval=150ms',
      'checkpoint.dir=hdfs://localhost:8020/rlink/checkpoints', `checkpoint.webhdfs=${hdfs.url}`, 'checkpoint.hdfs-user=etl']);
    expect(first.exitCode, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as { jobId: string; status: string; checkpoints: { completed: number } };
    expect(result.status).toBe('FINISHED');
    expect(result.checkpoints.completed).toBeGreaterThan(0);
    expect(first.stderr).not.toContain('declined'); // every snapshot file reached HDFS
    const reference = canonical(readJsonl(out));
    expect(reference.length).toBeGreaterThan(0);

    // <checkpoint.dir>/<job id>/chk-<n>/_metadata in the emulator's backing directory, naming hdfs:// snapshot files
    const jobDir = hdfs.localPath(`/rlink/checkpoints/${result.jobId}`);
    const checkpoints = readdirSync(jobDir).filter((d) => existsSync(join(jobDir, d, '_metadata')))
      .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
    expect(checkpoints.length).toBeGreaterThan(0);
    const newest = checkpoints.at(-1)!;
    const meta = JSON.parse(readFileSync(join(jobDir, newest, '_metadata'), 'utf8')) as { operators: Record<string, { files: string[] }> };
    const files = meta.operators.source!.files;
    expect(files).toHaveLength(2);
    for (const f of files) {
      expect(f.startsWith(`hdfs://localhost:8020/rlink/checkpoints/${result.jobId}/${newest}/`)).toBe(true);
      expect(existsSync(hdfs.localPath(f.replace('hdfs://localhost:8020', '')))).toBe(true);
    }
    expect(readdirSync(join(jobDir, newest)).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect(hdfs.requests.some((r) => r.op === 'CREATE' && r.datanode)).toBe(true);
    const owner = await fetch(`${hdfs.url}/webhdfs/v1/rlink/checkpoints/${result.jobId}/${newest}/_metadata?op=GETFILESTATUS`).then((r) => r.json()) as { FileStatus: { owner: string } };
    expect(owner.FileStatus.owner).toBe('etl');

    // Restore from it (the address from the environment this time): the sources resume from the checkpoint's
    // positions, and the file sink rolls back to it, so the output ends up as the first run's.
    const from = `hdfs://localhost:8020/rlink/checkpoints/${result.jobId}/${newest}`;
    const before = hdfs.requests.length;
    const second = await rlink(['run', APP, ...common, 'slow=0', '--json', '--from-savepoint', from], { env: { RLINK_WEBHDFS: hdfs.url } });
    expect(second.exitCode, second.stderr).toBe(0);
    const resumed = JSON.parse(second.stdout) as { status: string; progress: { recordsIn: number } };
    expect(resumed.status).toBe('FINISHED');
    expect(resumed.progress.recordsIn).toBeLessThan(FILES * PER_FILE);
    const opened = hdfs.requests.slice(before).filter((r) => r.op === 'OPEN' && r.datanode).map((r) => r.path);
    expect(opened).toContain(`/rlink/checkpoints/${result.jobId}/${newest}/_metadata`);
    expect(opened.filter((p) => p.endsWith('.json')).length).toBeGreaterThan(0);
    expect(canonical(readJsonl(out))).toEqual(reference);
  }, 120_000);

  it('hdfs:// without a WebHDFS address fails before the job starts, saying what to set', async () => {
    const input = join(dir, 'small.jsonl');
    writeJsonl(input, [{ k: 1, ts: 0, v: 1 }]);
    const r = await rlink(['run', APP, `input=${input}`, `output=${join(dir, 'small-out')}`, 'parallelism=1',
      'checkpoint.interval=1s', 'checkpoint.dir=hdfs://localhost:8020/x'], { env: { RLINK_WEBHDFS: '' } });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('checkpoint.dir hdfs://localhost:8020/x needs the WebHDFS address: set checkpoint.webhdfs=http://namenode:9870 or RLINK_WEBHDFS');
  }, 60_000);
});
