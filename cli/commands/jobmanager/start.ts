import { Flags } from '@oclif/core';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BaseCommand } from '../../base-command';
import { createLogger } from '../../../core/logging';
import { DEFAULT_TOKEN_FILE, ensureTokenFile, resolveToken } from '../../../core/security/token';
import { toMillis } from '../../../core/time/duration';
import { startJobManager } from '../../../jobmanager/daemon';
import { RlinkError } from '../../../core/errors';
import { fetchToken, publishJobManager, runApplication, yarnContainer } from '../../../deploy/yarn/container-bootstrap';

export default class JobManagerStart extends BaseCommand {
  static override summary = 'Start a job manager in the foreground.';
  static override description = 'Serves the REST API and the task managers\' control socket on one port. Listens on loopback unless --bind says otherwise. Mutating requests and task managers need the cluster token: from RLINK_TOKEN or --token-file; with neither, one is generated (mode 0600) in ' + DEFAULT_TOKEN_FILE + '.';
  static override examples = [
    '<%= config.bin %> jobmanager start',
    '<%= config.bin %> jobmanager start --port 8770 --bind 0.0.0.0 --token-file /etc/rlink/token',
  ];
  static override flags = {
    port: Flags.integer({ description: 'HTTP port.', default: 8770, min: 0, max: 65535 }),
    bind: Flags.string({ description: 'Listen address.', default: '127.0.0.1' }),
    'token-file': Flags.string({ description: 'File holding the cluster token (default: $RLINK_TOKEN, else generated in ' + DEFAULT_TOKEN_FILE + ').' }),
    'data-dir': Flags.string({ description: 'Where uploaded applications are kept.', default: join(homedir(), '.rlink', 'jobmanager') }),
    'heartbeat-timeout': Flags.string({ description: 'A task manager silent this long is lost.', default: '10s' }),
    property: Flags.string({ description: 'A cluster default for a system property, as key=value (repeatable): jobs inherit it unless they set the key themselves (e.g. checkpoint.dir=/data/rlink/checkpoints).', multiple: true }),
    'yarn-app': Flags.string({ description: 'Inside a YARN container: the application\'s HDFS directory (token from there; the address is published there; the application\'s job is run once its task managers registered).', helpGroup: 'YARN' }),
    webhdfs: Flags.string({ description: 'WebHDFS address for --yarn-app (default: $RLINK_WEBHDFS).', helpGroup: 'YARN' }),
    'max-upload-mb': Flags.integer({ description: 'Largest accepted job bundle, in MiB.', default: 64, min: 1 }),
    'metadata-dir': Flags.string({ description: 'High availability: a directory every job manager of the cluster reaches (shared path, or hdfs://…). Jobs are recorded there and survive this process; job managers on the same directory elect a leader, the others stand by.', helpGroup: 'HIGH AVAILABILITY' }),
    'advertised-url': Flags.string({ description: 'The URL task managers and clients reach this job manager at (default: the listen address); the leader publishes it to standbys.', helpGroup: 'HIGH AVAILABILITY' }),
    'lease-timeout': Flags.string({ description: 'A leader that does not renew its lease for this long is replaced by a standby.', default: '6s', helpGroup: 'HIGH AVAILABILITY' }),
  };

  async run(): Promise<{ url: string; tokenFile: string | null }> {
    const { flags } = await this.parse(JobManagerStart);
    const logger = createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'info' });
    const yarn = flags['yarn-app'] ? yarnContainer(flags['yarn-app'], flags.webhdfs) : undefined;
    let token = yarn ? await fetchToken(yarn) : resolveToken({ tokenFile: flags['token-file'] });
    let tokenFile: string | null = flags['token-file'] ?? null;
    if (!token) {
      const t = ensureTokenFile(DEFAULT_TOKEN_FILE);
      token = t.token;
      tokenFile = t.file;
      process.stderr.write(`${t.created ? 'generated a cluster token in' : 'using the cluster token in'} ${t.file} (mode ${t.mode})\n`);
    }
    const heartbeatTimeoutMs = toMillis(flags['heartbeat-timeout'], '--heartbeat-timeout');
    if (heartbeatTimeoutMs < 100) throw new RlinkError('RLINK_CONFIG', `--heartbeat-timeout ${flags['heartbeat-timeout']} is too short (at least 100ms)`);
    const jm = await startJobManager({
      port: flags.port, bind: flags.bind, token, dataDir: flags['data-dir'], logger,
      heartbeatTimeoutMs, maxUploadBytes: flags['max-upload-mb'] * 1024 * 1024,
      defaultProperties: parseDefaultProperties(flags.property ?? []),
      ...(flags['metadata-dir'] ? { metadataDir: flags['metadata-dir'], leaseMs: toMillis(flags['lease-timeout'], '--lease-timeout') } : {}),
      ...(flags['advertised-url'] ? { advertisedUrl: flags['advertised-url'] } : {}),
    });
    let url = jm.url;
    if (yarn) {
      url = await publishJobManager(yarn, Number(new URL(jm.url).port));
      void runApplication(yarn, url, token, logger.child({ component: 'yarn' }));
    }
    const ready = { url, tokenFile };
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(ready)}\n`);
    else this.log(`job manager listening on ${jm.url}${flags['metadata-dir'] ? ` (high availability through ${flags['metadata-dir']}: leads once elected)` : ''}`);
    await waitForSignal();
    await jm.close();
    return ready;
  }
}

/** `key=value` pairs of --property; a pair without `=` is refused, naming it. */
export function parseDefaultProperties(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new RlinkError('RLINK_CONFIG', `--property ${p}: expected key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Resolves on SIGINT or SIGTERM (foreground daemons stop cleanly). */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
