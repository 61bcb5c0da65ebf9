import { RlinkError } from '../../core/errors';

/**
 * Where a store is: what the user wrote as a URL (`postgres://user:pass@host:5432/db`) or as an
 * object, checked once and completed with the store's default port. The password never appears in
 * {@link describeEndpoint} (what logs, errors and the job graph show).
 */
export interface Endpoint {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  database: string | undefined;
  /** Further URL query parameters (`?sslmode=…`), as given. */
  params: Record<string, string>;
  /** The URL as the user gave it (clients that parse URLs themselves get it whole); undefined for an object. */
  url: string | undefined;
}

/** A connection given as an object instead of a URL. */
export interface ConnectionObject {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

/**
 * Parses `connection` (a URL of one of `schemes`, or an object) for connector `what`
 * (e.g. 'postgres sink'); RLINK_CONFIG errors name the option.
 */
export function parseEndpoint(what: string, connection: unknown, schemes: string[], defaultPort: number, option = 'connection'): Endpoint {
  if (typeof connection === 'string') {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw new RlinkError('RLINK_CONFIG', `${what}: option "${option}" must be a URL like ${schemes[0]}://user:password@host:${defaultPort}/database, not ${JSON.stringify(redact(connection))}`);
    }
    const scheme = url.protocol.replace(/:$/, '');
    if (!schemes.includes(scheme)) {
      throw new RlinkError('RLINK_CONFIG', `${what}: option "${option}" must start with ${schemes.map((s) => `${s}://`).join(' or ')}, not ${scheme}://`);
    }
    if (url.hostname === '') throw new RlinkError('RLINK_CONFIG', `${what}: option "${option}" has no host`);
    const port = url.port === '' ? defaultPort : Number(url.port);
    const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      user: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      database: path === '' ? undefined : path,
      params: Object.fromEntries(url.searchParams.entries()),
      url: connection,
    };
  }
  if (connection && typeof connection === 'object' && !Array.isArray(connection)) {
    const c = connection as ConnectionObject;
    const str = (k: keyof ConnectionObject): string | undefined => {
      const v = c[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v === '') throw new RlinkError('RLINK_CONFIG', `${what}: ${option}.${k} must be a non-empty string`);
      return v;
    };
    const port = c.port ?? defaultPort;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RlinkError('RLINK_CONFIG', `${what}: ${option}.port must be a port number, not ${JSON.stringify(c.port)}`);
    return { host: str('host') ?? '127.0.0.1', port, user: str('user'), password: str('password'), database: str('database'), params: {}, url: undefined };
  }
  throw new RlinkError('RLINK_CONFIG', `${what}: option "${option}" is required: a URL like ${schemes[0]}://user:password@host:${defaultPort}/database, or { host, port, user, password, database }`);
}

/** `host:port`, IPv6 hosts in brackets. */
export function hostPort(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** `user@host:port/database`, without the password: for logs, errors and `describe()`. */
export function describeEndpoint(e: Endpoint): string {
  return `${e.user ? `${e.user}@` : ''}${hostPort(e)}${e.database ? `/${e.database}` : ''}`;
}

/** A URL with its password replaced by `***`. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
