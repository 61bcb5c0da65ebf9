// SshSession against a real OpenSSH server on loopback (test/infra/sshd.ts): commands, files,
// host-key checking and every connection failure's message.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RlinkError } from '../../core/errors';
import { freePort, generateKey, restartWithNewHostKey, sshdAvailable, startLoopbackSshd, type SshFixture } from '../../test/infra/sshd';
import { fingerprint, KnownHosts } from './known-hosts';
import { SshSession, type SshTarget } from './ssh-session';

const avail = sshdAvailable();

async function failure(p: Promise<unknown>): Promise<RlinkError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RlinkError);
    expect((err as RlinkError).code).toBe('RLINK_SSH');
    return err as RlinkError;
  }
  throw new Error('expected a failure');
}

describe.skipIf(!avail.ok && !process.env.RLINK_REQUIRE_SSHD)(`SshSession ${avail.reason ?? ''}`, () => {
  let fx: SshFixture;
  let scratch: string;
  let target: SshTarget;

  beforeAll(async () => {
    fx = await startLoopbackSshd();
    scratch = await mkdtemp(join(tmpdir(), 'rlink-ssh-test-'));
    target = { host: '127.0.0.1', port: fx.hosts[0]!.port, user: fx.user, identityFile: fx.identityFile, knownHostsFile: fx.knownHostsFile };
  });
  afterAll(async () => {
    await fx?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe('on a connected session', () => {
    let s: SshSession;
    beforeAll(async () => { s = await SshSession.connect(target); });
    afterAll(async () => { await s?.close(); });

    it('runs commands: stdout, stderr and the exit code, never throwing for a non-zero exit', async () => {
      expect(await s.exec('echo out; echo err >&2; exit 3')).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      expect((await s.exec('true')).code).toBe(0);
      expect((await s.exec('kill -9 $$')).code).toBe(128 + 9);
    });

    it('feeds stdin', async () => {
      const r = await s.exec('wc -c; cat >/dev/null', { stdin: Buffer.alloc(100_000, 'x') });
      expect(r.stdout.trim()).toBe('100000');
      expect((await s.exec('tr a-z A-Z', { stdin: 'hello' })).stdout).toBe('HELLO');
    });

    it('times out a command with RLINK_SSH', async () => {
      const t0 = Date.now();
      const err = await failure(s.exec('sleep 30', { timeoutMs: 300 }));
      expect(err.message).toMatch(/did not finish within 0\.3s/);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect((await s.exec('echo still usable')).stdout).toBe('still usable\n'); // the session survives
    });

    it('writeFile replaces a file atomically with the given mode, leaving no .part file', async () => {
      const p = join(scratch, 'w', 'conf.txt');
      await s.mkdirp(join(scratch, 'w'));
      await s.writeFile(p, 'one', 0o600);
      expect(await readFile(p, 'utf8')).toBe('one');
      expect((await stat(p)).mode & 0o777).toBe(0o600);
      await s.writeFile(p, Buffer.from('two'), 0o640); // over an existing file
      expect(await readFile(p, 'utf8')).toBe('two');
      expect((await stat(p)).mode & 0o777).toBe(0o640);
      expect((await s.exec(`ls -a ${join(scratch, 'w')}`)).stdout.split('\n').filter((f) => f.includes('.part-'))).toEqual([]);
    });

    it('upload copies a local file (its mode by default, or the given one)', async () => {
      const local = join(scratch, 'local.sh');
      const big = Buffer.alloc(3 << 20, 7);
      await writeFile(local, big, { mode: 0o755 });
      const remote = join(scratch, 'up', 'remote.sh');
      await s.mkdirp(join(scratch, 'up'));
      await s.upload(local, remote);
      expect((await readFile(remote)).equals(big)).toBe(true);
      expect((await stat(remote)).mode & 0o777).toBe(0o755);
      await s.upload(local, remote, 0o700);
      expect((await stat(remote)).mode & 0o777).toBe(0o700);
      const err = await failure(s.upload(join(scratch, 'missing'), remote));
      expect(err.message).toContain(join(scratch, 'missing'));
    });

    it('readFile: content, or null when absent', async () => {
      await writeFile(join(scratch, 'r.txt'), 'abc');
      expect((await s.readFile(join(scratch, 'r.txt')))?.toString()).toBe('abc');
      expect(await s.readFile(join(scratch, 'nope.txt'))).toBeNull();
    });

    it('mkdirp creates missing parents with the mode, accepts existing ones, refuses a file in the way', async () => {
      const d = join(scratch, 'm', 'a', 'b');
      await s.mkdirp(d, 0o700);
      expect((await stat(d)).isDirectory()).toBe(true);
      expect((await stat(d)).mode & 0o777).toBe(0o700);
      await s.mkdirp(d);
      await writeFile(join(scratch, 'm', 'file'), '');
      const err = await failure(s.mkdirp(join(scratch, 'm', 'file', 'x')));
      expect(err.message).toMatch(/exists and is not a directory/);
    });
  });

  it('refuses an unknown host key, naming the host and the known_hosts file; accepts it with acceptNewHostKeys', async () => {
    const kh = join(scratch, 'kh-new', 'known_hosts'); // the directory does not exist yet
    const err = await failure(SshSession.connect({ ...target, knownHostsFile: kh }));
    expect(err.message).toMatch(new RegExp(`^${fx.user}@127\\.0\\.0\\.1:${target.port}: host key SHA256:[A-Za-z0-9+/]+ \\(ssh-ed25519\\) is not in ${kh}; check it and pass --accept-new-host-keys to trust it$`));
    expect(err.context.host).toBe('127.0.0.1');

    const s1 = await SshSession.connect({ ...target, knownHostsFile: kh, acceptNewHostKeys: true });
    await s1.close();
    const text = await readFile(kh, 'utf8');
    expect(text).toBe(fx.hosts[0]!.hostKeyLine + '\n');
    expect((await stat(kh)).mode & 0o777).toBe(0o600);
    expect((await stat(join(scratch, 'kh-new'))).mode & 0o777).toBe(0o700);
    const kh2 = join(scratch, 'kh-concurrent');
    const many = await Promise.all([1, 2, 3, 4].map(() => SshSession.connect({ ...target, knownHostsFile: kh2, acceptNewHostKeys: true })));
    await Promise.all(many.map((m) => m.close()));
    expect(await readFile(kh2, 'utf8')).toBe(fx.hosts[0]!.hostKeyLine + '\n'); // one line, not four
    const s2 = await SshSession.connect({ ...target, knownHostsFile: kh }); // now known
    expect((await s2.exec('echo ok')).stdout).toBe('ok\n');
    await s2.close();
  });

  it('refuses a changed host key, even with acceptNewHostKeys, naming the known_hosts line', async () => {
    const kh = join(scratch, 'kh-changed');
    await writeFile(kh, '# hosts\n\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx8w4Xv0fKxD6tSLrVtZkJ4J1bKqWmH+7o0dL6uB2bM\n' + fx.hosts[0]!.hostKeyLine + '\n');
    const oldFp = fingerprint(fx.hosts[0]!.hostKeyLine.split(' ')[2]!);
    const newLine = await restartWithNewHostKey(fx, 0);
    const newFp = fingerprint(newLine.split(' ')[2]!);
    expect(newFp).not.toBe(oldFp);
    for (const acceptNewHostKeys of [false, true]) {
      const err = await failure(SshSession.connect({ ...target, knownHostsFile: kh, acceptNewHostKeys }));
      expect(err.message).toBe(`${fx.user}@127.0.0.1:${target.port}: HOST KEY CHANGED: ${kh}:4 has ${oldFp}, the host offers ${newFp}; refusing to connect (remove the line if the change is expected)`);
    }
    expect((await readFile(kh, 'utf8')).split('\n').length).toBe(5); // nothing appended
    // the fixture's own known_hosts is still the old key; use a fresh one for the rest of the suite
    await writeFile(fx.knownHostsFile, newLine + '\n');
  });

  it('refuses a key marked @revoked', async () => {
    const kh = join(scratch, 'kh-revoked');
    const line = fx.hosts[0]!.hostKeyLine;
    await writeFile(kh, `${line}\n@revoked ${line}\n`);
    const err = await failure(SshSession.connect({ ...target, knownHostsFile: kh }));
    expect(err.message).toMatch(/is marked @revoked in .*kh-revoked:2/);
  });

  it('accepts a hashed known_hosts entry', async () => {
    const kh = join(scratch, 'kh-hashed');
    await copyFile(fx.knownHostsFile, kh);
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore', timeout: 10_000 });
    expect(await readFile(kh, 'utf8')).toMatch(/^\|1\|/);
    expect(KnownHosts.parse(await readFile(kh, 'utf8')).lookup('127.0.0.1', target.port)).toHaveLength(1);
    const s = await SshSession.connect({ ...target, knownHostsFile: kh });
    await s.close();
  });

  it('a key the server does not authorize: "the server refused key <file> for user <user>"', async () => {
    const other = join(scratch, 'other_key');
    await generateKey(other, 'not-authorized');
    const err = await failure(SshSession.connect({ ...target, identityFile: other }));
    expect(err.message).toBe(`${fx.user}@127.0.0.1:${target.port}: the server refused key ${other} for user ${fx.user}`);
  });

  it('an unreadable or invalid identity file is named', async () => {
    const missing = join(scratch, 'no_such_key');
    expect((await failure(SshSession.connect({ ...target, identityFile: missing }))).message).toMatch(new RegExp(`cannot read identity file ${missing} \\(ENOENT\\)`));
    const bad = join(scratch, 'bad_key');
    await writeFile(bad, 'not a key\n');
    expect((await failure(SshSession.connect({ ...target, identityFile: bad }))).message).toContain(`cannot use identity file ${bad}`);
    const locked = join(scratch, 'locked_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', locked], { stdio: 'ignore', timeout: 10_000 });
    expect((await failure(SshSession.connect({ ...target, identityFile: locked }))).message).toMatch(new RegExp(`cannot use identity file ${locked}: .*passphrase`));
  });

  it('a closed port: "connection refused" naming user@host:port', async () => {
    const port = await freePort();
    const err = await failure(SshSession.connect({ ...target, port }));
    expect(err.message).toBe(`${fx.user}@127.0.0.1:${port}: connection refused`);
    expect(err.retriable).toBe(true);
  });

  it('a port that accepts TCP but never speaks SSH: "no answer within 1s"', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((sock) => { sockets.push(sock); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      const err = await failure(SshSession.connect({ ...target, port, connectTimeoutMs: 1000 }));
      const took = Date.now() - t0;
      expect(err.message).toBe(`${fx.user}@127.0.0.1:${port}: no answer within 1s`);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(4_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('an unknown host name: "cannot resolve host name"', async () => {
    const err = await failure(SshSession.connect({ ...target, host: 'no-such-host.invalid', connectTimeoutMs: 5_000 }));
    expect(err.message).toMatch(/^.*@no-such-host\.invalid:\d+: cannot resolve host name no-such-host\.invalid/);
  });

  it('a command whose connection drops fails with RLINK_SSH, and the session says it is closed', async () => {
    const s = await SshSession.connect(target);
    // the shell's parent is the connection's sshd: killing it drops the connection mid-command
    const err = await failure(s.exec('kill -KILL $PPID; sleep 20', { timeoutMs: 10_000 }));
    expect(err.message).toMatch(/connection was lost while running: kill -KILL \$PPID; sleep 20/);
    expect((await failure(s.exec('true'))).message).toMatch(/connection is closed/);
    await s.close();
  });
});
