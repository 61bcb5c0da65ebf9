/** The deploy configuration loaders: `standalone.yaml` and the `task_managers` host list. */
export { ConfigValidationError, type ConfigProblem } from '../../core/config/yaml-reader';
export { expandHome } from '../../core/fs/paths';
export {
  loadStandaloneConfig,
  parseStandaloneConfig,
  type JobManagerAddress,
  type KubernetesSection,
  type LoadOptions,
  type StandaloneConfig,
} from './standalone-config';
export { hostProblem, parseJobManagerUrl, parsePort } from './addresses';
export { loadTaskManagers, parseTaskManagers, type TaskManagerHost } from './task-managers';
