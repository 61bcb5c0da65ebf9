/**
 * Columnar encoding of record batches for channels that cross threads (and, framed as bytes, the
 * network). Structured clone or JSON of a batch costs ~600 ns per small record; when every record of
 * a batch has the same flat shape (same keys, same order, each a number, string or boolean), the
 * batch becomes a few typed arrays and one string — ~40 ns per record, transferable without a copy.
 *
 *   { n, ts: Float64Array(n),
 *     fields: ['key', 'name', 'value'], types: 'nsn',
 *     nums: Float64Array(n × numeric fields),  (booleans as 0/1)
 *     strs: 'ab…' + lens: Uint32Array(n × string fields) }
 *
 * Anything else (nested values, mixed shapes, undefined, class instances) goes as `values`, the array
 * itself, structured-cloned: exact, just slower. Batches of bare strings or numbers have their own
 * columnar forms.
 */
export interface EncodedBatch {
  n: number;
  ts: Float64Array;
  /** Columnar records: field names and one type letter each (n = number, s = string, b = boolean). */
  fields?: string[];
  types?: string;
  nums?: Float64Array;
  strs?: string;
  lens?: Uint32Array;
  /** A batch of bare values: 'n' numbers in nums, 's' strings in strs/lens. */
  primitive?: 'n' | 's';
  /** Fallback: the values themselves. */
  values?: unknown[];
}

export interface Codec {
  numCount: number;
  strCount: number;
  /** Fills nums and lens; returns the string columns concatenated, or false when a record does not fit. */
  encode(values: unknown[], n: number, nums: Float64Array, lens: Uint32Array): string | false;
  /**
   * The same, writing the string columns as Latin-1 bytes into `bytes` from `pos`, before `end`: returns
   * the position after the last, or NO_ROOM, NO_SHAPE (a record does not fit) or NOT_LATIN1 (a
   * character above U+00FF: use `encode`). For writers into memory of their own (batch-ring.ts): no
   * string is built, and the reader makes one-byte strings, which V8 makes and reads faster.
   */
  encodeLatin1(values: unknown[], n: number, nums: Float64Array, lens: Uint32Array, bytes: Uint8Array, pos: number, end: number): number;
  decode(n: number, nums: Float64Array, strs: string, lens: Uint32Array): unknown[];
}

/** What `Codec.encodeLatin1` returns when it wrote nothing usable. */
export const NO_ROOM = -1;
export const NO_SHAPE = -2;
export const NOT_LATIN1 = -3;

const codecs = new Map<string, Codec>();
const MAX_CODECS = 256;

function typeLetter(x: unknown): 'n' | 's' | 'b' | undefined {
  switch (typeof x) {
    case 'number': return 'n';
    case 'string': return 's';
    case 'boolean': return 'b';
    default: return undefined;
  }
}

function codecFor(sample: Record<string, unknown>): { key: string; codec: Codec; fields: string[]; types: string } | undefined {
  const fields = Object.keys(sample);
  if (fields.length === 0 || fields.length > 64 || fields.includes('__proto__')) return undefined;
  let types = '';
  for (const f of fields) { const t = typeLetter(sample[f]); if (!t) return undefined; types += t; }
  const key = `${types}|${fields.join('\u0001')}`;
  let codec = codecs.get(key);
  if (!codec) {
    if (codecs.size >= MAX_CODECS) return undefined;
    codec = compile(fields, types);
    codecs.set(key, codec);
  }
  return { key, codec, fields, types };
}

function compile(fields: string[], types: string): Codec {
  const props: string[] = [];
  let numCount = 0, strCount = 0;
  for (let j = 0; j < fields.length; j++) {
    const q = JSON.stringify(fields[j]);
    // Integer values come back as small integers, not doubles: objects decoded here then have the same
    // field representations as objects made in this thread, and V8 keeps one hidden class for both.
    if (types[j] === 'n') { props.push(`${q}: ((d = nums[ni++]) === (d | 0) && (d !== 0 || 1 / d > 0) ? d | 0 : d)`); numCount++; }
    else if (types[j] === 'b') { props.push(`${q}: nums[ni++] === 1`); numCount++; }
    else { props.push(`${q}: strs.substring(sp, sp += lens[si++])`); strCount++; }
  }
  /* eslint-disable no-new-func -- generated from field names quoted with JSON.stringify */
  const decode = new Function('n', 'nums', 'strs', 'lens', `
    const out = new Array(n);
    let ni = 0, si = 0, sp = 0, d = 0;
    for (let i = 0; i < n; i++) out[i] = { ${props.join(', ')} };
    return out;`) as Codec['decode'];
  return {
    numCount, strCount, decode,
    encode: new Function('F', encoderSource(fields, types, 'rope'))(fields) as Codec['encode'],
    encodeLatin1: new Function('F', encoderSource(fields, types, 'latin1'))(fields) as Codec['encodeLatin1'],
  };
}

/**
 * The source of an encoder: the exact-shape check and the numeric columns are the same for both; the
 * strings are appended to one string (a rope V8 flattens once: cheaper than an array of parts and a
 * join), or written as Latin-1 bytes.
 */
function encoderSource(fields: string[], types: string, strings: 'rope' | 'latin1'): string {
  const rope = strings === 'rope';
  const fail = rope ? 'false' : String(NO_SHAPE);
  const checks = fields.map((f, j) => {
    const x = `x${j}`;
    const read = `const ${x} = v[${JSON.stringify(f)}];`;
    if (types[j] === 'n') return `${read} if (typeof ${x} !== 'number') return ${fail}; nums[ni++] = ${x};`;
    if (types[j] === 'b') return `${read} if (typeof ${x} !== 'boolean') return ${fail}; nums[ni++] = ${x} ? 1 : 0;`;
    if (rope) return `${read} if (typeof ${x} !== 'string') return false; s += ${x}; lens[si++] = ${x}.length;`;
    return `${read} if (typeof ${x} !== 'string') return ${NO_SHAPE};
      const l${j} = ${x}.length;
      if (p + l${j} > end) return ${NO_ROOM};
      for (let c = 0; c < l${j}; c++) { const ch = ${x}.charCodeAt(c); if (ch > 255) return ${NOT_LATIN1}; bytes[p + c] = ch; }
      p += l${j}; lens[si++] = l${j};`;
  });
  return `return function ${rope ? 'encode(values, n, nums, lens)' : 'encodeLatin1(values, n, nums, lens, bytes, p, end)'} {
    let ni = 0, si = 0${rope ? ", s = ''" : ''};
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || typeof v !== 'object' || v.constructor !== Object) return ${fail};
      let c = 0;
      for (const k in v) { if (k !== F[c]) return ${fail}; c++; }
      if (c !== ${fields.length}) return ${fail};
      ${checks.join('\n      ')}
    }
    return ${rope ? 's' : 'p'};
  };`;
}

/** Characters of strings per record, by shape, in the last batch encodeLatin1Columns wrote. */
const stringCharsPerRecord = new WeakMap<Codec, number>();

/** Characters of strings per record the last batch of this shape had (undefined before the first). */
export function lastStringCharsPerRecord(codec: Codec): number | undefined { return stringCharsPerRecord.get(codec); }
/**
 * Up to this many characters of strings per record, strings are written a character at a time; above,
 * appended into one string and copied in bulk. The character loop makes no garbage and wins on keys
 * (12.7 vs 13.3 ns a record for 7-character keys), but costs ~2 ns a character: 132 ns a record for
 * 60-character strings against 22 appended and copied (micro-benchmarks, Nexmark bids' `extra`).
 */
const CHARACTER_LOOP_MAX = 24;
const ABOVE_LATIN1 = /[^\u0000-\u00ff]/;

/**
 * Encodes a batch's columns with `codec`, its strings as Latin-1 bytes into `bytes` from `pos` before
 * `end`: the position after them, or NO_ROOM, NO_SHAPE or NOT_LATIN1 (as Codec.encodeLatin1). For
 * writers into memory of their own (batch-ring.ts, data-frames.ts).
 */
export function encodeLatin1Columns(codec: Codec, values: unknown[], n: number, nums: Float64Array, lens: Uint32Array, bytes: Buffer, pos: number, end: number): number {
  if (codec.strCount === 0 || (stringCharsPerRecord.get(codec) ?? 0) <= CHARACTER_LOOP_MAX) {
    const at = codec.encodeLatin1(values, n, nums, lens, bytes, pos, end);
    if (at >= 0 && n > 0) stringCharsPerRecord.set(codec, (at - pos) / n);
    return at;
  }
  const strs = codec.encode(values, n, nums, lens);
  if (strs === false) return NO_SHAPE;
  if (strs.length > end - pos) return NO_ROOM;
  if (n > 0) stringCharsPerRecord.set(codec, strs.length / n);
  // ASCII is checked in bulk (SIMD); only other strings are searched for a character above U+00FF.
  if (Buffer.byteLength(strs, 'utf8') !== strs.length && ABOVE_LATIN1.test(strs)) return NOT_LATIN1;
  return pos + bytes.write(strs, pos, 'latin1');
}

/**
 * The columnar codec for a batch of records shaped like its first one (undefined when the batch is not
 * one of same-shaped flat objects by its first record; the codec's encode still checks every record).
 * For writers that encode into memory of their own (batch-ring.ts).
 */
export function columnarCodec(values: unknown[]): { codec: Codec; fields: string[]; types: string } | undefined {
  const first = values[0];
  if (first === null || typeof first !== 'object' || (first as object).constructor !== Object) return undefined;
  return codecFor(first as Record<string, unknown>);
}

/** The codec of columns a sender chose (compiled once per shape). */
export function codecOf(fields: string[], types: string): Codec {
  const key = `${types}|${fields.join('\u0001')}`;
  let codec = codecs.get(key);
  if (!codec) {
    codec = compile(fields, types);
    if (codecs.size < MAX_CODECS) codecs.set(key, codec); // the sender chose columns: always decode them
  }
  return codec;
}

export function encodeBatch(values: unknown[], timestamps: number[]): EncodedBatch {
  const n = values.length;
  const ts = Float64Array.from(timestamps);
  if (n === 0) return { n, ts, values };
  const first = values[0];
  if (typeof first === 'string' || typeof first === 'number') return encodePrimitive(values, n, ts, typeof first === 'string' ? 's' : 'n');
  const c = columnarCodec(values);
  if (!c) return { n, ts, values };
  const nums = new Float64Array(n * c.codec.numCount);
  const lens = new Uint32Array(n * c.codec.strCount);
  const strs = c.codec.encode(values, n, nums, lens);
  if (strs === false) return { n, ts, values };
  return { n, ts, fields: c.fields, types: c.types, nums, strs, lens };
}

function encodePrimitive(values: unknown[], n: number, ts: Float64Array, kind: 'n' | 's'): EncodedBatch {
  if (kind === 'n') {
    const nums = new Float64Array(n);
    for (let i = 0; i < n; i++) { const v = values[i]; if (typeof v !== 'number') return { n, ts, values }; nums[i] = v; }
    return { n, ts, primitive: 'n', nums };
  }
  const lens = new Uint32Array(n);
  for (let i = 0; i < n; i++) { const v = values[i]; if (typeof v !== 'string') return { n, ts, values }; lens[i] = v.length; }
  return { n, ts, primitive: 's', strs: (values as string[]).join(''), lens };
}

export function decodeBatch(b: EncodedBatch): { values: unknown[]; timestamps: number[] } {
  const timestamps = new Array<number>(b.n);
  for (let i = 0; i < b.n; i++) timestamps[i] = b.ts[i]!;
  if (b.values) return { values: b.values, timestamps };
  if (b.primitive === 'n') return { values: Array.from(b.nums!), timestamps };
  if (b.primitive === 's') {
    const out = new Array<string>(b.n);
    let sp = 0;
    for (let i = 0; i < b.n; i++) { const l = b.lens![i]!; out[i] = b.strs!.substring(sp, sp + l); sp += l; }
    return { values: out, timestamps };
  }
  return { values: codecOf(b.fields!, b.types!).decode(b.n, b.nums!, b.strs!, b.lens!), timestamps };
}

/** Bytes a columnar batch occupies (typed arrays and strings; 0 for the structured fallback, which has no cheap size). */
export function encodedBytes(b: EncodedBatch): number {
  return b.ts.byteLength + (b.nums?.byteLength ?? 0) + (b.lens?.byteLength ?? 0) + (b.strs?.length ?? 0);
}

/** The buffers to transfer (not copy) with postMessage. */
export function transferables(b: EncodedBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [b.ts.buffer as ArrayBuffer];
  if (b.nums) out.push(b.nums.buffer as ArrayBuffer);
  if (b.lens) out.push(b.lens.buffer as ArrayBuffer);
  return out;
}
