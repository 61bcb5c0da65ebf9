import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { yarnStatus, type YarnApplicationStatus } from '../../../deploy/yarn/yarn-application';
import { renderTable } from '../../lib/host-progress';
import { yarnEndpointFlags, yarnEndpoints } from '../../lib/yarn-flags';

export default class YarnStatus extends BaseCommand {
  static override summary = 'Show an rlink application on YARN: the service, its containers, its job manager and jobs.';
  static override examples = ['<%= config.bin %> yarn status clicks --resource-manager http://rm:8088 --webhdfs http://nn:9870'];
  static override args = { app: Args.string({ description: 'The application (YARN service) name.', required: true }) };
  static override flags = { ...yarnEndpointFlags };

  async run(): Promise<YarnApplicationStatus> {
    const { args, flags } = await this.parse(YarnStatus);
    const s = await yarnStatus({ ...yarnEndpoints(flags), application: args.app });
    if (!this.jsonEnabled()) {
      this.log(`service ${s.application} (${s.service?.id ?? '?'}) ${s.service?.state}; job manager ${s.jobManagerUrl ?? 'not published yet'}`);
      this.log(renderTable(['COMPONENT', 'CONTAINER', 'HOST', 'STATE'], (s.service?.components ?? []).flatMap((c) => c.containers.map((k) => [c.name, k.id, k.bare_host ?? k.ip ?? null, k.state]))));
      if (s.jobs.length > 0) this.log(`\n${renderTable(['JOB', 'NAME', 'STATE'], s.jobs.map((j) => [String(j.jid), String(j.name), String(j.state)]))}`);
    }
    return s;
  }
}
