/**
 * A small schema language for the messages that cross a trust boundary (the control socket between
 * job manager and task managers, REST bodies, files read back such as checkpoints and job records).
 * A message is declared once as a schema; its TypeScript type is inferred from it, and `parse`
 * checks a decoded JSON value against it completely: a value that passes has exactly the declared
 * shape, every number within its bounds, every string within its length, every array within its
 * size. The first violation throws a {@link SchemaViolation} that names the field by its path
 * (`task-state.subtask.index: expected an integer ≥ 0, got undefined`).
 *
 * ```ts
 * const Subtask = s.object({ vertex: s.string({ max: 256 }), index: s.int({ min: 0 }) });
 * type Subtask = Infer<typeof Subtask>;          // { vertex: string; index: number }
 * const sub = parse(Subtask, JSON.parse(text), 'subtask');
 * ```
 *
 * Why not zod: the checks run on every control message, and the messages must name the offending
 * field in a close reason of at most 123 bytes; this is 150 lines with no dependency.
 */

/** A value that does not match its schema: `path` names the field, `message` says what was expected. */
export class SchemaViolation extends Error {
  constructor(readonly path: string, readonly expected: string, readonly got: unknown) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
    this.name = 'SchemaViolation';
  }
}

export interface Schema<T> {
  /** Returns the value (typed) or throws a SchemaViolation naming `path`. */
  check(v: unknown, path: string): T;
  /** For messages: "an integer ≥ 0", "one of 'a' | 'b'". */
  readonly expected: string;
}

interface OptionalSchema<T> extends Schema<T | undefined> { readonly optional: true }

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferObject<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

function schema<T>(expected: string, check: (v: unknown, path: string) => T): Schema<T> {
  return { expected, check };
}

function fail(path: string, expected: string, got: unknown): never {
  throw new SchemaViolation(path, expected, got);
}

/** Checks `v` against `sch`; `root` names the value in a violation (e.g. the message type). */
export function parse<T>(sch: Schema<T>, v: unknown, root = 'value'): T {
  return sch.check(v, root);
}

export const s = {
  string(o: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> {
    const max = o.max ?? 4096;
    const min = o.min ?? 0;
    const expected = `a string of ${min}..${max} characters${o.pattern ? ` matching ${o.pattern}` : ''}`;
    return schema(expected, (v, path) => {
      if (typeof v !== 'string' || v.length < min || v.length > max || (o.pattern && !o.pattern.test(v))) fail(path, expected, v);
      return v;
    });
  },

  int(o: { min?: number; max?: number } = {}): Schema<number> {
    const min = o.min ?? Number.MIN_SAFE_INTEGER;
    const max = o.max ?? Number.MAX_SAFE_INTEGER;
    const expected = o.max === undefined ? `an integer ≥ ${min}` : `an integer in ${min}..${max}`;
    return schema(expected, (v, path) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, expected, v);
      return v;
    });
  },

  /** A finite number (JSON has no other kind). */
  number(o: { min?: number } = {}): Schema<number> {
    const expected = o.min === undefined ? 'a finite number' : `a finite number ≥ ${o.min}`;
    return schema(expected, (v, path) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || (o.min !== undefined && v < o.min)) fail(path, expected, v);
      return v;
    });
  },

  boolean(): Schema<boolean> {
    return schema('a boolean', (v, path) => (typeof v === 'boolean' ? v : fail(path, 'a boolean', v)));
  },

  literal<const L extends string | number | boolean>(value: L): Schema<L> {
    const expected = JSON.stringify(value);
    return schema(expected, (v, path) => (v === value ? (v as L) : fail(path, expected, v)));
  },

  oneOf<const L extends readonly string[]>(values: L): Schema<L[number]> {
    const set = new Set<unknown>(values);
    const expected = `one of ${values.map((x) => `'${x}'`).join(' | ')}`;
    return schema(expected, (v, path) => (set.has(v) ? (v as L[number]) : fail(path, expected, v)));
  },

  nullable<T>(inner: Schema<T>): Schema<T | null> {
    return schema(`${inner.expected} or null`, (v, path) => (v === null ? null : inner.check(v, path)));
  },

  optional<T>(inner: Schema<T>): OptionalSchema<T> {
    return { optional: true, expected: `${inner.expected} (optional)`, check: (v, path) => (v === undefined ? undefined : inner.check(v, path)) };
  },

  array<T>(item: Schema<T>, o: { max?: number } = {}): Schema<T[]> {
    const max = o.max ?? 100_000;
    const expected = `an array of at most ${max} items`;
    return schema(expected, (v, path) => {
      if (!Array.isArray(v) || v.length > max) fail(path, expected, v);
      for (let i = 0; i < v.length; i++) item.check(v[i], `${path}[${i}]`);
      return v as T[];
    });
  },

  /** An object with exactly these fields (unknown fields are allowed and ignored, for forward compatibility). */
  object<S extends Shape>(shape: S): Schema<InferObject<S>> {
    const entries = Object.entries(shape);
    return schema('an object', (v, path) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
      const o = v as Record<string, unknown>;
      for (const [k, f] of entries) f.check(o[k], `${path}.${k}`);
      return o as InferObject<S>;
    });
  },

  /** A string-keyed map. */
  record<T>(value: Schema<T>, o: { maxKeys?: number; key?: Schema<string> } = {}): Schema<Record<string, T>> {
    const maxKeys = o.maxKeys ?? 10_000;
    const expected = `an object of at most ${maxKeys} keys`;
    return schema(expected, (v, path) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, expected, v);
      const keys = Object.keys(v);
      if (keys.length > maxKeys) fail(path, expected, v);
      for (const k of keys) {
        o.key?.check(k, `${path} key`);
        value.check((v as Record<string, unknown>)[k], `${path}.${k}`);
      }
      return v as Record<string, T>;
    });
  },

  /**
   * A union told apart by a string field (`type`, `kind`): the tag picks the member, so a violation
   * names the member's field rather than "none of the alternatives matched".
   */
  tagged<const K extends string, M extends Record<string, Schema<unknown>>>(tag: K, members: M): Schema<{ [T in keyof M]: Infer<M[T]> }[keyof M]> {
    const names = Object.keys(members);
    const expected = `an object with ${tag} ${names.map((n) => `'${n}'`).join(' | ')}`;
    return schema(expected, (v, path) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, expected, v);
      const t = (v as Record<string, unknown>)[tag];
      const m = typeof t === 'string' && Object.hasOwn(members, t) ? members[t] : undefined;
      if (!m) fail(`${path}.${tag}`, `one of ${names.map((n) => `'${n}'`).join(' | ')}`, t);
      m.check(v, typeof t === 'string' ? t : path);
      return v as { [T in keyof M]: Infer<M[T]> }[keyof M];
    });
  },

  /** Anything JSON (checked no further); for payloads another layer validates (records, snapshots). */
  json(): Schema<unknown> {
    return schema('any JSON value', (v) => v);
  },
};

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  return String(v);
}
