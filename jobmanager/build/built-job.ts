import type { AppDefinition } from '../../core/api/app';
import { buildStreamGraph } from '../../core/api/app';
import { Props } from '../../core/api/props';
import { buildJobGraph, jobGraphFingerprint, type JobGraph } from '../../core/graph/job-graph';
import type { StreamGraphJson } from '../../core/graph/stream-graph';
import { RlinkError, errorMessage } from '../../core/errors';

/**
 * A job as the job manager keeps it once `prepareProperties` and `build` have run: plain JSON, so it
 * can come back from the graph builder's worker thread and be persisted for high availability. The
 * job manager never needs the app's code after this; task managers rebuild the graph from the bundle
 * and check it against `fingerprint`.
 */
export interface BuiltJob {
  name: string;
  /** The job's properties after cluster defaults and `prepareProperties`. */
  props: Record<string, string>;
  graph: StreamGraphJson;
  job: JobGraph;
  fingerprint: string;
}

/** Runs `prepareProperties` (once, on the job manager, before any graph is built). */
export function prepareProperties(app: AppDefinition, props: Props): void {
  if (!app.prepareProperties) return;
  try {
    app.prepareProperties(props);
  } catch (e) {
    throw new RlinkError(e instanceof RlinkError && e.code === 'RLINK_MISSING_PROP' ? e.code : 'RLINK_APP_BUILD',
      `app '${app.name}' failed in prepareProperties: ${errorMessage(e)}`, { cause: e });
  }
}

/**
 * Builds a job in this thread: defaults for keys the job does not set, `prepareProperties` (unless
 * the properties are prepared already), `build`, chaining. For apps this process trusts (the
 * embedded cluster, tests); the job manager daemon builds bundles in a worker (graph-builder.ts).
 */
export function buildJob(app: AppDefinition, args: Record<string, string>, opts: { defaults?: Record<string, string>; prepared?: boolean } = {}): BuiltJob {
  const props = new Props(args);
  for (const [k, v] of Object.entries(opts.defaults ?? {})) if (!props.has(k)) props.set(k, v);
  if (!opts.prepared) prepareProperties(app, props);
  const { graph } = buildStreamGraph(app, props);
  const job = buildJobGraph(graph);
  // Through JSON: what a worker thread or the metadata store would give back.
  return JSON.parse(JSON.stringify({ name: app.name, props: props.toJSON(), graph: graph.toJSON(), job, fingerprint: jobGraphFingerprint(job) })) as BuiltJob;
}
