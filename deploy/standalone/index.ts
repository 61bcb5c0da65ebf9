export { deployStandalone, clusterDefaults, type DeployResult, type DaemonRow, type StandaloneOptions } from './deploy';
export { stopStandalone, type StopResult } from './stop';
export { statusStandalone, type StatusResult } from './status';
export { planTopology, type Topology, type Daemon, type Machine } from './topology';
