/**
 * The commands of the `rlink` binary (oclif's explicit discovery: this module is bundled into
 * dist/cli.js and package.json points oclif at its COMMANDS export).
 */
import Run from './commands/run';
import Submit from './commands/submit';
import Sql from './commands/sql';
import JobManagerStart from './commands/jobmanager/start';
import TaskManagerStart from './commands/taskmanager/start';
import JobList from './commands/job/list';
import JobStatus from './commands/job/status';
import JobCancel from './commands/job/cancel';
import JobStop from './commands/job/stop';
import JobSavepoint from './commands/job/savepoint';
import DeployStandalone from './commands/deploy/standalone';
import StopStandalone from './commands/stop/standalone';
import StatusStandalone from './commands/status/standalone';
import YarnStatus from './commands/yarn/status';
import YarnKill from './commands/yarn/kill';
import DeployKubernetes from './commands/deploy/kubernetes';
import StopKubernetes from './commands/stop/kubernetes';
import StatusKubernetes from './commands/status/kubernetes';
import KubernetesImage from './commands/kubernetes/image';

export const COMMANDS = {
  run: Run,
  submit: Submit,
  sql: Sql,
  'jobmanager:start': JobManagerStart,
  'taskmanager:start': TaskManagerStart,
  'job:list': JobList,
  'job:status': JobStatus,
  'job:cancel': JobCancel,
  'job:stop': JobStop,
  'job:savepoint': JobSavepoint,
  'deploy:standalone': DeployStandalone,
  'stop:standalone': StopStandalone,
  'status:standalone': StatusStandalone,
  'yarn:status': YarnStatus,
  'yarn:kill': YarnKill,
  'deploy:kubernetes': DeployKubernetes,
  'stop:kubernetes': StopKubernetes,
  'status:kubernetes': StatusKubernetes,
  'kubernetes:image': KubernetesImage,
};
