import { describe, expect, it } from 'vitest';
import { sinks, sources } from './index';

describe('connectors index', () => {
  it('exposes the built-in sources and sinks', () => {
    expect(Object.keys(sources).sort()).toEqual(['collection', 'file', 'generator', 'kafka', 'redisStream']);
    expect(Object.keys(sinks).sort()).toEqual(['file', 'kafka', 'mysql', 'postgres', 'print', 'redis']);
    expect(sources.file({ path: '/x', format: 'csv' }).describe()).toEqual({ kind: 'file', path: '/x', format: 'csv' });
    expect(sinks.file({ path: '/y' }).kind).toBe('file');
  });
});
