import { decodeBatch, encodeBatch } from './network/batch-codec';

/**
 * A deep copy of a batch's values, for a stream that fans out to several consumers in one thread:
 * each consumer may then mutate what it is given without the others seeing it (Flink copies records
 * between chained operators for the same reason). Same-shaped flat records go through the columnar
 * codec (~40 ns each); anything else through structuredClone; values that cannot be cloned
 * (functions, class instances with methods) are shared as they are.
 */
/** A deep copy of one value (structuredClone; shared as is when it cannot be cloned). */
export function copyValue<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  try { return structuredClone(v); } catch { return v; }
}

export function copyBatch(values: unknown[]): unknown[] {
  if (values.length === 0) return [];
  const first = values[0];
  if (first === null || typeof first !== 'object') return values.slice(); // primitives are immutable
  const enc = encodeBatch(values, []);
  if (!enc.values) return decodeBatch({ ...enc, n: values.length, ts: new Float64Array(values.length) }).values;
  try {
    return structuredClone(values);
  } catch {
    return values.slice();
  }
}
