/**
 * Keys, their stable hash and key groups.
 *
 * A keyed stream's key space is cut into `maxParallelism` key groups (Flink's scheme): a key belongs
 * to group `murmur3(key) mod maxParallelism`, and subtask i of p owns the contiguous range of groups
 * [ceil(i·M/p), ceil((i+1)·M/p)). Keyed state is stored per key group, so a job restored at another
 * parallelism hands whole groups to new owners. The hash is over the key's canonical string, so
 * every process computes the same group for the same key.
 */
export type Key = string | number | boolean | null;
export type KeySpec =
  | { kind: 'field'; fields: string[] }
  | { kind: 'fn'; fn: (value: any) => unknown };

export type KeySelector = (value: any) => Key;

/** Compiles a key spec to a selector. Composite keys become one canonical string. */
export function compileKeySelector(spec: KeySpec): KeySelector {
  if (spec.kind === 'fn') {
    const fn = spec.fn;
    return (v) => normalizeKey(fn(v));
  }
  if (spec.fields.length === 1) {
    const f = spec.fields[0]!;
    return (v) => normalizeKey(v == null ? undefined : v[f]);
  }
  const fields = spec.fields;
  return (v) => JSON.stringify(fields.map((f) => (v == null ? null : v[f] ?? null)));
}

function normalizeKey(k: unknown): Key {
  if (k === undefined) return null;
  if (typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean' || k === null) return k;
  return JSON.stringify(k);
}

/** The output fields a key spec contributes to a windowed aggregate's record. */
export function keyFields(spec: KeySpec, key: Key): Record<string, unknown> {
  if (spec.kind === 'fn') return { key };
  if (spec.fields.length === 1) return { [spec.fields[0]!]: key };
  const parts = JSON.parse(key as string) as unknown[];
  const out: Record<string, unknown> = {};
  spec.fields.forEach((f, i) => { out[f] = parts[i]; });
  return out;
}

/** MurmurHash3 (x86, 32-bit) of a string's UTF-16 code units; stable across processes and platforms. */
export function murmur3(s: string, seed = 0): number {
  let h = seed >>> 0;
  const len = s.length;
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  let i = 0;
  for (; i + 1 < len; i += 2) {
    let k = (s.charCodeAt(i) & 0xffff) | ((s.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < len) {
    let k = s.charCodeAt(i) & 0xffff;
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len * 2;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

export function keyGroupOf(key: Key, maxParallelism: number): number {
  if (typeof key === 'number' && (key | 0) === key) return fmix32(key) % maxParallelism; // -0 too: it is the key 0
  const canonical = typeof key === 'string' ? key : `\u0000${String(key)}`;
  return murmur3(canonical) % maxParallelism;
}

/** MurmurHash3's finaliser: a well-mixed 32-bit hash of a 32-bit integer (int keys skip the string). */
export function fmix32(k: number): number {
  let h = k | 0;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

/** The subtask that owns a key group (Flink's computeOperatorIndexForKeyGroup). */
export function subtaskForKeyGroup(keyGroup: number, maxParallelism: number, parallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The key groups subtask `index` of `parallelism` owns: [start, end). */
export function keyGroupRange(index: number, maxParallelism: number, parallelism: number): [number, number] {
  return [Math.ceil((index * maxParallelism) / parallelism), Math.ceil(((index + 1) * maxParallelism) / parallelism)];
}
