/**
 * One machine of a standalone cluster, driven over SSH: checks its Node, installs the runtime and the
 * token under the work dir, and runs the scripts/ there. Every error names the host.
 */
import type { Logger } from '../../core/logging';
import { RlinkError } from '../../core/errors';
import { shellQuote, type SshSession } from '../ssh';
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

export class RemoteHost {
  private nodeChecked = false;

  constructor(
    readonly machine: Machine,
    private readonly session: SshSession,
    private readonly workDir: string,
    private readonly node: string,
    private readonly log: Logger,
  ) {}

  get name(): string { return this.machine.host; }

  /**
   * One round trip: the Node.js version on the host (a clear error when missing or older than 20)
   * and the runtime version installed in the work dir, if any.
   */
  async probe(): Promise<{ node: string; installed: string | undefined }> {
    const r = await this.session.exec(
      `if v=$(${shellQuote(this.node)} --version 2>/dev/null); then echo "node=$v" | head -n 1; fi; `
      + `echo "installed=$(cat ${shellQuote(`${this.workDir}/lib/VERSION`)} 2>/dev/null)"`, { timeoutMs: 20_000 });
    const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1]?.trim();
    const node = field('node');
    if (!node) throw this.error(`Node.js not found (looked for '${this.node}'): install Node.js ≥ ${MIN_NODE_MAJOR} or set node_path in standalone.yaml`);
    const major = Number(/^v(\d+)\./.exec(node)?.[1]);
    if (!(major >= MIN_NODE_MAJOR)) throw this.error(`Node.js ${node} is too old (rlink needs ≥ ${MIN_NODE_MAJOR})`);
    this.nodeChecked = true;
    return { node, installed: field('installed') || undefined };
  }

  /**
   * Installs the runtime bundle and the scripts unless the host already has this version: one
   * .tar.gz by SFTP, unpacked in the work dir. Refuses to replace another version under running
   * daemons (their slot workers would load the new file).
   */
  async installRuntime(bundle: RuntimeBundle, installed: string | undefined): Promise<'uploaded' | 'up to date'> {
    if (installed === bundle.version) return 'up to date';
    const wd = this.workDir;
    if (installed) {
      const running = (await this.status()).filter((s) => s.state === 'running');
      if (running.length > 0) {
        throw this.error(`runs rlink daemons of another version (${running.map((s) => `${s.daemon} pid ${s.pid}`).join(', ')}); stop them first with \`rlink stop standalone\``);
      }
    }
    await this.session.mkdirp(wd);
    const archive = `${wd}/.rlink-runtime-${bundle.version.slice(0, 12)}.tar.gz`;
    await this.session.writeFile(archive, bundle.archive(), 0o600);
    const r = await this.session.exec(`cd ${shellQuote(wd)} && tar -xzf ${shellQuote(archive)}; code=$?; rm -f ${shellQuote(archive)}; exit $code`, { timeoutMs: 60_000 });
    if (r.code !== 0) throw this.error(`could not unpack the runtime in ${wd}: ${r.stderr.trim() || `tar exit code ${r.code}`}`);
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
    // probe() has checked this host's Node: the scripts need not start one more to check again.
    const cmd = `RLINK_NODE=${shellQuote(this.node)} RLINK_NODE_CHECKED=${this.nodeChecked ? 1 : 0} sh ${shellQuote(`${this.workDir}/scripts/${name}`)} ${args.map(shellQuote).join(' ')}`;
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
    return (await this.session.exec(`[ -f ${shellQuote(`${this.workDir}/scripts/lib.sh`)} ]`, { timeoutMs: 20_000 })).code === 0;
  }

  /** The daemons this host knows about (empty when nothing was ever started or no runtime is installed). */
  async status(): Promise<DaemonStatus[]> {
    const r = await this.session.exec(`[ -f ${shellQuote(`${this.workDir}/scripts/status.sh`)} ] && sh ${shellQuote(`${this.workDir}/scripts/status.sh`)} || true`, { timeoutMs: 20_000 });
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
