/**
 * Nexmark q1, currency conversion: every bid with its price in euros (dollars × 0.908).
 *
 *   SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid
 */
import { defineApp } from 'rlink';
import { nexmarkBids, resultSink } from './common';

/** Euros per dollar, as in the reference query. */
export const EUR_PER_USD = 0.908;

export default defineApp({
  name: 'nexmark-q1',
  build(env, props) {
    nexmarkBids(env, props)
      .map((b) => ({ auction: b.auction, bidder: b.bidder, price: EUR_PER_USD * b.price, dateTime: b.dateTime, extra: b.extra }), { name: 'q1' })
      .sinkTo(resultSink(props));
  },
});
