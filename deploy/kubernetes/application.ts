/**
 * What an rlink cluster on Kubernetes is made of, shared by the client (`rlink deploy|status|stop
 * kubernetes`) and the pods (deploy/bootstrap/kubernetes.ts):
 *
 *   Deployment <name>              the job manager (1 replica, Recreate); owns everything below
 *   Service    <name>              ClusterIP, port 8770 (http) → the job manager pod
 *   Deployment <name>-taskmanager  N task managers (one slot per CPU)
 *   Secret     <name>-token        the cluster token (key `token`), given to every pod as RLINK_TOKEN
 *   ConfigMap  <name>-job          the application (application mode only): job.mjs, job.json,
 *                                  mounted at <working dir>/job in the job manager's pod
 *
 * Every object carries the labels app.kubernetes.io/{name: rlink, instance: <name>, component,
 * managed-by: rlink}. Deleting the job manager's Deployment removes the rest (ownerReferences), as
 * `kubectl delete deployment/<name>` does for rlink-rs's launcher.
 */

/** The job manager's port in the pod and on the Service. */
export const JOBMANAGER_PORT = 8770;
/** The name of that port (the Service's environment variables carry it: <SVC>_SERVICE_PORT_HTTP). */
export const JOBMANAGER_PORT_NAME = 'http';
/** The containers' working directory; the daemons' paths are relative to it. */
export const WORKING_DIR = '/opt/rlink/work';
/** Where the application's ConfigMap is mounted, relative to the working directory. */
export const APPLICATION_DIR = 'job';

/** The files of the application ConfigMap. */
export const FILES = {
  bundle: 'job.mjs',
  job: 'job.json',
} as const;

/** job.json: what the job manager runs once its task managers registered. */
export interface KubernetesJobDescription {
  name: string;
  args: Record<string, string>;
  taskManagers: number;
}

export function objectNames(name: string) {
  return {
    jobManager: name,
    service: name,
    taskManager: `${name}-taskmanager`,
    secret: `${name}-token`,
    configMap: `${name}-job`,
  };
}

/** The name of a Service's environment variables in a pod: `rlink-demo` → `RLINK_DEMO`. */
export function serviceEnvPrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}
