/**
 * The built-in connectors: `sources.file | generator | collection | kafka | redisStream` and
 * `sinks.file | print | kafka | redis | postgres | mysql`.
 */
import { fileSource } from './file/source';
import { fileSink } from './file/sink';
import { generatorSource } from './generator/source';
import { collectionSource } from './collection/source';
import { printSink } from './print/sink';
import { kafkaSource } from './kafka/source';
import { kafkaSink } from './kafka/sink';
import { redisSink } from './redis/sink';
import { redisStreamSource } from './redis/source';
import { postgresSink } from './postgres/sink';
import { mysqlSink } from './mysql/sink';

export { fileSource, fileSink, generatorSource, collectionSource, printSink };
export type { FileSourceOptions, FileSourceState, FilePosition } from './file/source';
export type { FileSinkOptions, FileCommittable } from './file/sink';
export type { GeneratorSourceOptions, GeneratorSourceState } from './generator/source';
export type { CollectionSourceState } from './collection/source';
export type { PrintSinkOptions } from './print/sink';
export type { KafkaSourceOptions, KafkaSourceState } from './kafka/source';
export type { KafkaSinkOptions, KafkaCommittable } from './kafka/sink';
export type { RedisSinkOptions } from './redis/sink';
export type { RedisStreamSourceOptions, RedisStreamSourceState } from './redis/source';
export type { PostgresSinkOptions, PostgresCommittable } from './postgres/sink';
export type { MySqlSinkOptions } from './mysql/sink';

/** Sources for `env.fromSource(...)`. */
export const sources = {
  /** JSON lines or CSV (with a header) from a file or a directory of files; bounded. */
  file: fileSource,
  /** Records made by `generate(i)`; bounded with `count`, optionally paced with `ratePerSecond`. */
  generator: generatorSource,
  /** The records of an array; bounded. */
  collection: collectionSource,
  /** A Kafka topic; partitions assigned by the job, offsets in checkpoints; bounded with `bounded: 'latest'`. */
  kafka: kafkaSource,
  /** Redis streams (XREAD); positions in checkpoints; bounded with `bounded: 'latest'`. */
  redisStream: redisStreamSource,
};

/** Sinks for `stream.sinkTo(...)`. */
export const sinks = {
  /** JSON lines to a file (parallelism 1) or a directory of part files; exactly once. */
  file: fileSink,
  /** JSON lines to stdout; not transactional. */
  print: printSink,
  /** A Kafka topic: `none`, `at-least-once`, or `exactly-once` (transactions committed with checkpoints). */
  kafka: kafkaSink,
  /** Redis: `set`, `hset` (idempotent by key: exactly-once in effect), `xadd`, `publish` (at-least-once). */
  redis: redisSink,
  /** PostgreSQL rows: upserts by `upsertKey`, two-phase commit with `transactional`, else inserts (at-least-once). */
  postgres: postgresSink,
  /** MySQL / MariaDB rows: upserts by `upsertKey` (exactly-once in effect), else inserts (at-least-once). */
  mysql: mysqlSink,
};
