/**
 * Nexmark q8, monitor new users: the persons who opened an auction in the same 10 s tumbling window in
 * which they registered, one record per person and window: { id, name, starttime } (starttime: the
 * window's start, epoch ms).
 *
 *   SELECT P.id, P.name, P.starttime FROM (
 *     SELECT id, name, window_start AS starttime, window_end AS endtime
 *     FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
 *     GROUP BY id, name, window_start, window_end) P
 *   JOIN (
 *     SELECT seller, window_start AS starttime, window_end AS endtime
 *     FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
 *     GROUP BY seller, window_start, window_end) A
 *   ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
 *
 * As a dataflow, the plan Flink makes of it:
 * - one source, split by a process function into persons (main output) and auctions (a side output),
 *   projected to the columns the query reads (the timestamp stays with the record). A split, not two
 *   filters on the source: a stream with two consumers in one chain hands each but the last a deep
 *   copy of every batch (core/runtime/chain.ts), which for the mixed, padded events costs more than
 *   the rest of the query together;
 * - each side grouped per window first, as the reference's GROUP BYs: keyBy(id, name) and
 *   keyBy(seller), a 10 s tumbling count (two-phase: a local pre-aggregation before the shuffle), so a
 *   seller with many auctions in a window meets its person once;
 * - a window join of the two, where(id).equalTo(seller) in the same 10 s tumbling window: a window
 *   result carries windowEnd − 1, so both sides of one window land in the same join window, which is
 *   the reference's equality on window_start and window_end.
 */
import { defineApp, OutputTag, TumblingEventTimeWindows, count, type Collector, type ProcessContext } from 'rlink';
import type { NexmarkEvent } from '../generator';
import { nexmarkEvents, parallelismOf, resultSink } from './common';

export const WINDOW_MS = 10_000;

/** The columns of `person` the query reads. */
interface NewPerson { id: number; name: string }
/** The column of `auction` the query reads. */
interface NewAuction { seller: number }
/** A person per window (the reference's P). */
interface PersonWindow extends NewPerson { windowStart: number; windowEnd: number; n: number }
/** A seller per window (the reference's A). */
interface SellerWindow extends NewAuction { windowStart: number; windowEnd: number; n: number }

const AUCTIONS = new OutputTag<NewAuction>('q8-auctions');

function split(e: NexmarkEvent, ctx: ProcessContext, out: Collector<NewPerson>): void {
  if (e.type === 'person') out.collect({ id: e.id, name: e.name });
  else if (e.type === 'auction') ctx.output(AUCTIONS, { seller: e.seller });
}

export default defineApp({
  name: 'nexmark-q8',
  build(env, props) {
    const p = parallelismOf(props);
    const people = nexmarkEvents(env, props).process(split, { name: 'q8-split' });
    const persons = people
      .keyBy(['id', 'name'])
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .aggregate({ n: count() }, { parallelism: p, name: 'q8-persons', uid: 'q8-persons' });
    const sellers = people.getSideOutput(AUCTIONS)
      .keyBy('seller')
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .aggregate({ n: count() }, { parallelism: p, name: 'q8-sellers', uid: 'q8-sellers' });
    persons.join(sellers).where('id').equalTo('seller')
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .apply((pw: PersonWindow, _sw: SellerWindow) => ({ id: pw.id, name: pw.name, starttime: pw.windowStart }), { parallelism: p, name: 'q8', uid: 'q8-join' })
      .sinkTo(resultSink(props));
  },
});
