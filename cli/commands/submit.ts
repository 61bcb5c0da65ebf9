import { Args, Flags } from '@oclif/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BaseCommand } from '../base-command';
import { Props } from '../../core/api/props';
import { bundleApp } from '../../core/app/bundle';
import type { JobDetails } from '../../core/client/jobmanager-client';
import { clientFor, clusterFlags } from '../lib/cluster-flags';
import { defaultApplicationName, yarnEndpoints, yarnSubmitFlags } from '../lib/yarn-flags';
import { submitToYarn } from '../../deploy/yarn/yarn-application';
import { JobManagerClient } from '../../core/client/jobmanager-client';
import { createLogger } from '../../core/logging';
import { applyTextJobProperties } from '../lib/text-job';
import { followJob, jobError, waitUntilRunning } from '../lib/follow-job';

export default class Submit extends BaseCommand {
  static override summary = 'Submit a job to a running cluster and wait until it ends.';
  static override description = 'Bundles the app, uploads it to the job manager (POST /job/application), runs it with the key=value arguments (POST /job/application/:id), and follows it. Exits 0 only if the job FINISHED; with --detached, returns once it runs (or waits in the queue for slots) and prints the job id.';
  static override examples = [
    '<%= config.bin %> submit jobs/clicks.ts input=/data/clicks.jsonl output=/data/out --jm http://10.1.2.0:8770',
    '<%= config.bin %> submit jobs/clicks.ts input=… output=… --detached --json',
    '<%= config.bin %> submit --yarn jobs/clicks.ts input=hdfs-mounted/in output=… --applicationName clicks --num_task_managers 4 --v_cores 2 --webhdfs http://nn:9870 --resource-manager http://rm:8088',
  ];
  static override strict = false;
  static override args = { app: Args.string({ description: 'The job file: TypeScript or JavaScript (defineApp), a config-file job (.yaml) or a SQL script (.sql).', required: true }) };
  static override flags = {
    ...clusterFlags,
    'from-savepoint': Flags.string({ description: 'Start from this savepoint or checkpoint (its directory or _metadata file); operators are matched by uid.' }),
    detached: Flags.boolean({ description: 'Return once the job runs (or is queued for slots held by other jobs); print its id.', default: false }),
    ...yarnSubmitFlags,
  };

  async run(): Promise<{ jobId: string; applicationId: string; state: string; job?: JobDetails; jobManagerUrl?: string }> {
    const { args, flags, argv } = await this.parse(Submit);
    const props = Props.fromArgs((argv as string[]).slice(1));
    applyTextJobProperties(args.app, props);
    if (flags['from-savepoint']) props.set('execution.savepoint.path', flags['from-savepoint']);
    const dir = await mkdtemp(join(tmpdir(), 'rlink-submit-'));
    try {
      const bundle = await bundleApp(args.app, join(dir, `${basename(args.app).replace(/\.[^.]+$/, '')}.mjs`));
      let client = clientFor(flags);
      let applicationId: string;
      let jobId: string;
      let jobManagerUrl: string | undefined;
      if (flags.yarn) {
        // On YARN the job manager runs the job itself once its task managers are up (application mode).
        const endpoints = yarnEndpoints(flags);
        const application = flags.applicationName ?? defaultApplicationName(args.app);
        const quiet = this.jsonEnabled();
        const s = await submitToYarn({
          ...endpoints, application, bundlePath: bundle.path, jobName: application, args: props.toJSON(),
          taskManagers: flags.num_task_managers, memoryMb: flags.memory_mb, vCores: flags.v_cores,
          masterMemoryMb: flags.master_memory_mb, masterVCores: flags.master_v_cores, node: flags['node-path'],
          ...(flags.queue ?? endpoints.queue ? { queue: flags.queue ?? endpoints.queue } : {}),
          logger: createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'warn' }),
          onProgress: (m) => { if (!quiet) process.stderr.write(`${application}: ${m}\n`); },
        });
        client = new JobManagerClient(s.jobManagerUrl, s.token);
        ({ jobId, jobManagerUrl } = s);
        applicationId = s.applicationId ?? application;
      } else {
        ({ application_id: applicationId } = await client.uploadApplication(bundle.path));
        ({ jobid: jobId } = await client.runApplication(applicationId, props.toJSON()));
      }
      if (flags.detached) {
        // Detached: return once the job runs or waits in the queue for slots (or say why it does not).
        const state = await waitUntilRunning(client, jobId);
        if (!this.jsonEnabled()) this.log(jobId);
        return { jobId, applicationId, state, ...(jobManagerUrl ? { jobManagerUrl } : {}) };
      }
      // Ctrl-C cancels the job, as with rlink run.
      const { job, interrupted } = await followJob(client, jobId, { quiet: this.jsonEnabled() });
      if (job.state === 'CANCELED' && interrupted) this.exit(130);
      if (job.state !== 'FINISHED') throw jobError(job, jobId);
      if (!this.jsonEnabled()) this.log(`FINISHED ${job.name} (${jobId}) in ${(job.duration / 1000).toFixed(1)}s`);
      return { jobId, applicationId, state: job.state, job };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
