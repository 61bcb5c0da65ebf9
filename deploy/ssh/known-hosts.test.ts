// known_hosts parsing and lookup: patterns, ports, hashed names (made by the real ssh-keygen -H),
// markers, appending; fingerprints as OpenSSH prints them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendKnownHost, entryMatches, fingerprint, knownHostName, KnownHosts, parseKnownHosts } from './known-hosts';

// Two real ed25519 public keys (blobs) for the tests.
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIJyJyxbUc7pWNSxVQ0qEkbWM3lO+O2o2kz+KXDA7nJzN';
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAILpsJIawJ4ScxkJd96G5bpQ6ZQNeXIhhAgV2CKMtQeS8';
const haveKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore', timeout: 5_000 }).error === undefined;

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'rlink-kh-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('parseKnownHosts', () => {
  it('reads patterns, key types, comments and markers; skips blank and comment lines; reports bad lines', () => {
    const text = [
      '# a comment',
      '',
      'alpha,10.0.0.1 ssh-ed25519 ' + K1 + ' some comment',
      '[beta]:2222 ssh-ed25519 ' + K2,
      '@revoked * ssh-ed25519 ' + K2,
      '@cert-authority *.example.com ssh-ed25519 ' + K1,
      '@bogus host ssh-ed25519 ' + K1,
      'only-two-fields ssh-ed25519',
      '  \t ',
    ].join('\n');
    const { entries, errors } = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker, e.patterns, e.keyType, e.comment])).toEqual([
      [3, undefined, ['alpha', '10.0.0.1'], 'ssh-ed25519', 'some comment'],
      [4, undefined, ['[beta]:2222'], 'ssh-ed25519', undefined],
      [5, 'revoked', ['*'], 'ssh-ed25519', undefined],
      [6, 'cert-authority', ['*.example.com'], 'ssh-ed25519', undefined],
    ]);
    expect(errors.map((e) => e.line)).toEqual([7, 8]);
  });

  it('lookup: plain names, [host]:port for other ports, wildcards, negation, key type; ignores @cert-authority', () => {
    const kh = KnownHosts.parse([
      'alpha,10.0.0.1 ssh-ed25519 ' + K1,
      '[alpha]:2222 ssh-ed25519 ' + K2,
      '*.lan,!secret.lan ssh-rsa AAAAB3NzaC1yc2E=',
      '@cert-authority alpha ssh-ed25519 ' + K2,
    ].join('\n'));
    expect(kh.lookup('alpha', 22).map((e) => e.line)).toEqual([1]);
    expect(kh.lookup('ALPHA', 22).map((e) => e.line)).toEqual([1]);
    expect(kh.lookup('10.0.0.1', 22).map((e) => e.line)).toEqual([1]);
    expect(kh.lookup('alpha', 2222).map((e) => e.line)).toEqual([2]);
    expect(kh.lookup('alpha', 2223)).toEqual([]);
    expect(kh.lookup('box.lan', 22).map((e) => e.line)).toEqual([3]);
    expect(kh.lookup('secret.lan', 22)).toEqual([]);
    expect(kh.lookup('box.lan', 22, 'ssh-ed25519')).toEqual([]);
    expect(kh.keyTypesFor('alpha', 22)).toEqual(['ssh-ed25519']);
  });

  it('check: known, changed (with the line), unknown, revoked', () => {
    const kh = KnownHosts.parse(['# x', 'alpha ssh-ed25519 ' + K1, '@revoked beta ssh-ed25519 ' + K2, 'beta ssh-ed25519 ' + K2].join('\n'));
    const b1 = Buffer.from(K1, 'base64');
    const b2 = Buffer.from(K2, 'base64');
    expect(kh.check('alpha', 22, b1).status).toBe('known');
    expect(kh.check('alpha', 22, b2)).toMatchObject({ status: 'changed', entry: { line: 2 } });
    expect(kh.check('gamma', 22, b1).status).toBe('unknown');
    expect(kh.check('alpha', 2222, b1).status).toBe('unknown');
    expect(kh.check('beta', 22, b2)).toMatchObject({ status: 'revoked', entry: { line: 3 } });
  });

  it.skipIf(!haveKeygen)('matches hashed entries written by ssh-keygen -H (port 22 and [host]:port)', async () => {
    const f = join(dir, 'hashed');
    await writeFile(f, `alpha.example ssh-ed25519 ${K1}\n[10.1.2.3]:2200 ssh-ed25519 ${K2}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore', timeout: 10_000 });
    const text = await readFile(f, 'utf8');
    expect(text).not.toContain('alpha');
    const kh = await KnownHosts.load(f);
    expect(kh.entries.every((e) => e.hashed)).toBe(true);
    expect(kh.lookup('alpha.example', 22).map((e) => e.keyBase64)).toEqual([K1]);
    expect(kh.lookup('10.1.2.3', 2200).map((e) => e.keyBase64)).toEqual([K2]);
    expect(kh.lookup('10.1.2.3', 22)).toEqual([]);
    expect(kh.lookup('beta.example', 22)).toEqual([]);
    // ssh-keygen -F finds the same line we do
    const found = execFileSync('ssh-keygen', ['-F', '[10.1.2.3]:2200', '-f', f], { timeout: 10_000 }).toString();
    expect(found).toContain(kh.lookup('10.1.2.3', 2200)[0]!.patterns[0]);
  });

  it('a missing file is empty', async () => {
    expect((await KnownHosts.load(join(dir, 'does-not-exist'))).entries).toEqual([]);
  });

  it('wildcard patterns never match more than the glob says (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
    fc.assert(fc.property(label, label, (a, b) => {
      const e = parseKnownHosts(`${a}.example ssh-ed25519 ${K1}`).entries[0]!;
      expect(entryMatches(e, `${b}.example`, 22)).toBe(a === b);
      const w = parseKnownHosts(`*.${a} ssh-ed25519 ${K1}`).entries[0]!;
      expect(entryMatches(w, `${b}.${a}`, 22)).toBe(true);
      expect(entryMatches(w, `${b}.${a}x`, 22)).toBe(false);
    }));
  });
});

describe('fingerprint', () => {
  it.skipIf(!haveKeygen)('is what ssh-keygen -l prints', async () => {
    const f = join(dir, 'fp.pub');
    await writeFile(f, `ssh-ed25519 ${K1} c\n`);
    const out = execFileSync('ssh-keygen', ['-l', '-f', f], { timeout: 10_000 }).toString();
    expect(out.split(' ')[1]).toBe(fingerprint(K1));
    expect(fingerprint(Buffer.from(K1, 'base64'))).toBe(fingerprint(K1));
    expect(fingerprint(K1)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('appendKnownHost', () => {
  it('creates the directory (0700) and file (0600), writes [host]:port for port ≠ 22, keeps lines whole', async () => {
    const f = join(dir, 'new', 'sub', 'known_hosts');
    await appendKnownHost(f, '10.0.0.5', 2222, 'ssh-ed25519', K1);
    expect((await stat(join(dir, 'new', 'sub'))).mode & 0o777).toBe(0o700);
    expect((await stat(f)).mode & 0o777).toBe(0o600);
    await writeFile(f, (await readFile(f, 'utf8')) + '# no newline at the end');
    await appendKnownHost(f, 'beta', 22, 'ssh-ed25519', K2);
    expect(await readFile(f, 'utf8')).toBe(`[10.0.0.5]:2222 ssh-ed25519 ${K1}\n# no newline at the end\nbeta ssh-ed25519 ${K2}\n`);
    const kh = await KnownHosts.load(f);
    expect(kh.lookup('10.0.0.5', 2222).map((e) => e.line)).toEqual([1]);
    expect(kh.lookup('beta', 22).map((e) => e.line)).toEqual([3]);
    expect(knownHostName('beta', 22)).toBe('beta');
  });
});
