import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { clientFor, clusterFlags } from '../../lib/cluster-flags';
import type { JobDetails } from '../../../core/client/jobmanager-client';

export default class JobStatus extends BaseCommand {
  static override summary = 'Show a job\'s state and its operators\' progress.';
  static override examples = ['<%= config.bin %> job status 3f2a… --json'];
  static override args = { id: Args.string({ description: 'The job id.', required: true }) };
  static override flags = { ...clusterFlags };

  async run(): Promise<JobDetails> {
    const { args, flags } = await this.parse(JobStatus);
    const j = await clientFor(flags).job(args.id);
    if (!this.jsonEnabled()) {
      this.log(`${j.name} (${j.jid}) ${j.state}${j.error ? `: ${j.error}` : ''}`);
      for (const v of j.vertices ?? []) {
        this.log(`  ${v.name} ×${v.parallelism}  ${v.status}  in ${v.metrics['read-records'] ?? 0}  out ${v.metrics['write-records'] ?? 0}`);
      }
    }
    return j;
  }
}
