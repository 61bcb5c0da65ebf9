/** The records of bench/shuffle-throughput.ts: {key, ts, value}, 1000 keys, in batches of 1024. */
export const BATCH = 1024;
/** Distinct batches cycled through (a source hands over fresh arrays; the values repeat). */
export const POOL = 16;
const BASE_TS = Date.UTC(2026, 0, 1);

export interface Rec { key: string; ts: number; value: number }

/** The b-th batch of the pool. */
export function batch(b: number): Rec[] {
  return Array.from({ length: BATCH }, (_, j) => { const i = b * BATCH + j; return { key: `key-${i % 1000}`, ts: BASE_TS + i, value: i % 97 }; });
}

/** The sum of `value` over n records sent as the pool cycles: the consumer's checksum. */
export function expectedSum(n: number): number {
  const pool = Array.from({ length: POOL }, (_, b) => batch(b));
  let s = 0;
  for (let k = 0; k * BATCH < n; k++) {
    const recs = pool[k % POOL]!;
    const m = Math.min(BATCH, n - k * BATCH);
    for (let j = 0; j < m; j++) s += recs[j]!.value;
  }
  return s;
}
