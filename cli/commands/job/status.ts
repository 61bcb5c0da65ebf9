import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { clientFor, clusterFlags } from '../../lib/cluster-flags';
import type { JobDetails } from '../../../core/client/jobmanager-client';
import { vertexLines, vertexRows, vertexTable } from '../../lib/job-table';

export default class JobStatus extends BaseCommand {
  static override summary = 'Show a job\'s state and its vertices: parallelism, rates, watermark lag, busy time, back pressure.';
  static override description = 'On a terminal: an aligned table. Piped: one key=value line per vertex. --json: the job as GET /jobs/:id returns it.';
  static override examples = ['<%= config.bin %> job status 3f2a…', '<%= config.bin %> job status 3f2a… | grep backpressure=high', '<%= config.bin %> job status 3f2a… --json'];
  static override args = { id: Args.string({ description: 'The job id.', required: true }) };
  static override flags = { ...clusterFlags };

  async run(): Promise<JobDetails> {
    const { args, flags } = await this.parse(JobStatus);
    const j = await clientFor(flags).job(args.id);
    if (!this.jsonEnabled()) {
      this.log(`${j.name} (${j.jid}) ${j.state}${j.error ? `: ${j.error}` : ''}`);
      const rows = vertexRows(j);
      for (const line of process.stdout.isTTY ? vertexTable(rows) : vertexLines(rows)) this.log(line);
    }
    return j;
  }
}
