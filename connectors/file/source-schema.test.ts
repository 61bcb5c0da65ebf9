/** The file source with a schema: records conformed to it, misfits counted and logged with file:line. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceReader } from '../../core/api/connector';
import { memoryLogger, testContext } from '../testing/context';
import { fileSource } from './source';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rlink-filesrc-schema-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function drain(reader: SourceReader): Promise<{ values: unknown[]; where: string[] }> {
  const out = { values: [] as unknown[], where: [] as string[] };
  for (;;) {
    const r = await reader.poll(100);
    if (r.kind === 'end') return out;
    if (r.kind === 'records') r.values.forEach((v, i) => { out.values.push(v); out.where.push(r.where!(i)); });
  }
}

const SCHEMA = { name: 'string', value: 'double', n: 'bigint', ok: 'boolean', ts: 'timestamp', watermark: { field: 'ts', delay: '1s' } };

describe('file source with a schema', () => {
  it('converts JSON fields to their types, fills missing ones with null, drops undeclared ones, reports misfits with file:line', async () => {
    const f = join(dir, 'in.jsonl');
    await writeFile(f, [
      '{"name":"a","value":"1.5","n":2,"ok":true,"ts":"2026-01-01 00:00:01","extra":1}',
      '{"name":7,"value":2,"n":"3","ok":"false","ts":1767225600000}',
      '{"name":"c","value":"abc","n":1,"ok":true,"ts":1}',
      '{"name":"d","n":1.5}',
      '{"name":"e"}',
      '[1,2]',
    ].join('\n'));
    const mem = memoryLogger();
    const ctx = testContext({ logger: mem.logger });
    const src = fileSource({ path: f, format: 'jsonl', schema: SCHEMA });
    expect(src.schema?.watermark).toEqual({ field: 'ts', delayMs: 1000 });
    const r = src.createReader(ctx);
    await r.open();
    const got = await drain(r);
    expect(got.values).toEqual([
      { name: 'a', value: 1.5, n: 2, ok: true, ts: Date.UTC(2026, 0, 1, 0, 0, 1) },
      { name: '7', value: 2, n: 3, ok: false, ts: 1767225600000 },
      { name: 'e', value: null, n: null, ok: null, ts: null },
    ]);
    expect(got.where).toEqual([`${f}:1`, `${f}:2`, `${f}:5`]);
    expect(ctx.metrics.recordsInvalid).toBe(3);
    const warns = mem.lines().filter((l) => l.level === 40).map((l) => l.msg);
    expect(warns).toEqual([
      `invalid record skipped at ${f}:3: field 'value': expected a double, got the string "abc"`,
      `invalid record skipped at ${f}:4: field 'n': expected a bigint, got number 1.5`,
      `invalid record skipped at ${f}:6: expected an object with the fields name, value, n, ok, ts, got an array`,
    ]);
  });

  it('reads CSV fields as text and lets the schema convert them (a string column keeps "007")', async () => {
    const f = join(dir, 'in.csv');
    await writeFile(f, 'code,amount\n007,12\n"x",1e3\nbad,NaNx\n');
    const ctx = testContext();
    const r = fileSource({ path: f, format: 'csv', schema: { code: 'string', amount: 'double' } }).createReader(ctx);
    await r.open();
    expect((await drain(r)).values).toEqual([{ code: '007', amount: 12 }, { code: 'x', amount: 1000 }]);
    expect(ctx.metrics.recordsInvalid).toBe(1);
  });

  it('refuses a bad schema when the source is made, naming the field', () => {
    expect(() => fileSource({ path: 'x', format: 'jsonl', schema: { a: 'text2' } })).toThrow(/file source: schema field 'a': unknown type "text2"/);
    expect(() => fileSource({ path: 'x', format: 'jsonl', schema: { a: 'string', watermark: { field: 'a', delay: '1s' } } })).toThrow(/watermark field 'a' must be a timestamp/);
    expect(() => fileSource({ path: 'x', format: 'jsonl', schema: { a: 'string', watermark: { field: 'b', delay: '1s' } } })).toThrow(/watermark field 'b' is not a field of the schema/);
  });
});
