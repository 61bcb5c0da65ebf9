/**
 * Generated inputs of the join tests on a cluster (test/cluster/joins.test.ts): deterministic from the
 * index, out of order by at most 2 ms (the app's bound is larger), so nothing is late whatever the
 * interleaving, and the brute-force references (test/reference/joins.ts) give the one right answer.
 */
export function generatedLeft(mode: string): (i: number) => { key: number; ts: number; v: number; id: number; version?: number } {
  return (i) => ({ key: i % 7, ts: i * 3 - (i % 3), v: i % 11, id: i, ...(mode === 'broadcast' ? { version: i % 5 } : {}) });
}

export function generatedRight(mode: string): (i: number) => { key: number; ts: number; w: number; id: number; version?: number; factor?: number } {
  if (mode === 'broadcast') {
    // Rules: version i % 5 gets factor 2 + i (the later rule of a version wins nothing: each version has one rule).
    return (i) => ({ key: 0, ts: i * 6 + 100_000, w: 0, id: i, version: i, factor: 2 + i });
  }
  return (i) => ({ key: (i * 3) % 7, ts: i * 6 - (i % 2), w: i % 13, id: i });
}
