import { BaseCommand } from '../../base-command';
import { oclifFlags } from '../../lib/daemon-flags';
import { TASKMANAGER_FLAGS, TASKMANAGER_SUMMARY, runTaskManager, type TaskManagerFlags, type TaskManagerReady } from '../../../deploy/daemons/taskmanager';

export default class TaskManagerStart extends BaseCommand {
  static override summary = TASKMANAGER_SUMMARY;
  static override examples = [
    '<%= config.bin %> taskmanager start --jm http://127.0.0.1:8770',
    '<%= config.bin %> taskmanager start --jm http://10.1.2.0:8770 --slots 4 --bind 0.0.0.0 --advertised-host 10.1.2.1',
  ];
  static override flags = oclifFlags(TASKMANAGER_FLAGS);

  async run(): Promise<TaskManagerReady> {
    const { flags } = await this.parse(TaskManagerStart);
    return runTaskManager(flags as unknown as TaskManagerFlags, { json: this.jsonEnabled(), log: (line) => process.stdout.write(`${line}\n`) });
  }
}
