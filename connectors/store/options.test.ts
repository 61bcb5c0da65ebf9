import { describe, expect, it } from 'vitest';
import { resolveBatchOptions, resolveUpsertKey } from './options';

describe('store sink options', () => {
  it('defaults: batches of 1000, 200 ms, 30 s of retries', () => {
    expect(resolveBatchOptions('x sink', {})).toEqual({ batchSize: 1000, flushIntervalMs: 200, retryTimeoutMs: 30_000 });
  });

  it('takes text as a job file or SQL WITH gives it: digits, durations, comma-separated keys', () => {
    expect(resolveBatchOptions('x sink', { batchSize: '500' as unknown as number, flushInterval: '1s', retryTimeout: '2m' }))
      .toEqual({ batchSize: 500, flushIntervalMs: 1000, retryTimeoutMs: 120_000 });
    expect(resolveUpsertKey('x sink', 'user, windowStart')).toEqual(['user', 'windowStart']);
    expect(resolveUpsertKey('x sink', ['a'])).toEqual(['a']);
    expect(resolveUpsertKey('x sink', undefined)).toBeUndefined();
  });

  it('refuses what makes no sense, naming the option', () => {
    expect(() => resolveBatchOptions('x sink', { batchSize: 0 })).toThrow('x sink: batchSize must be an integer from 1 to 1000000, not 0');
    expect(() => resolveBatchOptions('x sink', { flushInterval: 'soon' })).toThrow(/x sink: flushInterval: 'soon' is not a duration/);
    expect(() => resolveUpsertKey('x sink', 'a,a')).toThrow(/lists a field twice/);
    expect(() => resolveUpsertKey('x sink', 'a,')).toThrow(/upsertKey must be a field name/);
  });
});
