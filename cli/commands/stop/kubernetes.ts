import { BaseCommand } from '../../base-command';
import { stopKubernetes, type KubernetesStopResult } from '../../../deploy/kubernetes';
import { kubernetesTarget, kubernetesTargetFlags } from '../../lib/kubernetes-flags';

export default class StopKubernetes extends BaseCommand {
  static override summary = 'Remove an rlink cluster from Kubernetes: its Deployments (every pod), Service, Secret and ConfigMap.';
  static override examples = ['<%= config.bin %> stop kubernetes --name clicks', '<%= config.bin %> stop kubernetes --name clicks --namespace streaming --json'];
  static override flags = { ...kubernetesTargetFlags };

  async run(): Promise<KubernetesStopResult> {
    const { flags } = await this.parse(StopKubernetes);
    const t = kubernetesTarget(flags);
    const r = await stopKubernetes(t.api, t.namespace, t.name);
    if (!this.jsonEnabled()) this.log(`${r.name}: deleted ${r.deleted.join(', ')}${r.podsGone ? '; every pod gone' : '; pods still terminating'}`);
    return r;
  }
}
