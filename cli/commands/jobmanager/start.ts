import { BaseCommand } from '../../base-command';
import { oclifFlags } from '../../lib/daemon-flags';
import {
  JOBMANAGER_DESCRIPTION, JOBMANAGER_FLAGS, JOBMANAGER_SUMMARY, runJobManager, type JobManagerFlags, type JobManagerReady,
} from '../../../deploy/daemons/jobmanager';

export default class JobManagerStart extends BaseCommand {
  static override summary = JOBMANAGER_SUMMARY;
  static override description = JOBMANAGER_DESCRIPTION;
  static override examples = [
    '<%= config.bin %> jobmanager start',
    '<%= config.bin %> jobmanager start --port 8770 --bind 0.0.0.0 --token-file /etc/rlink/token',
  ];
  static override flags = oclifFlags(JOBMANAGER_FLAGS);

  async run(): Promise<JobManagerReady> {
    const { flags } = await this.parse(JobManagerStart);
    return runJobManager(flags as unknown as JobManagerFlags, { json: this.jsonEnabled(), log: (line) => process.stdout.write(`${line}\n`) });
  }
}
