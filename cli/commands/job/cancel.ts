import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { clientFor, clusterFlags } from '../../lib/cluster-flags';

export default class JobCancel extends BaseCommand {
  static override summary = 'Cancel a job.';
  static override examples = ['<%= config.bin %> job cancel 3f2a…'];
  static override args = { id: Args.string({ description: 'The job id.', required: true }) };
  static override flags = { ...clusterFlags };

  async run(): Promise<{ jobId: string; state: string }> {
    const { args, flags } = await this.parse(JobCancel);
    const client = clientFor(flags);
    await client.cancel(args.id);
    const j = await client.waitForJob(args.id, { timeoutMs: 30_000 });
    if (!this.jsonEnabled()) this.log(`${j.name} (${j.jid}) ${j.state}`);
    return { jobId: args.id, state: j.state };
  }
}
