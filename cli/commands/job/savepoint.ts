import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { clientFor, clusterFlags } from '../../lib/cluster-flags';

export default class JobSavepoint extends BaseCommand {
  static override summary = 'Take a savepoint of a running job (it keeps running).';
  static override examples = ['<%= config.bin %> job savepoint 3f2a… --savepoint-dir /data/savepoints'];
  static override args = { id: Args.string({ description: 'The job id.', required: true }) };
  static override flags = {
    ...clusterFlags,
    'savepoint-dir': Flags.string({ description: 'Directory the savepoint is written into (must be reachable by every task manager).', required: true }),
  };

  async run(): Promise<{ jobId: string; savepoint: string }> {
    const { args, flags } = await this.parse(JobSavepoint);
    const { location } = await clientFor(flags).savepoint(args.id, flags['savepoint-dir']);
    if (!this.jsonEnabled()) this.log(location);
    return { jobId: args.id, savepoint: location };
  }
}
