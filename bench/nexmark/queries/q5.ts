/**
 * Nexmark q5, hot items: for every 10 s window sliding by 2 s, the auctions with the most bids (all of
 * them on a tie), one record per auction: { auction, num, windowStart, windowEnd }.
 *
 *   SELECT AuctionBids.auction, AuctionBids.num FROM (
 *     SELECT auction, count(*) AS num, window_start, window_end
 *     FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
 *     GROUP BY auction, window_start, window_end) AuctionBids
 *   JOIN (SELECT max(num) AS maxn, window_start, window_end FROM (…the same…) GROUP BY window_start, window_end) MaxBids
 *   ON same window AND AuctionBids.num >= MaxBids.maxn
 *
 * As a dataflow, without the self-join: bids → project to the auction id (Flink's planner prunes the
 * other columns too; the timestamp stays with the record) → keyBy(auction) → sliding window count →
 * keyBy(windowEnd) → a 2 s tumbling window, which holds exactly the counts of one sliding window (a
 * window result carries the timestamp windowEnd − 1, and the sliding windows end on the 2 s grid) →
 * the maximum and the auctions that reach it. Both stages in two phases (preferTwoPhases): the count's
 * local side gives up at run time (a partial for every third bid, above the skip ratio), the maximum's
 * keeps one partial per window and upstream subtask, so that stage's input no longer crosses threads.
 */
import { defineApp, SlidingEventTimeWindows, TumblingEventTimeWindows, count, type AggregateFunction } from 'rlink';
import { nexmarkBids, parallelismOf, preferTwoPhases, resultSink } from './common';

export const WINDOW_MS = 10_000;
export const SLIDE_MS = 2_000;

interface AuctionCount { auction: number; windowStart: number; windowEnd: number; num: number }
/** The largest count in a window and the auctions with it. */
interface Hottest { num: number; auctions: number[] }

const hottest: AggregateFunction<AuctionCount, Hottest, Hottest> = {
  createAccumulator: () => ({ num: 0, auctions: [] }),
  add(acc, c) {
    if (c.num > acc.num) { acc.num = c.num; acc.auctions = [c.auction]; } else if (c.num === acc.num) acc.auctions.push(c.auction);
    return acc;
  },
  merge(a, b) {
    if (b.num > a.num) return b;
    if (b.num === a.num) for (const x of b.auctions) a.auctions.push(x);
    return a;
  },
  getResult: (acc) => acc,
};

export default defineApp({
  name: 'nexmark-q5',
  prepareProperties: preferTwoPhases,
  build(env, props) {
    const p = parallelismOf(props);
    nexmarkBids(env, props)
      .map((b) => ({ auction: b.auction }), { name: 'q5-project' })
      .keyBy('auction')
      .window(SlidingEventTimeWindows.of(WINDOW_MS, SLIDE_MS))
      .aggregate({ num: count() }, { parallelism: p, name: 'q5-count', uid: 'q5-count' })
      .keyBy('windowEnd')
      .window(TumblingEventTimeWindows.of(SLIDE_MS))
      .aggregate({ hot: hottest }, { parallelism: p, name: 'q5-max', uid: 'q5-max' })
      .flatMap((r: { windowEnd: number; hot: Hottest }) =>
        r.hot.auctions.map((auction) => ({ auction, num: r.hot.num, windowStart: r.windowEnd - WINDOW_MS, windowEnd: r.windowEnd })), { name: 'q5' })
      .sinkTo(resultSink(props));
  },
});
