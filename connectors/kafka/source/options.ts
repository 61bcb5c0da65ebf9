// The Kafka source's options as users write them, and as the reader uses them: validated and with
// every default filled in once, when the job is built, so a bad option fails there and not on a
// task manager.
import { RlinkError } from '../../../core/errors';
import type { Duration } from '../../../core/time/duration';
import { compileSchema, type Schema, type SchemaSpec } from '../../../core/sql/types';
import { READ_COMMITTED, READ_UNCOMMITTED, normalizeBrokers, retryTimeoutMs, validateTopic } from '../client';

/** Options of {@link kafkaSource} (`sources.kafka`). */
export interface KafkaSourceOptions {
  /** Bootstrap brokers: `'host:port,host:port'` or a list. */
  brokers: string | string[];
  topic: string;
  /**
   * Where a partition is read from when the job does not restore a position for it:
   * `earliest` (default), `latest`, or `committed` (the offsets committed for `groupId`; earliest
   * where the group has none). Positions restored from a checkpoint always win.
   */
  startingOffsets?: 'earliest' | 'latest' | 'committed';
  /**
   * `latest`: the source is bounded; each partition is read up to the end offset it had when the job
   * first started (kept in checkpoints, so a restored job stops at the same place), then the job can
   * finish. Omitted: unbounded.
   */
  bounded?: 'latest';
  /** `json` (default): each message value is one JSON value; `string`: the value as UTF-8 text. */
  format?: 'json' | 'string';
  /**
   * Consumer group for `startingOffsets: 'committed'` and for committing the checkpointed offsets back
   * to Kafka when a checkpoint completes (for monitoring, e.g. lag; positions live in checkpoints).
   * No group: nothing is committed. The group is never joined: no rebalancing.
   */
  groupId?: string;
  /** Kafka client id (default `rlink-source`). */
  clientId?: string;
  /**
   * `read_committed` (default): records of open or aborted transactions are not read (and a bounded
   * source stops at the last stable offset). `read_uncommitted`: everything.
   */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** How long an unreachable cluster is retried (with back-off) before the job fails. Default 30 s. */
  retryTimeout?: Duration;
  /** Advanced: bytes fetched per partition and request. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /**
   * The fields and types of the (JSON) records: each is conformed to it (converted, missing fields
   * null, others dropped); a message that does not fit is invalid (counted, logged with
   * topic-partition@offset, skipped). A watermark declaration (`watermark: { field, delay }`) makes
   * `fromSource` generate watermarks from that field instead of the Kafka timestamps.
   */
  schema?: SchemaSpec | Schema;
}

/** {@link KafkaSourceOptions} validated, with every default filled in. */
export interface ResolvedOptions {
  schema: Schema | undefined;
  brokers: string[];
  topic: string;
  startingOffsets: 'earliest' | 'latest' | 'committed';
  bounded: boolean;
  format: 'json' | 'string';
  groupId: string | undefined;
  clientId: string;
  /** As Kafka's Fetch request takes it (`READ_COMMITTED` / `READ_UNCOMMITTED`). */
  isolationLevel: number;
  /** The same, as the user names it (for `describe`). */
  isolationLevelName: 'read_committed' | 'read_uncommitted';
  retryTimeoutMs: number;
  maxBytesPerPartition: number;
}

const DEFAULT_MAX_BYTES_PER_PARTITION = 1 << 20;

/** Validates `opts` (a config error names the bad option) and fills in the defaults. */
export function resolveOptions(opts: KafkaSourceOptions, what: string): ResolvedOptions {
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { brokers, topic } are required`);
  const brokers = normalizeBrokers(what, opts.brokers);
  const topic = validateTopic(what, opts.topic);
  const startingOffsets = opts.startingOffsets ?? 'earliest';
  if (!['earliest', 'latest', 'committed'].includes(startingOffsets)) {
    throw new RlinkError('RLINK_CONFIG', `${what}: startingOffsets must be 'earliest', 'latest' or 'committed', not ${JSON.stringify(opts.startingOffsets)}`);
  }
  if (opts.bounded !== undefined && opts.bounded !== 'latest') {
    throw new RlinkError('RLINK_CONFIG', `${what}: bounded must be 'latest' (or omitted for an unbounded source), not ${JSON.stringify(opts.bounded)}`);
  }
  const format = opts.format ?? 'json';
  if (format !== 'json' && format !== 'string') {
    throw new RlinkError('RLINK_CONFIG', `${what}: format must be 'json' or 'string', not ${JSON.stringify(opts.format)}`);
  }
  if (opts.groupId !== undefined && (typeof opts.groupId !== 'string' || opts.groupId === '')) {
    throw new RlinkError('RLINK_CONFIG', `${what}: groupId must be a non-empty string`);
  }
  if (startingOffsets === 'committed' && !opts.groupId) {
    throw new RlinkError('RLINK_CONFIG', `${what}: startingOffsets 'committed' needs a groupId`);
  }
  const iso = opts.isolationLevel ?? 'read_committed';
  if (iso !== 'read_committed' && iso !== 'read_uncommitted') {
    throw new RlinkError('RLINK_CONFIG', `${what}: isolationLevel must be 'read_committed' or 'read_uncommitted'`);
  }
  const maxBytes = opts.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw new RlinkError('RLINK_CONFIG', `${what}: maxBytesPerPartition must be an integer ≥ 1024`);
  }
  const schema = opts.schema === undefined ? undefined : compileSchema(opts.schema, what);
  if (schema && format !== 'json') throw new RlinkError('RLINK_CONFIG', `${what}: a schema needs format 'json' (records that are objects)`);
  return {
    schema, brokers, topic, startingOffsets, bounded: opts.bounded === 'latest', format, groupId: opts.groupId,
    clientId: opts.clientId ?? 'rlink-source', isolationLevel: iso === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED,
    isolationLevelName: iso, retryTimeoutMs: retryTimeoutMs(what, opts.retryTimeout), maxBytesPerPartition: maxBytes,
  };
}
