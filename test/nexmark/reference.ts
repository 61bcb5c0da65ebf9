/**
 * Brute-force Nexmark query results in plain TypeScript, from an array of generated events: no rlink
 * code, no windows operator, no incremental state. Each window is recomputed from the events in it.
 */
import type { Auction, Bid, NexmarkEvent, Person } from '../../bench/nexmark/generator';

const bidsOf = (events: NexmarkEvent[]): Bid[] => events.filter((e): e is Bid => e.type === 'bid');

export function refQ0(events: NexmarkEvent[]) {
  return bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }));
}

export function refQ1(events: NexmarkEvent[]) {
  return bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime, extra: b.extra }));
}

export function refQ2(events: NexmarkEvent[]) {
  return bidsOf(events).filter((b) => b.auction % 123 === 0).map((b) => ({ auction: b.auction, price: b.price }));
}

/** Starts of the windows of `size` every `slide` (aligned to the epoch) that contain time t. */
function windowStarts(t: number, size: number, slide: number): number[] {
  const last = t - (((t % slide) + slide) % slide);
  const starts: number[] = [];
  for (let s = last; s > t - size; s -= slide) starts.push(s);
  return starts;
}

/** Bids grouped by window start, for windows of `size` every `slide`. */
function byWindow(bids: Bid[], size: number, slide: number): Map<number, Bid[]> {
  const m = new Map<number, Bid[]>();
  for (const b of bids) {
    for (const s of windowStarts(b.dateTime, size, slide)) {
      const list = m.get(s);
      if (list) list.push(b); else m.set(s, [b]);
    }
  }
  return m;
}

/** Hot items: per 10 s window every 2 s, the auctions with the most bids. */
export function refQ5(events: NexmarkEvent[]) {
  const out: Array<{ auction: number; num: number; windowStart: number; windowEnd: number }> = [];
  for (const [start, bids] of byWindow(bidsOf(events), 10_000, 2_000)) {
    const counts = new Map<number, number>();
    for (const b of bids) counts.set(b.auction, (counts.get(b.auction) ?? 0) + 1);
    const max = Math.max(...counts.values());
    for (const [auction, num] of counts) if (num === max) out.push({ auction, num, windowStart: start, windowEnd: start + 10_000 });
  }
  return out;
}

/** Highest bid: per 10 s tumbling window, the bids with the highest price. */
export function refQ7(events: NexmarkEvent[]) {
  const out: Array<{ auction: number; bidder: number; price: number; dateTime: number; extra: string; windowStart: number; windowEnd: number }> = [];
  for (const [start, bids] of byWindow(bidsOf(events), 10_000, 10_000)) {
    const max = Math.max(...bids.map((b) => b.price));
    for (const b of bids) {
      if (b.price === max) out.push({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra, windowStart: start, windowEnd: start + 10_000 });
    }
  }
  return out;
}

/**
 * Monitor new users: per 10 s tumbling window, the distinct (id, name) of the persons registered in it
 * joined on id = seller with the distinct sellers of the auctions opened in it (the reference's GROUP BY
 * on each side before the join: a seller with many auctions in the window gives one row).
 */
export function refQ8(events: NexmarkEvent[]) {
  const windowOf = (t: number) => t - (t % 10_000);
  const persons = new Map<string, { id: number; name: string; start: number }>();
  for (const p of events.filter((e): e is Person => e.type === 'person')) {
    const start = windowOf(p.dateTime);
    persons.set(JSON.stringify([p.id, p.name, start]), { id: p.id, name: p.name, start });
  }
  const sellers = new Set<string>();
  for (const a of events.filter((e): e is Auction => e.type === 'auction')) sellers.add(JSON.stringify([a.seller, windowOf(a.dateTime)]));
  const out: Array<{ id: number; name: string; starttime: number }> = [];
  for (const p of persons.values()) if (sellers.has(JSON.stringify([p.id, p.start]))) out.push({ id: p.id, name: p.name, starttime: p.start });
  return out;
}
