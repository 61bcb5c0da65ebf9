import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { clientFor, clusterFlags } from '../../lib/cluster-flags';

export default class JobStop extends BaseCommand {
  static override summary = 'Stop a job with a savepoint.';
  static override description = 'Takes a savepoint into --savepoint-dir, then ends the job (FINISHED). With --drain the sources end their input first, so every window fires and every sink commits; without, open windows stay in the savepoint. Resume with --from-savepoint on run or submit.';
  static override examples = [
    '<%= config.bin %> job stop 3f2a… --savepoint-dir /data/savepoints',
    '<%= config.bin %> job stop 3f2a… --savepoint-dir /data/savepoints --drain --json',
  ];
  static override args = { id: Args.string({ description: 'The job id.', required: true }) };
  static override flags = {
    ...clusterFlags,
    'savepoint-dir': Flags.string({ description: 'Directory the savepoint is written into (must be reachable by every task manager).', required: true }),
    drain: Flags.boolean({ description: 'End the input first: fire every window, commit every sink.', default: false }),
  };

  async run(): Promise<{ jobId: string; savepoint: string; state: string }> {
    const { args, flags } = await this.parse(JobStop);
    const client = clientFor(flags);
    const { location } = await client.stop(args.id, flags['savepoint-dir'], flags.drain);
    const j = await client.waitForJob(args.id, { timeoutMs: 120_000 });
    if (!this.jsonEnabled()) this.log(`savepoint ${location}\n${j.name} (${j.jid}) ${j.state}`);
    return { jobId: args.id, savepoint: location, state: j.state };
  }
}
