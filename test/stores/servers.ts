/**
 * Real store servers for the connector tests: Redis, PostgreSQL and MariaDB from Debian's packages,
 * each started here on 127.0.0.1 and a free port, with a throw-away data directory, and stopped
 * (directory removed) after. `restart()` stops a server and starts it again on the same port and
 * data (a server restart mid-job); `stop()` is idempotent and also runs at process exit, and a
 * watchdog stops a server whose test process died without cleaning up.
 *
 *   startRedis()     redis-server, appendonly (data survives a restart), a password
 *   startPostgres()  initdb (as user postgres when root) with a password for TCP, max_prepared_transactions > 0
 *   startMariadb()   mariadb-install-db, then mariadbd --no-defaults; a user with a password and a database
 *
 * `storeTestGate(kind)` tells a test file whether the server's binaries are there; with
 * RLINK_REQUIRE_STORES=1 (set by .ci/run) a missing one is an error instead of a skip.
 * Debian packages: redis-server, postgresql, mariadb-server (.ci/run installs them).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type StoreKind = 'redis' | 'postgres' | 'mariadb';

export interface StoreServer {
  kind: StoreKind;
  host: '127.0.0.1';
  port: number;
  /** A URL with credentials for the connectors: redis://:…@127.0.0.1:p, postgres://rlink:…@127.0.0.1:p/rlink, mysql://rlink:…@127.0.0.1:p/rlink. */
  url: string;
  user: string;
  password: string;
  database: string;
  /** The throw-away directory (data, socket, log). */
  dir: string;
  /** The server's pid (changes with restart). */
  readonly pid: number;
  /** The server's log, for failure messages. */
  log(): string;
  /** Stops the server gracefully (its data stays) and waits until it is gone. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** halt(), wait `downMs`, start(). */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export const PASSWORD = 'rlink-secret';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// availability

export interface Availability { ok: boolean; reason?: string }

function findBinary(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) if (d && existsSync(join(d, name))) return join(d, name);
  return undefined;
}

/** The newest PostgreSQL server's bin directory (/usr/lib/postgresql/<version>/bin). */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export function storeAvailable(kind: StoreKind): Availability {
  switch (kind) {
    case 'redis':
      return findBinary('redis-server') ? { ok: true } : { ok: false, reason: 'redis-server missing: apt-get install redis-server' };
    case 'postgres': {
      const bin = postgresBinDir();
      if (!bin || !existsSync(join(bin, 'initdb'))) return { ok: false, reason: 'PostgreSQL server missing (/usr/lib/postgresql/<version>/bin/postgres): apt-get install postgresql' };
      if (process.getuid?.() === 0 && uidOf('postgres') === undefined) return { ok: false, reason: 'running as root but there is no user postgres to run the server as' };
      return { ok: true };
    }
    case 'mariadb':
      if (!findBinary('mariadbd') || !findBinary('mariadb-install-db') || !findBinary('mariadb')) return { ok: false, reason: 'mariadbd, mariadb-install-db or mariadb missing: apt-get install mariadb-server' };
      return { ok: true };
  }
}

/**
 * For test files: `const pg = storeTestGate('postgres'); describe.skipIf(!pg.ok)(…)`. Prints why the
 * tests are skipped; with RLINK_REQUIRE_STORES=1 a missing server fails the file instead.
 */
export function storeTestGate(kind: StoreKind): Availability {
  const a = storeAvailable(kind);
  if (!a.ok) {
    if (process.env.RLINK_REQUIRE_STORES === '1') throw new Error(`store tests required (RLINK_REQUIRE_STORES=1) but ${kind} is unavailable: ${a.reason}`);
    console.warn(`[${kind} tests skipped] ${a.reason}`);
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// processes

const live = new Set<StoreServer>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const s of live) {
      try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
      try { rmSync(s.dir, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  });
}

/**
 * Stops `pid` with `signal` (then SIGKILL) when this test process is gone (it was SIGKILLed, or forgot
 * stop()); exits by itself within 2 s once the server is gone. `name` must be in the server's command
 * line, so a recycled pid is never signalled.
 */
function watchdog(pid: number, signal: NodeJS.Signals, name: string): void {
  const me = process.pid;
  const sig = signal.replace(/^SIG/, '');
  const alive = `grep -q ${name} /proc/${pid}/cmdline 2>/dev/null`;
  const script = `while kill -0 ${me} 2>/dev/null && ${alive}; do sleep 2; done; `
    + `if ${alive}; then kill -${sig} ${pid}; sleep 10; if ${alive}; then kill -KILL ${pid}; fi; fi`;
  const w = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  w.unref();
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

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL', uid: opts.uid, gid: opts.gid, env: opts.env ?? process.env, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim().slice(-2000) || err.message}`));
        else resolve(String(stdout));
      });
  });
}

function uidOf(user: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch { /* no /etc/passwd */ }
  return undefined;
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 1_000);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

/** Polls `ready` every 100 ms until it is true, the process exits, or the time is up. */
async function waitReady(what: string, proc: ChildProcess, ready: () => Promise<boolean>, log: () => string): Promise<void> {
  const end = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < end) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready: ${log().slice(-2000)}`);
    if (await ready().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} was not ready within ${START_TIMEOUT_MS} ms: ${log().slice(-2000)}`);
}

async function waitExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((r) => proc.once('exit', () => r(true))),
    sleep(ms).then(() => false),
  ]);
}

interface ServerSpec {
  kind: StoreKind;
  port: number;
  dir: string;
  url: string;
  user: string;
  database: string;
  logFile: string;
  /** Spawns the server process (data already initialised). */
  spawn(): ChildProcess;
  ready(): Promise<boolean>;
  /** The signal of a graceful stop. */
  stopSignal: NodeJS.Signals;
  /** A word of the server's command line (its binary's name), for the watchdog. */
  processName: string;
}

async function manage(spec: ServerSpec): Promise<StoreServer> {
  let proc: ChildProcess | undefined;
  let stopped = false;
  const log = () => { try { return readFileSync(spec.logFile, 'utf8'); } catch { return ''; } };
  const start = async () => {
    const p = spec.spawn();
    proc = p;
    p.on('error', () => undefined);
    watchdog(p.pid!, spec.stopSignal, spec.processName);
    await waitReady(`${spec.kind} on 127.0.0.1:${spec.port}`, p, spec.ready, log);
  };
  const halt = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill(spec.stopSignal);
    if (!(await waitExit(p, STOP_TIMEOUT_MS))) { p.kill('SIGKILL'); await waitExit(p, 5_000); }
  };
  const server: StoreServer = {
    kind: spec.kind, host: '127.0.0.1', port: spec.port, url: spec.url, user: spec.user, password: PASSWORD, database: spec.database, dir: spec.dir,
    get pid() { return proc?.pid ?? -1; },
    log,
    halt,
    start,
    async restart(downMs = 1_000) { await halt(); await sleep(downMs); await start(); },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(server);
      await halt();
      rmSync(spec.dir, { recursive: true, force: true });
    },
  };
  hookExit();
  live.add(server);
  try {
    await start();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

// ---------------------------------------------------------------------------------------------
// Redis

export async function startRedis(): Promise<StoreServer> {
  const bin = findBinary('redis-server');
  if (!bin) throw new Error(storeAvailable('redis').reason);
  const dir = await mkdtemp(join(tmpdir(), 'rlink-redis-'));
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  const cli = findBinary('redis-cli');
  return manage({
    kind: 'redis', port, dir, logFile, user: 'default', database: '0',
    url: `redis://:${PASSWORD}@127.0.0.1:${port}`,
    stopSignal: 'SIGTERM',
    processName: 'redis-server',
    spawn: () => spawn(bin, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--logfile', logFile,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--requirepass', PASSWORD, '--protected-mode', 'yes',
    ], { stdio: 'ignore' }),
    ready: async () => {
      if (!(await tcpOpen(port))) return false;
      if (!cli) return true;
      const out = await run(cli, ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', '-a', PASSWORD, 'ping'], { timeoutMs: 3_000 });
      return out.trim() === 'PONG';
    },
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export async function startPostgres(opts: { maxPreparedTransactions?: number } = {}): Promise<StoreServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(storeAvailable('postgres').reason);
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? uidOf('postgres') : undefined;
  if (asRoot && !ids) throw new Error(storeAvailable('postgres').reason);
  const dir = await mkdtemp(join(tmpdir(), 'rlink-postgres-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (ids) { chownSync(dir, ids.uid, ids.gid); chownSync(pwfile, ids.uid, ids.gid); }
  const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', HOME: dir };
  // Local (socket) connections trust, TCP ones need the password: a wrong password fails as on a real server.
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'rlink', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'],
    { uid: ids?.uid, gid: ids?.gid, env });
  const port = await freePort();
  const logFile = join(dir, 'postgres.log');
  let created = false;
  const server = await manage({
    kind: 'postgres', port, dir, logFile, user: 'rlink', database: 'rlink',
    url: `postgres://rlink:${PASSWORD}@127.0.0.1:${port}/rlink`,
    // SIGINT: fast shutdown (open transactions are aborted; prepared ones survive, as on any restart).
    stopSignal: 'SIGINT',
    processName: 'postgres',
    spawn: () => {
      const fd = openSync(logFile, 'a');
      try {
        return spawn(join(bin, 'postgres'), [
          '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
          '-c', `max_prepared_transactions=${opts.maxPreparedTransactions ?? 32}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off',
          '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=60', '-c', 'log_min_messages=warning',
        ], { uid: ids?.uid, gid: ids?.gid, env, stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
    },
    ready: async () => {
      // Through the socket as the superuser (trust): the first time, create the test database.
      await run(join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'rlink', '-d', 'postgres', '-Atc', 'SELECT 1'], { timeoutMs: 5_000, uid: ids?.uid, gid: ids?.gid, env });
      if (!created) {
        await run(join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'rlink', '-d', 'postgres', '-Atc', 'CREATE DATABASE rlink'], { timeoutMs: 10_000, uid: ids?.uid, gid: ids?.gid, env });
        created = true;
      }
      return tcpOpen(port);
    },
  });
  return server;
}

// ---------------------------------------------------------------------------------------------
// MariaDB

export async function startMariadb(): Promise<StoreServer> {
  const mariadbd = findBinary('mariadbd');
  const installDb = findBinary('mariadb-install-db');
  const client = findBinary('mariadb');
  if (!mariadbd || !installDb || !client) throw new Error(storeAvailable('mariadb').reason);
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'rlink-mariadb-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const socket = join(dir, 'mysqld.sock');
  const user = asRoot ? ['--user=root'] : [];
  await run(installDb, ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=socket', '--skip-test-db'], { timeoutMs: 60_000 });
  const port = await freePort();
  const logFile = join(dir, 'mariadb.log');
  const sql = (q: string) => run(client, ['--no-defaults', '-S', socket, '-u', asRoot ? 'root' : (process.env.USER ?? 'root'), '-e', q], { timeoutMs: 10_000 });
  let created = false;
  return manage({
    kind: 'mariadb', port, dir, logFile, user: 'rlink', database: 'rlink',
    url: `mysql://rlink:${PASSWORD}@127.0.0.1:${port}/rlink`,
    stopSignal: 'SIGTERM',
    processName: 'mariadbd',
    spawn: () => spawn(mariadbd, [
      '--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', ...user,
      `--pid-file=${join(dir, 'mariadbd.pid')}`, `--log-error=${logFile}`, '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M', '--innodb-flush-log-at-trx-commit=2', '--max-connections=100',
    ], { stdio: 'ignore' }),
    ready: async () => {
      await sql('SELECT 1');
      if (!created) {
        await sql(`CREATE DATABASE rlink; CREATE USER 'rlink'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON rlink.* TO 'rlink'@'127.0.0.1';`);
        created = true;
      }
      return tcpOpen(port);
    },
  });
}
