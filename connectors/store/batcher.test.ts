import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  it('writes full batches of batchSize, in order, one at a time', async () => {
    const batches: number[][] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const b = new Batcher<number>({
      batchSize: 3, flushIntervalMs: 10_000,
      flush: async (batch) => { concurrent++; maxConcurrent = Math.max(maxConcurrent, concurrent); await tick(5); batches.push(batch); concurrent--; },
    });
    await b.add([1, 2]);
    expect(batches).toEqual([]);
    await b.add([3, 4, 5, 6, 7]);
    await b.drain();
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(maxConcurrent).toBe(1);
    await b.close();
  });

  it('writes a partial batch once its first record has waited flushInterval', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number>({ batchSize: 100, flushIntervalMs: 30, flush: async (batch) => { batches.push(batch); } });
    void b.add([1]);
    void b.add([2]);
    await tick(10);
    expect(batches).toEqual([]);
    await tick(60);
    expect(batches).toEqual([[1, 2]]);
    await b.close();
  });

  it('returns a promise (backpressure) once a full batch waits behind the one being written', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const b = new Batcher<number>({ batchSize: 2, flushIntervalMs: 10_000, flush: async () => { await gate; } });
    expect(b.add([1, 2])).toBeUndefined(); // the first batch goes, nothing waits behind it
    const p = b.add([3, 4]);
    expect(p).toBeInstanceOf(Promise);
    let resolved = false;
    void p!.then(() => { resolved = true; });
    await tick(10);
    expect(resolved).toBe(false);
    release();
    await p;
    expect(b.size).toBe(0);
    await b.close();
  });

  it('keeps a failed flush: the next add and drain throw it', async () => {
    const b = new Batcher<number>({ batchSize: 1, flushIntervalMs: 10_000, flush: async () => { throw new Error('store down'); } });
    void b.add([1]);
    await tick(5);
    expect(() => b.add([2])).toThrow('store down');
    await expect(b.drain()).rejects.toThrow('store down');
    await b.close();
  });

  it('holds batches back while canFlush is false (add never waits), drain writes regardless, poke resumes', async () => {
    const batches: number[][] = [];
    let allowed = false;
    const b = new Batcher<number>({ batchSize: 2, flushIntervalMs: 10, canFlush: () => allowed, flush: async (batch) => { batches.push(batch); } });
    for (let i = 0; i < 10; i += 2) expect(b.add([i, i + 1])).toBeUndefined();
    await tick(40);
    expect(batches).toEqual([]);
    expect(b.size).toBe(10);
    allowed = true;
    b.poke();
    await tick(20);
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    allowed = false;
    void b.add([10]);
    await b.drain();
    expect(batches.at(-1)).toEqual([10]);
    await b.close();
  });
});
