/**
 * Bootstrap of a daemon started by hand or by the host scripts (`rlink deploy standalone`): the
 * token from `--token-file` or RLINK_TOKEN, the job manager(s) from `--jm`, the advertised host
 * from `--advertised-host`. Nothing happens once a job manager listens.
 */
import { existsSync } from 'node:fs';
import { RlinkError } from '../../core/errors';
import { DEFAULT_TOKEN_FILE, expandHome, readTokenFile, resolveToken } from '../../core/security/token';
import type { ClusterBootstrap } from './bootstrap';

export interface StandaloneBootstrapOptions {
  tokenFile?: string | undefined;
  /** `--jm`: one URL, or several comma-separated (high availability). */
  jobManagerUrl?: string | undefined;
  advertisedHost?: string | undefined;
  /**
   * Without --token-file and RLINK_TOKEN, read ~/.rlink/token when it exists (a task manager on the
   * job manager's machine). The job manager does not: it generates the file, saying so, when missing.
   */
  readDefaultTokenFile?: boolean;
  env?: NodeJS.ProcessEnv;
}

export class StandaloneBootstrap implements ClusterBootstrap {
  readonly kind = 'standalone' as const;

  constructor(private readonly o: StandaloneBootstrapOptions) {}

  async token(): Promise<string | undefined> {
    const t = resolveToken({ tokenFile: this.o.tokenFile, ...(this.o.env ? { env: this.o.env } : {}) });
    if (t || !this.o.readDefaultTokenFile) return t;
    return existsSync(expandHome(DEFAULT_TOKEN_FILE)) ? readTokenFile(DEFAULT_TOKEN_FILE) : undefined;
  }

  advertisedHost(): string | undefined { return this.o.advertisedHost; }

  taskManagerId(): string | undefined { return undefined; }

  async jobManagerUrls(): Promise<string> {
    if (!this.o.jobManagerUrl) throw new RlinkError('RLINK_CLI', 'Missing required flag jm');
    return this.o.jobManagerUrl;
  }

  async jobManagerStarted(started: { url: string }): Promise<string> { return started.url; }
}
