import { RlinkError } from '../errors';
import { toMillis } from '../time/duration';

/**
 * The job's properties: a string map filled from the command line's `key=value` arguments and from
 * `prepareProperties`. Shipped as plain JSON to every task, so `build` sees the same values everywhere.
 */
export class Props {
  private readonly map: Map<string, string>;

  constructor(entries: Iterable<[string, string]> | Record<string, string> = []) {
    this.map = new Map(Symbol.iterator in Object(entries) ? (entries as Iterable<[string, string]>) : Object.entries(entries));
  }

  /** Parses `key=value` arguments; a token without `=` is an error naming it. */
  static fromArgs(args: readonly string[]): Props {
    const props = new Props();
    for (const arg of args) {
      const eq = arg.indexOf('=');
      if (eq <= 0) throw new RlinkError('RLINK_CONFIG', `argument '${arg}' is not key=value`);
      props.set(arg.slice(0, eq), arg.slice(eq + 1));
    }
    return props;
  }

  /** The value of a required key; throws RLINK_MISSING_PROP naming the key when unset. */
  get(key: string): string {
    const v = this.map.get(key);
    if (v === undefined) {
      throw new RlinkError('RLINK_MISSING_PROP', `missing required property '${key}' (pass it as ${key}=<value>)`, { context: { key } });
    }
    return v;
  }

  getOr(key: string, fallback: string): string { return this.map.get(key) ?? fallback; }
  has(key: string): boolean { return this.map.has(key); }
  set(key: string, value: string | number | boolean): this { this.map.set(key, String(value)); return this; }

  getNumber(key: string, fallback?: number): number {
    const raw = this.map.get(key);
    if (raw === undefined) {
      if (fallback === undefined) return Number(this.get(key));
      return fallback;
    }
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new RlinkError('RLINK_CONFIG', `property '${key}' = '${raw}' is not a number`, { context: { key } });
    return n;
  }

  /** A duration property in milliseconds (`'10s'`, `'500ms'`, or a number of ms). */
  getDuration(key: string, fallback?: number): number {
    const raw = this.map.get(key);
    if (raw === undefined) return fallback ?? toMillis(this.get(key), key);
    return toMillis(/^\d+$/.test(raw) ? Number(raw) : raw, `property '${key}'`);
  }

  keys(): string[] { return [...this.map.keys()]; }
  toJSON(): Record<string, string> { return Object.fromEntries(this.map); }
}
