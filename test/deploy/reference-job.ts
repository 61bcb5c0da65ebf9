/** Input and brute-force expected output of test/deploy/apps/tumbling.ts (1 s tumbling windows per user). */
export function tumblingReference(n: number, seed = 7): { records: { user: string; ts: number; amount: number }[]; expected: Record<string, unknown>[] } {
  let s = seed;
  const rnd = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff; };
  const records = [];
  let t = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 20);
    // Out of order by less than the 500 ms bound: nothing is late.
    records.push({ user: `u${Math.floor(rnd() * 7)}`, ts: t - Math.floor(rnd() * 400), amount: Math.floor(rnd() * 100) });
  }
  const windows = new Map<string, { user: string; windowStart: number; windowEnd: number; total: number; n: number }>();
  for (const r of records) {
    const start = r.ts - (r.ts % 1000);
    const k = `${r.user}|${start}`;
    const w = windows.get(k) ?? { user: r.user, windowStart: start, windowEnd: start + 1000, total: 0, n: 0 };
    w.total += r.amount; w.n++;
    windows.set(k, w);
  }
  return { records, expected: [...windows.values()] };
}
