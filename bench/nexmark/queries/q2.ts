/**
 * Nexmark q2, selection: the bids on a set of auctions (the ids divisible by 123), with their price.
 *
 *   SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0
 */
import { defineApp } from 'rlink';
import { nexmarkBids, resultSink } from './common';

export const AUCTION_MODULUS = 123;

export default defineApp({
  name: 'nexmark-q2',
  build(env, props) {
    nexmarkBids(env, props)
      .filter((b) => b.auction % AUCTION_MODULUS === 0, { name: 'q2-select' })
      .map((b) => ({ auction: b.auction, price: b.price }), { name: 'q2' })
      .sinkTo(resultSink(props));
  },
});
