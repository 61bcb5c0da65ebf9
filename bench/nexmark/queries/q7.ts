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
 * As a dataflow, without the join, in two parallel steps: bids → project (drop channel and url) →
 * keyBy(auction) → 10 s window keeping each auction's highest bids → keyBy(windowEnd) → the same 10 s
 * window (its results carry windowEnd − 1) merging them into the window's highest.
 */
import { defineApp, TumblingEventTimeWindows, type AggregateFunction } from 'rlink';
import { nexmarkBids, parallelismOf, resultSink } from './common';

export const WINDOW_MS = 10_000;

interface PricedBid { auction: number; bidder: number; price: number; dateTime: number; extra: string }
/** The highest price seen and the bids with it. */
interface Highest { price: number; bids: PricedBid[] }

function mergeHighest(a: Highest, b: Highest): Highest {
  if (b.price > a.price) return b;
  if (b.price === a.price) for (const x of b.bids) a.bids.push(x);
  return a;
}

const highest: AggregateFunction<PricedBid, Highest, Highest> = {
  createAccumulator: () => ({ price: -1, bids: [] }),
  add(acc, b) {
    if (b.price > acc.price) { acc.price = b.price; acc.bids = [b]; } else if (b.price === acc.price) acc.bids.push(b);
    return acc;
  },
  merge: mergeHighest,
  getResult: (acc) => acc,
};

const highestOfAuctions: AggregateFunction<{ top: Highest }, Highest, Highest> = {
  createAccumulator: () => ({ price: -1, bids: [] }),
  add: (acc, r) => mergeHighest(acc, r.top),
  merge: mergeHighest,
  getResult: (acc) => acc,
};

export default defineApp({
  name: 'nexmark-q7',
  build(env, props) {
    const p = parallelismOf(props);
    nexmarkBids(env, props)
      .map((b): PricedBid => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }), { name: 'q7-project' })
      .keyBy('auction')
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .aggregate({ top: highest }, { parallelism: p, name: 'q7-per-auction', uid: 'q7-per-auction' })
      .keyBy('windowEnd')
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .aggregate({ top: highestOfAuctions }, { parallelism: p, name: 'q7-max', uid: 'q7-max' })
      .flatMap((r: { windowStart: number; windowEnd: number; top: Highest }) =>
        r.top.bids.map((b) => ({ ...b, windowStart: r.windowStart, windowEnd: r.windowEnd })), { name: 'q7' })
      .sinkTo(resultSink(props));
  },
});
