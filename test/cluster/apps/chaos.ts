/**
 * The chaos job (in the spirit of flink-jepsen): every key's events carry sequence numbers 0, 1, 2, …;
 * a keyed process function keeps the last number seen per key in its state and raises an alert for
 * any gap or repeat (Flink's semantics check); the events then go through tumbling windows to the
 * exactly-once file sink, the alerts to their own file sink. Events come from the generator (source=
 * generator, paced) or from Kafka (source=kafka, topic from props).
 */
import {
  defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, OutputTag, count, sum, max,
  type Collector, type KeyedProcessContext, type KeyedProcessFunction, type RuntimeContext, type Source, type ValueState,
} from 'rlink';

export interface Event { key: number; seq: number; ts: number }
export const KEYS = 16;

export function event(i: number): Event {
  const key = i % KEYS;
  const seq = Math.floor(i / KEYS);
  return { key, seq, ts: seq * 100 + key };
}

const alerts = new OutputTag<{ key: number; expected: number; got: number }>('alerts');

/** Every key's sequence numbers must arrive exactly once and in order (checked in keyed state). */
class SemanticsCheck implements KeyedProcessFunction<Event, Event> {
  private last!: ValueState<number>;
  open(ctx: RuntimeContext): void { this.last = ctx.getState<number>('last'); }
  processElement(e: Event, ctx: KeyedProcessContext, out: Collector<Event>): void {
    const expected = (this.last.value() ?? -1) + 1;
    if (e.seq !== expected) ctx.output(alerts, { key: e.key, expected, got: e.seq });
    this.last.update(Math.max(e.seq, this.last.value() ?? -1));
    out.collect(e);
  }
}

export default defineApp({
  name: 'chaos',
  build(env, props) {
    const n = props.getNumber('count');
    const kafka = (sources as unknown as { kafka?: (o: object) => Source<Event> }).kafka;
    const source: Source<Event> = props.getOr('source', 'generator') === 'kafka' && kafka
      ? kafka({ brokers: props.get('brokers').split(','), topic: props.get('topic'), bounded: 'latest', format: 'json' })
      : sources.generator({ count: n, ratePerSecond: props.getNumber('rate', 20_000), generate: event });
    // stall=<ms>: at every 100th sequence number the source side waits that long (Kafka is read far faster than a
    // chaos test can kill task managers).
    const stall = props.getNumber('stall', 0);
    const checked = env.fromSource<Event>(source, {
      parallelism: 2, uid: 'events', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Event>(100).withTimestampField('ts'),
    })
      .map((e: Event) => {
        if (stall > 0 && e.seq % 100 === 0) { const end = Date.now() + stall; while (Date.now() < end) { /* stall */ } }
        return e;
      }, { uid: 'stall' })
      .keyBy('key')
      .process(new SemanticsCheck(), { parallelism: 2, uid: 'semantics-check' });
    checked.keyBy('key').window(TumblingEventTimeWindows.of('10s'))
      .aggregate({ events: count(), seqSum: sum('seq'), lastSeq: max('seq') }, { parallelism: 2, uid: 'windows' })
      .sinkTo(sinks.file({ path: props.get('output') }), { parallelism: 2, uid: 'out' });
    checked.getSideOutput(alerts).sinkTo(sinks.file({ path: props.get('alerts') }), { parallelism: 1, uid: 'alerts-out' });
  },
});

/** The fault-free result. */
export function reference(n: number): Array<{ key: number; windowStart: number; windowEnd: number; events: number; seqSum: number; lastSeq: number }> {
  const m = new Map<string, { key: number; windowStart: number; windowEnd: number; events: number; seqSum: number; lastSeq: number }>();
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
