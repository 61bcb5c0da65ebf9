/**
 * The store jobs' app: per-key sequence-numbered events (as the chaos job's) through 10 s tumbling
 * event-time windows into the store sink named by `sink`:
 *
 *   redis          sinks.redis set, key <prefix>:{key}:{windowStart}    exactly-once in effect (overwrites)
 *   redis-xadd     sinks.redis xadd to the stream <prefix>              at-least-once
 *   postgres       sinks.postgres, upsertKey (key, windowStart)         exactly-once in effect
 *   postgres-2pc   sinks.postgres transactional, no key in the table    exactly-once by two-phase commit
 *   postgres-plain sinks.postgres, plain inserts                        at-least-once
 *   mysql          sinks.mysql, upsertKey (key, windowStart)            exactly-once in effect
 *
 * Props: count, rate (events/s), sink, url (the store), table or prefix, batch (batchSize), retry
 * (retryTimeout), parallelism (of windows and sink, default 2); source=redis-stream with source.url and
 * source.stream reads the events from two Redis streams instead of the generator (stall=<ms> slows it).
 */
import { defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, count, sum, max, type Sink, type Source } from 'rlink';

export interface Event { key: number; seq: number; ts: number }
export const KEYS = 16;

export function event(i: number): Event {
  const key = i % KEYS;
  const seq = Math.floor(i / KEYS);
  return { key, seq, ts: seq * 100 + key };
}

export interface WindowRow { key: number; windowStart: number; windowEnd: number; events: number; seqSum: number; lastSeq: number }

function storeSink(props: { get(k: string): string; getOr(k: string, d: string): string }): Sink<WindowRow> {
  const url = props.get('url');
  const batchSize = Number(props.getOr('batch', '200'));
  const retryTimeout = props.getOr('retry', '30s');
  const sink = props.get('sink');
  switch (sink) {
    case 'redis': return sinks.redis({ url, command: 'set', key: `${props.get('prefix')}:{key}:{windowStart}`, batchSize, retryTimeout });
    case 'redis-xadd': return sinks.redis({ url, command: 'xadd', key: props.get('prefix'), batchSize, retryTimeout });
    case 'postgres': return sinks.postgres({ connection: url, table: props.get('table'), upsertKey: ['key', 'windowStart'], batchSize, retryTimeout });
    case 'postgres-2pc': return sinks.postgres({ connection: url, table: props.get('table'), transactional: true, batchSize, retryTimeout });
    case 'postgres-plain': return sinks.postgres({ connection: url, table: props.get('table'), batchSize, retryTimeout });
    case 'mysql': return sinks.mysql({ connection: url, table: props.get('table'), upsertKey: ['key', 'windowStart'], batchSize, retryTimeout });
    default: throw new Error(`unknown sink ${sink}`);
  }
}

/** source=redis-stream: the events are read from these streams (key mod 2), each entry's field `data` the event as JSON. */
export const streamsOf = (prefix: string): string[] => [`${prefix}-0`, `${prefix}-1`];

export default defineApp({
  name: 'store-window-counts',
  build(env, props) {
    const n = props.getNumber('count');
    const p = props.getNumber('parallelism', 2);
    const source: Source<Event> = props.getOr('source', 'generator') === 'redis-stream'
      ? sources.redisStream<Event>({ url: props.get('source.url'), stream: streamsOf(props.get('source.stream')), bounded: 'latest', format: 'json', fetchSize: 200 })
      : sources.generator({ count: n, ratePerSecond: props.getNumber('rate', 20_000), generate: event });
    // stall=<ms>: at every 100th sequence number the source side waits that long (a stream is read far
    // faster than a test can kill task managers).
    const stall = props.getNumber('stall', 0);
    env.fromSource<Event>(source, {
      parallelism: 2, uid: 'events', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Event>(100).withTimestampField('ts'),
    })
      .map((e: Event) => {
        if (stall > 0 && e.seq % 100 === 0) { const end = Date.now() + stall; while (Date.now() < end) { /* stall */ } }
        return e;
      }, { uid: 'stall' })
      .keyBy('key')
      .window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ events: count(), seqSum: sum('seq'), lastSeq: max('seq') }, { parallelism: p, uid: 'windows' })
      .sinkTo(storeSink(props), { parallelism: p, uid: 'out' });
  },
});

/** The fault-free result. */
export function reference(n: number): WindowRow[] {
  const m = new Map<string, WindowRow>();
  for (let i = 0; i < n; i++) {
    const e = event(i);
    const ws = e.ts - (e.ts % 10_000);
    const k = `${e.key}|${ws}`;
    const a = m.get(k) ?? { key: e.key, windowStart: ws, windowEnd: ws + 10_000, events: 0, seqSum: 0, lastSeq: -1 };
    a.events++; a.seqSum += e.seq; a.lastSeq = Math.max(a.lastSeq, e.seq);
    m.set(k, a);
  }
  return [...m.values()];
}
