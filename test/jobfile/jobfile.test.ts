/**
 * Config-file jobs through the real CLI: the same job as YAML and as TypeScript gives identical output;
 * every problem of a file is reported at once with file:line and key (unknown keys and ids, cycles,
 * bad expressions and SQL, planning errors at build time); the defaults file, the job's settings and
 * the command line override each other in that order.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, canonical, readJsonl, rlink, tempDir, writeJsonl } from '../helpers/cli';

const APPS = join(ROOT, 'test', 'jobfile', 'apps');
const dirs: string[] = [];
const dir = () => { const d = tempDir('rlink-jobfile-'); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const ORDERS = Array.from({ length: 80 }, (_, i) => ({ id: i, customer: `c${i % 4}`, amount: (i * 37) % 50, ts: 1_767_225_600_000 + i * 400 - ((i * 13) % 1500), extra: 'dropped by the schema' }));

async function runOk(args: string[], cwd?: string) {
  const r = await rlink(['run', ...args], cwd ? { cwd } : {});
  if (r.exitCode !== 0) throw new Error(`rlink run ${args[0]} exited ${r.exitCode}\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  return r;
}

describe('config-file jobs', () => {
  it('the same job as YAML and as TypeScript gives identical output (union, filter, map, SQL window, select)', async () => {
    const d = dir();
    writeJsonl(join(d, 'orders.jsonl'), ORDERS);
    await runOk([join(APPS, 'orders.yaml'), `input=${join(d, 'orders.jsonl')}`, `output=${join(d, 'yaml')}`], d);
    await runOk([join(APPS, 'orders.ts'), `input=${join(d, 'orders.jsonl')}`, `output=${join(d, 'ts')}`], d);
    const yaml = readJsonl(join(d, 'yaml', 'stats'));
    expect(yaml.length).toBeGreaterThan(10);
    expect(canonical(yaml)).toEqual(canonical(readJsonl(join(d, 'ts', 'stats'))));
    expect(Object.keys(yaml[0]!)).toEqual(['who', 'ws', 'mean']);
    // settings.parallelism 2: the window's sink writes two part files.
    expect(readdirSync(join(d, 'yaml', 'stats')).filter((f) => f.startsWith('part-')).sort()).toEqual(['part-0.jsonl', 'part-1.jsonl']);
    // drop and limit: the first 5 orders, without ts (and without the field the schema does not declare).
    expect(readJsonl(join(d, 'yaml', 'first.jsonl'))).toEqual(ORDERS.slice(0, 5).map(({ id, customer, amount }) => ({ id, customer, amount })));
  });

  it('reports every problem of the file at once, each with file:line and key, in one line', async () => {
    const d = dir();
    const f = join(d, 'bad.yaml');
    writeFileSync(f, [
      'name: bad',                                   // 1
      'sources:',                                    // 2
      '  - id: clicks',                              // 3
      '    type: file',                              // 4
      '    path: x.jsonl',                           // 5
      '    format: json',                            // 6
      '    schema: { page: txt }',                   // 7
      'transforms:',                                 // 8
      '  - id: a',                                   // 9
      '    input: b',                                // 10
      '    filter: "page = 1"',                      // 11
      '  - id: b',                                   // 12
      '    input: a',                                // 13
      '    map: { p: "page ||" }',                   // 14
      '  - id: q',                                   // 15
      '    sql: |',                                  // 16
      '      SELECT page',                           // 17
      '      FROM clickz',                           // 18
      'sinks:',                                      // 19
      '  - id: out',                                 // 20
      '    input: q',                                // 21
      '    type: kafka',                             // 22
      '    topic: t',                                // 23
      '    guarantee: maybe',                        // 24
      'setings: {}',                                 // 25
    ].join('\n'));
    const r = await rlink(['run', f, '--json']);
    expect(r.exitCode).toBe(1);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('RLINK_CONFIG');
    expect(error.message).toContain(`${f}: 8 problems`);
    for (const p of [
      `${f}:6: sources[0].format: must be one of jsonl, csv, got 'json'`,
      `${f}:7: sources[0].schema.page: unknown type 'txt'`,
      `${f}:9: transforms[0]: the transforms form a cycle: a → b → a`,
      `${f}:14: transforms[1].map.p: SQL: line 1, column 8: unexpected end of input, expected an expression`,
      `${f}:18: transforms[2].sql: unknown id 'clickz'; did you mean 'clicks'?`,
      `${f}:20: sinks[0].brokers: required`,
      `${f}:24: sinks[0].guarantee: must be one of none, at-least-once, exactly-once, got 'maybe'`,
      `${f}:25: setings: unknown key (known: name, sources, transforms, sinks, settings); did you mean settings?`,
    ]) expect(error.message).toContain(p);
    // Without --json: one line on stderr.
    const plain = await rlink(['run', f]);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toMatch(/^rlink run: .*bad\.yaml: 8 problems/);
  });

  it('reports problems found when the job is built (columns, properties) together, with their lines', async () => {
    const d = dir();
    writeJsonl(join(d, 'in.jsonl'), [{ page: '/a', ts: 1 }]);
    const f = join(d, 'job.yaml');
    writeFileSync(f, [
      'name: late-problems',
      'sources:',
      '  - id: clicks',
      '    type: file',
      '    path: ${input}',
      '    format: jsonl',
      '    schema: { page: string, ts: timestamp }',
      'transforms:',
      '  - id: f',
      '    input: clicks',
      '    filter: "pgae = \'/a\'"',
      '  - id: q',
      '    sql: |',
      '      SELECT page,',
      '             COUNT(*) AS n, nope',
      '      FROM clicks GROUP BY page',
      'sinks:',
      '  - { id: o1, input: f, type: print }',
      '  - { id: o2, input: clicks, type: file, path: "${output}" }',
      '  - { id: o3, input: q, type: print }',
    ].join('\n'));
    const r = await rlink(['run', f, `input=${join(d, 'in.jsonl')}`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^rlink run: app 'late-problems' failed to build: .*job\.yaml: 3 problems/);
    expect(r.stderr).toContain(`${f}:11: transforms[0].filter: SQL: line 1, column 1: unknown column 'pgae' (columns: page, ts)`);
    expect(r.stderr).toContain(`${f}:15: transforms[1].sql: SQL: line 2, column 23: unknown column 'nope' (columns: page, ts)`);
    expect(r.stderr).toContain(`${f}:19: sinks[1].path: missing required property 'output' (pass it as output=<value>`);
  });

  it('settings: a defaults file next to the job, overridden by the job\'s settings, overridden by the command line', async () => {
    const d = dir();
    writeJsonl(join(d, 'in.jsonl'), ORDERS);
    const job = (settings: string) => [
      'name: layered',
      'sources: [{ id: o, type: file, path: "${input}", format: jsonl, schema: { customer: string, ts: timestamp }, watermark: { field: ts, delay: 1s } }]',
      'transforms:',
      '  - id: q',
      "    sql: SELECT customer, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE o, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, customer",
      'sinks: [{ id: out, input: q, type: file, path: "${output}" }]',
      settings,
    ].join('\n');
    const jobs = join(d, 'jobs');
    mkdirSync(jobs);
    writeFileSync(join(jobs, 'rlink-defaults.yaml'), `parallelism: 3\ncheckpoint: { interval: 200ms, dir: ${join(d, 'cp')} }\nproperties: { input: ${join(d, 'in.jsonl')} }\n`);
    writeFileSync(join(jobs, 'a.yaml'), job(''));
    writeFileSync(join(jobs, 'b.yaml'), job('settings: { parallelism: 2 }'));
    const parts = (out: string) => (statSync(out).isDirectory() ? readdirSync(out).filter((f) => f.startsWith('part-')).length : 1);
    await runOk([join(jobs, 'a.yaml'), `output=${join(d, 'a')}`], d);
    expect(parts(join(d, 'a'))).toBe(3); // the defaults file
    expect(existsSync(join(d, 'cp'))).toBe(true); // its checkpoint section
    await runOk([join(jobs, 'b.yaml'), `output=${join(d, 'b')}`], d);
    expect(parts(join(d, 'b'))).toBe(2); // the job's settings
    await runOk([join(jobs, 'b.yaml'), `output=${join(d, 'c')}`, 'parallelism.default=1'], d);
    expect(parts(join(d, 'c'))).toBe(1); // the command line
    expect(canonical(readJsonl(join(d, 'a')))).toEqual(canonical(readJsonl(join(d, 'c'))));
  });

  it('takes standalone.yaml\'s checkpoint section as the defaults when there is no rlink-defaults.yaml', async () => {
    const d = dir();
    writeJsonl(join(d, 'in.jsonl'), ORDERS);
    writeFileSync(join(d, 'standalone.yaml'), `application_manager_address: ["http://127.0.0.1:8770"]\ntask_manager_work_dir: /tmp/x\ncheckpoint: { dir: ${join(d, 'cp')}, interval: 100ms }\n`);
    writeFileSync(join(d, 'job.yaml'), 'name: cp\nsources: [{ id: o, type: file, path: "${input}", format: jsonl }]\nsinks: [{ id: out, input: o, type: file, path: "${output}" }]\n');
    const r = await runOk([join(d, 'job.yaml'), `input=${join(d, 'in.jsonl')}`, `output=${join(d, 'out.jsonl')}`, '--json'], d);
    expect(JSON.parse(r.stdout.slice(r.stdout.search(/^\{/m))).status).toBe('FINISHED');
    expect(existsSync(join(d, 'cp'))).toBe(true);
    expect(readJsonl(join(d, 'out.jsonl'))).toHaveLength(ORDERS.length);
  });
});
