import { describe, it, expect, beforeAll } from 'vitest';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RlinkError } from '../errors';
import { ensureTokenFile, octalMode, readTokenFile, resolveToken } from './token';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'rlink-token-')); });

describe('the cluster token file', () => {
  it('is created with mode 0600 in a 0700 directory, and the result states the mode', () => {
    const t = ensureTokenFile(join(dir, 'new', 'token'));
    expect(t.created).toBe(true);
    expect(t.mode).toBe('0600');
    expect(statSync(t.file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o700);
    const again = ensureTokenFile(t.file);
    expect(again).toEqual({ token: t.token, file: t.file, created: false, mode: '0600' });
  });

  it.skipIf(process.platform === 'win32')('refuses a token file group or others can read, naming the file and its mode', () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602]) {
      const f = join(dir, `open-${mode.toString(8)}`);
      writeFileSync(f, 'a'.repeat(32));
      chmodSync(f, mode);
      const err = (() => { try { readTokenFile(f); } catch (e) { return e; } return undefined; })();
      expect(err).toBeInstanceOf(RlinkError);
      expect((err as RlinkError).code).toBe('RLINK_CONFIG');
      expect((err as RlinkError).message).toBe(`token file ${f} is accessible by group or others (mode ${octalMode(mode)}): run chmod 600 ${f}`);
      expect(() => resolveToken({ tokenFile: f })).toThrow(/accessible by group or others/);
      expect(() => ensureTokenFile(f)).toThrow(/accessible by group or others/);
    }
  });

  it('reads a private token file (0600 or 0400)', () => {
    for (const mode of [0o600, 0o400]) {
      const f = join(dir, `private-${mode.toString(8)}`);
      writeFileSync(f, `${'b'.repeat(40)}\n`);
      chmodSync(f, mode);
      expect(readTokenFile(f)).toBe('b'.repeat(40));
    }
  });

  it('refuses a missing or short token', () => {
    expect(() => readTokenFile(join(dir, 'missing'))).toThrow(/does not exist/);
    const f = join(dir, 'short');
    writeFileSync(f, 'abc', { mode: 0o600 });
    expect(() => readTokenFile(f)).toThrow(/holds no token/);
    expect(() => resolveToken({ env: { RLINK_TOKEN: 'short' } })).toThrow(/shorter than 16/);
  });
});
