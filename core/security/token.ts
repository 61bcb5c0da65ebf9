import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RlinkError } from '../errors';
import { expandHome } from '../fs/paths';

/**
 * The cluster token. Every mutating REST call, the task-manager control socket and the data sockets
 * between task managers carry it as `Authorization: Bearer <token>`. Every process and command takes
 * it from RLINK_TOKEN or from a token file (`--token-file`); a job manager started with neither
 * generates one and stores it with mode 0600.
 */
export const DEFAULT_TOKEN_FILE = '~/.rlink/token';

export { expandHome };

/** A file's permission bits as `0600`. */
export function octalMode(mode: number): string { return `0${(mode & 0o777).toString(8).padStart(3, '0')}`; }

/**
 * The token in `path`. A token file that group or others may read or write is refused, as ssh refuses
 * an unprotected private key: whoever reads the token can run code on every host of the cluster.
 */
export function readTokenFile(path: string): string {
  const file = resolve(expandHome(path));
  if (!existsSync(file)) throw new RlinkError('RLINK_CONFIG', `token file ${file} does not exist`, { context: { file } });
  const mode = statSync(file).mode;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new RlinkError('RLINK_CONFIG', `token file ${file} is accessible by group or others (mode ${octalMode(mode)}): run chmod 600 ${file}`, { context: { file } });
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new RlinkError('RLINK_CONFIG', `token file ${file} holds no token (at least 16 characters)`, { context: { file } });
  return token;
}

/** The token from RLINK_TOKEN or the token file; undefined when neither is given. */
export function resolveToken(opts: { tokenFile?: string | undefined; env?: NodeJS.ProcessEnv } = {}): string | undefined {
  const env = opts.env ?? process.env;
  if (opts.tokenFile) return readTokenFile(opts.tokenFile);
  const t = env.RLINK_TOKEN?.trim();
  if (t) {
    if (t.length < 16) throw new RlinkError('RLINK_CONFIG', 'RLINK_TOKEN is shorter than 16 characters');
    return t;
  }
  return undefined;
}

/** Creates a random token in `path` (mode 0600, parent directory 0700) unless one is there; returns it. */
export function ensureTokenFile(path: string = DEFAULT_TOKEN_FILE): { token: string; file: string; created: boolean; mode: string } {
  const file = resolve(expandHome(path));
  if (existsSync(file) && statSync(file).size > 0) {
    const token = readTokenFile(file);
    return { token, file, created: false, mode: octalMode(statSync(file).mode) };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, created: true, mode: octalMode(statSync(file).mode) };
}

/** Constant-time check of an `Authorization: Bearer …` header against the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function bearer(token: string): string { return `Bearer ${token}`; }
