import { BaseCommand } from '../../base-command';
import { stopStandalone, type StopResult } from '../../../deploy/standalone';
import { daemonTable, loadCluster, standaloneFlags } from '../../lib/standalone-flags';

export default class StopStandalone extends BaseCommand {
  static override summary = 'Stop the standalone cluster of standalone.yaml and task_managers: task managers first, then the job manager(s).';
  static override examples = ['<%= config.bin %> stop standalone', '<%= config.bin %> stop standalone --json'];
  static override flags = { ...standaloneFlags };

  async run(): Promise<StopResult> {
    const { flags } = await this.parse(StopStandalone);
    const { config, hosts, options } = loadCluster(flags, !this.jsonEnabled());
    const result = await stopStandalone(config, hosts, options);
    if (!this.jsonEnabled()) this.log(daemonTable(result.daemons));
    return result;
  }
}
