/**
 * Test infrastructure: real OpenSSH servers for the SSH and deploy tests.
 *
 * `startLoopbackSshd()` runs one throw-away sshd on 127.0.0.1:<free port> with its own host key,
 * client key, authorized_keys and known_hosts in a temp dir. `restartWithNewHostKey()` replaces a
 * host's sshd by one with a fresh host key on the same address (the "host key changed" case).
 * The machinery here (key generation, sshd launch, readiness wait, cleanup registry) is shared with
 * `netns.ts`. Every wait is bounded; `stop()` is idempotent and also runs at process exit.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface SshHostFixture {
  name: string;
  address: string;
  port: number;
  /** The host's line for known_hosts: `[addr]:port ssh-ed25519 AAAA…` (no brackets for port 22). */
  hostKeyLine: string;
  /** The network namespace the host's sshd runs in (namespaced hosts only). */
  namespace?: string;
  /** Namespaced hosts: `<fixture dir>/host<i>`, under which each private dir P lives as `<rootDir>/<P>`. */
  rootDir?: string;
}

export interface SshFixture {
  dir: string;
  /** os.userInfo().username: the key in `identityFile` logs in as this user. */
  user: string;
  identityFile: string;
  knownHostsFile: string;
  hosts: SshHostFixture[];
  /** Kills every sshd it started and everything left in its namespaces, removes namespaces, bridge and its temp dir. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// availability

export function sshdAvailable(): { ok: boolean; reason?: string } {
  if (!existsSync(SSHD)) return { ok: false, reason: `${SSHD} missing: apt-get install openssh-server` };
  if (!findOnPath('ssh-keygen')) return { ok: false, reason: 'ssh-keygen missing: apt-get install openssh-client' };
  return { ok: true };
}

export function findOnPath(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const d of dirs) {
    if (d && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// small process helpers

/** Runs a command (no shell) with a time bound; resolves with stdout, rejects with its stderr. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Alive and not a zombie (this machine's pid 1 may take a while to reap orphans). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** All descendants of a pid (from /proc/<pid>/stat), deepest last. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch { /* gone meanwhile */ }
  }
  const out: number[] = [];
  const walk = (p: number) => { for (const c of children.get(p) ?? []) { out.push(c); walk(c); } };
  walk(root);
  return out;
}

/**
 * Stops a process and all its descendants, deepest first, so that each parent is still alive to
 * reap its children (a PID 1 that never reaps would otherwise collect zombies). Bounded in time.
 */
export async function killTree(root: number): Promise<void> {
  const levels: number[][] = [[root]];
  for (;;) {
    const next = levels[levels.length - 1]!.flatMap((p) => directChildren(p));
    if (next.length === 0 || levels.length > 32) break;
    levels.push(next);
  }
  for (const level of levels.reverse()) await killPids(level, 500, true);
}

function directChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return descendants(pid).filter((c) => parentOf(c) === pid);
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM, then SIGKILL after graceMs, for each pid; waits (bounded) until they are gone. With
 * `reaped`, a zombie still counts as present (its parent has yet to reap it): killTree waits for that
 * before killing the parent, or the zombie would be left to a PID 1 that may never reap it.
 */
export async function killPids(pids: number[], graceMs = 1_000, reaped = false): Promise<void> {
  const signal = (sig: NodeJS.Signals) => { for (const p of pids) { try { process.kill(p, sig); } catch { /* gone */ } } };
  const running = (p: number) => pidAlive(p) && !isZombie(p);
  const present = reaped ? pidAlive : running;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(present)) await sleep(20);
  if (pids.some(running)) {
    signal('SIGKILL');
    const hard = Date.now() + 2_000;
    while (Date.now() < hard && pids.some(running)) await sleep(20);
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// keys, config, launch

/** ssh-keygen an ed25519 key without passphrase; returns the public key line `ssh-ed25519 AAAA… comment`. */
export async function generateKey(path: string, comment: string): Promise<string> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return (await readFile(`${path}.pub`, 'utf8')).trim();
}

/** `ssh-ed25519 AAAA…` without the comment. */
export function keyWithoutComment(pub: string): string {
  return pub.split(/\s+/).slice(0, 2).join(' ');
}

export function knownHostsLine(address: string, port: number, pub: string): string {
  return `${port === 22 ? address : `[${address}]:${port}`} ${keyWithoutComment(pub)}`;
}

export function sshdConfig(opts: { hostKey: string; pidFile: string; authorizedKeys: string }): string {
  return [
    `HostKey ${opts.hostKey}`,
    `PidFile ${opts.pidFile}`,
    `AuthorizedKeysFile ${opts.authorizedKeys}`,
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    // deploy tests open many sessions at once; the defaults (10 unauthenticated, 10 sessions) are tight
    'MaxStartups 200',
    'MaxSessions 100',
    '',
  ].join('\n');
}

/** Prepares what sshd needs outside the fixture: its privilege separation directory. */
export async function ensurePrivsepDir(): Promise<void> {
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
}

export interface HostProcess {
  proc: ChildProcess;
  /** The last lines sshd wrote to stderr. */
  stderr(): string;
  exited: Promise<number | null>;
}

export function launch(cmd: string, args: string[]): HostProcess {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  proc.stderr!.on('data', (b: Buffer) => { tail = (tail + b.toString('utf8')).slice(-4000); });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', (err) => { tail += `\n${err.message}`; resolve(-1); });
  });
  return { proc, stderr: () => tail.trim(), exited };
}

/** Waits until address:port answers with an SSH banner, or the process exits, or the deadline passes. */
export async function waitForSsh(address: string, port: number, hp: HostProcess | undefined, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void hp?.exited.then(() => { exited = true; });
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`sshd for ${address}:${port} exited: ${hp!.stderr() || '(no output)'}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: address, port });
      const t = setTimeout(() => { s.destroy(); resolve(false); }, 1_000);
      s.once('data', (b: Buffer) => { clearTimeout(t); s.destroy(); resolve(b.toString('latin1').startsWith('SSH-')); });
      s.once('error', (e) => { clearTimeout(t); last = e.message; resolve(false); });
    });
    if (ok) return;
    await sleep(30);
  }
  throw new Error(`sshd for ${address}:${port} did not answer within ${timeoutMs} ms (${last}) ${hp?.stderr() ?? ''}`.trim());
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends SIGTERM to an sshd and its sessions (SIGKILL after 1 s) and waits for its exit, bounded. */
export async function stopHostProcess(hp: HostProcess | undefined): Promise<void> {
  if (!hp || hp.proc.exitCode !== null || hp.proc.signalCode !== null) return;
  const pid = hp.proc.pid;
  if (pid === undefined) return;
  await killTree(pid);
  await Promise.race([hp.exited, sleep(2_000)]);
}

// ---------------------------------------------------------------------------------------------
// fixture registry (restart, stop, cleanup at exit)

export interface HostState {
  /** Where host keys for this host go (outside any private dir). */
  keyDir: string;
  hostKeyFile: string;
  generation: number;
  proc?: HostProcess;
  /** Starts the host's sshd with the current hostKeyFile (writes its config) and waits until it answers. */
  start(): Promise<HostProcess>;
}

export interface FixtureState {
  stopped: boolean;
  hosts: HostState[];
  /** Full stop: processes, namespaces, directories. */
  stop(): Promise<void>;
  /** Last-ditch synchronous cleanup at process exit. */
  stopSync(): void;
}

const registry = new Map<SshFixture, FixtureState>();
let exitHooked = false;

export function registerFixture(fixture: SshFixture, state: FixtureState): void {
  registry.set(fixture, state);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const s of registry.values()) {
        if (!s.stopped) { try { s.stopSync(); } catch { /* best effort */ } }
      }
    });
  }
}

export function unregisterFixture(fixture: SshFixture): void {
  registry.delete(fixture);
}

/**
 * Replaces host `hostIndex`'s sshd by one with a freshly generated host key on the same address and
 * port, leaving known_hosts alone (so it now holds the old key: a "changed host key"). Updates
 * `fixture.hosts[hostIndex].hostKeyLine` and returns the new line. Sessions of the old sshd end;
 * on a namespaced host this is a reboot: everything running on the host is killed (its PID 1 exits).
 */
export async function restartWithNewHostKey(fixture: SshFixture, hostIndex: number): Promise<string> {
  const state = registry.get(fixture);
  const host = fixture.hosts[hostIndex];
  if (!state || state.stopped || !host) throw new Error(`restartWithNewHostKey: no running host ${hostIndex} in this fixture`);
  const hs = state.hosts[hostIndex]!;
  await stopHostProcess(hs.proc);
  hs.generation += 1;
  hs.hostKeyFile = join(hs.keyDir, `${host.name}_host_ed25519.${hs.generation}`);
  const pub = await generateKey(hs.hostKeyFile, `${host.name}-host-${hs.generation}`);
  host.hostKeyLine = knownHostsLine(host.address, host.port, pub);
  hs.proc = await hs.start();
  return host.hostKeyLine;
}

// ---------------------------------------------------------------------------------------------
// the loopback sshd

export async function startLoopbackSshd(opts: { dir?: string } = {}): Promise<SshFixture> {
  const avail = sshdAvailable();
  if (!avail.ok) throw new Error(avail.reason);
  await ensurePrivsepDir();
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? await mkdtemp(join(tmpdir(), 'rlink-sshd-'));
  await mkdir(dir, { recursive: true });
  const name = 'loopback';
  const hs: HostState = {
    keyDir: dir,
    hostKeyFile: join(dir, 'host_ed25519'),
    generation: 0,
    start: async () => { throw new Error('not started'); },
  };
  const fixture: SshFixture = {
    dir,
    user: userInfo().username,
    identityFile: join(dir, 'id_ed25519'),
    knownHostsFile: join(dir, 'known_hosts'),
    hosts: [],
    stop: async () => { await state.stop(); },
  };
  const killAll = (sync: boolean): Promise<void> | void => {
    const pid = hs.proc?.proc.pid;
    if (pid === undefined) return;
    if (!sync) return killTree(pid);
    for (const p of [...descendants(pid), pid]) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  };
  const state: FixtureState = {
    stopped: false,
    hosts: [hs],
    stop: async () => {
      if (state.stopped) return;
      state.stopped = true;
      await killAll(false);
      await Promise.race([hs.proc?.exited, sleep(2_000)]);
      if (ownsDir && !process.env.RLINK_KEEP_FIXTURES) await rm(dir, { recursive: true, force: true });
      unregisterFixture(fixture);
    },
    stopSync: () => { killAll(true); },
  };
  registerFixture(fixture, state);
  try {
    const clientPub = await generateKey(fixture.identityFile, 'rlink-test-client');
    await writeFile(join(dir, 'authorized_keys'), clientPub + '\n', { mode: 0o600 });
    const hostPub = await generateKey(hs.hostKeyFile, 'rlink-test-host');
    let port = 0;
    hs.start = async () => {
      const conf = join(dir, `sshd_config.${hs.generation}`);
      await writeFile(conf, sshdConfig({ hostKey: hs.hostKeyFile, pidFile: join(dir, 'sshd.pid'), authorizedKeys: join(dir, 'authorized_keys') }));
      const hp = launch(SSHD, ['-D', '-e', '-f', conf, '-o', `ListenAddress=127.0.0.1:${port}`]);
      hs.proc = hp;
      await waitForSsh('127.0.0.1', port, hp);
      return hp;
    };
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      port = await freePort();
      try {
        hs.proc = await hs.start();
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        await stopHostProcess(hs.proc);
        // another process took the port between freePort() and sshd's bind: try another one
        if (!/Address already in use|Cannot bind/i.test(String((err as Error).message))) break;
      }
    }
    if (lastErr) throw lastErr;
    const line = knownHostsLine('127.0.0.1', port, hostPub);
    fixture.hosts.push({ name, address: '127.0.0.1', port, hostKeyLine: line });
    await writeFile(fixture.knownHostsFile, line + '\n', { mode: 0o600 });
    await chmod(fixture.identityFile, 0o600);
    return fixture;
  } catch (err) {
    await fixture.stop();
    throw err;
  }
}

/** Synchronous `ip …` for exit-time cleanup (never throws). */
export function ipSync(args: string[]): string {
  try {
    return execFileSync('ip', args, { timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8');
  } catch {
    return '';
  }
}
