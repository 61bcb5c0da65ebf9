/**
 * SSH sessions to every machine of a topology, opened in parallel under the concurrency limit. When
 * any machine cannot be reached, every session is closed again and one error names each failed host.
 */
import type { Logger } from '../../core/logging';
import { RlinkError, errorMessage } from '../../core/errors';
import { toMillis } from '../../core/time/duration';
import { SshSession } from '../ssh';
import type { StandaloneConfig } from '../config';
import { settleWithLimit } from '../concurrency';
import { RemoteHost } from './remote-host';
import type { Machine } from './topology';

export interface ConnectOptions {
  acceptNewHostKeys?: boolean;
  logger: Logger;
  onProgress?: (host: string, message: string) => void;
}

export interface ConnectedHosts {
  hosts: Map<string, RemoteHost>;
  close(): Promise<void>;
}

export async function connectHosts(config: StandaloneConfig, machines: Machine[], opts: ConnectOptions): Promise<ConnectedHosts> {
  const sessions: SshSession[] = [];
  const close = async () => { await Promise.allSettled(sessions.map((s) => s.close())); };
  const results = await settleWithLimit(machines, config.deploy.concurrency, async (m) => {
    opts.onProgress?.(m.host, `connecting to ${config.ssh.user}@${m.host}:${m.sshPort}`);
    const session = await SshSession.connect({
      host: m.host, port: m.sshPort, user: config.ssh.user, identityFile: config.ssh.identityFile,
      knownHostsFile: config.ssh.knownHosts, acceptNewHostKeys: opts.acceptNewHostKeys ?? false,
      connectTimeoutMs: toMillis(config.ssh.connectTimeout, 'ssh.connect_timeout'),
    }, opts.logger);
    sessions.push(session);
    opts.onProgress?.(m.host, 'connected');
    return new RemoteHost(m, session, config.workDir, config.node, opts.logger.child({ component: 'deploy', host: m.host }));
  });
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ machine: machines[i]!, reason: r.reason as unknown }] : []));
  if (failed.length > 0) {
    await close();
    for (const f of failed) opts.onProgress?.(f.machine.host, `failed: ${errorMessage(f.reason)}`);
    throw combinedError(failed.map((f) => f.reason), machines.length, 'RLINK_SSH');
  }
  const hosts = new Map<string, RemoteHost>();
  results.forEach((r, i) => { if (r.status === 'fulfilled') hosts.set(machines[i]!.key, r.value); });
  return { hosts, close };
}

/** One error for several hosts: the first cause in full, then how many more (each was reported as progress). */
export function combinedError(reasons: unknown[], of: number, fallback: 'RLINK_SSH' | 'RLINK_DEPLOY'): RlinkError {
  const first = reasons[0];
  const code = first instanceof RlinkError ? first.code : fallback;
  const more = reasons.length > 1 ? ` (and ${reasons.length - 1} more of ${of} hosts: ${reasons.slice(1).map((r) => errorMessage(r)).join('; ')})` : '';
  return new RlinkError(code, `${errorMessage(first)}${more}`, { cause: first });
}

