/** Reading config-file jobs: the spec, the graph order, settings, lines of problems; the defaults file. */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJobFile } from './parse';
import { findDefaultsFile, loadDefaults, textJobProperties } from './app';
import { ConfigValidationError } from '../config/yaml-reader';

const problems = (text: string): string[] => {
  try { parseJobFile(text, 'job.yaml'); } catch (e) { if (e instanceof ConfigValidationError) return e.problems.map((p) => `${p.line}: ${p.key}: ${p.message}`); throw e; }
  throw new Error('no problems');
};

describe('parseJobFile', () => {
  it('reads sources, transforms and sinks, orders the graph so inputs come first, maps settings to properties', () => {
    const job = parseJobFile([
      'name: j',
      'transforms:',
      '  - { id: c, input: [a, b], filter: "x > 1" }',
      '  - id: q',
      '    sql: SELECT x FROM c',
      'sources:',
      '  - { id: a, type: generator, count: 5, generate: { x: "i" } }',
      '  - { id: b, type: kafka, brokers: [h1:9092, h2:9092], topic: t, watermark: { delay: 5s } }',
      'sinks: [{ id: out, input: q, type: print, parallelism: 1 }]',
      'settings:',
      '  parallelism: 3',
      '  checkpoint: { interval: 10s, dir: /cp }',
      '  restart: { strategy: fixed-delay, attempts: 5, delay: 2s }',
      '  properties: { topic: clicks, n: 3 }',
    ].join('\n'), 'job.yaml');
    expect(job.order.indexOf('a')).toBeLessThan(job.order.indexOf('c'));
    expect(job.order.indexOf('c')).toBeLessThan(job.order.indexOf('q'));
    expect(job.transforms[0]!.inputs.map((i) => i.id)).toEqual(['a', 'b']);
    expect(job.transforms[1]!.inputs).toEqual([{ id: 'c', line: 5, path: 'transforms[1].sql' }]);
    expect(job.sources[1]!.options.brokers!.value).toEqual(['h1:9092', 'h2:9092']);
    expect(job.sources[1]!.watermark).toMatchObject({ delay: '5s' });
    expect(job.settings).toEqual({
      'parallelism.default': '3', 'checkpoint.interval': '10s', 'checkpoint.dir': '/cp',
      'restart.strategy': 'fixed-delay', 'restart.attempts': '5', 'restart.delay': '2s', topic: 'clicks', n: '3',
    });
  });

  it('puts a SQL problem on the file line of the SQL line (block scalars start on the next line)', () => {
    expect(problems([
      'name: j',
      'sources: [{ id: a, type: file, path: x, format: jsonl }]',
      'transforms:',
      '  - id: q',
      '    sql: |',
      '      SELECT x',
      '      FROM a WHERE',
      'sinks: [{ id: o, input: q, type: print }]',
    ].join('\n'))).toEqual(['7: transforms[0].sql: SQL: line 2, column 13: unexpected end of input, expected an expression']);
  });

  it('names unknown ids, sinks used as inputs, duplicate ids, ids that are not SQL names, and missing required keys', () => {
    expect(problems([
      'name: j',
      'sources: [{ id: a, type: file, path: x, format: jsonl }, { id: a, type: generator, generate: { x: i } }, { id: "bad-id", type: generator, generate: { x: i } }]',
      'transforms: [{ id: t, input: out, limit: 2 }, { id: u, input: nope, drop: [x] }]',
      'sinks: [{ id: out, input: t, type: file }]',
    ].join('\n'))).toEqual([
      "2: sources[1].id: id 'a' is used twice (also at line 2)",
      "2: sources[2].id: id 'bad-id' must be a plain name (letters, digits, _; not starting with a digit): SQL names tables by it",
      "3: transforms[0].input: unknown id 'out' ('out' is a sink: sinks cannot be read) (sources and transforms: a, t, u)",
      "3: transforms[1].input: unknown id 'nope' (sources and transforms: a, t, u)",
      '4: sinks[0].path: required',
    ]);
  });
});

describe('the defaults file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is $RLINK_DEFAULTS, else rlink-defaults.yaml next to the job, else in the working directory, else standalone.yaml', () => {
    dir = mkdtempSync(join(tmpdir(), 'rlink-defaults-'));
    const jobs = join(dir, 'jobs');
    mkdirSync(jobs);
    expect(findDefaultsFile('jobs/j.yaml', dir, {})).toBeUndefined();
    writeFileSync(join(dir, 'standalone.yaml'), 'checkpoint: { dir: /cp, interval: 5s }\ntask_manager_work_dir: /w\n');
    expect(findDefaultsFile('jobs/j.yaml', dir, {})).toBe(join(dir, 'standalone.yaml'));
    expect(loadDefaults(join(dir, 'standalone.yaml'))).toEqual({ 'checkpoint.dir': '/cp', 'checkpoint.interval': '5s' });
    writeFileSync(join(dir, 'rlink-defaults.yaml'), 'parallelism: 2\n');
    expect(findDefaultsFile('jobs/j.yaml', dir, {})).toBe(join(dir, 'rlink-defaults.yaml'));
    writeFileSync(join(jobs, 'rlink-defaults.yaml'), 'restart: { strategy: none }\n');
    expect(findDefaultsFile('jobs/j.yaml', dir, {})).toBe(join(jobs, 'rlink-defaults.yaml'));
    expect(findDefaultsFile('jobs/j.yaml', dir, { RLINK_DEFAULTS: 'standalone.yaml' })).toBe(join(dir, 'standalone.yaml'));
  });

  it('is overridden by the job\'s settings; its problems are reported with file:line', () => {
    dir = mkdtempSync(join(tmpdir(), 'rlink-defaults-'));
    writeFileSync(join(dir, 'rlink-defaults.yaml'), 'parallelism: 4\ncheckpoint: { interval: 1m }\n');
    writeFileSync(join(dir, 'j.yaml'), 'name: j\nsources: [{ id: a, type: file, path: x, format: jsonl }]\nsinks: [{ id: o, input: a, type: print }]\nsettings: { parallelism: 2 }\n');
    expect(textJobProperties('j.yaml', { cwd: dir, env: {} })).toEqual({
      properties: { 'parallelism.default': '2', 'checkpoint.interval': '1m' }, defaultsFile: join(dir, 'rlink-defaults.yaml'),
    });
    writeFileSync(join(dir, 'rlink-defaults.yaml'), 'parallelism: 0\nchekpoint: {}\n');
    expect(() => textJobProperties('j.yaml', { cwd: dir, env: {} })).toThrow(/rlink-defaults\.yaml: 2 problems.*:1: parallelism: must be an integer in 1\.\.32768, got 0.*:2: chekpoint: unknown key .*did you mean checkpoint\?/s);
  });
});
