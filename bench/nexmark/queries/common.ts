/**
 * What every Nexmark query job shares: the event source and where results go.
 *
 * Properties (`key=value` on `rlink run`, or `Props` from bench/nexmark.ts):
 * - `events` (required): how many events the source makes in all (indexes 0 … events − 1);
 * - `parallelism` (default 1): of the source and of every operator;
 * - `eventsPerSecond` (default 100 000): the generator's event-time rate;
 * - `output` (optional): write the results there with `sinks.file` (a file at parallelism 1, a
 *   directory of part files otherwise); without it a sink that only counts them (the benchmark).
 */
import { WatermarkStrategy, sources, sinks, type DataStream, type Props, type Sink, type StreamExecutionEnvironment } from 'rlink';
import { nexmarkGenerator, type Bid, type NexmarkEvent } from '../generator';

/** The bound of the reference's DDL: `WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND`. */
export const WATERMARK_BOUND = '4s';

export function parallelismOf(props: Props): number {
  return props.getNumber('parallelism', 1);
}

/**
 * For queries whose custom window aggregates merge exactly and keep plain data (q5, q7): two-phase
 * aggregation, as Flink plans a GROUP BY window (local aggregate in every upstream subtask, global one
 * behind the exchange), unless the job is given `pipeline.aggregation-phases` itself. `auto` keeps
 * custom aggregates in one phase because rlink cannot check their merge.
 */
export function preferTwoPhases(props: Props): void {
  if (!props.has('pipeline.aggregation-phases')) props.set('pipeline.aggregation-phases', 'two');
}

/** All Nexmark events, watermarked inside the source per split (its subtask's index sequence). */
export function nexmarkEvents(env: StreamExecutionEnvironment, props: Props): DataStream<NexmarkEvent> {
  const generate = nexmarkGenerator({ eventsPerSecond: props.getNumber('eventsPerSecond', 100_000) });
  return env.fromSource(sources.generator({ count: props.getNumber('events'), generate }), {
    parallelism: parallelismOf(props),
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness(WATERMARK_BOUND).withTimestampField('dateTime'),
    uid: 'nexmark-source',
  });
}

/** The bids (the reference's `bid` view: the events with event_type = bid). */
export function nexmarkBids(env: StreamExecutionEnvironment, props: Props): DataStream<Bid> {
  return nexmarkEvents(env, props).filter((e) => e.type === 'bid', { name: 'bids' }) as DataStream<Bid>;
}

/** A sink that counts what reaches it and keeps nothing (the reference's `blackhole`). */
export function countingSink<T>(): Sink<T> {
  return {
    kind: 'count',
    describe: () => ({ kind: 'count' }),
    createWriter: () => {
      let n = 0;
      return { open() {}, write(values) { n += values.length; }, prepareCommit: () => n, commit() {}, close() {} };
    },
  };
}

/** `sinks.file` at `output` when given, else the counting sink. */
export function resultSink<T>(props: Props): Sink<T> {
  return props.has('output') ? (sinks.file({ path: props.get('output') }) as Sink<T>) : countingSink<T>();
}
