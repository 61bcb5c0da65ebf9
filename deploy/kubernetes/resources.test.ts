/** The manifests of an rlink cluster on Kubernetes, and how a deploy reads its pods' troubles. */
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { applicationConfigMap, jobManagerDeployment, jobManagerService, ownedBy, selector, taskManagerDeployment, tokenSecret, type ClusterSpec } from './resources';
import { clusterFailure, clusterNameProblem, podRow } from './kubernetes-cluster';
import { dockerfile } from './image';

const spec: ClusterSpec = {
  name: 'clicks', namespace: 'streaming', image: 'registry.example.com/rlink:0.9', jobVCores: 1, jobMemoryMb: 1024, taskVCores: 2, taskMemoryMb: 2048, taskManagers: 3,
  defaultProperties: { 'checkpoint.dir': '/shared/chk' },
  application: { bundle: Buffer.from('export default 1;'), job: { name: 'clicks', args: { input: '/in' }, taskManagers: 3 } },
};
const owner = ownedBy({ metadata: { name: 'clicks', uid: '0b0e2d4e-0000-4000-8000-000000000001' } });

describe('the manifests', () => {
  it('a job manager Deployment: one replica, Recreate, bound to its pod IP, the token from the Secret, the application mounted, ready on /overview', () => {
    const d = jobManagerDeployment(spec);
    expect(d.metadata).toMatchObject({ name: 'clicks', namespace: 'streaming' });
    expect(d.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const c = d.spec!.template.spec!.containers[0]!;
    expect(c.args).toEqual(['jobmanager', 'start', '--port', '8770', '--bind', '$(POD_IP)', '--data-dir', 'jobmanager', '--kubernetes-service', 'clicks', '--kubernetes-application', 'job', '--property', 'checkpoint.dir=/shared/chk']);
    expect(c.env).toEqual([
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'RLINK_TOKEN', valueFrom: { secretKeyRef: { name: 'clicks-token', key: 'token' } } },
      { name: 'RLINK_LOG_LEVEL', value: 'info' },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '1', memory: '1024Mi' }, limits: { cpu: '1', memory: '1024Mi' } });
    expect(c.volumeMounts).toEqual([{ name: 'application', mountPath: '/opt/rlink/work/job', readOnly: true }]);
    expect(c.workingDir).toBe('/opt/rlink/work');
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/overview', port: 'http' });
    expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(d.spec!.template.spec!.volumes).toEqual([{ name: 'application', configMap: { name: 'clicks-job' } }]);
    expect(d.spec!.selector.matchLabels).toEqual(d.spec!.template.metadata!.labels);
  });

  it('a session cluster mounts nothing and runs nothing', () => {
    const c = jobManagerDeployment({ ...spec, application: undefined }).spec!.template.spec!.containers[0]!;
    expect(c.args).not.toContain('--kubernetes-application');
    expect(c.volumeMounts).toBeUndefined();
    expect(applicationConfigMap({ ...spec, application: undefined }, owner)).toBeUndefined();
  });

  it('task managers: N replicas, one slot per CPU, finding the job manager through its Service; all owned by the job manager Deployment', () => {
    const d = taskManagerDeployment(spec, owner);
    expect(d.metadata?.name).toBe('clicks-taskmanager');
    expect(d.metadata?.ownerReferences).toEqual([owner]);
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec!.template.spec!.containers[0]!.args).toEqual(['taskmanager', 'start', '--slots', '2', '--bind', '$(POD_IP)', '--work-dir', 'taskmanager', '--kubernetes-service', 'clicks']);
    const svc = jobManagerService(spec, owner);
    expect(svc.spec).toEqual({ type: 'ClusterIP', selector: { 'app.kubernetes.io/name': 'rlink', 'app.kubernetes.io/instance': 'clicks', 'app.kubernetes.io/component': 'jobmanager' }, ports: [{ name: 'http', port: 8770, targetPort: 'http' }] });
    const secret = tokenSecret(spec, 'the-token', owner);
    expect(secret.data).toEqual({ token: Buffer.from('the-token').toString('base64') });
    const cm = applicationConfigMap(spec, owner)!;
    expect(JSON.parse(cm.data!['job.json']!)).toEqual(spec.application!.job);
    expect(Buffer.from(cm.binaryData!['job.mjs']!, 'base64').toString()).toBe('export default 1;');
    expect(selector('clicks', 'taskmanager')).toBe('app.kubernetes.io/name=rlink,app.kubernetes.io/instance=clicks,app.kubernetes.io/component=taskmanager');
  });

  it('the image runs the runtime as entry point in the pods\' working directory', () => {
    expect(dockerfile()).toContain('ENTRYPOINT ["node", "/opt/rlink/rlink.mjs"]');
    expect(dockerfile()).toContain('WORKDIR /opt/rlink/work');
  });

  it('cluster names are DNS labels short enough for their Deployments', () => {
    expect(clusterNameProblem('clicks-1')).toBeUndefined();
    expect(clusterNameProblem('1clicks')).toMatch(/not a valid cluster name/);
    expect(clusterNameProblem('a'.repeat(41))).toMatch(/at most 40 characters/);
  });
});

const pod = (name: string, component: string, status: V1Pod['status']): V1Pod => ({ metadata: { name, uid: name, labels: { 'app.kubernetes.io/component': component } }, status });

describe('reading the pods of a deploy', () => {
  it('names the first pod that will not come up, with Kubernetes\' reason and the daemon\'s last words', () => {
    expect(clusterFailure([pod('a', 'taskmanager', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' }] })]))
      .toBe('pod a (taskmanager): Unschedulable: 0/3 nodes are available: 3 Insufficient memory.');
    expect(clusterFailure([pod('b', 'jobmanager', { containerStatuses: [{ name: 'jobmanager', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } }] })]))
      .toBe('pod b (jobmanager): ImagePullBackOff: Back-off pulling image "x"');
    const crashed = pod('c', 'jobmanager', { containerStatuses: [{ name: 'jobmanager', image: 'x', imageID: '', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, message: '{"level":50,"msg":"starting"}\nrlink jobmanager start: could not run the application\'s job: only 1 of 2 task managers registered within 300s\n' } } }] });
    expect(clusterFailure([crashed])).toBe("pod c (jobmanager): CrashLoopBackOff: container jobmanager exited with code 1: rlink jobmanager start: could not run the application's job: only 1 of 2 task managers registered within 300s");
    expect(podRow(crashed)).toMatchObject({ pod: 'c', component: 'jobmanager', state: 'CrashLoopBackOff', restarts: 2, ready: false });
  });

  it('waits out reasons that are normal for a moment (the Secret created after the Deployment), not for long', () => {
    const waiting = [pod('d', 'jobmanager', { containerStatuses: [{ name: 'jobmanager', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "clicks-token" not found' } } }] })];
    const seen = new Map<string, number>();
    expect(clusterFailure(waiting, seen, 1_000)).toBeUndefined();
    expect(clusterFailure(waiting, seen, 15_000)).toBeUndefined();
    expect(clusterFailure(waiting, seen, 21_000)).toBe('pod d (jobmanager): CreateContainerConfigError: secret "clicks-token" not found');
    expect(clusterFailure([pod('e', 'taskmanager', { containerStatuses: [{ name: 'taskmanager', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] })])).toBeUndefined();
  });
});
