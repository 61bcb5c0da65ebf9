/**
 * The baseline of bench/kafka-source.ts: a raw kafkajs consumer reading a whole topic from the
 * beginning, JSON.parsing every value, counting the records and summing their `value`.
 *
 * `readAll` runs in the bench's main thread; the bench also bundles this file (esbuild, to
 * dist/bench/kafka-raw-consumer.js) and runs it as a fresh worker thread per run (workerData
 * `{ kind: 'kafka-raw-consumer', brokers, topic, n, timeoutMs }`; it posts one RawRun or `{ error }`), so
 * the baseline can start as cold as each rlink job, whose task runs on a fresh worker thread too.
 *
 * Fair to the consumer: a fresh group (so it starts at the beginning), `autoCommit: false` (the rlink
 * source commits nothing without a groupId either), `eachBatch` (kafkajs's fastest hand-over), the
 * default fetch sizes (1 MiB per partition, as the rlink source). Timed from the first batch handed
 * over to the N-th record; the group join before it (~3 s on the mock: its initial rebalance delay)
 * is reported as `joinMs`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export interface RawRun { joinMs: number; ms: number; totalMs: number; count: number; sum: number; batches: number }

const now = (): number => performance.timeOrigin + performance.now();

export async function readAll(brokers: string[], topic: string, n: number, timeoutMs: number): Promise<RawRun> {
  const kafka = new Kafka({ clientId: 'rlink-bench-raw', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, allowAutoTopicCreation: false });
  let count = 0, sum = 0, batches = 0, first = 0, last = 0;
  const t0 = now();
  let timer: NodeJS.Timeout | undefined;
  try {
    let done!: () => void;
    const finished = new Promise<void>((r) => { done = r; });
    const read = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (first === 0) first = now();
          batches++;
          for (const m of batch.messages) {
            const v = JSON.parse(m.value!.toString('utf8')) as { value: number };
            sum += v.value;
            count++;
          }
          if (count >= n && last === 0) { last = now(); done(); }
        },
      });
      await finished;
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`raw consumer: read ${count} of ${n} records in ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
    await Promise.race([consumer.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  }
  return { joinMs: first - t0, ms: last - first, totalMs: last - t0, count, sum, batches };
}

if (parentPort && (workerData as { kind?: string } | null)?.kind === 'kafka-raw-consumer') {
  const port = parentPort;
  const d = workerData as { brokers: string[]; topic: string; n: number; timeoutMs: number };
  try {
    port.postMessage(await readAll(d.brokers, d.topic, d.n, d.timeoutMs));
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
  // The parent terminates the thread once the result is in (kafkajs may leave a socket or timer behind).
}
