import { BaseCommand } from '../../base-command';
import { clientFor, clusterFlags } from '../../lib/cluster-flags';

export default class JobList extends BaseCommand {
  static override summary = 'List the jobs of a cluster.';
  static override examples = ['<%= config.bin %> job list --jm http://127.0.0.1:8770'];
  static override flags = { ...clusterFlags };

  async run(): Promise<{ jobs: Array<Record<string, unknown>> }> {
    const { flags } = await this.parse(JobList);
    const r = await clientFor(flags).jobs();
    if (!this.jsonEnabled()) {
      if (r.jobs.length === 0) this.log('no jobs');
      for (const j of r.jobs) this.log(`${String(j.jid)}  ${String(j.state).padEnd(10)}  ${String(j.name)}`);
    }
    return r;
  }
}
