/**
 * Bad input through the real CLI: what stops a run (a broken app, a missing property, an unknown
 * flag) exits non-zero with ONE line naming the cause; what does not (bad records) is counted,
 * logged with file:line, and the job still FINISHES with exact results for the good records.
 *
 * The apps live in test/apps/; files that must not type-check (a syntax error) are written to a
 * temporary directory by the test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, rlink, tempDir, writeJsonl, type CliResult } from '../helpers/cli';

const CLICKS = 'test/apps/clicks-per-user.ts';
const dirs: string[] = [];
function dir(): string { const d = tempDir('rlink-bad-input-'); dirs.push(d); return d; }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** The pino JSON lines of stderr (other lines are ignored). */
function logs(stderr: string): Array<Record<string, any>> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
}

/** The one-line failure contract: non-zero exit, exactly one non-empty line on stderr, no stack trace, nothing on stdout. */
function expectOneLineFailure(r: CliResult): string {
  expect(r.exitCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout.trim()).toBe('');
  return lines[0]!;
}

/** `--json` failures: a JSON error object on stdout, non-zero exit. */
function expectJsonError(r: CliResult): { code: string; message: string } {
  expect(r.exitCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBe(0);
  let parsed: { error?: { code: string; message: string } };
  try { parsed = JSON.parse(r.stdout); } catch { throw new Error(`--json failure did not print JSON on stdout:\n${r.stdout}\nstderr: ${r.stderr}`); }
  expect(parsed.error).toBeDefined();
  expect(typeof parsed.error!.code).toBe('string');
  expect(typeof parsed.error!.message).toBe('string');
  return parsed.error!;
}

interface ClickRec { user: string; ts?: unknown; amount?: number }

/** What clicks-per-user computes: per user and 10 s tumbling window, the click count and amount total. */
function expectedClicks(records: ClickRec[]): unknown[] {
  const m = new Map<string, { user: string; windowStart: number; windowEnd: number; clicks: number; total: number }>();
  for (const r of records) {
    const ts = r.ts as number;
    const start = ts - (((ts % 10_000) + 10_000) % 10_000);
    const k = `${r.user}@${start}`;
    let a = m.get(k);
    if (!a) m.set(k, a = { user: r.user, windowStart: start, windowEnd: start + 10_000, clicks: 0, total: 0 });
    a.clicks += 1; a.total += r.amount ?? 0;
  }
  return [...m.values()];
}

const GOOD: ClickRec[] = [
  { user: 'ann', ts: 1_000, amount: 1 },
  { user: 'bob', ts: 2_000, amount: 2 },
  { user: 'ann', ts: 4_500, amount: 4 },
  { user: 'bob', ts: 9_999, amount: 8 },
  { user: 'ann', ts: 10_000, amount: 16 },
  { user: 'cid', ts: 12_000, amount: 32 },
  { user: 'ann', ts: 25_000, amount: 64 },
];

describe('bad records never stop the job', () => {
  it('an unparsable JSONL line: FINISHED, exact results, counted in the final line, logged with file:line', async () => {
    const d = dir();
    const input = join(d, 'clicks.jsonl');
    const out = join(d, 'out.jsonl');
    const lines = GOOD.map((r) => JSON.stringify(r));
    lines.splice(2, 0, '{"user":"ann","ts":3000,amount:3}'); // line 3: not JSON
    writeFileSync(input, lines.join('\n') + '\n');

    const r = await rlink(['run', CLICKS, `input=${input}`, `output=${out}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^FINISHED clicks-per-user in [\d.]+s: /);
    expect(last).toContain('1 invalid records skipped');
    expect(canonical(readJsonl(out))).toEqual(canonical(expectedClicks(GOOD)));

    const warned = logs(r.stderr).filter((l) => JSON.stringify(l).includes(`${input}:3`));
    expect(warned.length, r.stderr).toBeGreaterThanOrEqual(1);
    expect(warned[0]!.msg).toContain(`${input}:3`);
    // The log does not point at any good line.
    for (const n of [1, 2, 4, 5, 6, 7, 8]) expect(r.stderr).not.toContain(`${input}:${n}"`);
  });

  it('several bad lines (not JSON, truncated last line without newline): each counted and logged with its line', async () => {
    const d = dir();
    const input = join(d, 'clicks.jsonl');
    const out = join(d, 'out.jsonl');
    const lines = GOOD.map((r) => JSON.stringify(r));
    lines.splice(1, 0, 'garbage');          // line 2
    lines.splice(4, 0, '{"user": "bob", "ts": 5'); // line 5
    lines.push('{"user":"ann","ts":');     // line 10, no final newline
    writeFileSync(input, lines.join('\n'));

    const r = await rlink(['run', CLICKS, `input=${input}`, `output=${out}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toContain('3 invalid records skipped');
    expect(canonical(readJsonl(out))).toEqual(canonical(expectedClicks(GOOD)));
    for (const n of [2, 5, 10]) expect(r.stderr, `line ${n}`).toContain(`${input}:${n}`);
  });

  it('--json: the result object reports progress.invalidRecords', async () => {
    const d = dir();
    const input = join(d, 'clicks.jsonl');
    const out = join(d, 'out.jsonl');
    writeFileSync(input, [...GOOD.map((r) => JSON.stringify(r)), 'not json', '[1,2'].join('\n') + '\n');

    const r = await rlink(['run', CLICKS, `input=${input}`, `output=${out}`, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; name: string; progress: { invalidRecords: number; recordsIn: number } };
    expect(result.status).toBe('FINISHED');
    expect(result.name).toBe('clicks-per-user');
    expect(result.progress.invalidRecords).toBe(2);
    expect(result.progress.recordsIn).toBe(GOOD.length);
    expect(canonical(readJsonl(out))).toEqual(canonical(expectedClicks(GOOD)));
  });

  it('records without their timestamp field (or with an unreadable one): dropped, counted, logged', async () => {
    const d = dir();
    const input = join(d, 'clicks.jsonl');
    const out = join(d, 'out.jsonl');
    const bad: ClickRec[] = [{ user: 'bob', amount: 100 }, { user: 'ann', ts: 'yesterday', amount: 200 }];
    const all = [...GOOD.slice(0, 3), bad[0]!, ...GOOD.slice(3, 5), bad[1]!, ...GOOD.slice(5)];
    writeJsonl(input, all);

    const r = await rlink(['run', CLICKS, `input=${input}`, `output=${out}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^FINISHED clicks-per-user/);
    expect(last).toContain('2 invalid records skipped');
    expect(canonical(readJsonl(out))).toEqual(canonical(expectedClicks(GOOD)));
    // Logged, pointing at the lines of the records (4 and 7).
    const l = logs(r.stderr).filter((x) => /timestamp/i.test(String(x.msg)));
    expect(l.length, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${input}:4`);
    expect(r.stderr).toContain(`${input}:7`);
  });
});

describe('what stops a run: one line naming the cause', () => {
  it('an app whose build throws: the app name and the error message, no stack trace', async () => {
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/build-throws.ts']));
    expect(line).toBe("rlink run: app 'build-throws' failed to build: boom");
  });

  it('an app whose build throws a non-Error value', async () => {
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/throws-string.ts']));
    expect(line).toBe("rlink run: app 'throws-string' failed to build: kaput");
  });

  it('an app that throws while its module loads names the file and the error', async () => {
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/load-throws.ts']));
    expect(line).toContain('test/apps/load-throws.ts');
    expect(line).toContain('region not configured');
  });

  it('an app file without a default export says what to export', async () => {
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/no-default-export.ts']));
    expect(line).toContain('test/apps/no-default-export.ts');
    expect(line).toContain('export default defineApp');
  });

  it('a missing required property names the key (and how to pass it)', async () => {
    const line = expectOneLineFailure(await rlink(['run', CLICKS]));
    expect(line).toMatch(/^rlink run: /);
    expect(line).toContain("'input'");
    expect(line).toContain('input=');
    expect(line).toContain('clicks-per-user');
  });

  it('a missing property read later in build names that key', async () => {
    const d = dir();
    writeJsonl(join(d, 'in.jsonl'), GOOD);
    const line = expectOneLineFailure(await rlink(['run', CLICKS, `input=${join(d, 'in.jsonl')}`]));
    expect(line).toContain("'output'");
    expect(line).not.toContain("'input'");
  });

  it('an unknown flag is named', async () => {
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/build-throws.ts', '--frobnicate']));
    expect(line).toMatch(/^rlink run: /);
    expect(line).toContain('--frobnicate');
  });

  it('an unknown flag stops the run before the app is built', async () => {
    // build-throws would say "boom" if it were built: the flag error comes first.
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/build-throws.ts', 'x=1', '--frobnicate=yes']));
    expect(line).toContain('--frobnicate');
    expect(line).not.toContain('boom');
  });

  it('an argument that is not key=value is named', async () => {
    const line = expectOneLineFailure(await rlink(['run', 'test/apps/build-throws.ts', 'oops']));
    expect(line).toContain("'oops'");
    expect(line).toContain('key=value');
  });

  it('an app file that does not exist is named', async () => {
    const d = dir();
    const missing = join(d, 'no-such-app.ts');
    const line = expectOneLineFailure(await rlink(['run', missing]));
    expect(line).toContain(missing);
    expect(line).toMatch(/no such file/i);
  });

  it('an app with a syntax error names file:line', async () => {
    const d = dir();
    const file = join(d, 'broken.ts');
    writeFileSync(file, [
      "import { defineApp } from 'rlink';",
      '',
      'export default defineApp({',
      "  name: 'broken',",
      '  build(env, props) {',
      '    const x = ;',
      '  },',
      '});',
      '',
    ].join('\n'));
    const line = expectOneLineFailure(await rlink(['run', file]));
    expect(line).toMatch(/^rlink run: /);
    expect(line).toMatch(/broken\.ts:6(:\d+)?\b/);
  });

  it('an input file that does not exist fails the job, naming the file', async () => {
    const d = dir();
    const missing = join(d, 'nope.jsonl');
    const r = await rlink(['run', CLICKS, `input=${missing}`, `output=${join(d, 'out.jsonl')}`]);
    expect(r.exitCode).not.toBe(0);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^rlink run: job clicks-per-user FAILED: /);
    expect(last).toContain(missing);
  });
});

describe('--json on failure: a JSON error object on stdout', () => {
  it('build error', async () => {
    const e = expectJsonError(await rlink(['run', 'test/apps/build-throws.ts', '--json']));
    expect(e.code).toBe('RLINK_APP_BUILD');
    expect(e.message).toBe("app 'build-throws' failed to build: boom");
  });

  it('missing property', async () => {
    const e = expectJsonError(await rlink(['run', CLICKS, '--json']));
    expect(e.code).toBe('RLINK_MISSING_PROP');
    expect(e.message).toContain("'input'");
  });

  it('unknown flag', async () => {
    const e = expectJsonError(await rlink(['run', 'test/apps/build-throws.ts', '--frobnicate', '--json']));
    expect(e.message).toContain('--frobnicate');
  });

  it('missing app file and syntax error', async () => {
    const d = dir();
    const e1 = expectJsonError(await rlink(['run', join(d, 'missing.ts'), '--json']));
    expect(e1.message).toContain('missing.ts');
    const file = join(d, 'broken.ts');
    writeFileSync(file, "import { defineApp } from 'rlink';\nexport default defineApp({ name: 'b', build() { return ) } });\n");
    const e2 = expectJsonError(await rlink(['run', file, '--json']));
    expect(e2.code).toBe('RLINK_APP_BUNDLE');
    expect(e2.message).toMatch(/broken\.ts:2\b/);
  });

  it('a failed job', async () => {
    const d = dir();
    const e = expectJsonError(await rlink(['run', CLICKS, `input=${join(d, 'nope.jsonl')}`, `output=${join(d, 'o.jsonl')}`, '--json']));
    expect(e.code).toBe('RLINK_CONFIG'); // the failing task's cause: the input file is missing
    expect(e.message).toContain('nope.jsonl');
  });
});
