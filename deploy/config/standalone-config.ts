/**
 * Loader of `standalone.yaml`, the cluster description read by `rlink deploy standalone` (and the
 * optional `yarn:` section used by `rlink submit --yarn`). Every key is checked; all problems of a
 * file are reported together in one RLINK_CONFIG error, each as `<file>:<line>: <key path>: <what>`.
 * Also home of the helpers shared with the task_managers loader (problem list, file reading, `~`).
 */
import { readFileSync } from 'node:fs';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { posix, resolve } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { expandHome } from '../../core/fs/paths';
import { RlinkError, errorMessage } from '../../core/errors';
import { toMillis } from '../../core/time/duration';

export interface JobManagerAddress {
  /** Normalized `http://host:port` (IPv6 hosts in brackets), no trailing slash. */
  url: string;
  /** The host as SSH reaches it (IPv6 without brackets). */
  host: string;
  port: number;
  /** Line of the URL in the yaml. */
  line: number;
}

export interface StandaloneConfig {
  file: string;
  jobManagers: JobManagerAddress[];
  metadataStorage: { type: 'Memory' } | { type: 'FileSystem'; path: string };
  taskManagerBindIp: string;
  workDir: string;
  slots: number;
  ssh: { user: string; port: number; identityFile: string; knownHosts: string; connectTimeout: string };
  checkpoint?: { dir: string; interval?: string };
  auth: { tokenFile: string };
  node: string;
  deploy: { concurrency: number };
  yarn?: { webhdfs?: string; resourceManager?: string; hdfsUser?: string; queue?: string };
}

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by task-managers.ts)
// ---------------------------------------------------------------------------------------------

/** One thing wrong with a configuration file: where (1-based line, key path) and what. */
export interface ConfigProblem {
  line: number;
  key: string;
  message: string;
}

/** The error thrown for an invalid file: an RlinkError('RLINK_CONFIG') that also lists every problem. */
export class ConfigValidationError extends RlinkError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    const lines = problems.map((p) => `  ${file}:${p.line}: ${p.key}: ${p.message}`);
    const first = problems[0];
    super('RLINK_CONFIG', [`${file}: ${count}`, ...lines].join('\n'), {
      context: first ? { file, line: first.line, key: first.key } : { file },
    });
    this.file = file;
    this.problems = problems;
  }
}

/** Collects the problems of one file; `throwIfAny` raises them all together, ordered by line. */
export class ProblemList {
  private readonly problems: ConfigProblem[] = [];

  constructor(readonly file: string) {}

  add(line: number, key: string, message: string): void {
    this.problems.push({ line, key, message });
  }

  get count(): number {
    return this.problems.length;
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const byLine = this.problems
      .map((problem, order) => ({ problem, order }))
      .sort((a, b) => a.problem.line - b.problem.line || a.order - b.order)
      .map(({ problem }) => problem);
    throw new ConfigValidationError(this.file, byLine);
  }
}

/** Reads a configuration file as UTF-8; a missing or unreadable file is an RLINK_CONFIG error naming it. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new RlinkError('RLINK_CONFIG', `${file}: cannot read: ${errorMessage(err)}`, { context: { file }, cause: err });
  }
}

/** `~` and `~/x` become the home directory (default: the current user's); every other path is unchanged. */
export { expandHome };

/** The known key closest to `unknown` when it is plausibly a typo (or a suffix, `slots` → `task_manager_slots`). */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const normalized = unknown.toLowerCase().replace(/-/g, '_');
  const allowed = normalized.length <= 4 ? 1 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(normalized, key);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { key, distance };
  }
  if (best) return best.key;
  if (normalized.length >= 4) return known.find((key) => key.endsWith(`_${normalized}`));
  return undefined;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, at(i - 2, j - 2) + 1);
      d[i]![j] = value;
    }
  }
  return at(a.length, b.length);
}

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

// ---------------------------------------------------------------------------------------------
// The YAML walker: typed reads that report problems with lines instead of throwing
// ---------------------------------------------------------------------------------------------

/** A value in the document together with its key path and the line to blame. */
interface Entry {
  path: string;
  /** The value node; null for `key:` with nothing after it. */
  node: Node | null;
  /** Line of the value (the key's line when the value is empty). */
  line: number;
  /** Line of the key (the item's line in a list). */
  keyLine: number;
}

class YamlReader {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    readonly problems: ProblemList,
  ) {}

  lineOf(node: unknown, fallback: number): number {
    const range = (node as { range?: [number, number, number] | null } | null)?.range;
    return range ? this.lineCounter.linePos(range[0]).line : fallback;
  }

  private resolveAlias(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  entry(node: unknown, path: string, fallbackLine: number): Entry {
    const resolved = this.resolveAlias(node);
    const line = isScalar(resolved) && resolved.value === null ? fallbackLine : this.lineOf(node, fallbackLine);
    return { path, node: resolved, line, keyLine: this.lineOf(node, fallbackLine) };
  }

  fail(entry: Entry, message: string, atKey = false): undefined {
    this.problems.add(atKey ? entry.keyLine : entry.line, entry.path, message);
    return undefined;
  }

  /**
   * The entries of a mapping by key. Reports a value that is not a mapping, keys that are not
   * plain strings, and unknown keys (with "did you mean" when one is close).
   */
  mapping(entry: Entry, known: readonly string[]): Map<string, Entry> | undefined {
    if (!isMap(entry.node)) return this.fail(entry, `expected a mapping, got ${describe(entry.node)}`);
    const entries = new Map<string, Entry>();
    for (const pair of entry.node.items) {
      const keyNode = this.resolveAlias(pair.key);
      const keyLine = this.lineOf(pair.key, entry.line);
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.problems.add(keyLine, entry.path || '(top level)', `keys must be plain names, got ${describe(keyNode)}`);
        continue;
      }
      const key = String(keyNode.value);
      const path = entry.path ? `${entry.path}.${key}` : key;
      if (!known.includes(key)) {
        const suggestion = closestKey(key, known);
        this.problems.add(keyLine, path, `unknown key (known: ${known.join(', ')})${suggestion ? `; did you mean ${suggestion}?` : ''}`);
        continue;
      }
      const value = this.entry(pair.value, path, keyLine);
      entries.set(key, { ...value, keyLine });
    }
    return entries;
  }

  list(entry: Entry): Entry[] | undefined {
    if (!isSeq(entry.node)) return this.fail(entry, `expected a list, got ${describe(entry.node)}`);
    return entry.node.items.map((item, index) => this.entry(item, `${entry.path}[${index}]`, entry.line));
  }

  string(entry: Entry): string | undefined {
    if (!isScalar(entry.node) || typeof entry.node.value !== 'string') return this.fail(entry, `expected a string, got ${describe(entry.node)}`);
    if (entry.node.value.trim() === '') return this.fail(entry, 'must not be empty');
    return entry.node.value;
  }

  integer(entry: Entry, min: number, max: number): number | undefined {
    const value = isScalar(entry.node) ? entry.node.value : undefined;
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.fail(entry, `expected an integer ${range}, got ${describe(entry.node)}`);
    if (value < min || value > max) return this.fail(entry, `must be an integer ${range}, got ${value}`);
    return value;
  }

  /** A positive duration (`500ms`, `10s`, `1m`, `1h`) or a number of milliseconds; returned as written (numbers get `ms`). */
  duration(entry: Entry): string | undefined {
    const value = isScalar(entry.node) ? entry.node.value : undefined;
    if (typeof value !== 'number' && typeof value !== 'string') {
      return this.fail(entry, `expected a duration such as 500ms, 10s, 1m or 1h (or a number of milliseconds), got ${describe(entry.node)}`);
    }
    let millis: number;
    try {
      millis = toMillis(value);
    } catch {
      return this.fail(entry, `'${value}' is not a duration (use e.g. 500ms, 10s, 1m, 1h or a number of milliseconds)`);
    }
    if (!(millis > 0)) return this.fail(entry, `must be longer than 0, got ${value}`);
    return typeof value === 'number' ? `${value}ms` : value.trim();
  }

  /** A path that is absolute after `~` expansion (paths on the hosts are POSIX). */
  absolutePath(entry: Entry, home: string): string | undefined {
    const text = this.string(entry);
    if (text === undefined) return undefined;
    const expanded = expandHome(text, home);
    if (!posix.isAbsolute(expanded)) return this.fail(entry, `must be an absolute path (or start with ~/), got '${text}'`);
    return expanded;
  }

  /** An http:// or https:// URL with a host. */
  httpUrl(entry: Entry): string | undefined {
    const text = this.string(entry);
    if (text === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return this.fail(entry, `'${text}' is not a URL (expected http(s)://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return this.fail(entry, `'${text}' must be an http:// or https:// URL`);
    if (url.hostname === '') return this.fail(entry, `'${text}' has no host`);
    return text;
  }
}

function describe(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'an empty value';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return 'an empty value';
    if (typeof value === 'string') return `the string '${value}'`;
    if (typeof value === 'number' || typeof value === 'bigint') return `the number ${value}`;
    if (typeof value === 'boolean') return `the boolean ${value}`;
    return `a ${typeof value}`;
  }
  return 'an unsupported value';
}

// ---------------------------------------------------------------------------------------------
// standalone.yaml
// ---------------------------------------------------------------------------------------------

const TOP_LEVEL_KEYS = [
  'application_manager_address',
  'metadata_storage',
  'task_manager_bind_ip',
  'task_manager_work_dir',
  'task_manager_slots',
  'ssh',
  'checkpoint',
  'auth',
  'node_path',
  'deploy',
  'yarn',
] as const;
const METADATA_STORAGE_KEYS = ['type', 'path'] as const;
const SSH_KEYS = ['user', 'port', 'identity_file', 'known_hosts', 'connect_timeout'] as const;
const CHECKPOINT_KEYS = ['dir', 'interval'] as const;
const AUTH_KEYS = ['token_file'] as const;
const DEPLOY_KEYS = ['concurrency'] as const;
const YARN_KEYS = ['webhdfs', 'resource_manager', 'hdfs_user', 'queue'] as const;

const DEFAULT_BIND_IP = '0.0.0.0';
const DEFAULT_SLOTS = 2;
const DEFAULT_SSH_PORT = 22;
const DEFAULT_IDENTITY_FILE = '~/.ssh/id_ed25519';
const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';
const DEFAULT_CONNECT_TIMEOUT = '10s';
const DEFAULT_TOKEN_FILE = '~/.rlink/token';
const DEFAULT_NODE = 'node';
const DEFAULT_DEPLOY_CONCURRENCY = 8;
const MAX_DEPLOY_CONCURRENCY = 256;

/** Every key set twice in one mapping, at any depth, with the line of its first setting. */
function duplicateKeys(node: unknown, path: string, lines: LineCounter): Array<{ line: number; path: string; firstLine: number }> {
  const out: Array<{ line: number; path: string; firstLine: number }> = [];
  const lineOf = (n: unknown) => lines.linePos((n as Node | undefined)?.range?.[0] ?? 0).line;
  if (isMap(node)) {
    const first = new Map<string, number>();
    for (const pair of node.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const at = `${path}${path ? '.' : ''}${name}`;
      const seen = first.get(name);
      if (seen !== undefined) out.push({ line: lineOf(pair.key), path: at, firstLine: seen });
      else first.set(name, lineOf(pair.key));
      out.push(...duplicateKeys(pair.value, at, lines));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => out.push(...duplicateKeys(item, `${path}[${i}]`, lines)));
  }
  return out;
}

/** Reads and validates `standalone.yaml`; throws one RLINK_CONFIG error listing every problem. */
export function loadStandaloneConfig(file: string, opts: { home?: string } = {}): StandaloneConfig {
  const path = resolve(file);
  return parseStandaloneConfig(readConfigFile(path), path, opts);
}

/** Validates the text of a `standalone.yaml`; `file` names it in messages (made absolute). */
export function parseStandaloneConfig(text: string, file: string, opts: { home?: string } = {}): StandaloneConfig {
  const path = resolve(file);
  const home = opts.home ?? homedir();
  const problems = new ProblemList(path);
  const lineCounter = new LineCounter();
  // Duplicate keys are found below, by path, rather than as the parser's anonymous syntax error.
  const doc = parseDocument(text, { keepSourceTokens: true, lineCounter, prettyErrors: true, uniqueKeys: false });

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const line = error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line;
      problems.add(line, 'syntax', yamlErrorText(error.message));
    }
    problems.throwIfAny();
  }
  for (const d of duplicateKeys(doc.contents, '', lineCounter)) problems.add(d.line, d.path, `duplicate key (first set at line ${d.firstLine})`);
  problems.throwIfAny();

  const reader = new YamlReader(doc, lineCounter, problems);
  const root = reader.entry(doc.contents, '', 1);
  if (!isMap(root.node)) {
    const what = root.node === null || (isScalar(root.node) && root.node.value === null) ? 'the file has no settings' : `got ${describe(root.node)}`;
    problems.add(root.line, '(top level)', `expected a mapping of settings (see the template standalone.yaml); ${what}`);
    problems.throwIfAny();
  }
  const top = reader.mapping(root, TOP_LEVEL_KEYS) ?? new Map<string, Entry>();

  const jobManagers = readJobManagers(reader, top.get('application_manager_address'));
  const metadataStorage = readMetadataStorage(reader, top.get('metadata_storage'), home);

  let taskManagerBindIp = DEFAULT_BIND_IP;
  const bindIp = top.get('task_manager_bind_ip');
  if (bindIp) {
    const ip = reader.string(bindIp);
    if (ip !== undefined && isIP(ip) === 0) reader.fail(bindIp, `'${ip}' is not an IPv4 or IPv6 address (use 0.0.0.0 for every interface)`);
    else if (ip !== undefined) taskManagerBindIp = ip;
  }

  let workDir = '';
  const workDirEntry = top.get('task_manager_work_dir');
  if (workDirEntry) workDir = reader.absolutePath(workDirEntry, home) ?? '';
  else problems.add(1, 'task_manager_work_dir', 'required: the working directory on every host (e.g. /data/rlink/application)');

  const slotsEntry = top.get('task_manager_slots');
  const slots = (slotsEntry && reader.integer(slotsEntry, 1, Number.MAX_SAFE_INTEGER)) || DEFAULT_SLOTS;

  const ssh = readSsh(reader, top.get('ssh'), home);
  const checkpoint = readCheckpoint(reader, top.get('checkpoint'), home);

  let tokenFile = expandHome(DEFAULT_TOKEN_FILE, home);
  const authEntry = top.get('auth');
  const auth = authEntry && reader.mapping(authEntry, AUTH_KEYS);
  const tokenFileEntry = auth?.get('token_file');
  if (tokenFileEntry) {
    const value = reader.string(tokenFileEntry);
    if (value !== undefined) tokenFile = expandHome(value, home);
  }

  const nodeEntry = top.get('node_path');
  const node = (nodeEntry && reader.string(nodeEntry)) || DEFAULT_NODE;

  let concurrency = DEFAULT_DEPLOY_CONCURRENCY;
  const deployEntry = top.get('deploy');
  const deploy = deployEntry && reader.mapping(deployEntry, DEPLOY_KEYS);
  const concurrencyEntry = deploy?.get('concurrency');
  if (concurrencyEntry) concurrency = reader.integer(concurrencyEntry, 1, MAX_DEPLOY_CONCURRENCY) ?? DEFAULT_DEPLOY_CONCURRENCY;

  const yarn = readYarn(reader, top.get('yarn'));

  problems.throwIfAny();
  return {
    file: path,
    jobManagers,
    metadataStorage,
    taskManagerBindIp,
    workDir,
    slots,
    ssh,
    ...(checkpoint ? { checkpoint } : {}),
    auth: { tokenFile },
    node,
    deploy: { concurrency },
    ...(yarn ? { yarn } : {}),
  };
}

/** The first line of a yaml parser message, without its "at line N, column M" (the line is reported separately). */
function yamlErrorText(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

function readJobManagers(reader: YamlReader, entry: Entry | undefined): JobManagerAddress[] {
  const jobManagers: JobManagerAddress[] = [];
  if (!entry) {
    reader.problems.add(1, 'application_manager_address', 'required: a list of job manager URLs, e.g. ["http://10.1.2.0:8770"]');
    return jobManagers;
  }
  const items = reader.list(entry);
  if (!items) return jobManagers;
  if (items.length === 0) reader.fail(entry, 'must list at least one job manager URL, e.g. ["http://10.1.2.0:8770"]');
  const seen = new Map<string, number>();
  for (const item of items) {
    const text = reader.string(item);
    if (text === undefined) continue;
    const parsed = parseJobManagerUrl(text);
    if ('problem' in parsed) {
      reader.fail(item, parsed.problem);
      continue;
    }
    const identity = `${parsed.host.toLowerCase()}:${parsed.port}`;
    const firstLine = seen.get(identity);
    if (firstLine !== undefined) {
      reader.fail(item, `duplicate job manager ${parsed.url} (already listed at line ${firstLine})`);
      continue;
    }
    seen.set(identity, item.line);
    jobManagers.push({ ...parsed, line: item.line });
  }
  return jobManagers;
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

function readMetadataStorage(reader: YamlReader, entry: Entry | undefined, home: string): StandaloneConfig['metadataStorage'] {
  if (!entry) return { type: 'Memory' };
  const storage = reader.mapping(entry, METADATA_STORAGE_KEYS);
  if (!storage) return { type: 'Memory' };
  const typeEntry = storage.get('type');
  const pathEntry = storage.get('path');
  if (!typeEntry) {
    reader.problems.add(entry.line, `${entry.path}.type`, 'required: { type: Memory } or { type: FileSystem, path: /data/rlink/meta }');
    return { type: 'Memory' };
  }
  const type = reader.string(typeEntry);
  if (type === 'FileSystem') {
    if (!pathEntry) {
      reader.problems.add(typeEntry.keyLine, `${entry.path}.path`, 'required for type FileSystem (an absolute directory every job manager reaches, e.g. /data/rlink/meta, or hdfs://namenode:8020/rlink/meta)');
      return { type: 'Memory' };
    }
    const path = storageDir(reader, pathEntry, home);
    return path === undefined ? { type: 'Memory' } : { type: 'FileSystem', path };
  }
  if (type === 'Memory') {
    if (pathEntry) reader.fail(pathEntry, 'only type FileSystem takes a path', true);
    return { type: 'Memory' };
  }
  if (type !== undefined) {
    const suggestion = ['Memory', 'FileSystem'].find((known) => known.toLowerCase() === type.toLowerCase().replace(/[-_ ]/g, ''));
    reader.fail(typeEntry, `must be Memory or FileSystem, got '${type}'${suggestion ? `; did you mean ${suggestion}?` : ''}`);
  }
  return { type: 'Memory' };
}

function readSsh(reader: YamlReader, entry: Entry | undefined, home: string): StandaloneConfig['ssh'] {
  const ssh: StandaloneConfig['ssh'] = {
    user: currentUser(),
    port: DEFAULT_SSH_PORT,
    identityFile: expandHome(DEFAULT_IDENTITY_FILE, home),
    knownHosts: expandHome(DEFAULT_KNOWN_HOSTS, home),
    connectTimeout: DEFAULT_CONNECT_TIMEOUT,
  };
  const section = entry && reader.mapping(entry, SSH_KEYS);
  if (!section) return ssh;
  const user = section.get('user');
  const port = section.get('port');
  const identityFile = section.get('identity_file');
  const knownHosts = section.get('known_hosts');
  const connectTimeout = section.get('connect_timeout');
  if (user) ssh.user = reader.string(user) ?? ssh.user;
  if (port) ssh.port = reader.integer(port, 1, 65535) ?? ssh.port;
  if (identityFile) ssh.identityFile = expandHome(reader.string(identityFile) ?? DEFAULT_IDENTITY_FILE, home);
  if (knownHosts) ssh.knownHosts = expandHome(reader.string(knownHosts) ?? DEFAULT_KNOWN_HOSTS, home);
  if (connectTimeout) ssh.connectTimeout = reader.duration(connectTimeout) ?? ssh.connectTimeout;
  return ssh;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? process.env['LOGNAME'] ?? 'root';
  }
}

function readCheckpoint(reader: YamlReader, entry: Entry | undefined, home: string): StandaloneConfig['checkpoint'] {
  if (!entry) return undefined;
  const section = reader.mapping(entry, CHECKPOINT_KEYS);
  if (!section) return undefined;
  const dirEntry = section.get('dir');
  const intervalEntry = section.get('interval');
  let dir: string | undefined;
  if (!dirEntry) reader.problems.add(entry.line, `${entry.path}.dir`, 'required: an absolute directory every host can reach, or hdfs://namenode[:port]/path');
  else dir = storageDir(reader, dirEntry, home);
  const interval = intervalEntry ? reader.duration(intervalEntry) : undefined;
  if (dir === undefined) return undefined;
  return interval === undefined ? { dir } : { dir, interval };
}

/** A directory every host reaches: an absolute path (~/ expanded) or hdfs://namenode[:port]/path. */
function storageDir(reader: YamlReader, entry: Entry, home: string): string | undefined {
  const text = reader.string(entry);
  if (text === undefined) return undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  if (scheme === undefined) {
    const expanded = expandHome(text, home);
    if (!posix.isAbsolute(expanded)) return reader.fail(entry, `must be an absolute path (or start with ~/) or an hdfs:// URL, got '${text}'`);
    return expanded;
  }
  if (scheme.toLowerCase() !== 'hdfs') return reader.fail(entry, `'${text}': only absolute paths and hdfs://namenode[:port]/path are supported, not ${scheme}://`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reader.fail(entry, `'${text}' is not a valid hdfs://namenode[:port]/path URL`);
  }
  if (url.hostname === '') return reader.fail(entry, `'${text}' has no namenode host (expected hdfs://namenode[:port]/path)`);
  if (url.pathname === '' || url.pathname === '/') return reader.fail(entry, `'${text}' has no directory (expected hdfs://namenode[:port]/path)`);
  return text;
}

function readYarn(reader: YamlReader, entry: Entry | undefined): StandaloneConfig['yarn'] {
  if (!entry) return undefined;
  const section = reader.mapping(entry, YARN_KEYS);
  if (!section) return undefined;
  const yarn: NonNullable<StandaloneConfig['yarn']> = {};
  const webhdfs = section.get('webhdfs');
  const resourceManager = section.get('resource_manager');
  const hdfsUser = section.get('hdfs_user');
  const queue = section.get('queue');
  const webhdfsUrl = webhdfs && reader.httpUrl(webhdfs);
  const resourceManagerUrl = resourceManager && reader.httpUrl(resourceManager);
  const hdfsUserName = hdfsUser && reader.string(hdfsUser);
  const queueName = queue && reader.string(queue);
  if (webhdfsUrl) yarn.webhdfs = webhdfsUrl;
  if (resourceManagerUrl) yarn.resourceManager = resourceManagerUrl;
  if (hdfsUserName) yarn.hdfsUser = hdfsUserName;
  if (queueName) yarn.queue = queueName;
  return yarn;
}
