/**
 * The props API apps see in prepareProperties/build: a string map from `key=value` arguments;
 * `get` names a missing key; durations are ms numbers or '500ms' | '20s' | '1m' | '1h'.
 */
import { describe, expect, it } from 'vitest';
import { Props } from '../../core/api/props';
import { RlinkError } from '../../core/errors';
import { toMillis } from '../../core/time/duration';
import { compileJobConfig } from '../../core/config/system-properties';

function thrown(fn: () => unknown): RlinkError {
  try { fn(); } catch (e) { expect(e).toBeInstanceOf(RlinkError); return e as RlinkError; }
  throw new Error('expected an error');
}

describe('Props', () => {
  it('get returns a set value; a missing key throws RLINK_MISSING_PROP naming it and how to pass it', () => {
    const p = Props.fromArgs(['input=data/in.jsonl']);
    expect(p.get('input')).toBe('data/in.jsonl');
    const e = thrown(() => p.get('output'));
    expect(e.code).toBe('RLINK_MISSING_PROP');
    expect(e.message).toContain("'output'");
    expect(e.message).toContain('output=');
    expect(e.context.key).toBe('output');
  });

  it('an empty value is a value, not a missing key', () => {
    const p = Props.fromArgs(['empty=']);
    expect(p.has('empty')).toBe(true);
    expect(p.get('empty')).toBe('');
  });

  it('fromArgs splits at the first =, later arguments win, a token without = is named', () => {
    const p = Props.fromArgs(['filter=a=b', 'n=1', 'n=2', 'url=http://x/?q=1']);
    expect(p.get('filter')).toBe('a=b');
    expect(p.get('n')).toBe('2');
    expect(p.get('url')).toBe('http://x/?q=1');
    for (const bad of ['oops', '=value']) {
      const e = thrown(() => Props.fromArgs([bad]));
      expect(e.code).toBe('RLINK_CONFIG');
      expect(e.message).toContain(`'${bad}'`);
    }
  });

  it('set stores strings; has, getOr, keys and toJSON see them', () => {
    const p = new Props({ a: '1' });
    p.set('n', 42).set('flag', true);
    expect(p.get('n')).toBe('42');
    expect(p.get('flag')).toBe('true');
    expect(p.getOr('missing', 'dflt')).toBe('dflt');
    expect(p.getOr('a', 'dflt')).toBe('1');
    expect(p.keys().sort()).toEqual(['a', 'flag', 'n']);
    expect(p.toJSON()).toEqual({ a: '1', n: '42', flag: 'true' });
    expect(new Props(p.toJSON()).toJSON()).toEqual(p.toJSON()); // shipped as JSON, rebuilt the same
  });

  it('getNumber: parses, falls back, names the key of a bad number, and a missing key without fallback', () => {
    const p = new Props({ n: '200000', f: '1.5', bad: 'lots' });
    expect(p.getNumber('n')).toBe(200_000);
    expect(p.getNumber('f')).toBe(1.5);
    expect(p.getNumber('missing', 7)).toBe(7);
    const e = thrown(() => p.getNumber('bad'));
    expect(e.code).toBe('RLINK_CONFIG');
    expect(e.message).toContain("'bad'");
    expect(e.message).toContain("'lots'");
    expect(thrown(() => p.getNumber('missing')).code).toBe('RLINK_MISSING_PROP');
  });

  it("getDuration parses '500ms', '20s', '1m', '1h' and plain milliseconds", () => {
    const p = new Props({ a: '500ms', b: '20s', c: '1m', d: '1h', e: '250', f: '1.5s', g: '2min', h: '1d', i: '0' });
    expect(p.getDuration('a')).toBe(500);
    expect(p.getDuration('b')).toBe(20_000);
    expect(p.getDuration('c')).toBe(60_000);
    expect(p.getDuration('d')).toBe(3_600_000);
    expect(p.getDuration('e')).toBe(250);
    expect(p.getDuration('f')).toBe(1_500);
    expect(p.getDuration('g')).toBe(120_000);
    expect(p.getDuration('h')).toBe(86_400_000);
    expect(p.getDuration('i')).toBe(0);
    expect(p.getDuration('missing', 1000)).toBe(1000);
    expect(thrown(() => p.getDuration('missing')).code).toBe('RLINK_MISSING_PROP');
  });

  it('a bad duration: RLINK_CONFIG naming the property, the value, and the accepted forms', () => {
    for (const bad of ['soon', '10 sec', '-5s', '5x', 's', '']) {
      const e = thrown(() => new Props({ 'checkpoint.interval': bad }).getDuration('checkpoint.interval'));
      expect(e.code).toBe('RLINK_CONFIG');
      expect(e.message).toContain('checkpoint.interval');
      expect(e.message).toContain(`'${bad}'`);
      expect(e.message).toMatch(/500ms.*20s.*1m.*1h/);
    }
  });
});

describe('durations (toMillis)', () => {
  it('numbers are milliseconds (floored); strings take a unit', () => {
    expect(toMillis(1500)).toBe(1500);
    expect(toMillis(1.9)).toBe(1);
    expect(toMillis('500ms')).toBe(500);
    expect(toMillis(' 20s ')).toBe(20_000);
    expect(toMillis('1m')).toBe(60_000);
    expect(toMillis('1h')).toBe(3_600_000);
  });

  it('negative or non-finite numbers are rejected, naming what was being read', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = thrown(() => toMillis(bad, 'window size'));
      expect(e.code).toBe('RLINK_CONFIG');
      expect(e.message).toContain('window size');
    }
  });
});

describe('system properties read from props', () => {
  it('defaults, and values from props', () => {
    expect(compileJobConfig(new Props())).toMatchObject({
      checkpointIntervalMs: undefined, restart: { strategy: 'none', attempts: 3, delayMs: 1000 }, maxParallelism: 128,
    });
    expect(compileJobConfig(new Props({ 'checkpoint.interval': '10s', 'restart.strategy': 'fixed-delay', 'restart.delay': '2s', 'restart.attempts': '5' })))
      .toMatchObject({ checkpointIntervalMs: 10_000, restart: { strategy: 'fixed-delay', attempts: 5, delayMs: 2000 } });
  });

  it('a bad system property is an error naming it', () => {
    const e1 = thrown(() => compileJobConfig(new Props({ 'restart.strategy': 'sometimes' })));
    expect(e1.message).toContain('restart.strategy');
    expect(e1.message).toContain('sometimes');
    const e2 = thrown(() => compileJobConfig(new Props({ 'checkpoint.interval': 'often' })));
    expect(e2.message).toContain('checkpoint.interval');
    const e3 = thrown(() => compileJobConfig(new Props({ 'pipeline.max-parallelism': '0' })));
    expect(e3.message).toContain('pipeline.max-parallelism');
  });
});
