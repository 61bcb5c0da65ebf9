/**
 * The Kubernetes objects of an rlink cluster (see ./application.ts for the list), as plain manifests:
 * pure functions of the compiled options, so they can be checked without a cluster.
 *
 * Both daemons bind their pod's address (POD_IP, from the downward API) and take the token from the
 * Secret as RLINK_TOKEN; the task managers find the job manager through the Service's environment
 * variables (deploy/bootstrap/kubernetes.ts). Resources are requested and limited alike (QoS
 * Guaranteed); a task manager gets one slot per CPU, as on YARN. A daemon that fails leaves its
 * last log lines as the pod's termination message (FallbackToLogsOnError), which is what
 * `rlink deploy kubernetes` reports.
 */
import type { V1ConfigMap, V1Container, V1Deployment, V1EnvVar, V1OwnerReference, V1Secret, V1Service, V1Volume } from '@kubernetes/client-node';
import { APPLICATION_DIR, FILES, JOBMANAGER_PORT, JOBMANAGER_PORT_NAME, WORKING_DIR, objectNames, type KubernetesJobDescription } from './application';

export interface ClusterSpec {
  name: string;
  namespace: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  serviceAccount?: string | undefined;
  jobVCores: number;
  jobMemoryMb: number;
  taskVCores: number;
  taskMemoryMb: number;
  taskManagers: number;
  /** Cluster defaults for system properties (standalone.yaml's checkpoint: section). */
  defaultProperties: Record<string, string>;
  /** Application mode: the job (bundle and description) the job manager runs; absent: a session cluster. */
  application?: { bundle: Buffer; job: KubernetesJobDescription } | undefined;
}

export type Component = 'jobmanager' | 'taskmanager';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export function labels(name: string, component?: Component): Record<string, string> {
  return {
    [LABELS.name]: 'rlink',
    [LABELS.instance]: name,
    ...(component ? { [LABELS.component]: component } : {}),
    [LABELS.managedBy]: 'rlink',
  };
}

/** The label selector of a cluster's objects (or of one component's pods). */
export function selector(name: string, component?: Component): string {
  return `${LABELS.name}=rlink,${LABELS.instance}=${name}${component ? `,${LABELS.component}=${component}` : ''}`;
}

function podLabels(name: string, component: Component): Record<string, string> {
  return { [LABELS.name]: 'rlink', [LABELS.instance]: name, [LABELS.component]: component };
}

const LOG_LEVEL = 'info';

function commonEnv(name: string): V1EnvVar[] {
  return [
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'RLINK_TOKEN', valueFrom: { secretKeyRef: { name: objectNames(name).secret, key: 'token' } } },
    { name: 'RLINK_LOG_LEVEL', value: LOG_LEVEL },
  ];
}

function resources(vCores: number, memoryMb: number) {
  const r = { cpu: String(vCores), memory: `${memoryMb}Mi` };
  return { requests: r, limits: { ...r } };
}

function container(spec: ClusterSpec, component: Component, args: string[], vCores: number, memoryMb: number, extra: Partial<V1Container> = {}): V1Container {
  return {
    name: component,
    image: spec.image,
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    workingDir: WORKING_DIR,
    // The image's entry point is `node rlink.mjs` (deploy/kubernetes/Dockerfile): these are its arguments.
    args,
    env: commonEnv(spec.name),
    resources: resources(vCores, memoryMb),
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...extra,
  };
}

function deployment(spec: ClusterSpec, name: string, component: Component, replicas: number, c: V1Container, extra: { volumes?: V1Volume[]; owner?: V1OwnerReference } = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: spec.namespace, labels: labels(spec.name, component), ...(extra.owner ? { ownerReferences: [extra.owner] } : {}) },
    spec: {
      replicas,
      // A job manager must not run twice (two would each run the application); task managers may overlap.
      strategy: component === 'jobmanager' ? { type: 'Recreate' } : { type: 'RollingUpdate' },
      selector: { matchLabels: podLabels(spec.name, component) },
      template: {
        metadata: { labels: podLabels(spec.name, component) },
        spec: {
          containers: [c],
          terminationGracePeriodSeconds: 30,
          ...(spec.serviceAccount ? { serviceAccountName: spec.serviceAccount } : {}),
          ...(extra.volumes ? { volumes: extra.volumes } : {}),
        },
      },
    },
  };
}

/** The job manager's Deployment: created first, it owns the other objects. */
export function jobManagerDeployment(spec: ClusterSpec): V1Deployment {
  const names = objectNames(spec.name);
  const args = [
    'jobmanager', 'start', '--port', String(JOBMANAGER_PORT), '--bind', '$(POD_IP)', '--data-dir', 'jobmanager',
    '--kubernetes-service', names.service,
    ...(spec.application ? ['--kubernetes-application', APPLICATION_DIR] : []),
    ...Object.entries(spec.defaultProperties).flatMap(([k, v]) => ['--property', `${k}=${v}`]),
  ];
  const c = container(spec, 'jobmanager', args, spec.jobVCores, spec.jobMemoryMb, {
    ports: [{ name: JOBMANAGER_PORT_NAME, containerPort: JOBMANAGER_PORT }],
    readinessProbe: { httpGet: { path: '/overview', port: JOBMANAGER_PORT_NAME }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 3 },
    ...(spec.application ? { volumeMounts: [{ name: 'application', mountPath: `${WORKING_DIR}/${APPLICATION_DIR}`, readOnly: true }] } : {}),
  });
  return deployment(spec, names.jobManager, 'jobmanager', 1, c, spec.application ? { volumes: [{ name: 'application', configMap: { name: names.configMap } }] } : {});
}

/** An ownerReference to the job manager's Deployment (deleting it deletes the rest). */
export function ownedBy(owner: V1Deployment): V1OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata!.name!, uid: owner.metadata!.uid! };
}

export function taskManagerDeployment(spec: ClusterSpec, owner: V1OwnerReference): V1Deployment {
  const names = objectNames(spec.name);
  const args = ['taskmanager', 'start', '--slots', String(spec.taskVCores), '--bind', '$(POD_IP)', '--work-dir', 'taskmanager', '--kubernetes-service', names.service];
  return deployment(spec, names.taskManager, 'taskmanager', spec.taskManagers, container(spec, 'taskmanager', args, spec.taskVCores, spec.taskMemoryMb), { owner });
}

export function jobManagerService(spec: ClusterSpec, owner: V1OwnerReference): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: objectNames(spec.name).service, namespace: spec.namespace, labels: labels(spec.name, 'jobmanager'), ownerReferences: [owner] },
    spec: { type: 'ClusterIP', selector: podLabels(spec.name, 'jobmanager'), ports: [{ name: JOBMANAGER_PORT_NAME, port: JOBMANAGER_PORT, targetPort: JOBMANAGER_PORT_NAME }] },
  };
}

export function tokenSecret(spec: ClusterSpec, token: string, owner: V1OwnerReference): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: objectNames(spec.name).secret, namespace: spec.namespace, labels: labels(spec.name), ownerReferences: [owner] },
    type: 'Opaque',
    data: { token: Buffer.from(token).toString('base64') },
  };
}

/** The application: the job's bundle and what to run, mounted into the job manager's pod. */
export function applicationConfigMap(spec: ClusterSpec, owner: V1OwnerReference): V1ConfigMap | undefined {
  if (!spec.application) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: objectNames(spec.name).configMap, namespace: spec.namespace, labels: labels(spec.name), ownerReferences: [owner] },
    data: { [FILES.job]: JSON.stringify(spec.application.job) },
    binaryData: { [FILES.bundle]: spec.application.bundle.toString('base64') },
  };
}

/** A ConfigMap holds at most 1 MiB (data and binaryData together). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
