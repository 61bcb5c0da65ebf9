/**
 * Kubernetes as a deploy target: an rlink cluster as a job manager Deployment + Service and a task
 * manager Deployment, the token in a Secret, the application in a ConfigMap.
 *
 *   const api = KubernetesApi.load({ context: 'prod' });
 *   const r = await deployKubernetes({ api, name: 'clicks', namespace: 'streaming', image: 'registry/rlink:0.9',
 *     jobVCores: 1, jobMemoryMb: 1024, taskVCores: 2, taskMemoryMb: 2048, taskManagers: 4, defaultProperties: {},
 *     application: { bundle, job: { name: 'clicks', args: {}, taskManagers: 4 } }, logger });
 *   await statusKubernetes(api, 'streaming', 'clicks');
 *   await stopKubernetes(api, 'streaming', 'clicks');
 */
export { APPLICATION_DIR, FILES, JOBMANAGER_PORT, WORKING_DIR, objectNames, type KubernetesJobDescription } from './application';
export { KubernetesApi, type KubernetesApiOptions } from './kubernetes-api';
export {
  KubernetesJobSource, clusterFailure, clusterNameProblem, deployKubernetes, podRow, removeCluster, statusKubernetes, stopKubernetes,
  type KubernetesDeployOptions, type KubernetesDeployResult, type KubernetesStatus, type KubernetesStopResult, type PodRow,
} from './kubernetes-cluster';
export { dockerfile, writeImageContext, type ImageContext } from './image';
export { labels, selector, type ClusterSpec } from './resources';
