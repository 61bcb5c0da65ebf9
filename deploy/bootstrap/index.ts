/**
 * The deploy seam (./bootstrap.ts): which bootstrap a daemon's flags select. `--yarn-app` means a
 * YARN container, `--kubernetes-service` a Kubernetes pod, neither a standalone daemon.
 */
import { RlinkError } from '../../core/errors';
import type { ClusterBootstrap } from './bootstrap';
import { KubernetesBootstrap } from './kubernetes';
import { StandaloneBootstrap } from './standalone';
import { YarnBootstrap } from './yarn';

export type { BootstrapKind, ClusterBootstrap, JobManagerStarted } from './bootstrap';
export { KubernetesBootstrap, StandaloneBootstrap, YarnBootstrap };

interface EnvironmentFlags {
  'token-file'?: string | undefined;
  'yarn-app'?: string | undefined;
  webhdfs?: string | undefined;
  'kubernetes-service'?: string | undefined;
}

function environment(flags: EnvironmentFlags): ClusterBootstrap | undefined {
  if (flags['yarn-app'] && flags['kubernetes-service']) throw new RlinkError('RLINK_CLI', '--yarn-app and --kubernetes-service cannot be used together');
  if (flags['yarn-app']) return new YarnBootstrap(flags['yarn-app'], flags.webhdfs);
  return undefined;
}

/** The bootstrap of `jobmanager start`. */
export function jobManagerBootstrap(flags: EnvironmentFlags & { 'kubernetes-application'?: string | undefined }): ClusterBootstrap {
  if (flags['kubernetes-application'] && !flags['kubernetes-service']) throw new RlinkError('RLINK_CLI', '--kubernetes-application needs --kubernetes-service');
  return environment(flags)
    ?? (flags['kubernetes-service'] ? new KubernetesBootstrap(flags['kubernetes-service'], flags['kubernetes-application']) : undefined)
    ?? new StandaloneBootstrap({ tokenFile: flags['token-file'] });
}

/** The bootstrap of `taskmanager start`. */
export function taskManagerBootstrap(flags: EnvironmentFlags & { jm?: string | undefined; 'advertised-host'?: string | undefined }): ClusterBootstrap {
  return environment(flags)
    ?? (flags['kubernetes-service'] ? new KubernetesBootstrap(flags['kubernetes-service']) : undefined)
    ?? new StandaloneBootstrap({ tokenFile: flags['token-file'], jobManagerUrl: flags.jm, advertisedHost: flags['advertised-host'], readDefaultTokenFile: true });
}
