import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { RlinkError } from '../../core/errors';
import { loadStandaloneConfig } from '../../deploy/config';
import type { YarnEndpoints } from '../../deploy/yarn/yarn-application';

/** Where YARN and HDFS are: flags, else the `yarn:` section of standalone.yaml. */
export const yarnEndpointFlags = {
  webhdfs: Flags.string({ description: 'WebHDFS address of the namenode, e.g. http://namenode:9870 (default: yarn.webhdfs in --config).', helpGroup: 'YARN' }),
  'resource-manager': Flags.string({ description: 'YARN ResourceManager address, e.g. http://rm:8088 (default: yarn.resource_manager in --config).', helpGroup: 'YARN' }),
  'hdfs-user': Flags.string({ description: 'HDFS and YARN user (default: yarn.hdfs_user in --config, else $HADOOP_USER_NAME, else you).', helpGroup: 'YARN' }),
  config: Flags.string({ description: 'standalone.yaml with a yarn: section, read when it exists.', default: 'standalone.yaml', helpGroup: 'YARN' }),
};

export function yarnEndpoints(flags: { webhdfs?: string | undefined; 'resource-manager'?: string | undefined; 'hdfs-user'?: string | undefined; config: string }): YarnEndpoints & { queue?: string } {
  const yarn = existsSync(flags.config) ? loadStandaloneConfig(flags.config).yarn : undefined;
  const webhdfs = flags.webhdfs ?? yarn?.webhdfs;
  const resourceManager = flags['resource-manager'] ?? yarn?.resourceManager;
  if (!webhdfs) throw new RlinkError('RLINK_CONFIG', 'YARN needs the WebHDFS address: --webhdfs http://namenode:9870 (or yarn.webhdfs in standalone.yaml)');
  if (!resourceManager) throw new RlinkError('RLINK_CONFIG', 'YARN needs the ResourceManager address: --resource-manager http://rm:8088 (or yarn.resource_manager in standalone.yaml)');
  const user = flags['hdfs-user'] ?? yarn?.hdfsUser ?? process.env.HADOOP_USER_NAME ?? userInfo().username;
  return { webhdfs, resourceManager, user, ...(yarn?.queue ? { queue: yarn.queue } : {}) };
}

/** rlink-rs's YARN flags, spelled as rlink-rs spells them. */
export const yarnSubmitFlags = {
  yarn: Flags.boolean({ description: 'Run the job on YARN: the job manager and task managers as a YARN service.', default: false, helpGroup: 'YARN' }),
  applicationName: Flags.string({ description: 'The YARN service name (lower case, digits, -); default: from the app file name.', helpGroup: 'YARN' }),
  num_task_managers: Flags.integer({ description: 'Task-manager containers.', default: 1, min: 1, helpGroup: 'YARN' }),
  memory_mb: Flags.integer({ description: 'Memory of a task-manager container, MB.', default: 1024, min: 128, helpGroup: 'YARN' }),
  v_cores: Flags.integer({ description: 'Vcores of a task-manager container (also its slots).', default: 1, min: 1, helpGroup: 'YARN' }),
  master_memory_mb: Flags.integer({ description: 'Memory of the job-manager container, MB.', default: 1024, min: 128, helpGroup: 'YARN' }),
  master_v_cores: Flags.integer({ description: 'Vcores of the job-manager container.', default: 1, min: 1, helpGroup: 'YARN' }),
  queue: Flags.string({ description: 'YARN queue (default: yarn.queue in --config, else YARN\'s default).', helpGroup: 'YARN' }),
  'node-path': Flags.string({ description: 'The node binary inside the containers.', default: 'node', helpGroup: 'YARN', hidden: true }),
  ...yarnEndpointFlags,
};

/** A YARN service name from an app file name: `jobs/Click_Count.ts` → `rlink-click-count`. */
export function defaultApplicationName(appFile: string): string {
  const base = appFile.split('/').pop()!.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return `rlink-${base}`.slice(0, 63).replace(/-+$/, '');
}
