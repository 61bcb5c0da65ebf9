import { describe, it, expect } from 'vitest';
import { FramePool } from './frame-pool';

describe('FramePool', () => {
  it('hands out 8-aligned buffers of a power-of-two capacity, and the same memory again once given back', () => {
    const pool = new FramePool(2);
    const a = pool.take(5000);
    expect(a.length).toBe(8192);
    expect(a.byteOffset).toBe(0);
    expect(pool.take(100).length).toBe(4096); // at least 4 KiB
    pool.give(a.subarray(0, 4321)); // a frame: a view of the buffer
    const b = pool.take(6000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.take(6000).buffer).not.toBe(a.buffer); // given back once, taken once
  });

  it('keeps at most `keep` buffers of a capacity, and ignores memory that is not its own', () => {
    const pool = new FramePool(1);
    const x = pool.take(4096), y = pool.take(4096);
    pool.give(x);
    pool.give(y);
    expect(pool.take(4096).buffer).toBe(x.buffer);
    expect(pool.take(4096).buffer).not.toBe(y.buffer);
    const foreign = Buffer.alloc(5000);
    pool.give(foreign);
    expect(pool.take(5000).buffer).not.toBe(foreign.buffer);
  });
});
