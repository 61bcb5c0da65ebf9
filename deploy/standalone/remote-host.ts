/**
 * One machine of a standalone cluster, driven over SSH: checks its Node, installs the runtime and the
 * token under the work dir, and runs the scripts/ there. Every error names the host.
 */
import { basename } from 'node:path';
import type { Logger } from '../../core/logging';
import { RlinkError } from '../../core/errors';
import type { SshSession } from '../ssh';
import type { RuntimeBundle } from '../runtime/runtime-bundle';
import type { Machine } from './topology';

/** One line of the scripts' machine-readable output (see scripts/lib.sh). */
export interface DaemonStatus {
  daemon: string;
  state: 'started' | 'running' | 'stopped' | 'killed' | 'failed' | 'dead';
  pid: number | null;
  ready: Record<string, unknown> | null;
}

export const MIN_NODE_MAJOR = 20;

/** POSIX shell quoting for one argument. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export class RemoteHost {
  constructor(
    readonly machine: Machine,
    private readonly session: SshSession,
    private readonly workDir: string,
    private readonly node: string,
    private readonly log: Logger,
  ) {}

  get name(): string { return this.machine.host; }

  /** The Node.js version on the host (`v20.11.1`); a clear error when missing or older than 20. */
  async checkNode(): Promise<string> {
    const r = await this.session.exec(`command -v ${shq(this.node)} >/dev/null 2>&1 && ${shq(this.node)} --version`, { timeoutMs: 20_000 });
    const version = r.stdout.trim();
    if (r.code !== 0 || !version) {
      throw this.error(`Node.js not found (looked for '${this.node}'): install Node.js ≥ ${MIN_NODE_MAJOR} or set node_path in standalone.yaml`);
    }
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (!(major >= MIN_NODE_MAJOR)) throw this.error(`Node.js ${version} is too old (rlink needs ≥ ${MIN_NODE_MAJOR})`);
    return version;
  }

  /**
   * Uploads the runtime bundle and the scripts unless the host already has this version. Refuses to
   * replace another version under running daemons (their slot workers would load the new file).
   */
  async installRuntime(bundle: RuntimeBundle, onUpload: () => void): Promise<'uploaded' | 'up to date'> {
    const wd = this.workDir;
    await this.session.mkdirp(`${wd}/lib`);
    await this.session.mkdirp(`${wd}/scripts`);
    const current = (await this.session.readFile(`${wd}/lib/VERSION`))?.toString().trim();
    if (current === bundle.version) return 'up to date';
    const running = (await this.status()).filter((s) => s.state === 'running');
    if (running.length > 0) {
      throw this.error(`runs rlink daemons of another version (${running.map((s) => `${s.daemon} pid ${s.pid}`).join(', ')}); stop them first with \`rlink stop standalone\``);
    }
    onUpload();
    await this.session.upload(bundle.path, `${wd}/lib/rlink.mjs`, 0o644);
    for (const s of bundle.scripts) await this.session.upload(s, `${wd}/scripts/${basename(s)}`, 0o755);
    // The version goes last: an interrupted upload is redone next time.
    await this.session.writeFile(`${wd}/lib/VERSION`, `${bundle.version}\n`, 0o644);
    return 'uploaded';
  }

  /** Installs the cluster token as <work dir>/token, mode 0600. */
  async installToken(token: string): Promise<string> {
    const file = `${this.workDir}/token`;
    await this.session.writeFile(file, `${token}\n`, 0o600);
    return file;
  }

  /** Runs a script of the work dir; its RLINK_STATUS lines, or an error with the script's own reason. */
  async script(name: string, args: string[], timeoutMs = 60_000): Promise<DaemonStatus[]> {
    const cmd = `RLINK_NODE=${shq(this.node)} sh ${shq(`${this.workDir}/scripts/${name}`)} ${args.map(shq).join(' ')}`;
    this.log.debug({ event: 'remote.exec', host: this.machine.key, cmd }, 'running a script');
    const r = await this.session.exec(cmd, { timeoutMs });
    const lines = parseStatusLines(r.stdout);
    if (r.code !== 0) {
      const reason = r.stderr.split('\n').map((l) => l.trim()).find((l) => l.startsWith('rlink: '))?.slice('rlink: '.length)
        ?? (r.stderr.trim().split('\n').pop() || `exit code ${r.code}`);
      throw Object.assign(this.error(`${name}: ${reason}`), { statuses: lines });
    }
    return lines;
  }

  /** Whether the scripts were ever installed on this host. */
  async hasScripts(): Promise<boolean> {
    return (await this.session.exec(`[ -f ${shq(`${this.workDir}/scripts/lib.sh`)} ]`, { timeoutMs: 20_000 })).code === 0;
  }

  /** The daemons this host knows about (empty when nothing was ever started or no runtime is installed). */
  async status(): Promise<DaemonStatus[]> {
    const r = await this.session.exec(`[ -f ${shq(`${this.workDir}/scripts/status.sh`)} ] && sh ${shq(`${this.workDir}/scripts/status.sh`)} || true`, { timeoutMs: 20_000 });
    return parseStatusLines(r.stdout);
  }

  error(message: string): RlinkError {
    return new RlinkError('RLINK_DEPLOY', `${this.machine.host}: ${message}`, { context: { host: this.machine.host } });
  }
}

export function parseStatusLines(stdout: string): DaemonStatus[] {
  const out: DaemonStatus[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('RLINK_STATUS ')) continue;
    try { out.push(JSON.parse(line.slice('RLINK_STATUS '.length)) as DaemonStatus); } catch { /* a torn line: ignore */ }
  }
  return out;
}
