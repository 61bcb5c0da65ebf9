import { BaseCommand } from '../../base-command';
import { statusStandalone, type StatusResult } from '../../../deploy/standalone';
import { daemonTable, loadCluster, standaloneFlags } from '../../lib/standalone-flags';

export default class StatusStandalone extends BaseCommand {
  static override summary = 'Show what runs on each host of the standalone cluster and what the job manager sees.';
  static override examples = ['<%= config.bin %> status standalone', '<%= config.bin %> status standalone --json'];
  static override flags = { ...standaloneFlags };

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(StatusStandalone);
    const { config, hosts, options } = loadCluster(flags, false);
    const result = await statusStandalone(config, hosts, options);
    if (!this.jsonEnabled()) this.log(daemonTable(result.daemons));
    return result;
  }
}
