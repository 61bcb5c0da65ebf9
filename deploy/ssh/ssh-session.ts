/**
 * One SSH connection to a host (ssh2): commands, atomic file uploads over SFTP, mandatory host-key
 * checking against an OpenSSH known_hosts file. Every failure is an RlinkError('RLINK_SSH') whose
 * message is one line starting with `user@host:port:`.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import ssh2 from 'ssh2';
import type { Client as SshClient, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm, SFTPWrapper, Stats } from 'ssh2';
import { RlinkError, errorMessage } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logging';
import { appendKnownHost, expandHome, fingerprint, keyBlobType, KnownHosts } from './known-hosts';

// ssh2 is CommonJS: Node's ESM loader does not see `utils` as a named export.
const { Client, utils } = ssh2;

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  /** Trust and record a host key that known_hosts does not have yet (ssh's StrictHostKeyChecking=accept-new). */
  acceptNewHostKeys?: boolean;
  /** TCP connect + handshake + authentication, default 10000. */
  connectTimeoutMs?: number;
}

export interface ExecResult { code: number; stdout: string; stderr: string }

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** 10000 → '10s', 1500 → '1.5s'. */
function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(2)}s`;
}

/** Host-key algorithms in ssh2's default order; the ones known_hosts has for the host go first (as ssh does). */
const HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function preferredHostKeyAlgos(knownTypes: string[]): string[] {
  const first: string[] = [];
  for (const t of knownTypes) {
    // An RSA key is stored as ssh-rsa but negotiated as one of three signature algorithms.
    const algos = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algos) if (HOST_KEY_ALGOS.includes(a) && !first.includes(a)) first.push(a);
  }
  return [...first, ...HOST_KEY_ALGOS.filter((a) => !first.includes(a))];
}

const fileQueues = new Map<string, Promise<unknown>>();

/** Runs fn after every earlier fn queued for the same key (within this process). */
function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (fileQueues.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  fileQueues.set(key, tail);
  void tail.then(() => { if (fileQueues.get(key) === tail) fileQueues.delete(key); });
  return run;
}

/** An SFTP status code for "no such file" (SSH_FX_NO_SUCH_FILE). */
const SFTP_NO_SUCH_FILE = 2;

function sftpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** SFTP paths are relative to the login directory; `~/x` means the same there. */
function sftpPath(p: string): string {
  if (p === '~') return '.';
  if (p.startsWith('~/')) return p.slice(2) || '.';
  return p;
}

export class SshSession {
  private sftpChannel: Promise<SFTPWrapper> | undefined;
  private closed = false;
  private readonly log: Logger;

  private constructor(readonly target: SshTarget, private readonly client: SshClient, log: Logger) {
    this.log = log;
    client.on('error', (err: Error) => this.log.warn({ err: errorMessage(err) }, 'ssh connection error'));
    client.on('close', () => { this.closed = true; });
  }

  /** `user@host:port`, the prefix of every message. */
  get who(): string {
    return `${this.target.user}@${this.target.host}:${this.target.port}`;
  }

  private fail(message: string, opts: { cause?: unknown; retriable?: boolean } = {}): RlinkError {
    return new RlinkError('RLINK_SSH', `${this.who}: ${message}`, { context: { host: this.target.host }, ...opts });
  }

  static async connect(target: SshTarget, logger?: Logger): Promise<SshSession> {
    const log = (logger ?? silentLogger()).child({ component: 'ssh', host: target.host, port: target.port });
    const who = `${target.user}@${target.host}:${target.port}`;
    const fail = (message: string, opts: { cause?: unknown; retriable?: boolean } = {}) =>
      new RlinkError('RLINK_SSH', `${who}: ${message}`, { context: { host: target.host }, ...opts });
    const timeoutMs = target.connectTimeoutMs ?? 10_000;

    const identityFile = expandHome(target.identityFile);
    let keyData: Buffer;
    try {
      keyData = await readFile(identityFile);
    } catch (err) {
      throw fail(`cannot read identity file ${identityFile} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, { cause: err });
    }
    const parsed = utils.parseKey(keyData);
    if (parsed instanceof Error) throw fail(`cannot use identity file ${identityFile}: ${parsed.message}`, { cause: parsed });

    const knownHostsFile = expandHome(target.knownHostsFile);
    let known: KnownHosts;
    try {
      known = await KnownHosts.load(knownHostsFile);
    } catch (err) {
      throw fail(`cannot read known_hosts file ${knownHostsFile} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, { cause: err });
    }

    const client = new Client();
    let hostKeyError: RlinkError | undefined;
    // Without `hostHash`, ssh2 hands the verifier the raw key blob; a two-argument verifier may answer later.
    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      const fp = fingerprint(key);
      const algo = keyBlobType(key) ?? 'unknown';
      const verdict = known.check(target.host, target.port, key);
      if (verdict.status === 'known') { verify(true); return; }
      if (verdict.status === 'revoked') {
        hostKeyError = fail(`host key ${fp} (${algo}) is marked @revoked in ${knownHostsFile}:${verdict.entry!.line}; refusing to connect`);
        verify(false);
        return;
      }
      if (verdict.status === 'changed') {
        const e = verdict.entry!;
        hostKeyError = fail(`HOST KEY CHANGED: ${knownHostsFile}:${e.line} has ${fingerprint(e.keyBase64)}, the host offers ${fp}; refusing to connect (remove the line if the change is expected)`);
        verify(false);
        return;
      }
      if (!target.acceptNewHostKeys) {
        hostKeyError = fail(`host key ${fp} (${algo}) is not in ${knownHostsFile}; check it and pass --accept-new-host-keys to trust it`);
        verify(false);
        return;
      }
      // Serialized per file and re-checked, so concurrent sessions to one new host add one line.
      serialized(knownHostsFile, async () => {
        const fresh = (await KnownHosts.load(knownHostsFile)).check(target.host, target.port, key);
        if (fresh.status === 'known') return true;
        if (fresh.status !== 'unknown') {
          hostKeyError = fail(`host key ${fp} (${algo}) conflicts with ${knownHostsFile}:${fresh.entry!.line}, written meanwhile; refusing to connect`);
          return false;
        }
        await appendKnownHost(knownHostsFile, target.host, target.port, algo, key.toString('base64'));
        log.warn({ fingerprint: fp, algo, knownHosts: knownHostsFile }, `added the host key of ${target.host}:${target.port} to ${knownHostsFile}`);
        return true;
      }).then(verify, (err: unknown) => {
        hostKeyError = fail(`cannot add the host key to ${knownHostsFile} (${errorMessage(err)})`, { cause: err });
        verify(false);
      });
    };

    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: keyData,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      hostVerifier,
      algorithms: { serverHostKey: preferredHostKeyAlgos(known.keyTypesFor(target.host, target.port)) as ServerHostKeyAlgorithm[] },
    };

    const mapError = (err: Error & { level?: string; code?: string }): RlinkError => {
      if (hostKeyError) return hostKeyError;
      switch (err.level) {
        case 'client-timeout':
          return fail(`no answer within ${seconds(timeoutMs)}`, { cause: err, retriable: true });
        case 'client-authentication':
          return fail(`the server refused key ${identityFile} for user ${target.user}`, { cause: err });
        case 'client-dns':
          return fail(`cannot resolve host name ${target.host}`, { cause: err, retriable: true });
      }
      switch (err.code) {
        case 'ECONNREFUSED': return fail('connection refused', { cause: err, retriable: true });
        case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_NONAME': case 'EAI_FAIL':
          return fail(`cannot resolve host name ${target.host} (${err.code})`, { cause: err, retriable: err.code === 'EAI_AGAIN' });
        case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ETIMEDOUT': case 'EADDRNOTAVAIL':
          return fail(`host unreachable (${err.code})`, { cause: err, retriable: true });
        case 'ECONNRESET': case 'EPIPE':
          return fail(`the connection was reset during the SSH handshake (${err.code})`, { cause: err, retriable: true });
      }
      return fail(`SSH handshake failed: ${errorMessage(err)}`, { cause: err });
    };

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: RlinkError) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        client.removeListener('ready', onReady);
        client.removeListener('close', onClose);
        if (err) {
          client.removeListener('error', onError);
          client.on('error', () => { /* late errors of a failed attempt */ });
          client.destroy();
          reject(err);
        } else {
          resolve();
        }
      };
      const onReady = () => settle();
      const onError = (err: Error) => settle(mapError(err));
      const onClose = () => settle(hostKeyError ?? fail('the server closed the connection before login completed', { retriable: true }));
      // readyTimeout covers connect + handshake + auth; this guard only backs it up (e.g. a slow host-key append).
      const guard = setTimeout(() => settle(fail(`no answer within ${seconds(timeoutMs)}`, { retriable: true })), timeoutMs + 2_000);
      client.once('ready', onReady);
      client.on('error', onError);
      client.once('close', onClose);
      try {
        client.connect(config);
      } catch (err) {
        settle(fail(`cannot connect: ${errorMessage(err)}`, { cause: err }));
      }
    });

    client.removeAllListeners('error');
    log.debug('connected');
    return new SshSession(target, client, log);
  }

  /**
   * Runs a command through the user's login shell. Resolves with the exit code (128 + signal number
   * when killed by a signal) and the output; rejects only when the command could not be run or
   * did not end within `timeoutMs` (the channel is then closed; the remote command may outlive it).
   */
  exec(command: string, opts: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    if (this.closed) return Promise.reject(this.fail('the connection is closed'));
    this.log.debug({ command }, 'exec');
    return new Promise<ExecResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (err: RlinkError | undefined, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        if (err) reject(err); else resolve(result!);
      };
      const start = (err: Error | undefined, stream: ClientChannel) => {
        if (err) { finish(this.fail(`cannot run a command: ${errorMessage(err)}`, { cause: err, retriable: true })); return; }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | undefined;
        stream.on('data', (b: Buffer) => out.push(b));
        stream.stderr.on('data', (b: Buffer) => errOut.push(b));
        stream.on('exit', (c: number | null, signal?: string) => {
          if (typeof c === 'number') code = c;
          // ssh2 reports a signal as 'SIGKILL' (it prefixes the protocol's 'KILL' itself)
          else code = 128 + ((signal && (osConstants.signals as Record<string, number>)[signal.startsWith('SIG') ? signal : `SIG${signal}`]) || 127);
        });
        stream.on('error', (e: Error) => finish(this.fail(`command channel failed: ${errorMessage(e)}`, { cause: e })));
        stream.on('close', () => {
          if (code === undefined) { finish(this.fail(`the connection was lost while running: ${command.slice(0, 120)}`, { retriable: true })); return; }
          finish(undefined, { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
        });
        if (opts.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            finish(this.fail(`command did not finish within ${seconds(opts.timeoutMs!)}: ${command.slice(0, 120)}`, { retriable: true }));
            try { stream.signal('KILL'); } catch { /* not all servers honour signal requests */ }
            stream.close();
          }, opts.timeoutMs);
        }
        if (opts.stdin !== undefined) stream.end(opts.stdin); else stream.end();
      };
      try {
        this.client.exec(command, start);
      } catch (err) {
        finish(this.fail(`cannot run a command: ${errorMessage(err)}`, { cause: err }));
      }
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    if (this.closed) return Promise.reject(this.fail('the connection is closed'));
    if (!this.sftpChannel) {
      this.sftpChannel = new Promise<SFTPWrapper>((resolve, reject) => {
        try {
          this.client.sftp((err, sftp) => {
            if (err) reject(this.fail(`cannot open the SFTP subsystem: ${errorMessage(err)}`, { cause: err }));
            else {
              sftp.on('close', () => { this.sftpChannel = undefined; });
              resolve(sftp);
            }
          });
        } catch (err) {
          reject(this.fail(`cannot open the SFTP subsystem: ${errorMessage(err)}`, { cause: err }));
        }
      });
      this.sftpChannel.catch(() => { this.sftpChannel = undefined; });
    }
    return this.sftpChannel;
  }

  private call<T>(what: string, path: string, fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        fn((err, value) => (err ? reject(Object.assign(this.fail(`${what} ${path}: ${errorMessage(err)}`, { cause: err }), { sftpCode: sftpCode(err) })) : resolve(value as T)));
      } catch (err) {
        reject(this.fail(`${what} ${path}: ${errorMessage(err)}`, { cause: err }));
      }
    });
  }

  /** Moves `from` over `to`, replacing it atomically. */
  private async renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
    let supported = true;
    try {
      // Plain SFTP rename fails when the target exists (OpenSSH); posix-rename@openssh.com replaces atomically.
      await new Promise<void>((resolve, reject) => {
        try {
          sftp.ext_openssh_rename(from, to, (err) => (err ? reject(err) : resolve()));
        } catch (err) {
          supported = false; // thrown synchronously when the server lacks the extension
          reject(err);
        }
      });
      return;
    } catch (err) {
      if (supported) throw this.fail(`cannot rename ${from} to ${to}: ${errorMessage(err)}`, { cause: err });
    }
    const r = await this.exec(`mv -f -- ${shellQuote(from)} ${shellQuote(to)}`, { timeoutMs: 30_000 });
    if (r.code !== 0) throw this.fail(`cannot rename ${from} to ${to}: ${r.stderr.trim()}`);
  }

  private async atomically(remotePath: string, mode: number, write: (sftp: SFTPWrapper, tmp: string) => Promise<void>): Promise<void> {
    const sftp = await this.sftp();
    const dest = sftpPath(remotePath);
    const tmp = `${dest}.part-${randomBytes(6).toString('hex')}`;
    try {
      await write(sftp, tmp);
      // The mode given at open time is narrowed by the server's umask: set it explicitly.
      await this.call<void>('cannot chmod', tmp, (cb) => sftp.chmod(tmp, mode, cb));
      await this.renameOver(sftp, tmp, dest);
    } catch (err) {
      await new Promise<void>((resolve) => {
        try { sftp.unlink(tmp, () => resolve()); } catch { resolve(); }
      });
      throw err;
    }
    this.log.debug({ path: remotePath, mode: mode.toString(8) }, 'wrote file');
  }

  /** Copies a local file to remotePath atomically (a temporary `.part-*` file renamed over it); mode defaults to the local file's. */
  async upload(localPath: string, remotePath: string, mode?: number): Promise<void> {
    let localMode: number;
    try {
      localMode = (await stat(localPath)).mode & 0o777;
    } catch (err) {
      throw this.fail(`cannot upload ${localPath}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, { cause: err });
    }
    const m = mode ?? localMode;
    await this.atomically(remotePath, m, (sftp, tmp) =>
      this.call<void>(`cannot upload ${localPath} to`, tmp, (cb) => sftp.fastPut(localPath, tmp, { mode: m }, cb)));
  }

  /** Writes data to remotePath atomically; mode defaults to 0644. */
  async writeFile(remotePath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    await this.atomically(remotePath, mode, (sftp, tmp) =>
      this.call<void>('cannot write', tmp, (cb) => sftp.writeFile(tmp, data, { mode }, cb)));
  }

  /** The file's content, or null when it does not exist. */
  async readFile(remotePath: string): Promise<Buffer | null> {
    const sftp = await this.sftp();
    const path = sftpPath(remotePath);
    try {
      return await this.call<Buffer>('cannot read', path, (cb) => sftp.readFile(path, cb));
    } catch (err) {
      if ((err as { sftpCode?: number }).sftpCode === SFTP_NO_SUCH_FILE) return null;
      throw err;
    }
  }

  /** `mkdir -p`; mode (when given) is set on the directories it creates. */
  async mkdirp(remotePath: string, mode?: number): Promise<void> {
    const sftp = await this.sftp();
    const path = sftpPath(remotePath);
    const statOrNull = async (p: string): Promise<Stats | null> => {
      try {
        return await this.call<Stats>('cannot stat', p, (cb) => sftp.stat(p, cb));
      } catch (err) {
        if ((err as { sftpCode?: number }).sftpCode === SFTP_NO_SUCH_FILE) return null;
        throw err;
      }
    };
    const whole = await statOrNull(path);
    if (whole?.isDirectory()) return;
    const absolute = path.startsWith('/');
    let cur = '';
    for (const seg of path.split('/').filter((s) => s !== '' && s !== '.')) {
      cur = cur === '' ? (absolute ? `/${seg}` : seg) : `${cur}/${seg}`;
      const st = await statOrNull(cur);
      if (st) {
        if (!st.isDirectory()) throw this.fail(`cannot create directory ${remotePath}: ${cur} exists and is not a directory`);
        continue;
      }
      try {
        await this.call<void>('cannot create directory', cur, (cb) => (mode === undefined ? sftp.mkdir(cur, cb) : sftp.mkdir(cur, { mode }, cb)));
      } catch (err) {
        if ((await statOrNull(cur))?.isDirectory()) continue; // created meanwhile by someone else
        throw err;
      }
      if (mode !== undefined) await this.call<void>('cannot chmod', cur, (cb) => sftp.chmod(cur, mode, cb));
    }
  }

  /** Ends the connection (bounded: destroyed after 3 s without a clean close). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.client.destroy(); resolve(); }, 3_000);
      this.client.once('close', () => { clearTimeout(t); resolve(); });
      this.client.end();
    });
    this.closed = true;
    this.log.debug('disconnected');
  }
}
