import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectorContext, Source, SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError, errorMessage } from '../../core/errors';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_LINE_BYTES, LINE_TOO_LONG, LineReader, readFirstLine } from './line-reader';
import { parseCsvLine } from './csv';
import { compileSchema, schemaConformer, schemaToSpec, type Schema, type SchemaSpec } from '../../core/sql/types';

/** Options of {@link fileSource} (`sources.file`). */
export interface FileSourceOptions {
  /**
   * A file, or a directory: then every regular file directly in it (not recursive), in name order,
   * except hidden files (`.name`) and unfinished ones (`*.inprogress`, `*.pending`).
   */
  path: string;
  /**
   * `jsonl`: one JSON value per line; blank lines are skipped. `csv`: the first line of each file is
   * the header naming the fields; see {@link parseCsvLine} for the dialect (RFC 4180 quoting, numeric
   * fields become numbers, no multi-line quoted fields).
   */
  format: 'jsonl' | 'csv';
  /** Advanced: bytes read from a file at a time. Default 1 MiB (1048576). */
  readChunkBytes?: number;
  /** Advanced: a line longer than this many bytes is skipped and counted as invalid. Default 64 MiB. */
  maxLineBytes?: number;
  /**
   * The fields and types of the records (`{ name: 'string', value: 'double', ts: 'timestamp',
   * watermark: { field: 'ts', delay: '1s' } }`): each record is conformed to it (converted, missing
   * fields null, others dropped); a record that does not fit is invalid (counted, logged with
   * `file:line`, skipped). CSV fields are then read as text and converted by the schema. A watermark
   * declaration makes `fromSource` generate watermarks from that field.
   */
  schema?: SchemaSpec | Schema;
}

/** The position of one file in a checkpoint: bytes and lines consumed so far. */
export interface FilePosition {
  /** Bytes of the file consumed (the next record starts here). */
  offset: number;
  /** Lines consumed (the next record is on line `line + 1`). */
  line: number;
}

/** A file source's checkpoint state: position per file path. */
export type FileSourceState = Record<string, FilePosition>;

const PREVIEW_CHARS = 120;

/**
 * `sources.file`: reads JSON lines or CSV from a file or a directory of files. Bounded. Each file is
 * a split; subtask k of p reads the files whose index i (in name order) satisfies i ≡ k (mod p).
 * Records that cannot be parsed are counted (`recordsInvalid`), logged with `file:line`, and skipped.
 */
export function fileSource<T = Record<string, unknown>>(opts: FileSourceOptions): Source<T> {
  if (!opts || typeof opts.path !== 'string' || opts.path === '') {
    throw new RlinkError('RLINK_CONFIG', 'file source: option "path" is required');
  }
  if (opts.format !== 'jsonl' && opts.format !== 'csv') {
    throw new RlinkError('RLINK_CONFIG', `file source: format must be 'jsonl' or 'csv', not ${JSON.stringify(opts.format)}`);
  }
  const schema = opts.schema === undefined ? undefined : compileSchema(opts.schema, 'file source');
  return {
    kind: 'file',
    bounded: true,
    ...(schema ? { schema } : {}),
    describe: () => ({ kind: 'file', path: opts.path, format: opts.format, ...(schema ? { schema: schemaToSpec(schema) } : {}) }),
    createReader: (ctx) => new FileSourceReader<T>(opts, ctx, schema),
  };
}

/** The files a file source reads at `path`, in order (all of them, for all subtasks). */
export async function listInputFiles(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RlinkError('RLINK_CONFIG', `file source: no such file or directory: ${path}`, { context: { file: path } });
    }
    throw new RlinkError('RLINK_CONFIG', `file source: cannot read ${path}: ${errorMessage(err)}`, { context: { file: path }, cause: err });
  }
  if (!st.isDirectory()) return [path];
  const names: string[] = [];
  for (const e of await readdir(path, { withFileTypes: true })) {
    const name = e.name;
    if (name.startsWith('.') || name.endsWith('.inprogress') || name.endsWith('.pending')) continue;
    let isFile = e.isFile();
    if (e.isSymbolicLink()) isFile = await stat(join(path, name)).then((s) => s.isFile(), () => false);
    if (isFile) names.push(name);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => join(path, n));
}

class FileSourceReader<T> implements SourceReader<T> {
  private files: string[] = [];
  private readonly positions = new Map<string, FilePosition>();
  private current = 0;
  private reader: LineReader | undefined;
  private header: string[] | undefined;
  private headerProto = false;
  private readonly fields: unknown[] = [];
  private readonly invalid: RateLimitedLog;
  private readonly csv: boolean;
  private readonly conform: ((record: unknown) => Record<string, unknown> | string) | undefined;

  constructor(private readonly opts: FileSourceOptions, private readonly ctx: ConnectorContext, schema?: Schema) {
    this.invalid = new RateLimitedLog(ctx.logger, 'record.invalid');
    this.csv = opts.format === 'csv';
    this.conform = schema ? schemaConformer(schema) : undefined;
  }

  async open(restored?: unknown): Promise<string[]> {
    const all = await listInputFiles(this.opts.path);
    const { subtaskIndex: k, parallelism: p } = this.ctx;
    this.files = all.filter((_, i) => i % p === k);
    const saved = restoredPositions(restored);
    for (const f of this.files) {
      const pos = saved.get(f);
      this.positions.set(f, pos ? { offset: pos.offset, line: pos.line } : { offset: 0, line: 0 });
    }
    this.ctx.logger.debug({ files: this.files.length, of: all.length, restored: saved.size > 0 }, 'file source opened');
    return [...this.files];
  }

  async poll(max: number): Promise<SourcePoll<T>> {
    if (this.current >= this.files.length) return { kind: 'end' };
    const file = this.files[this.current]!;
    const pos = this.positions.get(file)!;
    let r = this.reader;
    if (!r) {
      r = new LineReader(file, pos.offset, pos.line, this.opts.readChunkBytes ?? DEFAULT_CHUNK_BYTES, this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
      try {
        await r.open();
      } catch (err) {
        throw new RlinkError('RLINK_CONFIG', `file source: cannot open ${file}: ${errorMessage(err)}`, { context: { file }, cause: err });
      }
      this.reader = r;
      this.header = undefined;
      if (this.csv && pos.offset > 0) {
        // Resuming past the header: read it again from the start of the file.
        const h = await readFirstLine(file, this.opts.readChunkBytes ?? DEFAULT_CHUNK_BYTES);
        if (h !== null && !this.setHeader(file, 1, h)) return this.finishFile(file, r, [], []);
      }
    }

    const values: T[] = [];
    const lines: number[] = [];
    const startOffset = r.offset;
    let finished = false;
    const limit = max > 0 ? max : 1;
    while (values.length < limit) {
      const l = r.next();
      if (l === undefined) { await r.fill(); continue; }
      if (l === null) { finished = true; break; }
      if (l === LINE_TOO_LONG) {
        this.reportInvalid(file, r.line, '', `line longer than ${this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES} bytes`);
        continue;
      }
      if (isBlank(l)) continue;
      if (this.csv) {
        if (this.header === undefined) {
          if (!this.setHeader(file, r.line, l)) { finished = true; break; }
          continue;
        }
        const v = this.csvRecord(file, r.line, l);
        if (v !== undefined) this.accept(values, lines, v, file, r.line, l);
      } else {
        let v: unknown;
        try {
          v = JSON.parse(l);
        } catch (err) {
          this.reportInvalid(file, r.line, l, errorMessage(err));
          continue;
        }
        this.accept(values, lines, v, file, r.line, l);
      }
    }
    this.ctx.metrics.bytesIn += r.offset - startOffset;
    pos.offset = r.offset;
    pos.line = r.line;
    if (finished) return this.finishFile(file, r, values, lines);
    return { kind: 'records', split: file, values, where: (i) => `${file}:${lines[i]}` };
  }

  /** Adds a parsed record (conformed to the schema, if any: one that does not fit is reported instead). */
  private accept(values: T[], lines: number[], v: unknown, file: string, line: number, text: string): void {
    if (this.conform) {
      const c = this.conform(v);
      if (typeof c === 'string') { this.reportInvalid(file, line, text, c); return; }
      v = c;
    }
    values.push(v as T);
    lines.push(line);
  }

  snapshot(): FileSourceState {
    const out: FileSourceState = {};
    for (const [f, p] of this.positions) out[f] = { offset: p.offset, line: p.line };
    return out;
  }

  async close(): Promise<void> {
    const r = this.reader;
    this.reader = undefined;
    await r?.close();
  }

  private async finishFile(file: string, r: LineReader, values: T[], lines: number[]): Promise<SourcePoll<T>> {
    await r.close();
    this.reader = undefined;
    this.current++;
    if (values.length === 0) return { kind: 'split-finished', split: file };
    return { kind: 'records', split: file, values, splitFinished: true, where: (i) => `${file}:${lines[i]}` };
  }

  /** Parses a CSV header line; false (reported) when it is malformed: the file is then skipped. */
  private setHeader(file: string, line: number, l: string): boolean {
    const fields: unknown[] = [];
    const err = parseCsvLine(l, fields, false);
    if (err !== null) {
      this.reportInvalid(file, line, l, `malformed CSV header (${err}); skipping the file`);
      return false;
    }
    this.header = fields as string[];
    this.headerProto = this.header.includes('__proto__');
    return true;
  }

  private csvRecord(file: string, line: number, l: string): Record<string, unknown> | undefined {
    const header = this.header!;
    const fields = this.fields;
    // With a schema the fields stay text and the schema converts them ("007" stays a string column's "007").
    const err = parseCsvLine(l, fields, this.conform === undefined);
    if (err !== null) { this.reportInvalid(file, line, l, `malformed CSV row: ${err}`); return undefined; }
    if (fields.length !== header.length) {
      this.reportInvalid(file, line, l, `CSV row has ${fields.length} fields, the header has ${header.length}`);
      return undefined;
    }
    const rec: Record<string, unknown> = {};
    if (this.headerProto) {
      for (let j = 0; j < header.length; j++) Object.defineProperty(rec, header[j]!, { value: fields[j], enumerable: true, writable: true, configurable: true });
    } else {
      for (let j = 0; j < header.length; j++) rec[header[j]!] = fields[j];
    }
    return rec;
  }

  private reportInvalid(file: string, line: number, text: string, error: string): void {
    this.ctx.metrics.recordsInvalid++;
    const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
    this.invalid.warn({ file, line, at: `${file}:${line}`, preview, error }, `invalid record skipped at ${file}:${line}: ${error}`);
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) return false;
  }
  return true;
}

/**
 * Positions from a checkpoint: a {@link FileSourceState}, or an array of them (the states of several
 * subtasks, e.g. when the parallelism changed). Anything else is ignored.
 */
function restoredPositions(restored: unknown): Map<string, FilePosition> {
  const out = new Map<string, FilePosition>();
  const add = (s: unknown): void => {
    if (Array.isArray(s)) { for (const x of s) add(x); return; }
    if (!s || typeof s !== 'object') return;
    for (const [f, p] of Object.entries(s as Record<string, unknown>)) {
      if (!p || typeof p !== 'object') continue;
      const { offset, line } = p as Partial<FilePosition>;
      if (typeof offset === 'number' && offset >= 0 && Number.isFinite(offset)) {
        out.set(f, { offset, line: typeof line === 'number' && line >= 0 ? line : 0 });
      }
    }
  };
  add(restored);
  return out;
}
