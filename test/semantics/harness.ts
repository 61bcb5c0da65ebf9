/**
 * Runs test/semantics/apps/window-app.ts through the real CLI (`rlink run … --json`) and maps the same
 * job parameters onto the brute-force reference (test/reference/windows.ts).
 */
import { expect } from 'vitest';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { rlink, tempDir, writeJsonl, readJsonl, canonical, ROOT } from '../helpers/cli';
import {
  referenceWindows, refSum, refMin, refMax, refCount, refAvg,
  type Rec, type RefAggregate, type RefResult, type WindowDef,
} from '../reference/windows';

export const WINDOW_APP = join(ROOT, 'test', 'semantics', 'apps', 'window-app.ts');

export type AggName = 'sum' | 'min' | 'max' | 'count' | 'avg' | 'spread' | 'values';

/** What the app's aggregates mean, as functions of a window's records (see apps/window-app.ts). */
export const REF_AGGREGATES: Record<AggName, RefAggregate> = {
  sum: refSum('v'),
  min: refMin('v'),
  max: refMax('v'),
  count: refCount(),
  avg: refAvg('v'),
  spread: (rs) => (refMax('v')(rs) as number) - (refMin('v')(rs) as number),
  values: (rs) => [...new Set(rs.map((r) => r.v as number))].sort((a, b) => a - b),
};

export interface JobParams {
  window: WindowDef;
  bound: number;
  lateness?: number;
  /** Parallelism of the window operator. */
  parallelism?: number;
  sourceParallelism?: number;
  /** file: sources.file (parallelism 1); collection: sources.collection at sourceParallelism. */
  source?: 'file' | 'collection';
  /** Where watermarks are made: in the source, or by assignTimestampsAndWatermarks. */
  wm?: 'source' | 'assign';
  keys?: string[];
  aggs?: AggName[];
  /** Late data to a side output. */
  side?: boolean;
  /** The system property pipeline.batch-size (records per batch; default 1024). */
  batchSize?: number;
  /** The system property pipeline.aggregation-phases (default auto). */
  phases?: 'auto' | 'one' | 'two';
  /** pipeline.aggregation-local.skip-ratio and skip-sample (when the local pre-aggregation gives up). */
  localSkip?: { ratio: number; sample: number };
}

export interface JobRun {
  output: Rec[];
  /** The side output's records (only with `side`). */
  late: Rec[];
  lateRecordsDropped: number;
  stdout: string;
  stderr: string;
  /** The temporary directory with in.jsonl (kept when a comparison fails). */
  dir: string;
  /** The command line, to reproduce a failure by hand. */
  command: string;
}

export function appArgs(p: JobParams, dir: string): string[] {
  const w = p.window;
  const args = [
    `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`,
    `window=${w.kind}`, `bound=${p.bound}`,
    `parallelism=${p.parallelism ?? 1}`, `sourceParallelism=${p.sourceParallelism ?? 1}`,
    `source=${p.source ?? ((p.sourceParallelism ?? 1) > 1 ? 'collection' : 'file')}`, `wm=${p.wm ?? 'source'}`,
    `keys=${(p.keys ?? ['key']).join(',')}`, `aggs=${(p.aggs ?? ['sum', 'count']).join(',')}`,
  ];
  if (w.kind === 'tumbling') args.push(`size=${w.size}`, `offset=${w.offset ?? 0}`);
  else if (w.kind === 'sliding') args.push(`size=${w.size}`, `slide=${w.slide}`, `offset=${w.offset ?? 0}`);
  else args.push(`gap=${w.gap}`);
  if (p.lateness !== undefined) args.push(`lateness=${p.lateness}`);
  if (p.side) args.push(`side=${join(dir, 'late')}`);
  if (p.batchSize !== undefined) args.push(`pipeline.batch-size=${p.batchSize}`);
  if (p.phases !== undefined) args.push(`pipeline.aggregation-phases=${p.phases}`);
  if (p.localSkip) args.push(`pipeline.aggregation-local.skip-ratio=${p.localSkip.ratio}`, `pipeline.aggregation-local.skip-sample=${p.localSkip.sample}`);
  return args;
}

/** A running cluster to submit to instead of `rlink run` (test/cluster). */
export interface ClusterTarget { url: string; env: Record<string, string> }

/**
 * `rlink run window-app.ts … [--json]` on `input` — or `rlink submit … --jm <url>` to a cluster of
 * real processes; fails the test when the job fails.
 */
export async function runWindowJob(input: readonly Rec[], p: JobParams, opts: { json?: boolean; cluster?: ClusterTarget } = {}): Promise<JobRun> {
  const dir = tempDir('rlink-semantics-');
  writeJsonl(join(dir, 'in.jsonl'), [...input]);
  const args = opts.cluster
    ? ['submit', WINDOW_APP, ...appArgs(p, dir), '--jm', opts.cluster.url, '--json']
    : ['run', WINDOW_APP, ...appArgs(p, dir), ...(opts.json === false ? [] : ['--json'])];
  const command = `node bin/rlink.js ${args.join(' ')}`;
  writeFileSync(join(dir, 'command.txt'), `${command}\n`);
  const r = await rlink(args, opts.cluster ? { env: opts.cluster.env } : {});
  if (r.exitCode !== 0) {
    throw new Error(`rlink ${args[0]} failed (exit ${r.exitCode}): ${command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  let lateRecordsDropped = Number.NaN;
  if (opts.cluster) {
    const result = JSON.parse(r.stdout.slice(r.stdout.search(/^\{/m))) as { state: string; job: { vertices: Array<{ metrics: Record<string, number | null> }> } };
    expect(result.state, `job state\n${r.stdout}`).toBe('FINISHED');
    lateRecordsDropped = result.job.vertices.reduce((n, v) => n + (v.metrics['late-records-dropped'] ?? 0), 0);
  } else if (opts.json !== false) {
    const result = parseJsonResult(r.stdout);
    expect(result.status, `job status\n${r.stdout}`).toBe('FINISHED');
    lateRecordsDropped = result.progress.lateRecordsDropped;
  }
  return {
    output: readJsonl(join(dir, 'out')),
    late: p.side ? readJsonl(join(dir, 'late')) : [],
    lateRecordsDropped, stdout: r.stdout, stderr: r.stderr, dir, command,
  };
}

function parseJsonResult(stdout: string): { status: string; progress: { lateRecordsDropped: number } } {
  try { return JSON.parse(stdout); } catch { /* maybe preceded by other lines */ }
  const at = stdout.search(/^\{/m);
  if (at < 0) throw new Error(`rlink run --json printed no JSON:\n${stdout}`);
  return JSON.parse(stdout.slice(at));
}

/** The reference's answer for the same job. */
export function referenceFor(input: readonly Rec[], p: JobParams): RefResult {
  const aggregates: Record<string, RefAggregate> = {};
  for (const a of p.aggs ?? ['sum', 'count']) aggregates[a] = REF_AGGREGATES[a];
  return referenceWindows(input, {
    window: p.window, bound: p.bound, lateness: p.lateness ?? 0, keyFields: p.keys ?? ['key'], aggregates,
    sourceParallelism: p.sourceParallelism ?? 1,
  });
}

export interface Expected { output: Rec[]; late: Rec[]; lateCount: number }

/**
 * Asserts that a run matches `expected`: the main output and the late records as multisets (a diff of
 * the sorted JSON lines on failure), and the late count (dropped and counted, or 0 with a side output).
 */
export function expectRunMatches(run: JobRun, expected: Expected, p: JobParams, context = ''): void {
  const where = `\n${context}\nreproduce: ${run.command}\n(input kept in ${run.dir})`;
  expect(canonical(run.output), `main output differs from the reference${where}`).toEqual(canonical(expected.output));
  if (p.side) {
    expect(canonical(run.late), `late side output differs from the reference${where}`).toEqual(canonical(expected.late));
    expect(run.lateRecordsDropped, `no late record is dropped with a side output${where}`).toBe(0);
  } else if (!Number.isNaN(run.lateRecordsDropped)) {
    expect(run.lateRecordsDropped, `progress.lateRecordsDropped differs from the reference${where}`).toBe(expected.lateCount);
  }
  rmSync(run.dir, { recursive: true, force: true }); // only reached when everything matched
}

/** Records as a compact, readable block for assertion messages. */
export function describeInput(input: readonly Rec[]): string {
  return input.map((r) => JSON.stringify(r)).join('\n');
}
