import { Args, Flags } from '@oclif/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BaseCommand } from '../base-command';
import { Props } from '../../core/api/props';
import { bundleApp } from '../../core/app/bundle';
import { RlinkError, type ErrorCode } from '../../core/errors';
import type { JobDetails } from '../../core/client/jobmanager-client';
import { clientFor, clusterFlags } from '../lib/cluster-flags';

export default class Submit extends BaseCommand {
  static override summary = 'Submit a job to a running cluster and wait until it ends.';
  static override description = 'Bundles the app, uploads it to the job manager (POST /job/application), runs it with the key=value arguments (POST /job/application/:id), and follows it. Exits 0 only if the job FINISHED; with --detached, returns once it runs and prints the job id.';
  static override examples = [
    '<%= config.bin %> submit jobs/clicks.ts input=/data/clicks.jsonl output=/data/out --jm http://10.1.2.0:8770',
    '<%= config.bin %> submit jobs/clicks.ts input=… output=… --detached --json',
  ];
  static override strict = false;
  static override args = { app: Args.string({ description: 'The job file.', required: true }) };
  static override flags = {
    ...clusterFlags,
    'from-savepoint': Flags.string({ description: 'Start from this savepoint or checkpoint (its directory or _metadata file); operators are matched by uid.' }),
    detached: Flags.boolean({ description: 'Return once the job runs; print its id.', default: false }),
  };

  async run(): Promise<{ jobId: string; applicationId: string; state: string; job?: JobDetails }> {
    const { args, flags, argv } = await this.parse(Submit);
    const props = Props.fromArgs((argv as string[]).slice(1));
    if (flags['from-savepoint']) props.set('execution.savepoint.path', flags['from-savepoint']);
    const client = clientFor(flags);
    const dir = await mkdtemp(join(tmpdir(), 'rlink-submit-'));
    try {
      const bundle = await bundleApp(args.app, join(dir, `${basename(args.app).replace(/\.[^.]+$/, '')}.mjs`));
      const { application_id: applicationId } = await client.uploadApplication(bundle.path);
      const { jobid: jobId } = await client.runApplication(applicationId, props.toJSON());
      if (flags.detached) {
        // Detached: return once the job runs (or say why it does not).
        const j = await waitUntil(async () => { const x = await client.job(jobId); return x.state === 'CREATED' ? undefined : x; }, 30_000);
        if (j && (j.state === 'FAILED' || j.state === 'CANCELED')) throw jobError(j, jobId);
        if (!this.jsonEnabled()) this.log(jobId);
        return { jobId, applicationId, state: j?.state ?? 'CREATED' };
      }
      // Ctrl-C cancels the job, as with rlink run.
      let interrupted = 0;
      const onSigint = () => {
        if (++interrupted > 1) process.exit(130);
        process.stderr.write(`\ncancelling job ${jobId}… (Ctrl-C again to leave it running and exit)\n`);
        void client.cancel(jobId).catch(() => {});
      };
      process.on('SIGINT', onSigint);
      let last = '';
      const job = await client.waitForJob(jobId, {
        onUpdate: (j) => { if (j.state !== last && !this.jsonEnabled()) { process.stderr.write(`${j.name} ${j.state}\n`); last = j.state; } },
      }).finally(() => process.off('SIGINT', onSigint));
      if (job.state === 'CANCELED' && interrupted > 0) this.exit(130);
      if (job.state !== 'FINISHED') throw jobError(job, jobId);
      if (!this.jsonEnabled()) this.log(`FINISHED ${job.name} (${jobId}) in ${(job.duration / 1000).toFixed(1)}s`);
      return { jobId, applicationId, state: job.state, job };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function jobError(j: JobDetails, jobId: string): RlinkError {
  return new RlinkError((j.errorCode?.startsWith('RLINK_') ? j.errorCode : 'RLINK_TASK_FAILED') as ErrorCode, `job ${j.name} (${jobId}) ${j.state}${j.error ? `: ${j.error}` : ''}`);
}

async function waitUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
