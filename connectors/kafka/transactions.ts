import type { Kafka as KafkaClient, Message } from 'kafkajs';
import {
  createClient, createCluster, formatMs, kafkajs, isRetriable, kafkaMessage, requireInternals, retryUntil, errorType,
  type EosManager, type InternalCluster, type MessageProducer,
} from './client';
import { RlinkError } from '../../core/errors';
import type { Logger } from '../../core/logging';

/** Kafka's coordinator type of transactions (FindCoordinator). */
const TRANSACTION_COORDINATOR = 1;

/**
 * What the exactly-once Kafka sink's `prepareCommit` returns (JSON, kept in checkpoints): one
 * transaction, flushed but not committed. Producer id and epoch are what EndTxn needs to commit it
 * from another process after a failure (Flink's "resume transaction").
 */
export interface KafkaCommittable {
  transactionalId: string;
  producerId: string;
  producerEpoch: number;
  /** The checkpoint the transaction was prepared for. */
  checkpointId: number;
  /** Records written in the transaction. */
  records: number;
}

/** A transaction in progress: records are sent into it until it is prepared. */
export interface OpenTransaction {
  readonly transactionalId: string;
  readonly producerId: string;
  readonly producerEpoch: number;
  /** Sends records in the transaction; resolves when the brokers have them (acks = all). */
  send(messages: Message[]): Promise<void>;
  /** Aborts the transaction (best effort: a fenced or timed-out one is gone anyway). */
  abort(): Promise<void>;
}

/**
 * The Kafka side of the exactly-once sink's two-phase commit. One per sink subtask; it talks to the
 * brokers over one connection set whatever the number of transactional ids. Tests wrap it to record
 * the protocol sequence.
 */
export interface TransactionBackend {
  connect(): Promise<void>;
  /** Initialises `transactionalId` (fencing any earlier producer with that id) and begins a transaction. */
  begin(transactionalId: string): Promise<OpenTransaction>;
  /**
   * InitProducerId for `transactionalId`: fences the previous producer with that id and aborts its
   * open transaction. Returns the new producer id and epoch (epoch 0: the id was never used, on a
   * real broker).
   */
  fence(transactionalId: string): Promise<{ producerId: string; producerEpoch: number }>;
  /** EndTxn(commit) for a prepared transaction, from its committable (works from any process). */
  commit(c: KafkaCommittable): Promise<void>;
  close(): Promise<void>;
}

export interface BackendOptions {
  brokers: string[];
  topic: string;
  clientId: string;
  transactionTimeoutMs: number;
  retryTimeoutMs: number;
  logger: Logger;
}

/** Producer retries inside a transaction (kafkajs's retrier; sequence numbers make them idempotent). */
const SEND_RETRY = { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000, factor: 0.2, multiplier: 2 };

/**
 * The default {@link TransactionBackend}: kafkajs's transaction manager (`eosManager`) and message
 * producer, as kafkajs's `producer.transaction()` uses them, on one shared kafkajs cluster client —
 * so every transactional id of the subtask shares the connections, and the producer id and epoch
 * of each transaction are known (kafkajs does not expose them on its public producer). Coordinator
 * requests (InitProducerId, EndTxn) go straight to the transaction coordinator for fencing and for
 * committing transactions of an earlier process.
 */
export class KafkaTransactionBackend implements TransactionBackend {
  private client!: KafkaClient;
  private cluster!: InternalCluster;
  private readonly internals = requireInternals();
  private partitioner: unknown;
  private readonly what: string;

  constructor(private readonly o: BackendOptions) {
    this.what = `kafka sink (topic '${o.topic}', brokers ${o.brokers.join(',')})`;
  }

  async connect(): Promise<void> {
    this.partitioner = (await kafkajs()).Partitioners.DefaultPartitioner();
    this.client = await createClient({ brokers: this.o.brokers, clientId: this.o.clientId, logger: this.o.logger });
    this.cluster = createCluster(this.client);
    await retryUntil(async () => {
      await this.cluster.connect();
      await this.cluster.addTargetTopic(this.o.topic);
    }, {
      timeoutMs: this.o.retryTimeoutMs,
      fail: (e, ms) => new RlinkError('RLINK_TASK_FAILED', `kafka sink: cannot reach the Kafka brokers ${this.o.brokers.join(',')} (topic '${this.o.topic}') within ${formatMs(ms)}, retried with back-off: ${kafkaMessage(e)}`,
        { retriable: true, context: { host: this.o.brokers.join(',') }, cause: e }),
    });
  }

  async begin(transactionalId: string): Promise<OpenTransaction> {
    const logger = (this.client.logger() as unknown as { namespace(n: string): unknown }).namespace('Producer');
    const eos: EosManager = this.internals.createEosManager({
      logger, cluster: this.cluster, transactionTimeout: this.o.transactionTimeoutMs, transactional: true, transactionalId,
    });
    await this.coordinatorCall(`initialise transactional id ${transactionalId}`, () => eos.initProducerId());
    eos.beginTransaction();
    const producer: MessageProducer = this.internals.createMessageProducer({
      logger, cluster: this.cluster, partitioner: this.partitioner, eosManager: eos, idempotent: true,
      retrier: this.internals.createRetry(SEND_RETRY), getConnectionStatus: () => 'connected',
    });
    const topic = this.o.topic;
    return {
      transactionalId,
      producerId: String(eos.getProducerId()),
      producerEpoch: eos.getProducerEpoch(),
      send: async (messages) => { await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] }); },
      abort: async () => { if (eos.isInTransaction()) await eos.abort(); },
    };
  }

  async fence(transactionalId: string): Promise<{ producerId: string; producerEpoch: number }> {
    const r = await this.coordinatorCall(`fence transactional id ${transactionalId}`, async () => {
      const coordinator = await this.cluster.findGroupCoordinator({ groupId: transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
      return coordinator.initProducerId({ transactionalId, transactionTimeout: this.o.transactionTimeoutMs });
    });
    return { producerId: String(r.producerId), producerEpoch: r.producerEpoch };
  }

  async commit(c: KafkaCommittable): Promise<void> {
    await this.coordinatorCall(`commit transaction ${c.transactionalId}`, async () => {
      const coordinator = await this.cluster.findGroupCoordinator({ groupId: c.transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
      await coordinator.endTxn({ producerId: c.producerId, producerEpoch: c.producerEpoch, transactionalId: c.transactionalId, transactionResult: true });
    });
  }

  async close(): Promise<void> { await this.cluster?.disconnect().catch(() => undefined); }

  /** A coordinator request, retried while the coordinator moves or is busy; final errors pass through. */
  private coordinatorCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retryUntil(fn, {
      timeoutMs: this.o.retryTimeoutMs,
      isRetriable: (e) => !TERMINAL.has(errorType(e)) && isRetriable(e),
      onRetry: () => { void this.cluster.refreshMetadata().catch(() => undefined); },
      fail: (e, ms) => (TERMINAL.has(errorType(e)) ? e as Error
        : new RlinkError('RLINK_TASK_FAILED', `${this.what}: cannot ${what} within ${formatMs(ms)}: ${kafkaMessage(e)}`, { retriable: true, cause: e })),
    });
  }
}

/** Answers of the transaction coordinator that retrying cannot change. */
const TERMINAL = new Set([
  'PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_TXN_STATE', 'UNKNOWN_PRODUCER_ID', 'TRANSACTIONAL_ID_NOT_FOUND',
  'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'INVALID_TRANSACTION_TIMEOUT', 'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
]);

/**
 * EndTxn answers meaning the transaction is already over: committed before (a repeated commit after a
 * failure, then fenced by a later attempt), or aborted (timed out, or fenced before its checkpoint
 * completed). Committing it is then a no-op.
 */
export const ALREADY_COMPLETED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_TXN_STATE', 'UNKNOWN_PRODUCER_ID', 'TRANSACTIONAL_ID_NOT_FOUND', 'INVALID_PRODUCER_ID_MAPPING']);
