import { BaseCommand } from '../../base-command';
import { statusKubernetes, type KubernetesStatus } from '../../../deploy/kubernetes';
import { renderTable } from '../../lib/host-progress';
import { kubernetesTarget, kubernetesTargetFlags } from '../../lib/kubernetes-flags';

export default class StatusKubernetes extends BaseCommand {
  static override summary = 'Show an rlink cluster on Kubernetes: its Deployments, pods, Service and jobs.';
  static override examples = ['<%= config.bin %> status kubernetes --name clicks', '<%= config.bin %> status kubernetes --name clicks --namespace streaming --json'];
  static override flags = { ...kubernetesTargetFlags };

  async run(): Promise<KubernetesStatus> {
    const { flags } = await this.parse(StatusKubernetes);
    const t = kubernetesTarget(flags);
    const s = await statusKubernetes(t.api, t.namespace, t.name);
    if (!this.jsonEnabled()) {
      this.log(`cluster ${s.name} in ${s.namespace} (${s.server}); service ${s.service ? `${s.service.name} ${s.service.clusterIP}:${s.service.port}` : 'missing'}`);
      this.log(renderTable(['DEPLOYMENT', 'COMPONENT', 'READY'], s.deployments.map((d) => [d.name, d.component, `${d.ready}/${d.desired}`])));
      this.log(`\n${renderTable(['POD', 'COMPONENT', 'STATE', 'READY', 'RESTARTS', 'IP', 'DETAIL'], s.pods.map((p) => [p.pod, p.component, p.state, p.ready ? 'yes' : 'no', p.restarts, p.podIP, p.detail]))}`);
      if (s.jobs) this.log(`\n${s.jobs.length ? renderTable(['JOB', 'NAME', 'STATE'], s.jobs.map((j) => [String(j.jid), String(j.name), String(j.state)])) : 'no jobs'}`);
      else this.log(`\njobs: unknown (${s.jobsError})`);
    }
    return s;
  }
}
