/**
 * The built-in connector factories by name, for the parts of rlink that create connectors from text
 * rather than code: SQL's CREATE TABLE … WITH ('connector' = …) and config-file jobs (`type: kafka`).
 * Core cannot import connectors/ (dependencies point the other way), so the package entry (index.ts)
 * registers `sources` and `sinks` here when it loads; every process that loads a job loads it.
 */
import { RlinkError } from '../errors';
import type { Sink, Source } from './connector';

export type SourceFactory = (options: any) => Source<any>;
export type SinkFactory = (options: any) => Sink<any>;

export interface ConnectorFactories {
  sources: Readonly<Record<string, SourceFactory>>;
  sinks: Readonly<Record<string, SinkFactory>>;
}

let registered: ConnectorFactories | undefined;

/** Makes the connectors known by name (index.ts: `sources`, `sinks`). */
export function registerConnectors(factories: ConnectorFactories): void {
  registered = factories;
}

/** The registered factories; RLINK_INTERNAL when the package entry was not loaded. */
export function connectorFactories(): ConnectorFactories {
  if (!registered) throw new RlinkError('RLINK_INTERNAL', 'no connectors registered: load rlink through its package entry (index.ts)');
  return registered;
}
