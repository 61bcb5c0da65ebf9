import { open, type FileHandle } from 'node:fs/promises';

/** Returned by {@link LineReader.next} for a line longer than the reader's limit (it is skipped). */
export const LINE_TOO_LONG: unique symbol = Symbol('line-too-long');

/** 1 MiB: the size of one read. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;
/** 64 MiB: a longer line is skipped (and reported) rather than buffered without bound. */
export const DEFAULT_MAX_LINE_BYTES = 64 << 20;

/**
 * Reads one file line by line in chunks (never the whole file), keeping exact byte offsets so that a
 * checkpoint can resume at the first line not yet handed out.
 *
 * Lines are split on the byte 0x0A, which never occurs inside a multi-byte UTF-8 sequence, and a line
 * is decoded only once it is complete: a character split across two chunks is therefore always decoded
 * whole (the same guarantee a StringDecoder gives, with exact byte offsets for free). A trailing `\r`
 * is dropped (CRLF files), and a UTF-8 byte order mark at the start of the file is skipped.
 *
 * {@link next} is synchronous while data is buffered; it returns `undefined` when the caller must
 * `await fill()` first, so a batch of lines costs no promise per line.
 */
export class LineReader {
  private fh: FileHandle | undefined;
  private buf: Buffer;
  /** First unconsumed byte in buf. */
  private start = 0;
  /** End of valid data in buf. */
  private end = 0;
  /** File position of the next read. */
  private readPos: number;
  private eof = false;
  private skipping = false;
  /** Bytes of the file consumed so far (handed out as lines or skipped). */
  offset: number;
  /** Lines consumed so far; after {@link next} returned a line, its 1-based line number. */
  line: number;

  constructor(
    readonly path: string,
    offset = 0,
    line = 0,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.offset = offset;
    this.line = line;
    this.readPos = offset;
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  async open(): Promise<void> {
    this.fh = await open(this.path, 'r');
  }

  get isOpen(): boolean { return this.fh !== undefined; }

  /**
   * The next line (without its line terminator), `null` at the end of the file, `undefined` when more
   * data must be read first (`await fill()`), or {@link LINE_TOO_LONG} for a skipped overlong line.
   */
  next(): string | null | undefined | typeof LINE_TOO_LONG {
    const buf = this.buf;
    const start = this.start;
    const end = this.end;
    let nl = start < end ? buf.indexOf(10, start) : -1;
    if (nl >= end) nl = -1;
    if (nl === -1) {
      if (!this.eof) {
        // An unterminated line already past the limit is skipped from here on, whatever the buffer size.
        if (!this.skipping && end - start > this.maxLineBytes + 1) this.skipping = true;
        if (this.skipping) { this.offset += end - start; this.start = this.end = 0; }
        return undefined;
      }
      if (start >= end) {
        if (this.skipping) { this.skipping = false; this.line++; return LINE_TOO_LONG; }
        return null;
      }
      // The last line has no terminator.
      nl = end;
    }
    const consumed = (nl < end ? nl + 1 : nl) - start;
    this.offset += consumed;
    this.start = start + consumed;
    this.line++;
    if (this.skipping) { this.skipping = false; return LINE_TOO_LONG; }
    let from = start;
    let to = nl;
    if (to > from && buf[to - 1] === 13) to--;
    if (this.offset - consumed === 0 && to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) from += 3;
    // The limit holds for every line, also one that fits in the buffer (the terminator not counted).
    if (to - from > this.maxLineBytes) return LINE_TOO_LONG;
    return buf.toString('utf8', from, to);
  }

  /** Reads the next chunk into the buffer (after the unconsumed tail of the previous one). */
  async fill(): Promise<void> {
    if (this.eof) return;
    if (!this.fh) await this.open();
    if (this.start > 0) {
      if (this.start < this.end) this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      // One line fills the whole buffer: grow it, or skip the line once it passes the limit.
      // (a line at the limit needs room for its \r\n too)
      if (this.buf.length >= this.maxLineBytes + 2) {
        this.skipping = true;
        this.offset += this.end;
        this.end = 0;
        this.buf = Buffer.allocUnsafe(this.chunkBytes);
      } else {
        const bigger = Buffer.allocUnsafe(Math.min(this.buf.length * 2, Math.max(this.maxLineBytes + 2, this.chunkBytes)));
        this.buf.copy(bigger, 0, 0, this.end);
        this.buf = bigger;
      }
    }
    const want = Math.min(this.buf.length - this.end, Math.max(this.chunkBytes, 1));
    const { bytesRead } = await this.fh!.read(this.buf, this.end, want, this.readPos);
    if (bytesRead === 0) this.eof = true;
    this.end += bytesRead;
    this.readPos += bytesRead;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await fh.close();
  }
}

/** Reads the first non-blank line of a file (e.g. a CSV header when resuming past it); null if none. */
export async function readFirstLine(path: string, chunkBytes = DEFAULT_CHUNK_BYTES): Promise<string | null> {
  const r = new LineReader(path, 0, 0, chunkBytes);
  try {
    for (;;) {
      const l = r.next();
      if (l === undefined) { await r.fill(); continue; }
      if (l === LINE_TOO_LONG) return null;
      if (l !== null && l.trim() === '') continue;
      return l;
    }
  } finally {
    await r.close();
  }
}
