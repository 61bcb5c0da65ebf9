import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { yarnKill } from '../../../deploy/yarn/yarn-application';
import { yarnEndpointFlags, yarnEndpoints } from '../../lib/yarn-flags';

export default class YarnKill extends BaseCommand {
  static override summary = 'Remove an rlink application from YARN: destroy its service (every container) and delete its HDFS directory.';
  static override examples = ['<%= config.bin %> yarn kill clicks --resource-manager http://rm:8088 --webhdfs http://nn:9870'];
  static override args = { app: Args.string({ description: 'The application (YARN service) name.', required: true }) };
  static override flags = { ...yarnEndpointFlags };

  async run(): Promise<{ application: string; service: boolean; directory: boolean }> {
    const { args, flags } = await this.parse(YarnKill);
    const r = await yarnKill({ ...yarnEndpoints(flags), application: args.app });
    if (!this.jsonEnabled()) this.log(`${args.app}: ${r.service ? 'service destroyed' : 'no service'}; ${r.directory ? 'HDFS directory deleted' : 'no HDFS directory'}`);
    return r;
  }
}
