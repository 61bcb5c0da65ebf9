import type { Key } from '../runtime/keys';

/** Flink's ValueState: one value per key, read and written for the key currently being processed. */
export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/** Heap-backed keyed value state: state name → key → value. */
export class ValueStateStore {
  currentKey: Key = null;
  private readonly tables = new Map<string, Map<Key, unknown>>();
  private readonly handles = new Map<string, ValueState<unknown>>();

  private readonly defaults = new Map<string, unknown>();

  /**
   * The state named `name`. Its default (what `value()` gives for a key without a value) is the last
   * one given for the name: a state first made without one (by a restore) takes the one the function
   * gives later.
   */
  state<T>(name: string, defaultValue?: T): ValueState<T> {
    if (defaultValue !== undefined) this.defaults.set(name, defaultValue);
    let h = this.handles.get(name);
    if (!h) {
      const table = new Map<Key, unknown>();
      this.tables.set(name, table);
      h = {
        value: () => (table.has(this.currentKey) ? table.get(this.currentKey) : this.defaults.get(name)),
        update: (v) => { table.set(this.currentKey, v); },
        clear: () => { table.delete(this.currentKey); },
      };
      this.handles.set(name, h);
    }
    return h as ValueState<T>;
  }

  /** Puts back one entry of a snapshot. */
  restore(name: string, key: Key, value: unknown): void {
    this.state(name);
    this.tables.get(name)!.set(key, value);
  }

  *entries(): Iterable<[string, Key, unknown]> {
    for (const [name, table] of this.tables) for (const [k, v] of table) yield [name, k, v];
  }
}
