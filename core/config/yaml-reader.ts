/**
 * Reading YAML configuration files with line numbers: typed reads that report problems (file, line,
 * key path, what) instead of throwing, so that a loader can report every problem of a file at once in
 * one RLINK_CONFIG error ({@link ConfigValidationError}). Used by `standalone.yaml` and `task_managers`
 * (deploy/config/) and by config-file jobs (core/jobfile/).
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { expandHome } from '../fs/paths';
import { RlinkError, errorMessage } from '../errors';
import { toMillis } from '../time/duration';

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

// ---------------------------------------------------------------------------------------------
// The YAML walker: typed reads that report problems with lines instead of throwing
// ---------------------------------------------------------------------------------------------

/** A value in the document together with its key path and the line to blame. */
export interface Entry {
  path: string;
  /** The value node; null for `key:` with nothing after it. */
  node: Node | null;
  /** Line of the value (the key's line when the value is empty). */
  line: number;
  /** Line of the key (the item's line in a list). */
  keyLine: number;
}

export class YamlReader {
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

  /** The entries of a mapping with keys of the user's choosing (field names, property names), in order. */
  pairs(entry: Entry): Map<string, Entry> | undefined {
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
      entries.set(key, { ...this.entry(pair.value, entry.path ? `${entry.path}.${key}` : key, keyLine), keyLine });
    }
    return entries;
  }

  /** A string, number or boolean, as written (for option values and properties). */
  scalar(entry: Entry): string | number | boolean | undefined {
    const value = isScalar(entry.node) ? entry.node.value : undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return this.fail(entry, `expected a value (text, a number or true/false), got ${describe(entry.node)}`);
    return value;
  }

  /** A finite number ≥ `min`. */
  number(entry: Entry, min = Number.NEGATIVE_INFINITY): number | undefined {
    const value = isScalar(entry.node) ? entry.node.value : undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(entry, `expected a number, got ${describe(entry.node)}`);
    if (value < min) return this.fail(entry, `must be ≥ ${min}, got ${value}`);
    return value;
  }

  /** Whether the value was written as a block scalar (`|` or `>`): its text starts on the next line. */
  isBlock(entry: Entry): boolean {
    return isScalar(entry.node) && (entry.node.type === 'BLOCK_LITERAL' || entry.node.type === 'BLOCK_FOLDED');
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

export function describe(node: Node | null | undefined): string {
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

/**
 * Parses YAML text into a reader over its document. Syntax errors are added to `problems` (with their
 * lines) and thrown at once, since nothing after a syntax error can be trusted.
 */
export function parseYaml(text: string, problems: ProblemList): { reader: YamlReader; root: Entry; doc: Document } {
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
  return { reader, root: reader.entry(doc.contents, '', 1), doc };
}

/** The first line of a yaml parser message, without its "at line N, column M" (the line is reported separately). */
export function yamlErrorText(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

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
