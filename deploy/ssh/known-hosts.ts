/**
 * OpenSSH known_hosts: parsing, host lookup and appending, as `ssh` itself reads and writes the file.
 *
 * Line format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
 *   [@revoked|@cert-authority] host-patterns key-type base64-key [comment]
 * host-patterns: comma-separated; `*`/`?` wildcards; `!pattern` negates; `[host]:port` for ports
 * other than 22; or one hashed name `|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>`.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { expandHome } from '../../core/fs/paths';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: KnownHostMarker;
  /** The host patterns as written (one hashed `|1|…|…` name, or plain patterns). */
  patterns: string[];
  hashed: boolean;
  keyType: string;
  /** The key blob, base64 as in the file. */
  keyBase64: string;
  comment?: string;
}

export interface KnownHostsLineError { line: number; reason: string }

/** `[host]:port` unless the port is 22, as OpenSSH names a host in known_hosts. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a key blob (a Buffer, or base64 as in known_hosts). */
export function fingerprint(key: Buffer | string): string {
  const blob = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type written inside an SSH key blob (its first string), or undefined when malformed. */
export function keyBlobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `~` and `~/…` to the home directory. */
export { expandHome };

/** Glob match with `*` and `?`, case-insensitive (OpenSSH's match_pattern on lowercased names). */
function globMatch(name: string, pattern: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(name);
}

function hashedMatch(name: string, hashed: string): boolean {
  // |1|salt|hash — HMAC-SHA1 keyed by the salt over the name as looked up ("[host]:port" or "host").
  const parts = hashed.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && got.equals(want);
}

/** Whether an entry's host patterns match host:port (a negated pattern that matches excludes the line). */
export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostName(host, port).toLowerCase();
  if (entry.hashed) return entry.patterns.some((p) => hashedMatch(name, p));
  let matched = false;
  for (const raw of entry.patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (globMatch(name, pattern)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Parses known_hosts text; malformed lines are skipped and reported in `errors`. */
export function parseKnownHosts(text: string): { entries: KnownHostEntry[]; errors: KnownHostsLineError[] } {
  const entries: KnownHostEntry[] = [];
  const errors: KnownHostsLineError[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else { errors.push({ line: i + 1, reason: `unknown marker ${m}` }); continue; }
    }
    if (fields.length < 3) { errors.push({ line: i + 1, reason: 'expected: host-patterns key-type base64-key' }); continue; }
    const [hosts, keyType, keyBase64, ...rest] = fields as [string, string, string, ...string[]];
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) { errors.push({ line: i + 1, reason: 'the key is not base64' }); continue; }
    const hashed = hosts.startsWith('|');
    const entry: KnownHostEntry = { line: i + 1, patterns: hashed ? [hosts] : hosts.split(',').filter((p) => p !== ''), hashed, keyType, keyBase64 };
    if (marker) entry.marker = marker;
    if (rest.length > 0) entry.comment = rest.join(' ');
    entries.push(entry);
  }
  return { entries, errors };
}

/** A parsed known_hosts file. */
export class KnownHosts {
  constructor(readonly file: string, readonly entries: KnownHostEntry[], readonly errors: KnownHostsLineError[] = []) {}

  static parse(text: string, file = '(text)'): KnownHosts {
    const { entries, errors } = parseKnownHosts(text);
    return new KnownHosts(file, entries, errors);
  }

  /** Reads the file; a missing file is an empty list (ssh treats it the same way). */
  static async load(file: string): Promise<KnownHosts> {
    const path = expandHome(file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new KnownHosts(path, []);
      throw err;
    }
    return KnownHosts.parse(text, path);
  }

  /**
   * Entries (plain keys and @revoked ones; @cert-authority lines are skipped) whose patterns match
   * host:port, optionally of one key type, in file order.
   */
  lookup(host: string, port: number, keyType?: string): KnownHostEntry[] {
    return this.entries.filter((e) => e.marker !== 'cert-authority'
      && (keyType === undefined || e.keyType === keyType)
      && entryMatches(e, host, port));
  }

  /**
   * What to make of the key a host offers: 'revoked' (a matching @revoked line has it), 'known' (a
   * plain entry has it), 'changed' (the host has entries, none with this key), or 'unknown'.
   */
  check(host: string, port: number, keyBlob: Buffer): { status: 'known' | 'revoked' | 'changed' | 'unknown'; entry?: KnownHostEntry } {
    const found = this.lookup(host, port);
    const sameKey = (e: KnownHostEntry) => Buffer.from(e.keyBase64, 'base64').equals(keyBlob);
    const revoked = found.find((e) => e.marker === 'revoked' && sameKey(e));
    if (revoked) return { status: 'revoked', entry: revoked };
    const plain = found.filter((e) => e.marker === undefined);
    const known = plain.find(sameKey);
    if (known) return { status: 'known', entry: known };
    if (plain.length > 0) return { status: 'changed', entry: plain[0]! };
    return { status: 'unknown' };
  }

  /** The key types the file knows for host:port (to prefer them in the key exchange, as ssh does). */
  keyTypesFor(host: string, port: number): string[] {
    return [...new Set(this.lookup(host, port).filter((e) => e.marker === undefined).map((e) => e.keyType))];
  }
}

/**
 * Appends `host algo key` (`[host]:port …` when port ≠ 22) to a known_hosts file, creating its
 * directory (0700) and the file (0600) when missing, and starting a new line if the file lacks one.
 */
export async function appendKnownHost(file: string, host: string, port: number, keyAlgo: string, keyBase64: string): Promise<void> {
  const path = expandHome(file);
  const dir = dirname(path);
  try {
    await stat(dir);
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  let prefix = '';
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await appendFile(path, '', { mode: 0o600 });
    await chmod(path, 0o600); // the umask may have narrowed or the mode option been ignored
  }
  await appendFile(path, `${prefix}${knownHostName(host, port)} ${keyAlgo} ${keyBase64}\n`);
}
