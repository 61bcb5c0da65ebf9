/**
 * The Nexmark generator (bench/nexmark/generator.ts): proportions, ids, determinism, splitting by index,
 * event time, and the hot auction / bidder / seller skew of the reference generator.
 */
import { describe, it, expect } from 'vitest';
import {
  nexmarkGenerator, eventType, lastBase0AuctionId, lastBase0PersonId, timestampOf, nexmarkConfig,
  DEFAULT_CONFIG, FIRST_AUCTION_ID, FIRST_PERSON_ID, HOT_CHANNELS, type Auction, type Bid, type NexmarkEvent, type Person,
} from '../../bench/nexmark/generator';

const N = 50_000;
const generate = nexmarkGenerator();
const events: NexmarkEvent[] = Array.from({ length: N }, (_, i) => generate(i));
const persons = events.filter((e): e is Person => e.type === 'person');
const auctions = events.filter((e): e is Auction => e.type === 'auction');
const bids = events.filter((e): e is Bid => e.type === 'bid');
const bidIndexes = events.flatMap((e, i) => (e.type === 'bid' ? [i] : []));

describe('nexmark generator', () => {
  it('makes 1 person, then 3 auctions, then 46 bids in every block of 50 events', () => {
    expect(persons.length).toBe(1000);
    expect(auctions.length).toBe(3000);
    expect(bids.length).toBe(46_000);
    for (let i = 0; i < N; i++) {
      const r = i % 50;
      expect(events[i]!.type).toBe(r === 0 ? 'person' : r <= 3 ? 'auction' : 'bid');
      expect(eventType(i)).toBe(events[i]!.type);
    }
  });

  it('numbers persons and auctions consecutively from 1000, matching lastBase0PersonId / lastBase0AuctionId', () => {
    expect(persons.map((p) => p.id)).toEqual(persons.map((_, k) => FIRST_PERSON_ID + k));
    expect(auctions.map((a) => a.id)).toEqual(auctions.map((_, k) => FIRST_AUCTION_ID + k));
    events.forEach((e, i) => {
      if (e.type === 'person') expect(e.id).toBe(lastBase0PersonId(i) + FIRST_PERSON_ID);
      if (e.type === 'auction') expect(e.id).toBe(lastBase0AuctionId(i) + FIRST_AUCTION_ID);
    });
    expect(lastBase0AuctionId(0)).toBe(-1); // before the first auction
  });

  it('is deterministic: another generator, another order of calls, give the same events', () => {
    const again = nexmarkGenerator();
    const sample = [0, 1, 4, 49, 50, 12_345, 49_999, 2 ** 32 + 7, 9_007_199_254_740_000];
    for (const i of sample) expect(again(i)).toEqual(generate(i));
    // Calls in reverse order (the PRNG is reseeded per event, never carried over).
    for (let i = N - 1; i >= N - 500; i--) expect(again(i)).toEqual(events[i]);
    // Two 32-bit halves of the index both matter.
    expect(again(2 ** 32 + 4)).not.toEqual(again(4));
  });

  it('splits by index: subtask k of p making i ≡ k (mod p) gives the same events at every parallelism', () => {
    for (const p of [2, 3, 7]) {
      const merged = new Array<NexmarkEvent>(N);
      for (let k = 0; k < p; k++) {
        const sub = nexmarkGenerator(); // a subtask's own generator (its own thread in a job)
        for (let i = k; i < N; i += p) merged[i] = sub(i);
      }
      expect(merged).toEqual(events);
    }
  });

  it('advances event time with the index at the configured rate, never backwards', () => {
    events.forEach((e, i) => expect(e.dateTime).toBe(DEFAULT_CONFIG.baseTime + Math.floor(i / 100)));
    const slow = nexmarkGenerator({ eventsPerSecond: 200, baseTime: 0 });
    expect([0, 1, 199, 200, 1000, 20_000].map((i) => slow(i).dateTime)).toEqual([0, 5, 995, 1000, 5000, 100_000]);
    const cfg = nexmarkConfig({ eventsPerSecond: 3 });
    let prev = -Infinity;
    for (let i = 0; i < 1000; i++) { const t = timestampOf(i, cfg); expect(t).toBeGreaterThanOrEqual(prev); prev = t; }
  });

  it('sends about half the bids to the hot auction and 3/4 to the hot bidder; the rest to recent auctions and active persons', () => {
    let hotAuction = 0, hotBidder = 0;
    bids.forEach((b, k) => {
      const i = bidIndexes[k]!;
      const lastAuction = lastBase0AuctionId(i), lastPerson = lastBase0PersonId(i);
      if (b.auction === Math.floor(lastAuction / 100) * 100 + FIRST_AUCTION_ID) hotAuction++;
      if (b.bidder === Math.floor(lastPerson / 100) * 100 + 1 + FIRST_PERSON_ID) hotBidder++;
      // Non-hot picks: among the last 100 auctions plus 10 not created yet; among the 1000 latest persons plus 10.
      expect(b.auction - FIRST_AUCTION_ID).toBeGreaterThanOrEqual(Math.max(lastAuction - 100, 0));
      expect(b.auction - FIRST_AUCTION_ID).toBeLessThanOrEqual(lastAuction + 10);
      expect(b.bidder - FIRST_PERSON_ID).toBeGreaterThanOrEqual(Math.max(lastPerson + 1 - 1000, 0));
      expect(b.bidder - FIRST_PERSON_ID).toBeLessThan(lastPerson + 1 + 10);
    });
    expect(hotAuction / bids.length).toBeGreaterThan(0.49);
    expect(hotAuction / bids.length).toBeLessThan(0.53);
    expect(hotBidder / bids.length).toBeGreaterThan(0.74);
    expect(hotBidder / bids.length).toBeLessThan(0.78);
    // The hot auction is a multiple of 100 (+1000) and changes every 100 auctions, ~1667 events.
    const hot = new Set(bids.filter((b) => (b.auction - FIRST_AUCTION_ID) % 100 === 0).map((b) => b.auction));
    expect(hot.size).toBeGreaterThanOrEqual(29);
  });

  it('gives 3/4 of the auctions to the hot seller', () => {
    const idx = events.flatMap((e, i) => (e.type === 'auction' ? [i] : []));
    const hot = auctions.filter((a, k) => a.seller === Math.floor(lastBase0PersonId(idx[k]!) / 100) * 100 + FIRST_PERSON_ID).length;
    expect(hot / auctions.length).toBeGreaterThan(0.72);
    expect(hot / auctions.length).toBeLessThan(0.79);
  });

  it('fills every standard field with values of the right kind and pads records to the average sizes', () => {
    for (const p of persons.slice(0, 200)) {
      expect(Object.keys(p).sort()).toEqual(['city', 'creditCard', 'dateTime', 'emailAddress', 'extra', 'id', 'name', 'state', 'type']);
      expect(p.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(p.emailAddress).toMatch(/^[a-z ]*[a-z]@[a-z ]*[a-z]?\.com$/);
      expect(p.creditCard).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
      expect(['AZ', 'CA', 'ID', 'OR', 'WA', 'WY']).toContain(p.state);
    }
    for (const a of auctions.slice(0, 500)) {
      expect(Object.keys(a).sort()).toEqual(['category', 'dateTime', 'description', 'expires', 'extra', 'id', 'initialBid', 'itemName', 'reserve', 'seller', 'type']);
      expect(a.category).toBeGreaterThanOrEqual(10);
      expect(a.category).toBeLessThanOrEqual(14);
      expect(a.reserve).toBeGreaterThan(a.initialBid);
      expect(a.expires).toBeGreaterThan(a.dateTime);
      expect(a.itemName.length).toBeLessThanOrEqual(19);
      expect(a.description.length).toBeLessThanOrEqual(99);
    }
    for (const b of bids.slice(0, 2000)) {
      expect(Object.keys(b).sort()).toEqual(['auction', 'bidder', 'channel', 'dateTime', 'extra', 'price', 'type', 'url']);
      expect(Number.isInteger(b.price)).toBe(true);
      expect(b.price).toBeGreaterThanOrEqual(100);
      expect(b.price).toBeLessThanOrEqual(100_000_000);
      expect(b.url).toMatch(/^https:\/\/www\.nexmark\.com\/[a-z_]+\/[a-z_]+\/[a-z_]+\/item\.htm\?query=1(&channel_id=\d+)?$/);
      // 32 bytes of numbers + extra ≈ 100 ± 20 %
      expect(b.extra.length).toBeGreaterThanOrEqual(54);
      expect(b.extra.length).toBeLessThanOrEqual(82);
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const personBytes = mean(persons.map((p) => 8 + p.name.length + p.emailAddress.length + p.creditCard.length + p.city.length + p.state.length + p.extra.length));
    const auctionBytes = mean(auctions.map((a) => 48 + a.itemName.length + a.description.length + a.extra.length));
    expect(Math.abs(personBytes - 200)).toBeLessThan(5);
    expect(Math.abs(auctionBytes - 500)).toBeLessThan(5);
    // Half the bids on the 4 hot channels; prices log-uniform over 1 ¢ … 1 M$ (median 10^3 $ = 10^5 ¢).
    const hotChannels = bids.filter((b) => (HOT_CHANNELS as readonly string[]).includes(b.channel)).length;
    expect(hotChannels / bids.length).toBeGreaterThan(0.48);
    expect(hotChannels / bids.length).toBeLessThan(0.52);
    const prices = bids.map((b) => b.price).sort((x, y) => x - y);
    expect(prices[prices.length >> 1]).toBeGreaterThan(7e4);
    expect(prices[prices.length >> 1]).toBeLessThan(1.4e5);
  });

  it('refuses a config that cannot generate', () => {
    expect(() => nexmarkGenerator({ eventsPerSecond: 0 })).toThrow(/eventsPerSecond must be > 0/);
    expect(() => nexmarkGenerator({ hotAuctionRatio: Number.NaN })).toThrow(/hotAuctionRatio must be a finite number/);
    expect(() => nexmarkGenerator({ personProportion: 0 })).toThrow(/personProportion/);
  });
});
