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
  decode(n: number, nums: Float64Array, strs: string, lens: Uint32Array): unknown[];
}

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
  const checks: string[] = [];
  const props: string[] = [];
  let numCount = 0, strCount = 0;
  fields.forEach((f, j) => {
    const q = JSON.stringify(f);
    const t = types[j];
    checks.push(`const x${j} = v[${q}];`);
    // Integer values come back as small integers, not doubles: objects decoded here then have the same
    // field representations as objects made in this thread, and V8 keeps one hidden class for both.
    if (t === 'n') { checks.push(`if (typeof x${j} !== 'number') return false; nums[ni++] = x${j};`); props.push(`${q}: ((d = nums[ni++]) === (d | 0) && (d !== 0 || 1 / d > 0) ? d | 0 : d)`); numCount++; }
    else if (t === 'b') { checks.push(`if (typeof x${j} !== 'boolean') return false; nums[ni++] = x${j} ? 1 : 0;`); props.push(`${q}: nums[ni++] === 1`); numCount++; }
    else { checks.push(`if (typeof x${j} !== 'string') return false; s += x${j}; lens[si++] = x${j}.length;`); props.push(`${q}: strs.substring(sp, sp += lens[si++])`); strCount++; }
  });
  /* eslint-disable no-new-func -- generated from field names quoted with JSON.stringify */
  // Strings are appended to one string (a rope V8 flattens once): cheaper than an array of parts and a join.
  const encode = new Function('F', `return function encode(values, n, nums, lens) {
    let ni = 0, si = 0, s = '';
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || typeof v !== 'object' || v.constructor !== Object) return false;
      let c = 0;
      for (const k in v) { if (k !== F[c]) return false; c++; }
      if (c !== ${fields.length}) return false;
      ${checks.join('\n      ')}
    }
    return s;
  };`)(fields) as Codec['encode'];
  const decode = new Function('n', 'nums', 'strs', 'lens', `
    const out = new Array(n);
    let ni = 0, si = 0, sp = 0, d = 0;
    for (let i = 0; i < n; i++) out[i] = { ${props.join(', ')} };
    return out;`) as Codec['decode'];
  return { numCount, strCount, encode, decode };
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
