// The Kafka source's public entry: `kafkaSource` assembles the parts in ./source/ (options, reader,
// partition fetcher, offsets, checkpointed split state, aborted-transaction filter); the names
// exported here are the ones the rest of rlink imports.
import type { Source } from '../../core/api/connector';
import { schemaToSpec } from '../../core/sql/types';
import { resolveOptions, type KafkaSourceOptions } from './source/options';
import { KafkaSourceReader } from './source/reader';

export type { KafkaSourceOptions } from './source/options';
export { KafkaSourceReader } from './source/reader';
export { restoredState, type KafkaSourceState } from './source/split-state';

/**
 * `sources.kafka`: reads one topic. The partitions are assigned by the job, not by a consumer group:
 * subtask k of p reads the partitions whose index i satisfies i ≡ k (mod p), and positions live in
 * checkpoints, so a restored job (at any parallelism) resumes exactly where its checkpoint was.
 *
 * How it reads (the "assign" kafkajs lacks): kafkajs's consumer only works as a group member, where
 * the broker's group coordinator hands out partitions and rebalances whenever a member comes or goes
 * (and a new member of an old group waits for the dead one's session to time out). Pausing the
 * partitions the group gave us but the job did not, or one group per subtask, still joins groups,
 * heartbeats, and re-seeks to the group's offsets after every rebalance. So the reader does what
 * Kafka's `KafkaConsumer.assign()` does (and Flink's KafkaSource with it): no group at all. With
 * kafkajs's own cluster client it looks up each assigned partition's leader and sends Fetch requests
 * for exactly those partitions from its own positions (one request in flight per leader, a bounded
 * buffer of fetched chunks per partition, a long-poll only when nothing is buffered), refreshing the
 * metadata and retrying with back-off when a leader moves or a broker is down. Records of aborted
 * transactions and control records are dropped as kafkajs's consumer drops them.
 *
 * Each poll returns records of one partition (the split `<topic>-<partition>`), with the Kafka record
 * timestamps as timestamps (so a WatermarkStrategy without a field uses them) and per-split
 * watermarks from the engine. A message that is not JSON (format json) is counted
 * (`recordsInvalid`), logged with topic/partition/offset, and skipped; its offset still advances.
 */
export function kafkaSource<T = unknown>(opts: KafkaSourceOptions): Source<T> {
  const resolved = resolveOptions(opts, 'kafka source');
  const { schema } = resolved;
  return {
    kind: 'kafka',
    bounded: resolved.bounded,
    ...(schema ? { schema } : {}),
    describe: () => ({
      kind: 'kafka', brokers: resolved.brokers.join(','), topic: resolved.topic, startingOffsets: resolved.startingOffsets,
      bounded: opts.bounded ?? null, format: resolved.format, groupId: opts.groupId ?? null, isolationLevel: resolved.isolationLevelName,
      ...(schema ? { schema: schemaToSpec(schema) } : {}),
    }),
    createReader: (ctx) => new KafkaSourceReader<T>(resolved, ctx),
  };
}
