/**
 * Network addresses in the deploy files: host names and IP literals, TCP ports, and job-manager URLs
 * (`http://host:port`). Each check returns the problem as text (for a `file:line: key: problem`
 * report) instead of throwing. Shared by `standalone.yaml` and `task_managers`.
 */
import { isIPv4, isIPv6 } from 'node:net';

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Why `host` is not a usable DNS name or IP literal (IPv6 without brackets), or undefined when it is. */
export function hostProblem(host: string): string | undefined {
  if (host === '') return 'empty host';
  if (/\s/.test(host)) return `host '${host}' contains spaces`;
  if (isIPv6(host)) return undefined;
  if (/^[0-9.]+$/.test(host)) return isIPv4(host) ? undefined : `'${host}' is not a valid IPv4 address`;
  return HOSTNAME.test(host) ? undefined : `'${host}' is not a valid host name`;
}

/** Parses a TCP port written as decimal digits; undefined unless it is an integer in 1..65535. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Parses `http://host:port` (optionally with a trailing `/`); anything else is a problem. */
export function parseJobManagerUrl(text: string): { url: string; host: string; port: number } | { problem: string } {
  const expected = '(expected http://host:port, e.g. http://10.1.2.0:8770)';
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(text);
  if (!match) return { problem: `'${text}' is not a URL ${expected}` };
  const [, scheme = '', authority = '', pathname = '', query, fragment] = match;
  if (scheme.toLowerCase() !== 'http') return { problem: `'${text}': the scheme must be http, not ${scheme} ${expected}` };
  if (authority.includes('@')) return { problem: `'${text}': user names and passwords do not belong in the URL ${expected}` };
  const hostPort = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(authority);
  if (!hostPort) return { problem: `'${text}': cannot read host and port ${expected}` };
  const [, rawHost = '', portText] = hostPort;
  const bracketed = rawHost.startsWith('[');
  const host = bracketed ? rawHost.slice(1, -1) : rawHost;
  if (bracketed && !isIPv6(host)) return { problem: `'${text}': '${host}' is not an IPv6 address` };
  const badHost = bracketed ? undefined : hostProblem(host);
  if (badHost) return { problem: `'${text}': ${badHost} ${expected}` };
  if (portText === undefined || portText === '') return { problem: `'${text}': missing port ${expected}` };
  const port = parsePort(portText);
  if (port === undefined) return { problem: `'${text}': bad port '${portText}' (expected 1..65535)` };
  if (pathname !== '' && pathname !== '/') return { problem: `'${text}': must not have a path (got ${pathname}) ${expected}` };
  if (query !== undefined || fragment !== undefined) return { problem: `'${text}': must not have a query or fragment ${expected}` };
  return { url: `http://${bracketed ? `[${host}]` : host}:${port}`, host, port };
}
