/**
 * Frame memory a producer reuses once its socket has written it. A frame encoded into a fresh buffer
 * pays for the allocation and, more, for first writes to memory not in any cache (page faults and
 * misses): on the shuffle bench a fresh 40 KB buffer per batch cost more than encoding into it.
 * Buffers are kept by capacity (powers of two, from 4 KiB), at most `keep` of each; a buffer whose
 * write never completes (the connection died) is simply not returned, and the GC takes it.
 */
export class FramePool {
  private readonly free = new Map<number, ArrayBuffer[]>();

  constructor(private readonly keep = 16) {}

  /** A buffer of at least `bytes`, starting at byte 0 of its own ArrayBuffer (so 8-aligned). */
  take(bytes: number): Buffer {
    const capacity = FramePool.capacityFor(bytes);
    const ab = this.free.get(capacity)?.pop() ?? new ArrayBuffer(capacity);
    return Buffer.from(ab, 0, capacity);
  }

  /** Gives back the memory of a frame taken from this pool (any view of it): it may be written over. */
  give(frame: Uint8Array): void {
    const ab = frame.buffer as ArrayBuffer;
    const capacity = ab.byteLength;
    if (capacity !== FramePool.capacityFor(capacity)) return; // not one of ours
    let list = this.free.get(capacity);
    if (!list) { list = []; this.free.set(capacity, list); }
    if (list.length < this.keep) list.push(ab);
  }

  static capacityFor(bytes: number): number {
    return Math.max(4096, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
  }
}
