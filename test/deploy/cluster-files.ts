/** Writes standalone.yaml and task_managers for a deploy test (what a user would write by hand). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshFixture } from '../infra/sshd';

export interface ClusterFiles { config: string; taskManagers: string; tokenFile: string; workDir: string; args: string[] }

export function writeClusterFiles(dir: string, fixture: SshFixture, opts: {
  jobManagerUrls: string[]; taskManagerHosts: string[]; workDir: string; slots?: number; bindIp?: string; extra?: string; knownHosts?: string; identityFile?: string;
}): ClusterFiles {
  const config = join(dir, 'standalone.yaml');
  const taskManagers = join(dir, 'task_managers');
  const tokenFile = join(dir, 'token');
  writeFileSync(config, [
    '# written by a deploy test',
    `application_manager_address: [${opts.jobManagerUrls.map((u) => `"${u}"`).join(', ')}]`,
    'metadata_storage: { type: Memory }',
    `task_manager_bind_ip: ${opts.bindIp ?? '0.0.0.0'}`,
    `task_manager_work_dir: ${opts.workDir}`,
    `task_manager_slots: ${opts.slots ?? 2}`,
    `ssh: { user: ${fixture.user}, port: ${fixture.hosts[0]!.port}, identity_file: ${opts.identityFile ?? fixture.identityFile}, known_hosts: ${opts.knownHosts ?? fixture.knownHostsFile}, connect_timeout: 3s }`,
    `auth: { token_file: ${tokenFile} }`,
    opts.extra ?? '',
  ].join('\n') + '\n');
  writeFileSync(taskManagers, `# task managers\n${opts.taskManagerHosts.join('\n')}\n`);
  return { config, taskManagers, tokenFile, workDir: opts.workDir, args: ['--config', config, '--task-managers', taskManagers] };
}
