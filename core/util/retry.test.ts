/** The retry module: back-off delays, retry() and its bounds, Backoff for event-driven loops, poll(). */
import { describe, expect, it } from 'vitest';
import { Backoff, DeadlineError, backoffDelay, poll, retry } from './retry';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const isRefused = (e: unknown) => (e as { code?: string }).code === 'ECONNREFUSED';

describe('backoffDelay', () => {
  it('grows by the factor from initialMs and stops at maxMs', () => {
    const noJitter = { initialMs: 100, maxMs: 1_000, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, noJitter))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelay(2, { initialMs: 10, factor: 3, jitter: 0 })).toBe(90);
  });

  it('keeps the jitter within ±jitter of the base delay', () => {
    const o = { initialMs: 100, maxMs: 5_000, jitter: 0.25 };
    expect(backoffDelay(0, o, () => 0)).toBe(75);
    expect(backoffDelay(0, o, () => 0.999999)).toBe(125);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, o);
      expect(d).toBeGreaterThanOrEqual(600);
      expect(d).toBeLessThanOrEqual(1_000);
    }
  });

  it('never overflows for huge attempt numbers, and defaults to 100 ms … 5 s ±20 %', () => {
    expect(backoffDelay(1e9, { jitter: 0 })).toBe(5_000);
    expect(backoffDelay(0, {}, () => 0)).toBe(80);
    expect(backoffDelay(-3, { jitter: 0 })).toBe(100);
  });
});

describe('Backoff', () => {
  it('hands out growing delays and starts afresh after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 400, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 400]);
    expect(b.attempts).toBe(4);
    b.reset();
    expect(b.next()).toBe(100);
  });
});

describe('retry', () => {
  it('retries retriable failures with growing waits until one succeeds', async () => {
    const waits: number[] = [];
    let n = 0;
    const v = await retry(async (attempt) => { expect(attempt).toBe(n); if (++n < 4) throw refused(); return 'ok'; }, {
      timeoutMs: 5_000, isRetriable: isRefused, backoff: { initialMs: 5, maxMs: 40, jitter: 0 },
      onRetry: (_e, _a, w) => { waits.push(w); }, fail: () => new Error('gave up'),
    });
    expect(v).toBe('ok');
    expect(n).toBe(4);
    expect(waits).toEqual([5, 10, 20]);
  });

  it('throws a failure that is not retriable at once', async () => {
    let n = 0;
    await expect(retry(async () => { n++; throw new Error('syntax error'); }, { timeoutMs: 5_000, isRetriable: () => false, fail: () => new Error('gave up') }))
      .rejects.toThrow('syntax error');
    expect(n).toBe(1);
  });

  it('gives up at the deadline with fail(last failure, elapsed)', async () => {
    const t0 = Date.now();
    await expect(retry(async () => { throw refused(); }, {
      timeoutMs: 300, isRetriable: isRefused, backoff: { initialMs: 20 },
      fail: (last, ms) => new Error(`gave up after ${ms >= 250 ? 'the bound' : ms}: ${(last as Error).message}`),
    })).rejects.toThrow('gave up after the bound: connect ECONNREFUSED 127.0.0.1:1');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('abandons an attempt that hangs past the deadline, reporting the failure before it', async () => {
    let n = 0;
    const t0 = Date.now();
    await expect(retry(() => (++n === 1 ? Promise.reject(refused()) : new Promise<never>(() => undefined)), {
      timeoutMs: 200, isRetriable: isRefused, backoff: { initialMs: 10 }, fail: (last) => new Error(`gave up: ${(last as Error).message}`),
    })).rejects.toThrow('gave up: connect ECONNREFUSED');
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('reports a DeadlineError when the first attempt itself hangs', async () => {
    let last: unknown;
    await expect(retry(() => new Promise<never>(() => undefined), { timeoutMs: 100, isRetriable: () => true, fail: (l) => { last = l; return new Error('gave up'); } }))
      .rejects.toThrow('gave up');
    expect(last).toBeInstanceOf(DeadlineError);
    expect((last as Error).message).toMatch(/no answer within \d+ ms/);
  });

  it('is bounded in attempts as well as in time', async () => {
    let n = 0;
    await expect(retry(async () => { n++; throw refused(); }, {
      timeoutMs: 60_000, maxAttempts: 3, isRetriable: isRefused, backoff: { initialMs: 1, jitter: 0 }, fail: (last) => new Error(`gave up: ${(last as Error).message}`),
    })).rejects.toThrow('gave up: connect ECONNREFUSED');
    expect(n).toBe(3);
  });

  it('stops when closed() says so', async () => {
    let n = 0;
    let closed = false;
    await expect(retry(async () => { n++; closed = true; throw refused(); }, {
      timeoutMs: 60_000, isRetriable: isRefused, closed: () => closed, backoff: { initialMs: 1 }, fail: (last) => new Error(`stopped: ${(last as Error).message}`),
    })).rejects.toThrow('stopped: connect ECONNREFUSED');
    expect(n).toBe(1);
  });
});

describe('poll', () => {
  it('returns the first value the check yields', async () => {
    let n = 0;
    const v = await poll(() => (++n === 3 ? `value after ${n}` : undefined), { timeoutMs: 5_000, intervalMs: 5, fail: () => new Error('no value') });
    expect(v).toBe('value after 3');
  });

  it('fails with fail(elapsed) at the deadline, having checked at the deadline', async () => {
    const t0 = Date.now();
    const at: number[] = [];
    await expect(poll(() => { at.push(Date.now() - t0); return undefined; }, { timeoutMs: 150, intervalMs: 100, fail: (ms) => new Error(`nothing within ${ms >= 150 ? 'the bound' : ms}`) }))
      .rejects.toThrow('nothing within the bound');
    expect(at.length).toBe(3); // at 0, at 100, and at the deadline (150)
    expect(at[2]!).toBeGreaterThanOrEqual(140);
  });

  it('passes a failing check straight through', async () => {
    await expect(poll(() => { throw new Error('boom'); }, { timeoutMs: 1_000, fail: () => new Error('no value') })).rejects.toThrow('boom');
  });

  it('is bounded in checks, and waits with back-off without intervalMs', async () => {
    let n = 0;
    await expect(poll(() => { n++; return undefined; }, { timeoutMs: 60_000, maxAttempts: 4, backoff: { initialMs: 1, maxMs: 2 }, fail: () => new Error('no value') }))
      .rejects.toThrow('no value');
    expect(n).toBe(4);
  });
});
