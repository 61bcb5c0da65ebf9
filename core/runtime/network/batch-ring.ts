import { NO_ROOM, NO_SHAPE, NOT_LATIN1, encodeLatin1Columns, type Codec } from './batch-codec';

/**
 * A single-producer single-consumer ring of columnar record batches in a SharedArrayBuffer, between
 * two worker threads of one process. The producer encodes a batch straight into the ring (no typed
 * arrays allocated, nothing copied by postMessage); the consumer decodes it from there into records
 * and releases the space. Which entry comes next, and when, the consumer learns from the channel's
 * MessagePort (port-channel.ts): a ring entry is announced there in order with the channel's other
 * messages, so the ring itself needs no ordering and only one shared word.
 *
 *   SharedArrayBuffer:  ┌──────────────┬──────────────────────────── data: capacity bytes ────┐
 *                       │ R: int32 @0  │ … entry │ entry │ (free) │ entry │ …                   │
 *                       │ (pad to 64)  │                                                       │
 *                       └──────────────┴───────────────────────────────────────────────────────┘
 *   R: bytes the consumer has released (a counter, modulo 2^32); W, bytes the producer has written,
 *   is the producer's own. Positions in the data are counters modulo the capacity (a power of two).
 *
 *   entry (8-aligned, never wrapping round the end):
 *     ┌──────────┬──────┬───────────┬─────────┬────────┬───────────────┬────────────────┬──────────────────┐
 *     │ size i32 │ n i32│ sl i32    │ enc i32 │ ts     │ nums          │ lens, pad → 8  │ strs, pad → 8    │
 *     │ (bytes)  │      │ (chars)   │         │ f64×n  │ f64×n×numeric │ u32×n×strings  │ sl chars, enc    │
 *     └──────────┴──────┴───────────┴─────────┴────────┴───────────────┴────────────────┴──────────────────┘
 *   A size of -1 is a wrap marker: the next entry starts at the beginning of the data. enc: 1 when the
 *   strings are Latin-1 (a byte a character, written without building a string, read back as one-byte
 *   strings: the usual case), 0 when some character is above U+00FF (UTF-16LE, two bytes each).
 *
 * Ordering between threads: the producer's plain writes of an entry happen before its postMessage,
 * which happens before the consumer's reads; the consumer's reads happen before its Atomics.store of
 * R, which the producer reads with Atomics.load before it writes over the space again.
 */
const HEADER = 64;
const ENTRY_HEADER = 16;
const WRAP = -1;

const align8 = (x: number): number => (x + 7) & ~7;
/** An entry's string encoding (header word 3). */
const UTF16 = 0;
const LATIN1 = 1;

export function createRingBuffer(capacity: number): SharedArrayBuffer {
  if (capacity < 1024 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two ≥ 1024, not ${capacity}`);
  return new SharedArrayBuffer(HEADER + capacity);
}

/** Where an entry of `n` records of `codec`'s shape at data offset `off` keeps its columns (absolute byte offsets). */
function layout(off: number, n: number, codec: Codec): { ts: number; nums: number; lens: number; strs: number } {
  const ts = HEADER + off + ENTRY_HEADER;
  const nums = ts + 8 * n;
  const lens = nums + 8 * n * codec.numCount;
  return { ts, nums, lens, strs: lens + align8(4 * n * codec.strCount) };
}

/** What both ends share: the views of the buffer. */
abstract class RingEnd {
  /** R, the bytes the consumer has released. */
  protected readonly released: Int32Array;
  /** The data, as int32 (entry headers). */
  protected readonly i32: Int32Array;
  /** The whole buffer as bytes (the string columns). */
  protected readonly bytes: Buffer;
  protected readonly capacity: number;

  constructor(protected readonly sab: SharedArrayBuffer) {
    this.capacity = sab.byteLength - HEADER;
    this.released = new Int32Array(sab, 0, 1);
    this.i32 = new Int32Array(sab, HEADER);
    this.bytes = Buffer.from(sab);
  }
}

/** The producer's end. */
export class RingWriter extends RingEnd {
  private written = 0;

  /**
   * Encodes the batch into the ring with `codec`; returns the entry's bytes, or false when it does not
   * fit now (the ring is full or the batch larger than it) or a record does not fit the codec's shape.
   * Nothing is announced: the caller announces a written entry on the port.
   */
  write(values: unknown[], timestamps: number[], codec: Codec): number | false {
    const free = this.capacity - ((this.written - (Atomics.load(this.released, 0) >>> 0)) >>> 0);
    const off = this.written & (this.capacity - 1);
    const room = this.capacity - off;
    // Before the end if it fits there; else from the beginning, the rest marked skipped.
    const size = this.encode(values, timestamps, codec, off, Math.min(room, free));
    if (size >= 0) { this.written = (this.written + size) >>> 0; return size; }
    if (size === NO_SHAPE || off === 0 || free <= room) return false;
    const wrapped = this.encode(values, timestamps, codec, 0, free - room);
    if (wrapped < 0) return false;
    this.i32[off >> 2] = WRAP;
    this.written = (this.written + room + wrapped) >>> 0;
    return wrapped;
  }

  /** Encodes an entry at `off` in at most `limit` bytes: its size, NO_ROOM or NO_SHAPE. */
  private encode(values: unknown[], timestamps: number[], codec: Codec, off: number, limit: number): number {
    const n = values.length;
    const at = layout(off, n, codec);
    const fixed = at.strs - HEADER - off;
    if (fixed > limit) return NO_ROOM;
    const ts = new Float64Array(this.sab, at.ts, n);
    for (let i = 0; i < n; i++) ts[i] = timestamps[i]!;
    const nums = new Float64Array(this.sab, at.nums, n * codec.numCount);
    const lens = new Uint32Array(this.sab, at.lens, n * codec.strCount);
    const base = HEADER + off;
    const end = encodeLatin1Columns(codec, values, n, nums, lens, this.bytes, at.strs, base + limit);
    if (end === NO_SHAPE || end === NO_ROOM) return end;
    let size: number, sl: number, enc: number;
    if (end !== NOT_LATIN1) { size = align8(end - base); sl = end - at.strs; enc = LATIN1; }
    else {
      const strs = codec.encode(values, n, nums, lens);
      if (strs === false) return NO_SHAPE;
      size = fixed + align8(2 * strs.length);
      if (size > limit) return NO_ROOM;
      this.bytes.write(strs, at.strs, 'utf16le');
      sl = strs.length; enc = UTF16;
    }
    const h = off >> 2;
    this.i32[h] = size;
    this.i32[h + 1] = n;
    this.i32[h + 2] = sl;
    this.i32[h + 3] = enc;
    return size;
  }
}

/** The consumer's end: reads the entries in the order the producer wrote them. */
export class RingReader extends RingEnd {
  private read = 0;

  /** Decodes the next entry with `codec` and releases its space; returns the records and the entry's bytes. */
  next(codec: Codec): { values: unknown[]; timestamps: number[]; bytes: number } {
    let off = this.read & (this.capacity - 1);
    if (this.i32[off >> 2] === WRAP) {
      this.read = (this.read + this.capacity - off) >>> 0;
      off = 0;
    }
    const h = off >> 2;
    const size = this.i32[h]!;
    const n = this.i32[h + 1]!;
    const sl = this.i32[h + 2]!;
    const at = layout(off, n, codec);
    const ts = new Float64Array(this.sab, at.ts, n);
    const timestamps = new Array<number>(n);
    for (let i = 0; i < n; i++) timestamps[i] = ts[i]!;
    const strs = sl === 0 ? '' : this.i32[h + 3] === LATIN1 ? this.bytes.toString('latin1', at.strs, at.strs + sl) : this.bytes.toString('utf16le', at.strs, at.strs + 2 * sl);
    const values = codec.decode(n, new Float64Array(this.sab, at.nums, n * codec.numCount), strs, new Uint32Array(this.sab, at.lens, n * codec.strCount));
    this.read = (this.read + size) >>> 0;
    Atomics.store(this.released, 0, this.read | 0);
    return { values, timestamps, bytes: size };
  }
}
