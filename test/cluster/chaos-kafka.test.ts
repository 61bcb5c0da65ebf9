/**
 * Chaos on a Kafka topic: per-key sequence-numbered events in a 4-partition topic of a real
 * Kafka-protocol broker (librdkafka's mock cluster, test/kafka), read by the Kafka source with offsets
 * in checkpoints; task managers are SIGKILLed repeatedly; the keyed semantics check must raise no alert
 * and the exactly-once file sink must hold exactly the fault-free result. (The mock does not apply
 * transactions, so exactly-once end to end is proven through the file sink, not a Kafka sink.)
 */
import { describe, it, afterAll, beforeAll } from 'vitest';
import { kafkaTestGate, startMockBroker, type MockBroker } from '../kafka/broker';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type TestCluster } from './cluster';
import { runChaos } from './chaos-runner';
import { event } from './apps/chaos';

const kafka = await kafkaTestGate();
const KILLS = Number(process.env.RLINK_CHAOS_KILLS ?? 5);
const N = 96_000; // 24 000 per partition: within the mock's ~3 MB per partition

describe.skipIf(!kafka.ok)('chaos on a Kafka topic: repeated task-manager kills', () => {
  let broker: MockBroker;
  let c: TestCluster;
  beforeAll(async () => {
    broker = await startMockBroker({ topics: [{ name: 'chaos-events', partitions: 4 }] });
    // Keyed by the event's key: each key's sequence stays in order in its partition.
    const producer = new Kafka({ brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    for (let from = 0; from < N; from += 4000) {
      const messages = [];
      for (let i = from; i < Math.min(N, from + 4000); i++) { const e = event(i); messages.push({ key: String(e.key), value: JSON.stringify(e) }); }
      await producer.send({ topic: 'chaos-events', acks: 1, messages });
    }
    await producer.disconnect();
    c = await startCluster({ taskManagers: 3, slots: 2 });
  }, 90_000);
  afterAll(async () => { await c?.stop(); await broker?.stop(); });

  it(`survives ${KILLS} SIGKILLs with exactly the fault-free output and no semantics alert`, async () => {
    await runChaos(c, N, KILLS, ['source=kafka', `brokers=${broker.bootstrap}`, 'topic=chaos-events', 'stall=40']);
  }, 240_000);
});
