import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SinkWriter } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { testContext } from '../testing/context';
import { fileSink, type FileCommittable } from './sink';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rlink-filesink-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

type Writer = SinkWriter<unknown> & { open(restored?: unknown): Promise<void> };

function writer(path: string, over: Parameters<typeof testContext>[0] = {}): Writer {
  return fileSink({ path }).createWriter(testContext(over)) as Writer;
}

async function write(w: SinkWriter, values: unknown[]): Promise<void> {
  await w.write(values, values.map(() => 0));
}

const lines = async (f: string): Promise<unknown[]> =>
  (await readFile(f, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);

describe('file sink', () => {
  it('parallelism 1 writes exactly the file at path; nothing is visible before commit', async () => {
    const out = join(dir, 'nested', 'out.jsonl');
    const w = writer(out);
    await w.open();
    await write(w, [{ a: 1 }, { a: 2 }]);
    await write(w, [{ a: 3 }]);
    expect(existsSync(out)).toBe(false);
    const c1 = await w.prepareCommit(1) as FileCommittable;
    expect(c1).toMatchObject({ target: out, checkpointId: 1, bytes: 24 });
    expect(JSON.parse(JSON.stringify(c1))).toEqual(c1);
    expect(existsSync(out)).toBe(false);
    await write(w, [{ a: 4 }]);
    await w.commit([c1]);
    expect(await lines(out)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    const c2 = await w.prepareCommit(2);
    expect(await lines(out)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    await w.commit([c2]);
    expect(await lines(out)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]);
    await w.close();
    // Only hidden bookkeeping is left beside the output.
    expect((await readdir(join(dir, 'nested'))).filter((n) => !n.startsWith('.'))).toEqual(['out.jsonl']);
  });

  it('parallelism > 1 writes part-<subtask>.jsonl in the directory, and an idle subtask an empty part', async () => {
    const out = join(dir, 'outdir');
    const ws = [0, 1, 2].map((k) => writer(out, { subtaskIndex: k, parallelism: 3 }));
    for (const w of ws) await w.open();
    await write(ws[0]!, [{ k: 0 }]);
    await write(ws[2]!, [{ k: 2 }, { k: 2.5 }]);
    for (const w of ws) await w.commit([await w.prepareCommit(7)]);
    for (const w of ws) await w.close();
    expect((await readdir(out)).filter((n) => !n.startsWith('.')).sort()).toEqual(['part-0.jsonl', 'part-1.jsonl', 'part-2.jsonl']);
    expect(await lines(join(out, 'part-0.jsonl'))).toEqual([{ k: 0 }]);
    expect(await readFile(join(out, 'part-1.jsonl'), 'utf8')).toBe('');
    expect(await lines(join(out, 'part-2.jsonl'))).toEqual([{ k: 2 }, { k: 2.5 }]);
  });

  it('commit is idempotent: committing the same committables again does not duplicate', async () => {
    const out = join(dir, 'o.jsonl');
    const w = writer(out);
    await w.open();
    await write(w, [1, 2]);
    const c1 = await w.prepareCommit(1);
    await write(w, [3]);
    const c2 = await w.prepareCommit(2);
    await w.commit([c1]);
    await w.commit([c1, c2]);
    await w.commit([c2, c1]);
    // After a restart (new writer, attempt 1) the restored committables are committed again.
    await w.close();
    const w2 = writer(out, { attempt: 1 });
    await w2.open({ prepared: [[1, c1], [2, c2]] });
    await w2.commit([c1, c2]);
    await w2.close();
    expect(await lines(out)).toEqual([1, 2, 3]);
  });

  it('a commit interrupted half way is redone without duplicating', async () => {
    const out = join(dir, 'o.jsonl');
    const w = writer(out);
    await w.open();
    await write(w, ['a']);
    const c1 = await w.prepareCommit(1);
    await w.commit([c1]);
    await write(w, ['b', 'c']);
    const c2 = await w.prepareCommit(2) as FileCommittable;
    await w.close();
    // Simulate a crash during the append: the journal has the intent, the target half the data.
    const journalPath = join(dir, '.o.jsonl.commits');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: unknown[] };
    journal.entries.push({ staged: c2.staged!.split('/').pop(), start: 4, bytes: c2.bytes, mode: 'append', done: false });
    await writeFile(journalPath, JSON.stringify(journal));
    await writeFile(out, '"a"\n"b"\n"');
    const w2 = writer(out, { attempt: 1 });
    await w2.open({ prepared: [[1, c1], [2, c2]] });
    await w2.commit([c1, c2]);
    expect(await lines(out)).toEqual(['a', 'b', 'c']);
    expect(existsSync(c2.staged!)).toBe(false);
  });

  it('open() with restored state deletes stale .inprogress files of earlier attempts but keeps the prepared chunks it references', async () => {
    const out = join(dir, 'o.jsonl');
    const w = writer(out);
    await w.open();
    await write(w, ['x']);
    const c1 = await w.prepareCommit(1) as FileCommittable;
    await write(w, ['never committed']);
    await (w as unknown as { drain(): Promise<void> }).drain();
    // Crash: no close, no commit.
    const before = await readdir(dir);
    expect(before.some((n) => n.endsWith('.inprogress'))).toBe(true);
    const w2 = writer(out, { attempt: 1 });
    await w2.open({ prepared: [[1, c1]] });
    const after = await readdir(dir);
    expect(after.some((n) => n.endsWith('.inprogress'))).toBe(false);
    expect(existsSync(c1.staged!)).toBe(true);
    await w2.commit([c1]);
    await w2.commit([await w2.prepareCommit(2)]);
    expect(await lines(out)).toEqual(['x']);
    await w.close();
    await w2.close();
  });

  it('with restored state, prepared chunks that the checkpoint does not reference are deleted', async () => {
    const out = join(dir, 'o.jsonl');
    const w = writer(out);
    await w.open();
    await write(w, ['kept']);
    const c1 = await w.prepareCommit(1) as FileCommittable;
    await write(w, ['orphan']);
    const c2 = await w.prepareCommit(2) as FileCommittable; // checkpoint 2 never completed
    await w.close();
    const w2 = writer(out, { attempt: 1 });
    await w2.open({ prepared: [[1, c1]] });
    expect(existsSync(c1.staged!)).toBe(true);
    expect(existsSync(c2.staged!)).toBe(false);
    await w2.commit([c1]);
    expect(await lines(out)).toEqual(['kept']);
  });

  it('a restart without restored state runs from the beginning: output rewritten, nothing duplicated', async () => {
    const out = join(dir, 'o.jsonl');
    const w = writer(out);
    await w.open();
    await write(w, ['first']);
    await w.commit([await w.prepareCommit(1)]);
    await w.close();
    const w2 = writer(out, { attempt: 1 });
    await w2.open();
    await write(w2, ['first']);
    await w2.commit([await w2.prepareCommit(1)]);
    await w2.close();
    expect(await lines(out)).toEqual(['first']);
  });

  it('a fresh run replaces earlier output instead of appending to it', async () => {
    const out = join(dir, 'o.jsonl');
    for (const run of ['first', 'second']) {
      const w = writer(out);
      await w.open();
      await write(w, [run]);
      await w.commit([await w.prepareCommit(1)]);
      await w.close();
    }
    expect(await lines(out)).toEqual(['second']);
    // And part files of an earlier run with a higher parallelism are removed.
    const pdir = join(dir, 'parts');
    await mkdir(pdir);
    await writeFile(join(pdir, 'part-5.jsonl'), '"old"\n');
    await writeFile(join(pdir, 'part-1.jsonl'), '"old"\n');
    const ws = [0, 1].map((k) => writer(pdir, { subtaskIndex: k, parallelism: 2 }));
    for (const w of ws) await w.open();
    for (const w of ws) await w.commit([await w.prepareCommit(1)]);
    expect((await readdir(pdir)).filter((n) => !n.startsWith('.')).sort()).toEqual(['part-0.jsonl', 'part-1.jsonl']);
    expect(await readFile(join(pdir, 'part-1.jsonl'), 'utf8')).toBe('');
  });

  it('large writes return a promise (backpressure) and everything arrives in order', async () => {
    const out = join(dir, 'big.jsonl');
    const w = writer(out);
    await w.open();
    const batch = Array.from({ length: 1000 }, (_, i) => ({ i, pad: 'x'.repeat(100) }));
    let promises = 0;
    for (let b = 0; b < 60; b++) {
      const r = w.write(batch.map((x) => ({ ...x, b })), []);
      if (r) { promises++; await r; }
    }
    expect(promises).toBeGreaterThan(0);
    await w.commit([await w.prepareCommit(1)]);
    const got = await lines(out) as { i: number; b: number }[];
    expect(got).toHaveLength(60_000);
    expect(got[1000]).toMatchObject({ i: 0, b: 1 });
    expect(got[59_999]).toMatchObject({ i: 999, b: 59 });
    await w.close();
  });

  it('parallelism 1 onto an existing directory is a clear config error', async () => {
    const w = writer(dir);
    await expect(Promise.resolve(w.open())).rejects.toBeInstanceOf(RlinkError);
    expect(() => fileSink({ path: '' })).toThrow(/path/);
  });
});
