/**
 * Nexmark q7, highest bid: for every 10 s tumbling window, the bids with the highest price (all of them
 * on a tie): { auction, bidder, price, dateTime, extra, windowStart, windowEnd }.
 *
 *   SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra FROM bid B
 *   JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime
 *         FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
 *         GROUP BY window_start, window_end) B1
 *   ON B.price = B1.maxprice WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
 *
 * (The reference's BETWEEN includes a bid at exactly window_end; here windows are [start, end).)
 * As a dataflow, without the join: bids → project (drop channel and url) → one 10 s tumbling window
 * for all bids (the subquery groups by the window only: one key) keeping the highest bids. Flink plans
 * that subquery as a local window aggregate in every source subtask and a global one behind a singleton
 * exchange; here the same, by two-phase aggregation (preferTwoPhases: `highest` merges exactly and its
 * accumulator is plain data), so each subtask sends one partial per window and nothing else crosses threads.
 */
import { defineApp, TumblingEventTimeWindows, type AggregateFunction } from 'rlink';
import { nexmarkBids, parallelismOf, preferTwoPhases, resultSink } from './common';

export const WINDOW_MS = 10_000;

interface PricedBid { auction: number; bidder: number; price: number; dateTime: number; extra: string }
/** The highest price seen and the bids with it. */
interface Highest { price: number; bids: PricedBid[] }

const highest: AggregateFunction<PricedBid, Highest, Highest> = {
  createAccumulator: () => ({ price: -1, bids: [] }),
  add(acc, b) {
    if (b.price > acc.price) { acc.price = b.price; acc.bids = [b]; } else if (b.price === acc.price) acc.bids.push(b);
    return acc;
  },
  merge(a, b) {
    if (b.price > a.price) return b;
    if (b.price === a.price) for (const x of b.bids) a.bids.push(x);
    return a;
  },
  getResult: (acc) => acc,
};

export default defineApp({
  name: 'nexmark-q7',
  prepareProperties: preferTwoPhases,
  build(env, props) {
    const p = parallelismOf(props);
    nexmarkBids(env, props)
      .map((b): PricedBid => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }), { name: 'q7-project' })
      .keyBy(() => 0)
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .aggregate({ top: highest }, { parallelism: p, name: 'q7-max', uid: 'q7-max' })
      .flatMap((r: { windowStart: number; windowEnd: number; top: Highest }) =>
        r.top.bids.map((b) => ({ ...b, windowStart: r.windowStart, windowEnd: r.windowEnd })), { name: 'q7' })
      .sinkTo(resultSink(props));
  },
});
