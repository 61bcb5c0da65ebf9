/** The `rlink` package: the API of core plus the connectors (`sources`, `sinks`). See core/index.ts. */
export * from './core/index';
export { sources, sinks } from './connectors/index';

// SQL's CREATE TABLE and config-file jobs create connectors by name (core/api/connector-registry.ts).
import { sources, sinks } from './connectors/index';
import { registerConnectors } from './core/api/connector-registry';
registerConnectors({ sources, sinks });
