import { Flags } from '@oclif/core';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { BaseCommand } from '../../base-command';
import { createLogger } from '../../../core/logging';
import { RlinkError } from '../../../core/errors';
import { startTaskManager } from '../../../taskmanager/daemon';
import { MAX_SLOTS_PER_TASK_MANAGER } from '../../../core/protocol/control-messages';
import { clusterToken } from '../../lib/cluster-flags';
import { waitForSignal } from '../jobmanager/start';
import { discoverJobManager, fetchToken, yarnContainer } from '../../../deploy/yarn/container-bootstrap';

export default class TaskManagerStart extends BaseCommand {
  static override summary = 'Start a task manager in the foreground and connect it to a job manager.';
  static override examples = [
    '<%= config.bin %> taskmanager start --jm http://127.0.0.1:8770',
    '<%= config.bin %> taskmanager start --jm http://10.1.2.0:8770 --slots 4 --bind 0.0.0.0 --advertised-host 10.1.2.1',
  ];
  static override flags = {
    jm: Flags.string({ description: 'The job manager\'s URL (required unless --yarn-app); with high availability the job managers\' URLs, comma-separated, tried in order.' }),
    slots: Flags.integer({ description: 'Slots (worker threads); default: the number of cores.', min: 1, max: MAX_SLOTS_PER_TASK_MANAGER }),
    bind: Flags.string({ description: 'Listen address of the data (shuffle) server.', default: '127.0.0.1' }),
    'data-port': Flags.integer({ description: 'Port of the data server (0: any free port).', default: 0, min: 0, max: 65535 }),
    'advertised-host': Flags.string({ description: 'Host name other task managers use to reach this one.' }),
    'work-dir': Flags.string({ description: 'Where job bundles are cached.', default: join(homedir(), '.rlink', 'taskmanager') }),
    'token-file': Flags.string({ description: 'File holding the cluster token (default: $RLINK_TOKEN, else ~/.rlink/token when it exists).' }),
    'yarn-app': Flags.string({ description: 'Inside a YARN container: the application\'s HDFS directory (token and job manager address from there).', helpGroup: 'YARN' }),
    webhdfs: Flags.string({ description: 'WebHDFS address for --yarn-app (default: $RLINK_WEBHDFS).', helpGroup: 'YARN' }),
    id: Flags.string({ description: 'This task manager\'s id (default: tm-<hostname>-<random>); deploys name them tm-<host>-<instance>.' }),
    'heartbeat-interval': Flags.integer({ description: 'Milliseconds between heartbeats.', default: 1000, min: 10, hidden: true }),
  };

  async run(): Promise<{ id: string; dataAddress: string }> {
    const { flags } = await this.parse(TaskManagerStart);
    const logger = createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'info' });
    const yarn = flags['yarn-app'] ? yarnContainer(flags['yarn-app'], flags.webhdfs) : undefined;
    const token = yarn ? await fetchToken(yarn) : clusterToken(flags['token-file']);
    if (!token) throw new RlinkError('RLINK_CONFIG', 'no cluster token: set RLINK_TOKEN or pass --token-file');
    const jobManagerUrl = yarn ? await discoverJobManager(yarn) : flags.jm;
    if (!jobManagerUrl) throw new RlinkError('RLINK_CLI', 'Missing required flag jm');
    const advertisedHost = flags['advertised-host'] ?? yarn?.host;
    const id = flags.id ?? (yarn?.containerId ? `tm-${yarn.containerId}` : undefined);
    const tm = await startTaskManager({
      jobManagerUrl, token, slots: flags.slots ?? availableParallelism(), bind: flags.bind, dataPort: flags['data-port'],
      workDir: flags['work-dir'], logger, heartbeatMs: flags['heartbeat-interval'],
      ...(advertisedHost ? { advertisedHost } : {}),
      ...(id ? { id } : {}),
    });
    const info = { id: tm.id, dataAddress: tm.dataAddress };
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(info)}\n`);
    else this.log(`task manager ${tm.id} started (data at ${tm.dataAddress}), connecting to ${jobManagerUrl}`);
    // Test hook: SIGUSR2 stops heartbeats (the job manager must then declare this task manager lost).
    process.on('SIGUSR2', () => tm.pauseHeartbeats());
    await Promise.race([tm.done, waitForSignal()]);
    await tm.stop();
    await tm.done;
    return info;
  }
}
