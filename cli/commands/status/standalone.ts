import { BaseCommand } from '../../base-command';
import { createLogger } from '../../../core/logging';
import { statusStandalone, type StatusResult } from '../../../deploy/standalone';
import { HostProgress } from '../../lib/host-progress';
import { daemonTable, loadCluster, standaloneFlags } from '../../lib/standalone-flags';

export default class StatusStandalone extends BaseCommand {
  static override summary = 'Show what runs on each host of the standalone cluster and what the job manager sees.';
  static override examples = ['<%= config.bin %> status standalone', '<%= config.bin %> status standalone --json'];
  static override flags = { ...standaloneFlags };

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(StatusStandalone);
    const { config, hosts } = loadCluster(flags);
    const result = await statusStandalone(config, hosts, {
      logger: createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'warn' }),
      acceptNewHostKeys: flags['accept-new-host-keys'], onProgress: new HostProgress(process.stderr, false).update,
    });
    if (!this.jsonEnabled()) this.log(daemonTable(result.daemons));
    return result;
  }
}
