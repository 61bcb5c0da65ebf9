/**
 * The Nexmark event generator: persons, auctions and bids of an online auction, as the reference
 * generators make them (Apache Beam's `sdk/nexmark/sources/generator` and the nexmark/nexmark
 * project's Flink port, `nexmark-flink/.../generator`), written from their description, not copied.
 *
 * One function `generate(i)` makes event number i, so it plugs into `sources.generator` as it is:
 * with parallelism p, subtask k makes the indexes i ≡ k (mod p) and the union over the subtasks is
 * the same event sequence at every parallelism.
 *
 * - Deterministic and splittable: every event draws from a PRNG seeded by its own index (Beam seeds a
 *   `java.util.Random` with the event id; Flink's port uses one unseeded SplittableRandom per
 *   subtask, which is neither), so `generate(i)` is a pure function of (config, i), whatever order
 *   and in whatever thread it is called. The PRNG state is module-level (one per worker thread) and
 *   reseeded at the start of every call; `generate` is synchronous, so calls never interleave.
 * - Proportions: in every block of 50 consecutive indexes, 1 person, then 3 auctions, then 46 bids
 *   (`personProportion`, `auctionProportion`, `bidProportion`). Person and auction ids are
 *   consecutive from 1000 in that order, so the id of the latest person or auction at any index is
 *   arithmetic (`lastBase0PersonId`, `lastBase0AuctionId`), which is what lets every event be made
 *   without state.
 * - Skew, as the reference: a bid goes to the current hot auction (the first of the latest batch of
 *   100 auctions) unless `int(hotAuctionRatio) == 0` (so 1/2 of the bids by default), otherwise to a
 *   random auction among the 100 in flight (plus 10 ids of lead, auctions not created yet); a bidder
 *   is the hot bidder (the second of the latest batch of 100 persons) with probability 3/4, otherwise
 *   one of the 1000 active persons (plus a lead of 10); an auction's seller is the hot seller (the
 *   first of the latest batch of 100) with probability 3/4. Channels: half the bids come from one of
 *   4 hot channels, the rest from 10 000 others. Prices are 10^(6u) dollars-cents (1 ¢ … 1 M$, log-
 *   uniform). `extra` pads each record to the average byte size (person 200, auction 500, bid 100).
 *   Flink's port adds FIRST_PERSON_ID to a bidder twice (ids ≥ 2000); this one adds it once (Beam).
 * - Event time: `dateTime = baseTime + ⌊i · 1000 / eventsPerSecond⌋` (the reference's `first-event.rate`,
 *   100 000 per second in the nexmark project's V2 workload, default here too): non-decreasing in i, so
 *   every subtask's events are in order and the 4 s watermark bound of the reference DDL is never hit.
 *
 * Records are flat objects with a `type` discriminator ('person' | 'auction' | 'bid') in one stream,
 * rather than three sources: one source is one event sequence with one watermark (as Flink's nexmark
 * table, where the `person`, `auction` and `bid` views filter one `datagen` stream by `event_type`),
 * the proportions and the interleaving in event time hold by construction, and a query that reads
 * only bids pays for generating all events, as it does in the reference (events/s counts them all).
 *
 * No rlink import: the benchmark's jobs, the tests' reference and the tests themselves use it as is.
 */

/** Generator settings; every one has the reference default (NexmarkConfiguration). */
export interface NexmarkConfig {
  /** Events per second of event time across all subtasks (the reference's first-event.rate). Default 100 000. */
  eventsPerSecond: number;
  /** Event time of event 0, epoch ms. Default 2026-01-01T00:00:00Z. */
  baseTime: number;
  /** Events of each kind per block of personProportion + auctionProportion + bidProportion. Defaults 1, 3, 46. */
  personProportion: number;
  auctionProportion: number;
  bidProportion: number;
  /** 1 − 1/ratio of the bids go to the hot auction. Default 2. */
  hotAuctionRatio: number;
  /** 1 − 1/ratio of the auctions are by the hot seller. Default 4. */
  hotSellersRatio: number;
  /** 1 − 1/ratio of the bids are by the hot bidder. Default 4. */
  hotBiddersRatio: number;
  /** Auctions a non-hot bid chooses among (the latest ones). Default 100. */
  numInFlightAuctions: number;
  /** Persons a non-hot bidder or seller is chosen among (the latest ones). Default 1000. */
  numActivePeople: number;
  /** Average record sizes in bytes, reached by padding `extra`. Defaults 200, 500, 100. */
  avgPersonByteSize: number;
  avgAuctionByteSize: number;
  avgBidByteSize: number;
}

export const DEFAULT_CONFIG: Readonly<NexmarkConfig> = Object.freeze({
  eventsPerSecond: 100_000,
  baseTime: Date.UTC(2026, 0, 1),
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numInFlightAuctions: 100,
  numActivePeople: 1000,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
});

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
export const NUM_CATEGORIES = 5;
/** Ids of persons / auctions not created yet that a random pick may return (they appear "early"). */
export const PERSON_ID_LEAD = 10;
export const AUCTION_ID_LEAD = 10;
/** Hot auctions, bidders and sellers are the first (bidders: second) of batches of this many ids. */
export const HOT_BATCH = 100;
export const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'] as const;
export const CHANNELS = 10_000;

export interface Person {
  type: 'person';
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  /** Event time, epoch ms. */
  dateTime: number;
  extra: string;
}

export interface Auction {
  type: 'auction';
  id: number;
  itemName: string;
  description: string;
  /** Cents. */
  initialBid: number;
  /** Cents; initialBid + another price. */
  reserve: number;
  dateTime: number;
  /** Epoch ms. */
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface Bid {
  type: 'bid';
  auction: number;
  bidder: number;
  /** Cents. */
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

export type NexmarkEvent = Person | Auction | Bid;
export type EventType = NexmarkEvent['type'];

// ---- the PRNG: mulberry32, seeded per event by a murmur3 finaliser of the index ----------------------

let state = 0;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seeds the PRNG from an index up to 2^53 (both 32-bit halves) and a stream tag. */
function seed(i: number, tag: number): void {
  const lo = i >>> 0;
  const hi = Math.floor(i / 4294967296) >>> 0;
  state = fmix32(lo ^ fmix32(hi + Math.imul(tag, 0x9e3779b9)));
}

function u32(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** A uniform integer in [0, n), n ≤ 2^32. */
function int(n: number): number {
  return Math.floor((u32() / 4294967296) * n);
}

// ---- strings -------------------------------------------------------------------------------------------

const A = 97;

/** 3 to maxLength − 1 random letters with `special` about once in 13, trimmed (the reference's nextString). */
function nextStringSlow(maxLength: number, special: string): string {
  let len = 3 + int(maxLength - 3);
  let s = '';
  for (; len > 0; len--) s += int(13) === 0 ? special : String.fromCharCode(A + int(26));
  return s.trim();
}

/** Random text with the distribution of nextString's characters (a space about once in 13). */
const TEXT_LENGTH = 1 << 16;
const TEXT = (() => {
  seed(2, 0x7e47);
  let s = '';
  for (let k = 0; k < TEXT_LENGTH; k++) s += int(13) === 0 ? ' ' : String.fromCharCode(A + int(26));
  return s;
})();

/** nextString with spaces, cut from TEXT: the same distribution, a slice instead of a loop per character. */
function nextString(maxLength: number): string {
  const len = 3 + int(maxLength - 3);
  const offset = int(TEXT_LENGTH - len);
  return TEXT.substring(offset, offset + len).trim();
}

/** Random letters that `extra` is cut from (the reference reuses one such string as well). */
const REUSABLE_LENGTH = 1 << 18;
const REUSABLE = (() => {
  seed(0, 0x5eed);
  const codes = new Array<number>(REUSABLE_LENGTH);
  for (let k = 0; k < REUSABLE_LENGTH; k++) codes[k] = A + int(26);
  let s = '';
  for (let k = 0; k < REUSABLE_LENGTH; k += 8192) s += String.fromCharCode(...codes.slice(k, k + 8192));
  return s;
})();

function nextExactString(length: number): string {
  const offset = int(REUSABLE_LENGTH - length);
  return REUSABLE.substring(offset, offset + length);
}

/** Padding so that currentSize + its length averages desiredAverageSize (±20 %). */
function nextExtra(currentSize: number, desiredAverageSize: number): string {
  if (currentSize > desiredAverageSize) return '';
  const desired = desiredAverageSize - currentSize;
  const delta = Math.round(desired * 0.2);
  return nextExactString(desired - delta + (delta === 0 ? 0 : int(2 * delta)));
}

/**
 * Price in cents, log-uniform between 1 ¢ and 1 M$: round(100 · 10^(6u)) for a 32-bit u, as a table of
 * 100 · 10^(6k/4096) for u's top 12 bits times a cubic for the low 20 (relative error < 1e-11): a
 * third of the cost of Math.exp or Math.pow per bid.
 */
const PRICE_STEPS = 4096;
const PRICE_HI = Float64Array.from({ length: PRICE_STEPS }, (_, k) => 100 * Math.pow(10, (6 * k) / PRICE_STEPS));
const PRICE_LO_SCALE = (6 * Math.LN10) / 4294967296;

function nextPrice(): number {
  const u = u32();
  const x = (u & 0xfffff) * PRICE_LO_SCALE;
  return Math.round(PRICE_HI[u >>> 20]! * (1 + x * (1 + x * (0.5 + x / 6))));
}

const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const CARD_GROUPS = Array.from({ length: 10_000 }, (_, k) => String(k).padStart(4, '0'));

function baseUrl(): string {
  return `https://www.nexmark.com/${nextStringSlow(5, '_')}/${nextStringSlow(5, '_')}/${nextStringSlow(5, '_')}/item.htm?query=1`;
}

/** Reverses the 32 bits of k, as a signed 32-bit integer (Java's Integer.reverse). */
function reverse32(k: number): number {
  let r = 0;
  for (let b = 0; b < 32; b++) { r = (r << 1) | (k & 1); k >>>= 1; }
  return r | 0;
}

/** The channels' urls and the hot channels' urls: fixed tables, the same in every thread. */
const HOT_URLS: string[] = [];
const CHANNEL_NAMES: string[] = [];
const CHANNEL_URLS: string[] = [];
(() => {
  seed(1, 0xc4a7);
  for (let k = 0; k < HOT_CHANNELS.length; k++) HOT_URLS.push(baseUrl());
  for (let k = 0; k < CHANNELS; k++) {
    const url = baseUrl();
    CHANNEL_NAMES.push(`channel-${k}`);
    CHANNEL_URLS.push(int(10) > 0 ? `${url}&channel_id=${Math.abs(reverse32(k))}` : url);
  }
})();

// ---- ids -----------------------------------------------------------------------------------------------

/** What event i is: a function of i mod (the sum of the proportions) alone. */
export function eventType(i: number, cfg: Readonly<NexmarkConfig> = DEFAULT_CONFIG): EventType {
  const rem = i % (cfg.personProportion + cfg.auctionProportion + cfg.bidProportion);
  return rem < cfg.personProportion ? 'person' : rem < cfg.personProportion + cfg.auctionProportion ? 'auction' : 'bid';
}

/** The id (from 0) of the latest person at event i: event i's own id when i is a person. */
export function lastBase0PersonId(i: number, cfg: Readonly<NexmarkConfig> = DEFAULT_CONFIG): number {
  const total = cfg.personProportion + cfg.auctionProportion + cfg.bidProportion;
  const epoch = Math.floor(i / total);
  let offset = i % total;
  if (offset >= cfg.personProportion) offset = cfg.personProportion - 1;
  return epoch * cfg.personProportion + offset;
}

/** The id (from 0) of the latest auction at event i (−1 before the first): event i's own when i is an auction. */
export function lastBase0AuctionId(i: number, cfg: Readonly<NexmarkConfig> = DEFAULT_CONFIG): number {
  const total = cfg.personProportion + cfg.auctionProportion + cfg.bidProportion;
  let epoch = Math.floor(i / total);
  let offset = i % total;
  if (offset < cfg.personProportion) { epoch--; offset = cfg.auctionProportion - 1; }
  else if (offset >= cfg.personProportion + cfg.auctionProportion) offset = cfg.auctionProportion - 1;
  else offset -= cfg.personProportion;
  return epoch * cfg.auctionProportion + offset;
}

/** Event time of event i, epoch ms. */
export function timestampOf(i: number, cfg: Readonly<NexmarkConfig> = DEFAULT_CONFIG): number {
  return cfg.baseTime + Math.floor((i * 1000) / cfg.eventsPerSecond);
}

// ---- the generator -------------------------------------------------------------------------------------

/** Checks a config; returns it with every default filled in. */
export function nexmarkConfig(overrides: Partial<NexmarkConfig> = {}): Readonly<NexmarkConfig> {
  const cfg = { ...DEFAULT_CONFIG, ...overrides };
  for (const [k, v] of Object.entries(cfg)) {
    if (!Number.isFinite(v)) throw new Error(`nexmark: ${k} must be a finite number, not ${String(v)}`);
  }
  const positive: Array<keyof NexmarkConfig> = ['eventsPerSecond', 'bidProportion', 'hotAuctionRatio', 'hotSellersRatio', 'hotBiddersRatio', 'numInFlightAuctions', 'numActivePeople'];
  for (const k of positive) if (!(cfg[k] > 0)) throw new Error(`nexmark: ${k} must be > 0, not ${cfg[k]}`);
  if (!(cfg.personProportion >= 1 && cfg.auctionProportion >= 1)) throw new Error('nexmark: personProportion and auctionProportion must be ≥ 1');
  return Object.freeze(cfg);
}

/** Makes `generate(i)`: event number i (i ≥ 0, a safe integer) under `cfg`. */
export function nexmarkGenerator(overrides: Partial<NexmarkConfig> = {}): (i: number) => NexmarkEvent {
  const cfg = nexmarkConfig(overrides);
  const P = cfg.personProportion, PA = cfg.personProportion + cfg.auctionProportion;
  const TOTAL = PA + cfg.bidProportion;
  const rate = cfg.eventsPerSecond, base = cfg.baseTime;
  // Events until numInFlightAuctions more auctions exist: an auction's expected length.
  const eventsForAuctions = Math.floor((cfg.numInFlightAuctions * TOTAL) / cfg.auctionProportion);

  const lastPerson = (i: number): number => {
    const off = i % TOTAL;
    return Math.floor(i / TOTAL) * P + (off >= P ? P - 1 : off);
  };
  const lastAuction = (i: number): number => lastBase0AuctionId(i, cfg);
  const randomPerson = (i: number): number => {
    const numPeople = lastPerson(i) + 1;
    const active = Math.min(numPeople, cfg.numActivePeople);
    return numPeople - active + int(active + PERSON_ID_LEAD);
  };
  const randomAuction = (i: number): number => {
    const last = lastAuction(i);
    const min = Math.max(last - cfg.numInFlightAuctions, 0);
    return min + int(last - min + 1 + AUCTION_ID_LEAD);
  };

  const person = (i: number, dateTime: number): Person => {
    const name = `${FIRST_NAMES[int(FIRST_NAMES.length)]!} ${LAST_NAMES[int(LAST_NAMES.length)]!}`;
    const emailAddress = `${nextString(7)}@${nextString(5)}.com`;
    const creditCard = `${CARD_GROUPS[int(10_000)]!} ${CARD_GROUPS[int(10_000)]!} ${CARD_GROUPS[int(10_000)]!} ${CARD_GROUPS[int(10_000)]!}`;
    const city = US_CITIES[int(US_CITIES.length)]!;
    const state = US_STATES[int(US_STATES.length)]!;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    return {
      type: 'person', id: lastPerson(i) + FIRST_PERSON_ID, name, emailAddress, creditCard, city, state, dateTime,
      extra: nextExtra(size, cfg.avgPersonByteSize),
    };
  };

  const auction = (i: number, dateTime: number): Auction => {
    const id = lastAuction(i) + FIRST_AUCTION_ID;
    const seller = (int(cfg.hotSellersRatio) > 0 ? Math.floor(lastPerson(i) / HOT_BATCH) * HOT_BATCH : randomPerson(i)) + FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + int(NUM_CATEGORIES);
    const initialBid = nextPrice();
    const horizon = base + Math.floor(((i + eventsForAuctions) * 1000) / rate) - dateTime;
    const expires = dateTime + 1 + int(Math.max(horizon * 2, 1));
    const itemName = nextString(20);
    const description = nextString(100);
    const reserve = initialBid + nextPrice();
    return {
      type: 'auction', id, itemName, description, initialBid, reserve, dateTime, expires, seller, category,
      extra: nextExtra(8 + itemName.length + description.length + 40, cfg.avgAuctionByteSize),
    };
  };

  const bid = (i: number, dateTime: number): Bid => {
    const auctionId = (int(cfg.hotAuctionRatio) > 0 ? Math.floor(lastAuction(i) / HOT_BATCH) * HOT_BATCH : randomAuction(i)) + FIRST_AUCTION_ID;
    const bidder = (int(cfg.hotBiddersRatio) > 0 ? Math.floor(lastPerson(i) / HOT_BATCH) * HOT_BATCH + 1 : randomPerson(i)) + FIRST_PERSON_ID;
    const price = nextPrice();
    let channel: string, url: string;
    if (int(2) > 0) {
      const h = int(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[h]!; url = HOT_URLS[h]!;
    } else {
      const c = int(CHANNELS);
      channel = CHANNEL_NAMES[c]!; url = CHANNEL_URLS[c]!;
    }
    return { type: 'bid', auction: auctionId, bidder, price, channel, url, dateTime, extra: nextExtra(32, cfg.avgBidByteSize) };
  };

  return (i: number): NexmarkEvent => {
    seed(i, 0);
    const dateTime = base + Math.floor((i * 1000) / rate);
    const rem = i % TOTAL;
    return rem >= PA ? bid(i, dateTime) : rem >= P ? auction(i, dateTime) : person(i, dateTime);
  };
}
