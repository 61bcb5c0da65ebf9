/**
 * Nexmark q0, pass-through: every bid as (auction, bidder, price, dateTime, extra). Measures the source
 * (generating all events), the bid filter and the sink; no shuffle.
 *
 *   SELECT auction, bidder, price, dateTime, extra FROM bid
 */
import { defineApp } from 'rlink';
import { nexmarkBids, resultSink } from './common';

export default defineApp({
  name: 'nexmark-q0',
  build(env, props) {
    nexmarkBids(env, props)
      .map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }), { name: 'q0' })
      .sinkTo(resultSink(props));
  },
});
