import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { memoryLogger, testContext } from '../testing/context';
import { fileSource, listInputFiles, type FileSourceOptions } from './source';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rlink-filesrc-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

interface Read { values: unknown[]; where: string[]; splits: string[]; finished: string[]; polls: number }

/** Polls a reader to the end, collecting values, where(i) and split events. */
async function drain(reader: SourceReader, max = 1000, limit = Number.POSITIVE_INFINITY): Promise<Read & { ended: boolean }> {
  const out: Read = { values: [], where: [], splits: [], finished: [], polls: 0 };
  let ended = false;
  while (out.values.length < limit) {
    const r: SourcePoll<unknown> = await reader.poll(max);
    out.polls++;
    if (r.kind === 'end') { ended = true; break; }
    if (r.kind === 'idle') throw new Error('file source must not idle');
    if (r.kind === 'split-finished') { out.finished.push(r.split); continue; }
    expect(r.values.length).toBeLessThanOrEqual(max);
    r.values.forEach((v, i) => { out.values.push(v); out.where.push(r.where!(i)); });
    out.splits.push(r.split);
    if (r.splitFinished) out.finished.push(r.split);
  }
  return { ...out, ended };
}

function reader(opts: FileSourceOptions, over: Parameters<typeof testContext>[0] = {}) {
  const ctx = testContext(over);
  return { ctx, reader: fileSource(opts).createReader(ctx) };
}

describe('file source: jsonl', () => {
  it('keeps good records, counts and logs a bad line with file:line', async () => {
    const f = join(dir, 'in.jsonl');
    await writeFile(f, '{"a":1}\n\n{"a":2}\n{not json\n   \n{"a":3}\n');
    const mem = memoryLogger();
    const { ctx, reader: r } = reader({ path: f, format: 'jsonl' }, { logger: mem.logger });
    expect(await r.open()).toEqual([f]);
    const got = await drain(r);
    expect(got.values).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(got.where).toEqual([`${f}:1`, `${f}:3`, `${f}:6`]);
    expect(got.finished).toEqual([f]);
    expect(got.ended).toBe(true);
    expect(ctx.metrics.recordsInvalid).toBe(1);
    const warns = mem.lines().filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toContain(`${f}:4`);
    expect(warns[0]).toMatchObject({ file: f, line: 4, preview: '{not json' });
    expect(String(warns[0]!.error)).not.toBe('');
    await r.close();
  });

  it('handles CRLF, a missing final newline and a BOM', async () => {
    const f = join(dir, 'crlf.jsonl');
    await writeFile(f, '\uFEFF{"x":"a"}\r\n{"x":"b"}\r\n{"x":"c"}');
    const { reader: r } = reader({ path: f, format: 'jsonl' });
    await r.open();
    expect((await drain(r)).values).toEqual([{ x: 'a' }, { x: 'b' }, { x: 'c' }]);
  });

  it('batches are at most max records and of one file; the last one marks the split finished', async () => {
    const f = join(dir, 'n.jsonl');
    await writeFile(f, Array.from({ length: 25 }, (_, i) => JSON.stringify({ i })).join('\n') + '\n');
    const { reader: r } = reader({ path: f, format: 'jsonl' });
    await r.open();
    const sizes: number[] = [];
    let finishedFlag = false;
    for (;;) {
      const p = await r.poll(10);
      if (p.kind === 'end') break;
      if (p.kind === 'records') { sizes.push(p.values.length); finishedFlag ||= p.splitFinished === true; }
    }
    expect(sizes.slice(0, 2)).toEqual([10, 10]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(finishedFlag).toBe(true);
  });

  it('reads a file larger than the chunk size with multibyte characters split across chunks', async () => {
    const f = join(dir, 'big.jsonl');
    const recs = Array.from({ length: 30_000 }, (_, i) => ({ i, s: 'héllo wörld 日本語 🎉'.repeat((i % 7) + 1) }));
    await writeFile(f, recs.map((x) => JSON.stringify(x)).join('\r\n') + '\r\n');
    // The default 1 MiB chunks (the file is ~3 MiB), and small odd chunk sizes on a prefix.
    for (const [chunk, n] of [[undefined, 30_000], [7, 300], [61, 3000], [4093, 30_000]] as const) {
      const g = n === 30_000 ? f : join(dir, `prefix-${n}.jsonl`);
      if (g !== f) await writeFile(g, recs.slice(0, n).map((x) => JSON.stringify(x)).join('\r\n') + '\r\n');
      const { ctx, reader: r } = reader({ path: g, format: 'jsonl', ...(chunk ? { readChunkBytes: chunk } : {}) });
      await r.open();
      const got = await drain(r, 333);
      expect(got.values).toEqual(recs.slice(0, n));
      expect(ctx.metrics.recordsInvalid).toBe(0);
      expect(got.where[n - 1]).toBe(`${g}:${n}`);
    }
  });

  it('skips (and counts) a line longer than maxLineBytes', async () => {
    const f = join(dir, 'long.jsonl');
    await writeFile(f, `{"a":1}\n{"big":"${'x'.repeat(5000)}"}\n{"a":2}\n`);
    const { ctx, reader: r } = reader({ path: f, format: 'jsonl', readChunkBytes: 100, maxLineBytes: 1000 });
    await r.open();
    const got = await drain(r);
    expect(got.values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(got.where).toEqual([`${f}:1`, `${f}:3`]);
    expect(ctx.metrics.recordsInvalid).toBe(1);
  });

  it('enforces maxLineBytes for any longer line: one that fits in a read chunk, one across chunks, the last one', async () => {
    const f = join(dir, 'limit.jsonl');
    const exact = `{"k":"${'x'.repeat(1000 - 8)}"}`; // 1000 bytes: at the limit, kept
    const over = `{"k":"${'y'.repeat(1001 - 8)}"}`; // 1001 bytes: one too many
    expect(Buffer.byteLength(exact)).toBe(1000);
    await writeFile(f, `${exact}\r\n${over}\n{"a":1}\n${over}\n{"a":2}\n${over}`);
    for (const readChunkBytes of [1 << 20, 700, 1001, 64]) {
      const { ctx, reader: r } = reader({ path: f, format: 'jsonl', readChunkBytes, maxLineBytes: 1000 });
      await r.open();
      const got = await drain(r);
      expect(got.values, `chunk ${readChunkBytes}`).toEqual([{ k: 'x'.repeat(992) }, { a: 1 }, { a: 2 }]);
      expect(got.where).toEqual([`${f}:1`, `${f}:3`, `${f}:5`]);
      expect(ctx.metrics.recordsInvalid).toBe(3);
      await r.close();
    }
  });

  it('a missing path is a clear RLINK_CONFIG error', async () => {
    const missing = join(dir, 'nope');
    const { reader: r } = reader({ path: missing, format: 'jsonl' });
    const err = await Promise.resolve(r.open()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RlinkError);
    expect((err as RlinkError).code).toBe('RLINK_CONFIG');
    expect((err as RlinkError).message).toBe(`file source: no such file or directory: ${missing}`);
  });

  it('rejects bad options', () => {
    expect(() => fileSource({ path: '', format: 'jsonl' })).toThrow(RlinkError);
    expect(() => fileSource({ path: 'x', format: 'xml' as never })).toThrow(/format/);
  });
});

describe('file source: csv', () => {
  it('parses header, quoting, numbers, and skips a ragged row', async () => {
    const f = join(dir, 'in.csv');
    await writeFile(f, [
      'name,value,note',
      'a,1,plain',
      '"b, inc",-2.5,"say ""hi"""',
      'c,1e3,"01234"',
      'd,2,3,4',
      'e,0012,',
      '',
      'f,x1,"-7"',
      'g,1.,"unterminated',
    ].join('\r\n') + '\r\n');
    const mem = memoryLogger();
    const { ctx, reader: r } = reader({ path: f, format: 'csv' }, { logger: mem.logger });
    await r.open();
    const got = await drain(r);
    expect(got.values).toEqual([
      { name: 'a', value: 1, note: 'plain' },
      { name: 'b, inc', value: -2.5, note: 'say "hi"' },
      { name: 'c', value: 1000, note: '01234' },
      { name: 'e', value: 12, note: '' },
      { name: 'f', value: 'x1', note: '-7' },
    ]);
    expect(got.where).toEqual([`${f}:2`, `${f}:3`, `${f}:4`, `${f}:6`, `${f}:8`]);
    expect(ctx.metrics.recordsInvalid).toBe(2);
    const msgs = mem.lines().filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(msgs[0]).toContain(`${f}:5`);
    expect(msgs[0]).toContain('4 fields');
    expect(msgs[1]).toContain(`${f}:9`);
  });

  it('resumes after the header from a checkpoint', async () => {
    const f = join(dir, 'r.csv');
    await writeFile(f, 'k,v\n' + Array.from({ length: 50 }, (_, i) => `k${i},${i}`).join('\n') + '\n');
    const { reader: r1 } = reader({ path: f, format: 'csv', readChunkBytes: 16 });
    await r1.open();
    const first = await drain(r1, 7, 21);
    const state = JSON.parse(JSON.stringify(r1.snapshot!())) as unknown;
    await r1.close();
    const { reader: r2 } = reader({ path: f, format: 'csv', readChunkBytes: 16 });
    await r2.open(state);
    const rest = await drain(r2, 7);
    expect([...first.values, ...rest.values]).toEqual(Array.from({ length: 50 }, (_, i) => ({ k: `k${i}`, v: i })));
    expect(rest.where[0]).toBe(`${f}:23`);
  });
});

describe('file source: directories and splits', () => {
  it('lists regular files in name order, skipping hidden and unfinished ones and subdirectories', async () => {
    for (const n of ['b.jsonl', 'a.jsonl', 'c.jsonl', '.hidden', 'x.inprogress', 'y.pending']) await writeFile(join(dir, n), '{}\n');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'd.jsonl'), '{}\n');
    expect(await listInputFiles(dir)).toEqual(['a.jsonl', 'b.jsonl', 'c.jsonl'].map((n) => join(dir, n)));
  });

  it('splits 3 files across 2 subtasks (i ≡ k mod p)', async () => {
    const files = ['f0.jsonl', 'f1.jsonl', 'f2.jsonl'];
    for (const [i, n] of files.entries()) await writeFile(join(dir, n), `{"f":${i},"r":0}\n{"f":${i},"r":1}\n`);
    const { reader: r0 } = reader({ path: dir, format: 'jsonl' }, { subtaskIndex: 0, parallelism: 2 });
    const { reader: r1 } = reader({ path: dir, format: 'jsonl' }, { subtaskIndex: 1, parallelism: 2 });
    expect(await r0.open()).toEqual([join(dir, 'f0.jsonl'), join(dir, 'f2.jsonl')]);
    expect(await r1.open()).toEqual([join(dir, 'f1.jsonl')]);
    const g0 = await drain(r0);
    const g1 = await drain(r1);
    expect(g0.values).toEqual([{ f: 0, r: 0 }, { f: 0, r: 1 }, { f: 2, r: 0 }, { f: 2, r: 1 }]);
    expect(g1.values).toEqual([{ f: 1, r: 0 }, { f: 1, r: 1 }]);
    expect(g0.finished).toEqual([join(dir, 'f0.jsonl'), join(dir, 'f2.jsonl')]);
    expect(new Set(g0.splits)).toEqual(new Set([join(dir, 'f0.jsonl'), join(dir, 'f2.jsonl')]));
    // A subtask without files ends at once.
    const { reader: r3 } = reader({ path: dir, format: 'jsonl' }, { subtaskIndex: 3, parallelism: 4 });
    expect(await r3.open()).toEqual([]);
    expect(await r3.poll(10)).toEqual({ kind: 'end' });
  });

  it('snapshot/restore resumes exactly at every cut point, across files', async () => {
    const names = ['a.jsonl', 'b.jsonl'];
    const all: unknown[] = [];
    for (const n of names) {
      const recs = Array.from({ length: 40 }, (_, i) => ({ n, i, t: 'ü'.repeat(i % 5) }));
      all.push(...recs);
      await writeFile(join(dir, n), recs.map((x) => JSON.stringify(x)).join('\n') + '\n');
    }
    for (const cut of [0, 1, 13, 39, 40, 41, 79, 80]) {
      const { reader: r1 } = reader({ path: dir, format: 'jsonl', readChunkBytes: 50 });
      await r1.open();
      const first = cut === 0 ? { values: [] as unknown[] } : await drain(r1, 6, cut);
      const state = JSON.parse(JSON.stringify(r1.snapshot!())) as unknown;
      await r1.close();
      const { reader: r2 } = reader({ path: dir, format: 'jsonl', readChunkBytes: 50 });
      await r2.open(state);
      const rest = await drain(r2, 6);
      expect([...first.values, ...rest.values], `cut ${cut}`).toEqual(all);
      expect(rest.ended).toBe(true);
    }
  });

  it('snapshot reports byte offset and line per file', async () => {
    const f = join(dir, 'p.jsonl');
    await writeFile(f, '{"a":1}\n{"a":2}\n');
    const { reader: r } = reader({ path: f, format: 'jsonl' });
    await r.open();
    expect(r.snapshot!()).toEqual({ [f]: { offset: 0, line: 0 } });
    await r.poll(1);
    expect(r.snapshot!()).toEqual({ [f]: { offset: 8, line: 1 } });
    await drain(r);
    expect(r.snapshot!()).toEqual({ [f]: { offset: 16, line: 2 } });
  });
});
