/**
 * Benchmark job (bench/kafka-source.ts): `sources.kafka` (bounded 'latest', JSON) → a counting sink,
 * both at `parallelism`, so the sink is chained into the source's task (records pass as a function
 * call; what is measured is the source). props: brokers, topic, parallelism, channel.
 *
 * Each sink subtask counts its records and sums their `value` (the same checksum the raw consumer
 * computes), notes the wall-clock time (ms since the epoch, sub-ms precision) of its first and last
 * write, and posts `{ subtask, first, last, count, sum }` to the bench on the BroadcastChannel named
 * by `channel` when it closes (the sink runs on a worker thread; the bench on the main thread).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { defineApp, sources, type Sink } from 'rlink';

export interface SinkReport { subtask: number; first: number; last: number; count: number; sum: number }

const now = (): number => performance.timeOrigin + performance.now();

function timingSink(channel: string): Sink<{ value?: unknown }> {
  return {
    kind: 'bench-count',
    describe: () => ({ kind: 'bench-count' }),
    createWriter: (ctx) => {
      let count = 0, sum = 0, first = 0, last = 0;
      return {
        open() {},
        write(values) {
          if (count === 0) first = now();
          for (const v of values) sum += typeof v?.value === 'number' ? v.value : 0;
          count += values.length;
          last = now();
        },
        prepareCommit: () => count,
        commit() {},
        close() {
          const bc = new BroadcastChannel(channel);
          const report: SinkReport = { subtask: ctx.subtaskIndex, first, last, count, sum };
          bc.postMessage(report);
          bc.close();
        },
      };
    },
  };
}

export default defineApp({
  name: 'bench-kafka-count',
  build(env, props) {
    const p = props.getNumber('parallelism', 1);
    env.fromSource(sources.kafka({ brokers: props.get('brokers'), topic: props.get('topic'), bounded: 'latest', format: 'json' }), { parallelism: p })
      .sinkTo(timingSink(props.get('channel')) as Sink, { parallelism: p });
  },
});
