import { describe, expect, it } from 'vitest';
import { describeEndpoint, parseEndpoint, redact } from './endpoint';

describe('store endpoints', () => {
  it('parses a URL with credentials, port and database; describes it without the password', () => {
    const e = parseEndpoint('postgres sink', 'postgres://bob:s%40cret@db.local:6543/stats?sslmode=require', ['postgres', 'postgresql'], 5432);
    expect(e).toMatchObject({ host: 'db.local', port: 6543, user: 'bob', password: 's@cret', database: 'stats', params: { sslmode: 'require' } });
    expect(describeEndpoint(e)).toBe('bob@db.local:6543/stats');
  });

  it('fills the default port and takes an object', () => {
    expect(parseEndpoint('x', 'mysql://h/db', ['mysql'], 3306).port).toBe(3306);
    const e = parseEndpoint('x', { host: '::1', port: 1, database: 'd' }, ['mysql'], 3306);
    expect(describeEndpoint(e)).toBe('[::1]:1/d');
  });

  it('refuses another scheme, a missing connection and a bad port, naming the option and never the password', () => {
    expect(() => parseEndpoint('postgres sink', 'mysql://u:pw@h/db', ['postgres'], 5432)).toThrow(/postgres sink: option "connection" must start with postgres:\/\/, not mysql:\/\//);
    expect(() => parseEndpoint('postgres sink', undefined, ['postgres'], 5432)).toThrow(/option "connection" is required/);
    expect(() => parseEndpoint('x', { port: 70000 }, ['postgres'], 5432)).toThrow(/connection.port must be a port number/);
    expect(() => parseEndpoint('x', 'not a url', ['postgres'], 5432)).toThrow(/must be a URL like postgres:\/\//);
    expect(redact('postgres://u:topsecret@h/db')).toBe('postgres://u:***@h/db');
  });
});
