/** Host names, IP literals, ports and job-manager URLs as the deploy files spell them. */
import { describe, expect, it } from 'vitest';
import { hostProblem, parseJobManagerUrl, parsePort } from './addresses';

describe('hostProblem', () => {
  it('accepts DNS names, IPv4 and bare IPv6 literals', () => {
    for (const h of ['10.1.2.3', 'tm-1.example.org', 'host_1', '::1', 'fe80::1']) expect(hostProblem(h), h).toBeUndefined();
  });
  it('names what is wrong with anything else', () => {
    expect(hostProblem('')).toBe('empty host');
    expect(hostProblem('a b')).toBe("host 'a b' contains spaces");
    expect(hostProblem('300.1.1.1')).toBe("'300.1.1.1' is not a valid IPv4 address");
    expect(hostProblem('-bad-')).toBe("'-bad-' is not a valid host name");
  });
});

describe('parsePort', () => {
  it('takes decimal ports in 1..65535 only', () => {
    expect(parsePort('22')).toBe(22);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['0', '65536', '-1', '22a', '', '1e3', '123456']) expect(parsePort(bad), bad).toBeUndefined();
  });
});

describe('parseJobManagerUrl', () => {
  it('normalizes http://host:port and refuses paths, schemes and missing ports', () => {
    expect(parseJobManagerUrl('http://H:8770/')).toEqual({ url: 'http://H:8770', host: 'H', port: 8770 });
    expect(parseJobManagerUrl('https://h:1')).toEqual({ problem: "'https://h:1': the scheme must be http, not https (expected http://host:port, e.g. http://10.1.2.0:8770)" });
    expect(parseJobManagerUrl('http://h')).toHaveProperty('problem', expect.stringContaining('missing port'));
    expect(parseJobManagerUrl('http://h:1/x')).toHaveProperty('problem', expect.stringContaining('must not have a path'));
  });
});
