/**
 * Each Nexmark query job (bench/nexmark/queries/*.ts, the ones the benchmark runs) through the real
 * `rlink run`, at parallelism 1 and 2, against a brute-force result computed in plain TypeScript from
 * the same generated events (test/nexmark/reference.ts). 20 000 events at 200 events/s of event time
 * (100 s): 10 windows of q7 and q8, 54 sliding windows of q5.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { rlink, tempDir, readJsonl, canonical, ROOT } from '../helpers/cli';
import { nexmarkGenerator, type NexmarkEvent } from '../../bench/nexmark/generator';
import { refQ0, refQ1, refQ2, refQ5, refQ7, refQ8 } from './reference';

const EVENTS = 20_000;
const RATE = 200;
const generate = nexmarkGenerator({ eventsPerSecond: RATE });
const events: NexmarkEvent[] = Array.from({ length: EVENTS }, (_, i) => generate(i));

async function runQuery(query: string, parallelism: number): Promise<unknown[]> {
  const dir = tempDir('rlink-nexmark-');
  const out = join(dir, 'out');
  const r = await rlink(['run', join(ROOT, 'bench', 'nexmark', 'queries', `${query}.ts`),
    `events=${EVENTS}`, `eventsPerSecond=${RATE}`, `parallelism=${parallelism}`, `output=${out}`, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout) as { status: string; progress: { recordsIn: number; lateRecordsDropped: number } };
  expect(result.status).toBe('FINISHED');
  expect(result.progress.recordsIn).toBe(EVENTS);
  expect(result.progress.lateRecordsDropped).toBe(0);
  const records = readJsonl(out);
  rmSync(dir, { recursive: true, force: true });
  return records;
}

const cases: Array<{ query: string; reference: (e: NexmarkEvent[]) => unknown[]; check: (ref: any[]) => void }> = [
  { query: 'q0', reference: refQ0, check: (ref) => expect(ref.length).toBe(18_400) },
  { query: 'q1', reference: refQ1, check: (ref) => expect(ref.some((r) => !Number.isInteger(r.price))).toBe(true) },
  { query: 'q2', reference: refQ2, check: (ref) => { expect(ref.length).toBeGreaterThan(20); expect(ref.every((r) => r.auction % 123 === 0)).toBe(true); } },
  { query: 'q5', reference: refQ5, check: (ref) => expect(new Set(ref.map((r) => r.windowEnd)).size).toBe(54) },
  { query: 'q7', reference: refQ7, check: (ref) => expect(new Set(ref.map((r) => r.windowEnd)).size).toBe(10) },
  // 70 persons in 10 windows; without the per-window DISTINCT of sellers the join would give 356 rows.
  { query: 'q8', reference: refQ8, check: (ref) => { expect(ref.length).toBe(70); expect(new Set(ref.map((r) => r.starttime)).size).toBe(10); } },
];

describe('nexmark queries through rlink run equal a brute-force reference', () => {
  for (const { query, reference, check } of cases) {
    it(`${query} at parallelism 1 and 2`, async () => {
      const expected = reference(events);
      check(expected); // the reference is not trivially empty
      for (const p of [1, 2]) {
        const actual = await runQuery(query, p);
        expect(actual.length, `${query} p${p}: number of results`).toBe(expected.length);
        expect(canonical(actual), `${query} p${p}`).toEqual(canonical(expected));
      }
    }, 180_000);
  }
});
