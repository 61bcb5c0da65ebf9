import type { Props } from './props';
import { StreamExecutionEnvironment } from './environment';
import { RlinkError, errorMessage } from '../errors';
import { compileJobConfig, type JobConfig } from '../config/system-properties';
import type { StreamGraph } from '../graph/stream-graph';
import { applyLocalAggregation } from '../graph/local-aggregation';

/** A user's job: one file, default-exporting `defineApp({...})`. */
export interface AppDefinition {
  name: string;
  /** Runs once, on the job manager, before the graph is built: may set properties. */
  prepareProperties?(props: Props): void;
  /** Runs on the job manager and on every task manager, from the same bundle: must be pure and deterministic. */
  build(env: StreamExecutionEnvironment, props: Props): void;
}

const APP = Symbol.for('rlink.app');

export function defineApp(app: AppDefinition): AppDefinition {
  if (!app || typeof app !== 'object') throw new RlinkError('RLINK_APP_BUILD', 'defineApp needs an object { name, build }');
  if (typeof app.name !== 'string' || app.name === '') throw new RlinkError('RLINK_APP_BUILD', 'defineApp: name must be a non-empty string');
  if (typeof app.build !== 'function') throw new RlinkError('RLINK_APP_BUILD', `defineApp '${app.name}': build must be a function (env, props) => void`);
  return Object.assign(Object.create(null), app, { [APP]: true }) as AppDefinition;
}

export function isApp(x: unknown): x is AppDefinition {
  return !!x && typeof x === 'object' && typeof (x as AppDefinition).build === 'function' && typeof (x as AppDefinition).name === 'string';
}

/** Runs the app's `build` and returns the validated stream graph; any failure is RLINK_APP_BUILD naming the app. */
export function buildStreamGraph(app: AppDefinition, props: Props): { graph: StreamGraph; config: JobConfig } {
  let config: JobConfig;
  try { config = compileJobConfig(props); } catch (e) { throw e; }
  const env = new StreamExecutionEnvironment(app.name, props.has('parallelism.default') ? props.getNumber('parallelism.default') : 1, config.maxParallelism);
  try {
    app.build(env, props);
    env.graph.validate();
    applyLocalAggregation(env.graph, config.aggregationPhases, config.localAggregationSkip);
  } catch (e) {
    if (e instanceof RlinkError && e.code !== 'RLINK_INTERNAL') {
      throw new RlinkError(e.code === 'RLINK_MISSING_PROP' ? e.code : 'RLINK_APP_BUILD', `app '${app.name}' failed to build: ${e.message}`, { cause: e, context: e.context });
    }
    throw new RlinkError('RLINK_APP_BUILD', `app '${app.name}' failed to build: ${errorMessage(e)}`, { cause: e });
  }
  return { graph: env.graph, config };
}
