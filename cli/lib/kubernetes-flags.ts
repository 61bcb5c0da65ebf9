import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { RlinkError } from '../../core/errors';
import { loadStandaloneConfig, type StandaloneConfig } from '../../deploy/config';
import { KubernetesApi, clusterNameProblem, type ClusterSpec } from '../../deploy/kubernetes';
import { defaultApplicationName } from './yarn-flags';

/** Where the cluster is: flags, else the `kubernetes:` section of standalone.yaml, else the kubeconfig. */
export const kubernetesTargetFlags = {
  name: Flags.string({ description: 'The cluster\'s name: its Kubernetes Deployment and Service (lower case, digits, -; default on deploy: from the app file name).', helpGroup: 'KUBERNETES' }),
  namespace: Flags.string({ description: 'Namespace (default: kubernetes.namespace in --config, else the kubeconfig context\'s, else default).', helpGroup: 'KUBERNETES' }),
  context: Flags.string({ description: 'kubeconfig context (default: kubernetes.context in --config, else the current context).', helpGroup: 'KUBERNETES' }),
  kubeconfig: Flags.string({ description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else the pod\'s service account).', helpGroup: 'KUBERNETES' }),
  config: Flags.string({ description: 'standalone.yaml with a kubernetes: section (and checkpoint: defaults), read when it exists.', default: 'standalone.yaml', helpGroup: 'KUBERNETES' }),
};

/** rlink-rs's Kubernetes launcher arguments, spelled as rlink-rs spells them. */
export const kubernetesDeployFlags = {
  image_path: Flags.string({ description: 'The image: Node.js ≥ 20 and rlink\'s runtime as entry point (`rlink kubernetes image` writes its build context); default: kubernetes.image_path in --config.', aliases: ['image'], helpGroup: 'KUBERNETES' }),
  job_v_cores: Flags.integer({ description: 'CPUs of the job manager (default 1).', min: 1, helpGroup: 'KUBERNETES' }),
  job_memory_mb: Flags.integer({ description: 'Memory of the job manager, MiB (default 1024).', min: 128, helpGroup: 'KUBERNETES' }),
  task_v_cores: Flags.integer({ description: 'CPUs of a task manager, also its slots (default 1).', min: 1, helpGroup: 'KUBERNETES' }),
  task_memory_mb: Flags.integer({ description: 'Memory of a task manager, MiB (default 1024).', min: 128, helpGroup: 'KUBERNETES' }),
  num_task_managers: Flags.integer({ description: 'Task managers (default 1).', min: 1, helpGroup: 'KUBERNETES' }),
  'start-timeout': Flags.integer({ description: 'Seconds the pods may take to run the job (or, without an app, to register).', default: 180, min: 1, helpGroup: 'KUBERNETES' }),
  ...kubernetesTargetFlags,
};

type TargetFlags = { name?: string | undefined; namespace?: string | undefined; context?: string | undefined; kubeconfig?: string | undefined; config: string };

export interface KubernetesTarget {
  api: KubernetesApi;
  namespace: string;
  name: string;
  /** standalone.yaml when it exists (its kubernetes: and checkpoint: sections). */
  file: StandaloneConfig | undefined;
}

/** The API, the namespace and the cluster name of a Kubernetes command. */
export function kubernetesTarget(flags: TargetFlags, app?: string): KubernetesTarget {
  const file = existsSync(flags.config) ? loadStandaloneConfig(flags.config, { sectionsOnly: true }) : undefined;
  const section = file?.kubernetes;
  const name = flags.name ?? (app ? defaultApplicationName(app).slice(0, 40).replace(/-+$/, '') : undefined);
  if (!name) throw new RlinkError('RLINK_CLI', 'Missing required flag name');
  const problem = clusterNameProblem(name);
  if (problem) throw new RlinkError('RLINK_CONFIG', `--name ${problem}`);
  const api = KubernetesApi.load({ kubeconfig: flags.kubeconfig, context: flags.context ?? section?.context });
  return { api, namespace: flags.namespace ?? section?.namespace ?? api.contextNamespace, name, file };
}

type DeployFlags = {
  image_path?: string | undefined; job_v_cores?: number | undefined; job_memory_mb?: number | undefined; task_v_cores?: number | undefined;
  task_memory_mb?: number | undefined; num_task_managers?: number | undefined;
};

/** The cluster a deploy makes: flags over the kubernetes: section over the defaults (1 CPU, 1024 MiB, 1 task manager); checkpoint: as cluster defaults. */
export function kubernetesClusterSpec(flags: DeployFlags, t: KubernetesTarget): Omit<ClusterSpec, 'application'> {
  const section = t.file?.kubernetes ?? {};
  const image = flags.image_path ?? section.imagePath;
  if (!image) throw new RlinkError('RLINK_CONFIG', 'Kubernetes needs the image: --image_path (Node.js ≥ 20 with rlink\'s runtime as entry point; `rlink kubernetes image <dir>` writes its build context), or kubernetes.image_path in standalone.yaml');
  const checkpoint = t.file?.checkpoint;
  return {
    name: t.name, namespace: t.namespace, image,
    imagePullPolicy: section.imagePullPolicy, serviceAccount: section.serviceAccount,
    jobVCores: flags.job_v_cores ?? section.jobVCores ?? 1, jobMemoryMb: flags.job_memory_mb ?? section.jobMemoryMb ?? 1024,
    taskVCores: flags.task_v_cores ?? section.taskVCores ?? 1, taskMemoryMb: flags.task_memory_mb ?? section.taskMemoryMb ?? 1024,
    taskManagers: flags.num_task_managers ?? section.numTaskManagers ?? 1,
    defaultProperties: checkpoint ? { 'checkpoint.dir': checkpoint.dir, ...(checkpoint.interval ? { 'checkpoint.interval': checkpoint.interval } : {}) } : {},
  };
}
