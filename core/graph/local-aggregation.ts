import type { StreamEdge, StreamGraph, StreamNode } from './stream-graph';
import { SYSTEM_PROPERTIES, type LocalAggregationSkip } from '../config/system-properties';

/**
 * `pipeline.aggregation-phases`: whether window aggregates behind a keyBy run in two phases, as
 * Flink SQL's `table.optimizer.agg-phase-strategy`:
 *
 * - `auto` (default): two phases for event-time windows whose aggregates are all built-ins
 *   (sum, min, max, count, avg: their partial accumulators merge exactly);
 * - `two`: also for custom aggregate functions and reduce (their `merge` must be exact and their
 *   accumulators plain data);
 * - `one`: never.
 */
export type AggregationPhases = 'auto' | 'one' | 'two';

/**
 * Rewrites the stream graph for two-phase window aggregation: every keyed input edge of a window
 * aggregate gets a local pre-aggregation node in front of its shuffle, with the parallelism of the
 * upstream node (so it chains into it), and the window operator merges the partials that arrive.
 * The shuffle then moves one partial per (key, window, upstream subtask) instead of every record.
 *
 *   before:  Source ──hash(key)──▶ Window
 *   after:   Source → Window (local) ──hash(key), partials──▶ Window
 *
 * Deterministic (the same graph in every process that builds the job); local nodes are named after
 * their window node (`<id>.local`, `<id>.local<i>` with several inputs) and hold no state but their
 * watermark, so savepoints stay compatible. A local node that does not reduce its input enough gives
 * up at run time (`skip`, local-aggregate.ts).
 */
export function applyLocalAggregation(graph: StreamGraph, phases: AggregationPhases, skip: LocalAggregationSkip = {
  ratio: SYSTEM_PROPERTIES['pipeline.aggregation-local.skip-ratio'].default,
  sample: SYSTEM_PROPERTIES['pipeline.aggregation-local.skip-sample'].default,
}): void {
  if (phases === 'one') return;
  for (const w of [...graph.nodes.values()]) {
    const tp = w.twoPhase;
    // Session windows stay in one phase: on long out-of-order input the local side's session partials
    // can reach the global operator after the session they belong with fired (a merged session comes
    // out as two; test/semantics/properties-two-phase.test.ts found it). Until that is fixed, exact wins.
    if (!tp || !tp.eventTime || tp.merging || (phases === 'auto' && !tp.builtin)) continue;
    if (!w.inputs.some((e) => e.partitioning === 'hash')) continue;
    const many = w.inputs.length > 1;
    w.inputs = w.inputs.map((e, i): StreamEdge => {
      if (e.partitioning !== 'hash') return e;
      const up = graph.node(e.source);
      const input: StreamEdge = { source: e.source, partitioning: 'forward' };
      if (e.sideOutput !== undefined) input.sideOutput = e.sideOutput;
      const local: StreamNode = {
        id: `${w.id}.local${many ? i : ''}`, name: `${w.name} (local)`, kind: 'window-local', parallelism: up.parallelism,
        inputs: [input], description: { localOf: w.id }, createOperator: () => tp.createLocal(skip), sideOutputs: [],
      };
      graph.add(local);
      const out: StreamEdge = { source: local.id, partitioning: 'hash', partials: true };
      if (e.key) out.key = e.key;
      return out;
    });
    w.createOperator = tp.createGlobal;
    w.description = { ...w.description, phases: 'two' };
  }
}
