import { describe, expect, it } from 'vitest';
import { backoff, isNetworkError, withRetries } from './retry';

describe('withRetries', () => {
  it('retries transient failures with growing waits until one succeeds', async () => {
    const waits: number[] = [];
    let n = 0;
    const v = await withRetries(async () => { if (++n < 4) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }); return 'ok'; }, {
      timeoutMs: 5_000, isTransient: isNetworkError, initialDelayMs: 5, maxDelayMs: 40,
      onRetry: (_e, _a, w) => { waits.push(w); }, fail: () => new Error('gave up'),
    });
    expect(v).toBe('ok');
    expect(n).toBe(4);
    expect(waits).toHaveLength(3);
    expect(waits[2]!).toBeGreaterThan(waits[0]!);
  });

  it('throws a non-transient failure at once', async () => {
    let n = 0;
    await expect(withRetries(async () => { n++; throw new Error('syntax error'); }, { timeoutMs: 5_000, isTransient: () => false, fail: () => new Error('gave up') }))
      .rejects.toThrow('syntax error');
    expect(n).toBe(1);
  });

  it('gives up after timeoutMs with fail(last failure, elapsed)', async () => {
    const t0 = Date.now();
    await expect(withRetries(async () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }); }, {
      timeoutMs: 300, isTransient: isNetworkError, initialDelayMs: 20, fail: (last, ms) => new Error(`gave up after ${ms >= 250 ? 'the bound' : ms}: ${(last as Error).message}`),
    })).rejects.toThrow('gave up after the bound: connect ECONNREFUSED 127.0.0.1:1');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('abandons an attempt that hangs past the deadline', async () => {
    const t0 = Date.now();
    await expect(withRetries(() => new Promise<never>(() => undefined), { timeoutMs: 100, isTransient: () => true, fail: (last) => new Error(`gave up: ${(last as Error).message}`) }))
      .rejects.toThrow(/gave up: no answer within/);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('backs off exponentially within the cap, with jitter', () => {
    expect(backoff(0, 100, 2000)).toBeGreaterThanOrEqual(80);
    expect(backoff(0, 100, 2000)).toBeLessThanOrEqual(120);
    expect(backoff(20, 100, 2000)).toBeLessThanOrEqual(2400);
    expect(isNetworkError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isNetworkError(new Error('relation "x" does not exist'))).toBe(false);
  });
});
