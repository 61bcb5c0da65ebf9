import { Args, Flags } from '@oclif/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BaseCommand } from '../../base-command';
import { Props } from '../../../core/api/props';
import { bundleApp } from '../../../core/app/bundle';
import type { JobDetails } from '../../../core/client/jobmanager-client';
import { createLogger } from '../../../core/logging';
import { KubernetesJobSource, deployKubernetes, objectNames, type KubernetesDeployResult } from '../../../deploy/kubernetes';
import { followJob, jobError, waitUntilRunning } from '../../lib/follow-job';
import { renderTable } from '../../lib/host-progress';
import { kubernetesClusterSpec, kubernetesDeployFlags, kubernetesTarget } from '../../lib/kubernetes-flags';
import { applyTextJobProperties } from '../../lib/text-job';

export type DeployKubernetesResult = KubernetesDeployResult & { state?: string; job?: JobDetails };

export default class DeployKubernetes extends BaseCommand {
  static override summary = 'Run an rlink cluster on Kubernetes: a job manager Deployment and Service, a task manager Deployment; with an app, run it there.';
  static override description = 'With an app (application mode, as rlink-rs\'s Kubernetes launcher): the app is bundled into a ConfigMap, the job manager runs it once its task managers registered, and the command follows the job like `rlink submit` (exit 0 only if it FINISHED; --detached returns once it runs). Without an app: a session cluster that jobs are submitted to from inside the cluster (http://<name>.<namespace>.svc:8770, the token in the Secret <name>-token). The token is a fresh one in a Secret; the kubeconfig is loaded as kubectl does. If the pods fail to come up (an image that cannot be pulled, too little room, a crashing daemon), every object is deleted again and the reason is named. The cluster stays until `rlink stop kubernetes`.';
  static override examples = [
    '<%= config.bin %> deploy kubernetes jobs/clicks.ts input=… output=… --name clicks --image_path registry.example.com/rlink:0.9 --num_task_managers 4 --task_v_cores 2',
    '<%= config.bin %> deploy kubernetes jobs/clicks.ts … --name clicks --namespace streaming --job_memory_mb 2048 --task_memory_mb 4096 --detached --json',
    '<%= config.bin %> deploy kubernetes --name session --image_path rlink:0.9 --num_task_managers 2',
  ];
  static override strict = false;
  static override args = { app: Args.string({ description: 'The job file (TypeScript/JavaScript, a .yaml job or a .sql script), then key=value arguments; none: a session cluster.', required: false }) };
  static override flags = {
    ...kubernetesDeployFlags,
    detached: Flags.boolean({ description: 'Return once the job runs (or is queued for slots); print its id.', default: false }),
    'from-savepoint': Flags.string({ description: 'Start the job from this savepoint or checkpoint (a path the pods reach); operators are matched by uid.' }),
  };

  async run(): Promise<DeployKubernetesResult> {
    const { args, flags, argv } = await this.parse(DeployKubernetes);
    const quiet = this.jsonEnabled();
    const target = kubernetesTarget(flags, args.app);
    const cluster = kubernetesClusterSpec(flags, target);
    const dir = await mkdtemp(join(tmpdir(), 'rlink-kubernetes-'));
    try {
      let application: { bundle: Buffer; job: { name: string; args: Record<string, string>; taskManagers: number } } | undefined;
      if (args.app) {
        const props = Props.fromArgs((argv as string[]).slice(1));
        applyTextJobProperties(args.app, props);
        if (flags['from-savepoint']) props.set('execution.savepoint.path', flags['from-savepoint']);
        const bundle = await bundleApp(args.app, join(dir, `${basename(args.app).replace(/\.[^.]+$/, '')}.mjs`));
        application = { bundle: await readFile(bundle.path), job: { name: target.name, args: props.toJSON(), taskManagers: cluster.taskManagers } };
      }
      const r = await deployKubernetes({
        ...cluster, api: target.api, application, startTimeoutMs: flags['start-timeout'] * 1000,
        logger: createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'warn' }),
        onProgress: (m) => { if (!quiet) process.stderr.write(`${target.name}: ${m}\n`); },
      });
      if (!r.jobId) {
        if (!quiet) {
          this.log(renderTable(['POD', 'COMPONENT', 'STATE', 'READY', 'RESTARTS', 'IP'], r.pods.map((p) => [p.pod, p.component, p.state, p.ready ? 'yes' : 'no', p.restarts, p.podIP])));
          this.log(`\nsession cluster ${r.name} up in ${(r.wallMs / 1000).toFixed(1)}s in ${r.namespace}: job manager ${r.jobManagerUrl} (inside the cluster), ${r.taskManagers} task managers; token in Secret ${r.tokenSecret}`);
        }
        return r;
      }
      const jobId = r.jobId;
      const source = new KubernetesJobSource(target.api, target.namespace, objectNames(target.name).service);
      if (flags.detached) {
        const state = await waitUntilRunning(source, jobId);
        if (!quiet) this.log(jobId);
        return { ...r, state };
      }
      const { job } = await followJob(source, jobId, {
        quiet, onInterrupt: () => process.stderr.write(`\nthe job keeps running in cluster ${target.name}; \`rlink stop kubernetes --name ${target.name}\` removes it\n`),
      });
      if (job.state !== 'FINISHED') throw jobError(job, jobId);
      if (!quiet) this.log(`FINISHED ${job.name} (${jobId}) in ${(job.duration / 1000).toFixed(1)}s on cluster ${target.name} (it stays up until \`rlink stop kubernetes --name ${target.name}\`)`);
      return { ...r, state: job.state, job };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
