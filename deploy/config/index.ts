/** The deploy configuration loaders: `standalone.yaml` and the `task_managers` host list. */
export {
  ConfigValidationError,
  expandHome,
  loadStandaloneConfig,
  parseJobManagerUrl,
  parseStandaloneConfig,
  type ConfigProblem,
  type JobManagerAddress,
  type StandaloneConfig,
} from './standalone-config';
export { loadTaskManagers, parseTaskManagers, type TaskManagerHost } from './task-managers';
