/**
 * Data frames: the data plane between task managers. One frame carries one message of one channel —
 * the same messages a cross-thread channel carries over its MessagePort (port-channel.ts) — as one
 * binary WebSocket message. Each slot worker's data plane (taskmanager/data-plane/) writes and reads
 * them on its own sockets.
 *
 *   producer TM ── batch   frame ──▶ consumer TM   {b: EncodedBatch}   records, columnar
 *   producer TM ── element frame ──▶ consumer TM   {e: StreamElement}  watermark/status/barrier/end
 *   producer TM ◀─ credit  frame ─── consumer TM   {c: n}              n elements taken: n credits
 *
 * Every frame starts with the same header; all integers little-endian, offsets from the frame start:
 *
 *    0      2      3      4             6                 6+L
 *   ┌──────┬──────┬──────┬─────────────┬─────────────────┬──────────────────────────────┐
 *   │ 'RL' │ ver  │ kind │ L: uint16   │ channel id      │ body (by kind)               │
 *   │ 52 4C│ 0x01 │1|2|3 │ id length   │ UTF-8, L bytes  │                              │
 *   └──────┴──────┴──────┴─────────────┴─────────────────┴──────────────────────────────┘
 *
 *   kind 3, credit:   ┌──────────────┐
 *                     │ n: uint32    │                      exactly 4 bytes
 *                     └──────────────┘
 *
 *   kind 2, element:  ┌─────────────────────────────────────────────────┐
 *                     │ JSON (UTF-8) of the element: {"kind":…, …}       │   to the frame's end
 *                     └─────────────────────────────────────────────────┘
 *                     Numbers JSON cannot carry (±Infinity, NaN, -0: watermarks of ±∞ are common)
 *                     go as the strings "Infinity" | "-Infinity" | "NaN" | "-0" in the element's
 *                     numeric fields; the decoder checks every field's type, per kind.
 *
 *   kind 1, batch:    ┌───────────┬──────────────┬─────┬───────────┬─────────────┬─────────────┬─────┬──────────┬──────────┐
 *                     │ H: uint32 │ JSON header  │ pad │ ts        │ nums        │ lens        │ pad │ strs     │ values   │
 *                     │           │ H bytes      │ →8  │ f64 × n   │ f64 × nl    │ u32 × ll    │ →8  │ sb bytes │ vb bytes │
 *                     └───────────┴──────────────┴─────┴───────────┴─────────────┴─────────────┴─────┴──────────┴──────────┘
 *                     JSON header: { n, fields?, types?, primitive?,
 *                                    nl?  (nums present, its length), ll? (lens present, its length),
 *                                    sl?  (strs present, its length in UTF-16 units), sb? (its bytes),
 *                                    se?  'l1' | 'u8' | 'u16' (strs as Latin-1, a byte a character: a batch
 *                                         encoded straight into its frame (encodeRecordsFrame); else
 *                                         UTF-8, or UTF-16LE when not well formed),
 *                                    vb?  (values present: v8.serialize bytes of the array) }
 *                     Every typed array starts 8-aligned from the frame start, so a decoder whose frame
 *                     is 8-aligned in memory gets views on the received bytes (no copy); an unaligned
 *                     frame is copied array by array. Pad bytes are zero. `values` (the structured
 *                     fallback of encodeBatch) is v8.serialize of the array: exact like postMessage.
 *                     The header may end in spaces (JSON whitespace): a frame encoded in place reserves
 *                     room for the widest sl and sb before it knows them.
 *
 * Typed arrays are in the host's byte order; both ends must be little-endian (every platform Node
 * supports today but s390x): a big-endian host refuses to encode or decode batches.
 *
 * The version byte changes with any incompatible change of this layout; a decoder rejects a frame of
 * another version (2: se 'l1' added). Malformed frames (truncated, trailing bytes, wrong magic, bad header, lengths that
 * do not add up) are rejected with an RlinkError naming what is wrong; decoding never throws anything
 * else and never reads outside the frame.
 */
import { endianness } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { RlinkError } from '../errors';
import type { StreamElement } from '../runtime/elements';
import { NO_ROOM, columnarCodec, encodeLatin1Columns, lastStringCharsPerRecord, type EncodedBatch } from '../runtime/network/batch-codec';

/** A message of a cross-thread channel (the same union as port-channel.ts's). */
export type { PortMessage } from '../runtime/network/port-channel';
import type { PortMessage } from '../runtime/network/port-channel';

/** One decoded frame: a channel and one of its messages. */
export interface DataFrame { channelId: string; message: PortMessage }

export const DATA_FRAME_VERSION = 2;
export const FRAME_KIND = { batch: 1, element: 2, credit: 3 } as const;
export type FrameKind = keyof typeof FRAME_KIND;

const MAGIC_0 = 0x52; // 'R'
const MAGIC_1 = 0x4c; // 'L'
const HEADER_FIXED = 6;
/** Channel ids are short (`<job>#<attempt>/<edge>/<from>-<to>`); the header gives them 16 bits. */
export const MAX_CHANNEL_ID_BYTES = 0xffff;
/** Sanity bounds of a batch header, far above what encodeBatch makes (batches of ≤ 64 Ki records). */
const MAX_BATCH_RECORDS = 1 << 24;
const MAX_FIELDS = 64;
const LITTLE_ENDIAN = endianness() === 'LE';

function malformed(what: string): RlinkError {
  return new RlinkError('RLINK_PROTOCOL', `malformed data frame: ${what}`);
}

function checkEndianness(): void {
  if (!LITTLE_ENDIAN) throw new RlinkError('RLINK_INTERNAL', 'data frames with record batches need a little-endian host');
}

const pad8 = (x: number): number => (x + 7) & ~7;

// ───────────────────────────── encoding ─────────────────────────────

/** Encodes one message of `channelId` as one frame (a Buffer that owns its bytes). */
export function encodeFrame(channelId: string, message: PortMessage): Buffer {
  if ('b' in message) return encodeBatchFrame(channelId, message.b);
  if ('e' in message) return encodeElementFrame(channelId, message.e);
  if ('c' in message) return encodeCreditFrame(channelId, message.c);
  throw new RlinkError('RLINK_PROTOCOL', 'not a channel message: expected {b}, {e} or {c}');
}

function writeHeader(buf: Buffer, kind: number, idBytes: number, channelId: string): number {
  buf[0] = MAGIC_0;
  buf[1] = MAGIC_1;
  buf[2] = DATA_FRAME_VERSION;
  buf[3] = kind;
  buf.writeUInt16LE(idBytes, 4);
  if (idBytes > 0) buf.write(channelId, HEADER_FIXED, idBytes, 'utf8');
  return HEADER_FIXED + idBytes;
}

function channelIdBytes(channelId: string): number {
  const n = Buffer.byteLength(channelId, 'utf8');
  if (n > MAX_CHANNEL_ID_BYTES) throw new RlinkError('RLINK_INTERNAL', `channel id too long for a data frame (${n} bytes)`);
  return n;
}

export function encodeCreditFrame(channelId: string, credits: number): Buffer {
  if (!Number.isInteger(credits) || credits < 0 || credits > 0xffffffff) {
    throw new RlinkError('RLINK_INTERNAL', `credit must be an integer in [0, 2^32): ${credits}`);
  }
  const idBytes = channelIdBytes(channelId);
  const buf = Buffer.allocUnsafe(HEADER_FIXED + idBytes + 4);
  const off = writeHeader(buf, FRAME_KIND.credit, idBytes, channelId);
  buf.writeUInt32LE(credits, off);
  return buf;
}

function wireNumber(x: number): number | string {
  if (Number.isFinite(x) && !Object.is(x, -0)) return x;
  return Object.is(x, -0) ? '-0' : String(x); // 'Infinity' | '-Infinity' | 'NaN'
}

export function encodeElementFrame(channelId: string, element: StreamElement): Buffer {
  const o: Record<string, unknown> = {};
  switch (element.kind) {
    case 'watermark': o.kind = 'watermark'; o.timestamp = wireNumber(element.timestamp); break;
    case 'status': o.kind = 'status'; o.idle = element.idle; break;
    case 'barrier':
      o.kind = 'barrier'; o.checkpointId = wireNumber(element.checkpointId);
      o.timestamp = wireNumber(element.timestamp); o.savepoint = element.savepoint; o.target = element.target;
      break;
    case 'end': o.kind = 'end'; break;
    case 'records': throw new RlinkError('RLINK_INTERNAL', 'records travel as batch frames ({b}), not as elements');
    default: throw new RlinkError('RLINK_INTERNAL', `unknown stream element kind ${JSON.stringify((element as { kind?: unknown }).kind)}`);
  }
  const json = JSON.stringify(o);
  const idBytes = channelIdBytes(channelId);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_FIXED + idBytes + jsonBytes);
  const off = writeHeader(buf, FRAME_KIND.element, idBytes, channelId);
  buf.write(json, off, jsonBytes, 'utf8');
  return buf;
}

interface BatchHeader {
  n: number;
  fields?: string[];
  types?: string;
  primitive?: 'n' | 's';
  nl?: number;
  ll?: number;
  sl?: number;
  sb?: number;
  se?: 'l1' | 'u8' | 'u16';
  vb?: number;
}

const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

function copyBytes(dst: Buffer, off: number, a: Float64Array | Uint32Array): void {
  dst.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
}

export function encodeBatchFrame(channelId: string, b: EncodedBatch): Buffer {
  checkEndianness();
  const h: BatchHeader = { n: b.n };
  if (b.ts.length !== b.n) throw new RlinkError('RLINK_INTERNAL', `batch of ${b.n} records has ${b.ts.length} timestamps`);
  if (b.fields) h.fields = b.fields;
  if (b.types !== undefined) h.types = b.types;
  if (b.primitive) h.primitive = b.primitive;
  if (b.nums) h.nl = b.nums.length;
  if (b.lens) h.ll = b.lens.length;
  let strs: string | undefined;
  if (b.strs !== undefined) {
    strs = b.strs;
    h.sl = strs.length;
    // UTF-8 cannot carry lone surrogates; such strings (rare) go as UTF-16 code units, exactly.
    h.se = isWellFormed(strs) ? 'u8' : 'u16';
    h.sb = h.se === 'u8' ? Buffer.byteLength(strs, 'utf8') : strs.length * 2;
  }
  let values: Buffer | undefined;
  if (b.values) {
    try { values = serialize(b.values); } catch (e) {
      throw new RlinkError('RLINK_INTERNAL', `batch values cannot be serialized: ${(e as Error).message}`, { cause: e });
    }
    h.vb = values.length;
  }
  const json = JSON.stringify(h);
  const idBytes = channelIdBytes(channelId);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  const jsonAt = HEADER_FIXED + idBytes + 4;
  const tsAt = pad8(jsonAt + jsonBytes);
  const numsAt = tsAt + b.ts.byteLength;
  const lensAt = numsAt + (b.nums ? b.nums.byteLength : 0);
  const lensEnd = lensAt + (b.lens ? b.lens.byteLength : 0);
  const strsAt = pad8(lensEnd);
  const valuesAt = strsAt + (h.sb ?? 0);
  const total = valuesAt + (h.vb ?? 0);
  // Unpooled: the frame owns its ArrayBuffer, which starts 8-aligned.
  const buf = total < 4096 ? Buffer.allocUnsafe(total) : Buffer.allocUnsafeSlow(total);
  let off = writeHeader(buf, FRAME_KIND.batch, idBytes, channelId);
  buf.writeUInt32LE(jsonBytes, off);
  off += 4;
  buf.write(json, off, jsonBytes, 'utf8');
  buf.fill(0, jsonAt + jsonBytes, tsAt);
  copyBytes(buf, tsAt, b.ts);
  if (b.nums) copyBytes(buf, numsAt, b.nums);
  if (b.lens) copyBytes(buf, lensAt, b.lens);
  buf.fill(0, lensEnd, strsAt);
  if (strs !== undefined && h.sb) buf.write(strs, strsAt, h.sb, h.se === 'u8' ? 'utf8' : 'utf16le');
  if (values) buf.set(values, valuesAt);
  return buf;
}

/** A frame in a buffer of its own (the default of encodeRecordsFrame). */
const FRESH_MEMORY = { take: (bytes: number): Buffer => Buffer.allocUnsafeSlow(bytes), give: (): void => {} };
/** The widest count a header can announce (its digits are what a frame encoded in place reserves). */
const WIDEST_COUNT = 0xffffffff;

/**
 * A batch of same-shaped flat records whose strings are all Latin-1, encoded straight into its frame
 * (no EncodedBatch, no intermediate arrays or strings): the network's fast path. Undefined when the
 * batch is not such a batch; the caller then takes encodeBatch and encodeBatchFrame. `bytes`: the
 * columns' size, as encodedBytes counts it.
 */
export function encodeRecordsFrame(
  channelId: string, values: unknown[], timestamps: number[],
  /** Memory for the frame (8-aligned); `give` takes back a buffer not used. */
  memory: { take(bytes: number): Buffer; give(buf: Buffer): void } = FRESH_MEMORY,
): { frame: Buffer; bytes: number } | undefined {
  checkEndianness();
  const n = values.length;
  if (n === 0 || timestamps.length !== n) return undefined;
  const c = columnarCodec(values);
  if (!c) return undefined;
  const { codec } = c;
  const h: BatchHeader = { n, fields: c.fields, types: c.types, nl: n * codec.numCount, ll: n * codec.strCount };
  const strings = codec.strCount > 0;
  const reserved = Buffer.byteLength(JSON.stringify(strings ? { ...h, sl: WIDEST_COUNT, sb: WIDEST_COUNT, se: 'l1' } : h), 'utf8');
  const idBytes = channelIdBytes(channelId);
  const jsonAt = HEADER_FIXED + idBytes + 4;
  const tsAt = pad8(jsonAt + reserved);
  const numsAt = tsAt + 8 * n;
  const lensAt = numsAt + 8 * h.nl!;
  const lensEnd = lensAt + 4 * h.ll!;
  const strsAt = pad8(lensEnd);
  // Room for the strings as the last batch of this shape took, and a quarter more; doubled when short.
  let room = strings ? Math.ceil((lastStringCharsPerRecord(codec) ?? 16) * n * 1.25) + 64 : 0;
  for (let attempt = 0; attempt < 8; attempt++, room *= 2) {
    const buf = memory.take(strsAt + room);
    if (buf.byteOffset % 8 !== 0) throw new RlinkError('RLINK_INTERNAL', 'frame memory must start 8-aligned');
    const nums = new Float64Array(buf.buffer, buf.byteOffset + numsAt, h.nl!);
    const lens = new Uint32Array(buf.buffer, buf.byteOffset + lensAt, h.ll!);
    const end = encodeLatin1Columns(codec, values, n, nums, lens, buf, strsAt, buf.length);
    if (end < 0) memory.give(buf);
    if (end === NO_ROOM) continue;
    if (end < 0) return undefined; // a record of another shape, or a character above U+00FF
    const ts = new Float64Array(buf.buffer, buf.byteOffset + tsAt, n);
    for (let i = 0; i < n; i++) ts[i] = timestamps[i]!;
    const sl = end - strsAt;
    if (strings) { h.sl = sl; h.sb = sl; h.se = 'l1'; }
    let off = writeHeader(buf, FRAME_KIND.batch, idBytes, channelId);
    buf.writeUInt32LE(reserved, off);
    off += 4;
    const written = buf.write(JSON.stringify(h), off, reserved, 'utf8');
    buf.fill(0x20, off + written, jsonAt + reserved); // the reserved digits not taken: JSON whitespace
    buf.fill(0, jsonAt + reserved, tsAt);
    buf.fill(0, lensEnd, strsAt);
    return { frame: buf.subarray(0, end), bytes: 8 * n + 8 * h.nl! + 4 * h.ll! + sl };
  }
  return undefined;
}

// ───────────────────────────── decoding ─────────────────────────────

/** The fixed part of a frame, read without touching its body: enough to route it. */
export interface FrameHeader { version: number; kind: FrameKind; channelId: string; bodyOffset: number }

const KIND_NAMES: Record<number, FrameKind> = { 1: 'batch', 2: 'element', 3: 'credit' };

/** Reads and checks a frame's header (magic, version, kind, channel id). */
export function decodeFrameHeader(bytes: Uint8Array): FrameHeader {
  if (!(bytes instanceof Uint8Array)) throw malformed('not a byte array');
  if (bytes.length < HEADER_FIXED) throw malformed(`truncated: ${bytes.length} bytes, a frame has at least ${HEADER_FIXED}`);
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) throw malformed(`bad magic 0x${hex(bytes[0]!)}${hex(bytes[1]!)} (expected 'RL')`);
  const version = bytes[2]!;
  if (version !== DATA_FRAME_VERSION) {
    throw new RlinkError('RLINK_INTERNAL', `data frame version ${version} is not supported (this task manager speaks version ${DATA_FRAME_VERSION}): run the same rlink version on every task manager`);
  }
  const kind = KIND_NAMES[bytes[3]!];
  if (!kind) throw malformed(`unknown frame kind ${bytes[3]}`);
  const idBytes = bytes[4]! | (bytes[5]! << 8);
  const bodyOffset = HEADER_FIXED + idBytes;
  if (bytes.length < bodyOffset) throw malformed(`truncated channel id (${idBytes} bytes announced, ${bytes.length - HEADER_FIXED} present)`);
  const channelId = utf8(bytes, HEADER_FIXED, bodyOffset, 'channel id');
  return { version, kind, channelId, bodyOffset };
}

/**
 * Decodes one frame. Typed arrays of a batch are views on `bytes` when they are aligned in memory
 * (the caller must then not reuse `bytes`), copies otherwise. Throws RlinkError on anything malformed.
 */
export function decodeFrame(bytes: Uint8Array): DataFrame {
  const h = decodeFrameHeader(bytes);
  return { channelId: h.channelId, message: decodeFrameBody(bytes, h) };
}

/** Decodes the body of a frame whose header was read with {@link decodeFrameHeader}. */
export function decodeFrameBody(bytes: Uint8Array, h: FrameHeader): PortMessage {
  switch (h.kind) {
    case 'credit': {
      if (bytes.length !== h.bodyOffset + 4) throw malformed(`credit frame body is ${bytes.length - h.bodyOffset} bytes, expected 4`);
      const o = h.bodyOffset;
      return { c: (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) + bytes[o + 3]! * 0x1000000 };
    }
    case 'element': return { e: decodeElement(parseJson(bytes, h.bodyOffset, bytes.length, 'element')) };
    case 'batch': return { b: decodeBatchBody(bytes, h.bodyOffset) };
  }
}

function hex(x: number): string { return x.toString(16).padStart(2, '0'); }

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a leading U+FEFF is data

function utf8(bytes: Uint8Array, from: number, to: number, what: string): string {
  try { return utf8Decoder.decode(bytes.subarray(from, to)); } catch { throw malformed(`${what} is not valid UTF-8`); }
}

function parseJson(bytes: Uint8Array, from: number, to: number, what: string): unknown {
  const text = utf8(bytes, from, to, what);
  try { return JSON.parse(text); } catch { throw malformed(`${what} is not valid JSON`); }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function numberField(o: Record<string, unknown>, key: string, kind: string): number {
  const v = o[key];
  if (typeof v === 'number') return v;
  switch (v) {
    case 'Infinity': return Number.POSITIVE_INFINITY;
    case '-Infinity': return Number.NEGATIVE_INFINITY;
    case 'NaN': return Number.NaN;
    case '-0': return -0;
    default: throw malformed(`${kind} element: ${key} is not a number`);
  }
}

function stringField(o: Record<string, unknown>, key: string, kind: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw malformed(`${kind} element: ${key} is not a string`);
  return v;
}

function booleanField(o: Record<string, unknown>, key: string, kind: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw malformed(`${kind} element: ${key} is not a boolean`);
  return v;
}

function decodeElement(o: unknown): StreamElement {
  if (!isRecord(o)) throw malformed('element is not an object');
  switch (o.kind) {
    case 'watermark': return { kind: 'watermark', timestamp: numberField(o, 'timestamp', 'watermark') };
    case 'status': return { kind: 'status', idle: booleanField(o, 'idle', 'status') };
    case 'barrier': return {
      kind: 'barrier', checkpointId: numberField(o, 'checkpointId', 'barrier'),
      timestamp: numberField(o, 'timestamp', 'barrier'), savepoint: booleanField(o, 'savepoint', 'barrier'),
      target: stringField(o, 'target', 'barrier'),
    };
    case 'end': return { kind: 'end' };
    default: throw malformed(`unknown element kind ${JSON.stringify(o.kind)}`);
  }
}

function count(x: unknown, what: string, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) throw malformed(`batch header: ${what} is not a count`);
  return x;
}

function optCount(o: Record<string, unknown>, key: string, max = 0x7fffffff): number | undefined {
  return o[key] === undefined ? undefined : count(o[key], key, max);
}

function checkBatchHeader(o: unknown): BatchHeader & { numCols: number; strCols: number } {
  if (!isRecord(o)) throw malformed('batch header is not an object');
  const n = count(o.n, 'n', MAX_BATCH_RECORDS);
  const h: BatchHeader = { n };
  const nl = optCount(o, 'nl'), ll = optCount(o, 'll'), sl = optCount(o, 'sl'), sb = optCount(o, 'sb'), vb = optCount(o, 'vb');
  if (nl !== undefined) h.nl = nl;
  if (ll !== undefined) h.ll = ll;
  if (sl !== undefined) h.sl = sl;
  if (sb !== undefined) h.sb = sb;
  if (vb !== undefined) h.vb = vb;
  if ((sl === undefined) !== (sb === undefined) || (sl !== undefined && o.se !== 'l1' && o.se !== 'u8' && o.se !== 'u16')) throw malformed('batch header: strs needs sl, sb and se');
  if (sl !== undefined) h.se = o.se as 'l1' | 'u8' | 'u16';
  let numCols = 0, strCols = 0;
  if (vb !== undefined) {
    if (o.fields !== undefined || o.types !== undefined || o.primitive !== undefined || nl !== undefined || ll !== undefined || sl !== undefined) {
      throw malformed('batch header: values come alone');
    }
    return { ...h, numCols, strCols };
  }
  if (o.primitive !== undefined) {
    if (o.primitive !== 'n' && o.primitive !== 's') throw malformed('batch header: primitive is not n or s');
    if (o.fields !== undefined || o.types !== undefined) throw malformed('batch header: a primitive batch has no fields');
    h.primitive = o.primitive;
    if (o.primitive === 'n') numCols = 1; else strCols = 1;
  } else {
    const fields = o.fields, types = o.types;
    if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_FIELDS || !fields.every((f) => typeof f === 'string')) {
      throw malformed('batch header: fields are not 1..64 strings');
    }
    if (typeof types !== 'string' || types.length !== fields.length || !/^[nsb]*$/.test(types)) throw malformed('batch header: types do not match fields');
    if (fields.includes('__proto__') || new Set(fields).size !== fields.length) throw malformed('batch header: duplicate or reserved field name');
    h.fields = fields as string[];
    h.types = types;
    for (const t of types) { if (t === 's') strCols++; else numCols++; }
  }
  // Columns the shape needs are present, of the lengths it implies (encodeBatch sends empty ones too).
  if ((numCols > 0 && nl === undefined) || (nl !== undefined && nl !== n * numCols)) throw malformed('batch header: nums do not match the shape');
  if ((strCols > 0 && ll === undefined) || (ll !== undefined && ll !== n * strCols)) throw malformed('batch header: lens do not match the shape');
  if ((strCols > 0 && sl === undefined) || (strCols === 0 && sl !== undefined && sl !== 0)) throw malformed('batch header: strs do not match the shape');
  return { ...h, numCols, strCols };
}

function f64(bytes: Uint8Array, at: number, len: number): Float64Array {
  const abs = bytes.byteOffset + at;
  if (abs % 8 === 0) return new Float64Array(bytes.buffer, abs, len);
  const out = new Float64Array(len);
  new Uint8Array(out.buffer).set(bytes.subarray(at, at + len * 8));
  return out;
}

function u32(bytes: Uint8Array, at: number, len: number): Uint32Array {
  const abs = bytes.byteOffset + at;
  if (abs % 4 === 0) return new Uint32Array(bytes.buffer, abs, len);
  const out = new Uint32Array(len);
  new Uint8Array(out.buffer).set(bytes.subarray(at, at + len * 4));
  return out;
}

function decodeBatchBody(bytes: Uint8Array, bodyOffset: number): EncodedBatch {
  checkEndianness();
  if (bytes.length < bodyOffset + 4) throw malformed('truncated batch header');
  const o = bodyOffset;
  const jsonBytes = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) + bytes[o + 3]! * 0x1000000;
  const jsonAt = o + 4;
  if (bytes.length < jsonAt + jsonBytes) throw malformed('truncated batch header');
  const h = checkBatchHeader(parseJson(bytes, jsonAt, jsonAt + jsonBytes, 'batch header'));
  const n = h.n;
  const tsAt = pad8(jsonAt + jsonBytes);
  const numsAt = tsAt + n * 8;
  const lensAt = numsAt + (h.nl ?? 0) * 8;
  const lensEnd = lensAt + (h.ll ?? 0) * 4;
  const strsAt = pad8(lensEnd);
  const valuesAt = strsAt + (h.sb ?? 0);
  const total = valuesAt + (h.vb ?? 0);
  if (bytes.length !== total) {
    throw malformed(bytes.length < total ? `truncated batch: ${bytes.length} bytes, the header announces ${total}` : `${bytes.length - total} bytes after the batch`);
  }
  const b: EncodedBatch = { n, ts: f64(bytes, tsAt, n) };
  if (h.fields) { b.fields = h.fields; b.types = h.types!; }
  if (h.primitive) b.primitive = h.primitive;
  if (h.nl !== undefined) b.nums = f64(bytes, numsAt, h.nl);
  if (h.ll !== undefined) b.lens = u32(bytes, lensAt, h.ll);
  if (h.sl !== undefined) {
    const raw = Buffer.from(bytes.buffer, bytes.byteOffset + strsAt, h.sb!);
    const strs = h.se === 'u8' ? utf8(bytes, strsAt, valuesAt, 'batch strings') : raw.toString(h.se === 'l1' ? 'latin1' : 'utf16le');
    if (strs.length !== h.sl || h.sb !== (h.se === 'u16' ? h.sl * 2 : h.se === 'l1' ? h.sl : h.sb)) throw malformed('batch strings are not of the announced length');
    // The string lengths must add up, so a consumer never slices past the strings.
    let sum = 0;
    const lens = b.lens;
    if (lens) for (let i = 0; i < lens.length; i++) sum += lens[i]!;
    if (sum !== h.sl) throw malformed(`batch string lengths add up to ${sum}, not ${h.sl}`);
    b.strs = strs;
  }
  if (h.vb !== undefined) {
    let values: unknown;
    try { values = deserialize(Buffer.from(bytes.buffer, bytes.byteOffset + valuesAt, h.vb)); } catch { throw malformed('batch values cannot be deserialized'); }
    if (!Array.isArray(values) || values.length !== n) throw malformed(`batch values are not an array of ${n}`);
    b.values = values;
  }
  return b;
}
