/** The `rlink` package: the API of core plus the connectors (`sources`, `sinks`). See core/index.ts. */
export * from './core/index';
export { sources, sinks } from './connectors/index';
