import { BaseCommand } from '../../base-command';
import { deployStandalone, type DeployResult } from '../../../deploy/standalone';
import { daemonTable, loadCluster, standaloneFlags } from '../../lib/standalone-flags';

export default class DeployStandalone extends BaseCommand {
  static override summary = 'Bring a standalone cluster up on the hosts of standalone.yaml and task_managers, over SSH.';
  static override description = 'For every host, in parallel (deploy.concurrency at once): verify its SSH host key against known_hosts, check Node.js ≥ 20, upload the rlink runtime and scripts into task_manager_work_dir (skipped when the same version is there), install the cluster token (mode 0600); then start the job manager(s) and the task managers with the host scripts and wait until every task manager has registered. If any step fails, what this deploy started is stopped again.';
  static override examples = [
    '<%= config.bin %> deploy standalone',
    '<%= config.bin %> deploy standalone --config conf/standalone.yaml --task-managers conf/task_managers --accept-new-host-keys',
    '<%= config.bin %> deploy standalone --json',
  ];
  static override flags = { ...standaloneFlags };

  async run(): Promise<DeployResult> {
    const { flags } = await this.parse(DeployStandalone);
    const { config, hosts, options } = loadCluster(flags, !this.jsonEnabled());
    const result = await deployStandalone(config, hosts, options);
    if (!this.jsonEnabled()) {
      this.log(daemonTable(result.daemons));
      this.log(`\ncluster up in ${(result.wallMs / 1000).toFixed(1)}s: job manager ${result.jobManagerUrl}, ${result.daemons.filter((d) => d.role === 'taskmanager').length} task managers; token ${result.tokenCreated ? 'created in' : 'from'} ${result.tokenFile}`);
    }
    return result;
  }
}
