/**
 * Random windowed SQL queries over random out-of-order input, the brute-force answer for each, and
 * the property runner that compares `rlink run` (or `rlink submit` to a cluster) with it.
 *
 * A scenario is a window (TUMBLE, HOP or SESSION; as a group window in GROUP BY or as a window TVF),
 * group keys, aggregates (SUM, MIN, MAX, COUNT(*), COUNT(v), AVG, COUNT(DISTINCT v), SUM of an
 * expression), maybe a WHERE and a HAVING, and input records { k, region, v, ts } with nulls in v,
 * timestamps that run ahead with disorder, some records beyond the watermark bound (late).
 *
 * The reference is test/reference/windows.ts (shares no code with the engine) with the WHERE as its
 * filter; this file adds the SQL around it: aggregates as functions of a window's records with SQL's
 * null rules, HAVING, the output column names.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { referenceWindows, type Rec, type WindowDef } from '../reference/windows';
import { inputArb, type Disorder } from '../semantics/scenarios';
import { ROOT, canonical, readJsonl, rlink, tempDir, writeJsonl } from '../helpers/cli';

export const SQL_APP = join(ROOT, 'test', 'sql', 'apps', 'sql-app.ts');

export type SqlAgg = 's' | 'lo' | 'hi' | 'n' | 'nv' | 'av' | 'd' | 'e';
export type SqlWhere = 'none' | 'positive' | 'notB' | 'region1';

/** CUMULATE(step, max): only as a window TVF. */
export type SqlWindow = WindowDef | { kind: 'cumulate'; step: number; max: number };

export interface SqlParams {
  /** In seconds. */
  window: SqlWindow;
  form: 'group' | 'tvf';
  keys: Array<'k' | 'region'>;
  aggs: SqlAgg[];
  where: SqlWhere;
  /** HAVING COUNT(*) > having. */
  having?: number;
  /** Watermark delay, in seconds. */
  bound: number;
  parallelism: number;
  sourceParallelism: number;
  source: 'file' | 'collection';
  mode: 'query' | 'insert';
}

export interface SqlScenario { params: SqlParams; input: Rec[] }

const AGG_SQL: Record<SqlAgg, string> = {
  s: 'SUM(v)', lo: 'MIN(v)', hi: 'MAX(v)', n: 'COUNT(*)', nv: 'COUNT(v)', av: 'AVG(v)', d: 'COUNT(DISTINCT v)', e: 'SUM(v * 2 + 1)',
};

const WHERE_SQL: Record<SqlWhere, string | undefined> = {
  none: undefined, positive: 'v > 0', notB: "k <> 'b'", region1: 'v IS NOT NULL AND region = 1',
};

const WHERE_FN: Record<SqlWhere, (r: Rec) => boolean> = {
  none: () => true,
  positive: (r) => r.v !== null && (r.v as number) > 0,
  notB: (r) => r.k !== 'b',
  region1: (r) => r.v !== null && r.region === 1,
};

const values = (rs: readonly Rec[]): number[] => rs.map((r) => r.v).filter((v): v is number => v !== null && v !== undefined) as number[];
const sumOrNull = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0));

/** SQL's aggregates as functions of all the records of a window. */
const AGG_REF: Record<SqlAgg, (rs: readonly Rec[]) => unknown> = {
  s: (rs) => sumOrNull(values(rs)),
  lo: (rs) => (values(rs).length === 0 ? null : Math.min(...values(rs))),
  hi: (rs) => (values(rs).length === 0 ? null : Math.max(...values(rs))),
  n: (rs) => rs.length,
  nv: (rs) => values(rs).length,
  av: (rs) => (values(rs).length === 0 ? null : (sumOrNull(values(rs)) as number) / values(rs).length),
  d: (rs) => new Set(values(rs)).size,
  e: (rs) => sumOrNull(values(rs).map((v) => v * 2 + 1)),
};

const interval = (seconds: number): string => `INTERVAL '${seconds}' SECOND`;

/** The query a scenario runs. */
export function sqlOf(p: SqlParams): string {
  const w = p.window;
  const aggs = p.aggs.map((a) => `${AGG_SQL[a]} AS ${a}`);
  const keys = p.keys.join(', ');
  const where = WHERE_SQL[p.where];
  const having = p.having !== undefined ? ` HAVING COUNT(*) > ${p.having}` : '';
  if (p.form === 'tvf') {
    const tvf = w.kind === 'tumbling' ? `TUMBLE(TABLE t, DESCRIPTOR(ts), ${interval(w.size)})`
      : w.kind === 'sliding' ? `HOP(TABLE t, DESCRIPTOR(ts), ${interval(w.slide)}, ${interval(w.size)})`
        : w.kind === 'cumulate' ? `CUMULATE(TABLE t, DESCRIPTOR(ts), ${interval(w.step)}, ${interval(w.max)})`
          : `SESSION(TABLE t${p.keys.length ? ` PARTITION BY ${keys}` : ''}, DESCRIPTOR(ts), ${interval(w.gap)})`;
    return [
      `SELECT ${[...p.keys, 'window_start AS ws', 'window_end AS we', ...aggs].join(', ')}`,
      `FROM TABLE(${tvf})`,
      ...(where ? [`WHERE ${where}`] : []),
      `GROUP BY ${['window_start', 'window_end', ...p.keys].join(', ')}${having}`,
    ].join('\n');
  }
  if (w.kind === 'cumulate') throw new Error('CUMULATE is a window TVF only');
  const args = w.kind === 'tumbling' ? `ts, ${interval(w.size)}` : w.kind === 'sliding' ? `ts, ${interval(w.slide)}, ${interval(w.size)}` : `ts, ${interval(w.gap)}`;
  const fn = w.kind === 'tumbling' ? 'TUMBLE' : w.kind === 'sliding' ? 'HOP' : 'SESSION';
  return [
    `SELECT ${[...p.keys, `${fn}_START(${args}) AS ws`, `${fn}_END(${args}) AS we`, ...aggs].join(', ')}`,
    'FROM t',
    ...(where ? [`WHERE ${where}`] : []),
    `GROUP BY ${[`${fn}(${args})`, ...p.keys].join(', ')}${having}`,
  ].join('\n');
}

/** The brute-force answer: output rows (with the query's column names) and how many records were late. */
export function referenceSql(input: readonly Rec[], p: SqlParams): { output: Rec[]; lateCount: number } {
  const ms = (s: number) => s * 1000;
  const w = p.window;
  const rowOf = (keys: Rec, ws: number, we: number, rs: readonly Rec[]): Rec | undefined => {
    if (p.having !== undefined && !(rs.length > p.having)) return undefined;
    const o: Rec = {};
    for (const k of p.keys) o[k] = keys[k];
    o.ws = ws;
    o.we = we;
    for (const a of p.aggs) o[a] = AGG_REF[a](rs);
    return o;
  };
  if (w.kind === 'cumulate') {
    // Slices of `step` (a record late for its slice is dropped, as Flink's slicing windows do), then per
    // key and period of `max` the windows [period, end) for every step end from the key's first slice.
    const slices = referenceWindows(input, {
      window: { kind: 'tumbling', size: ms(w.step) }, bound: ms(p.bound), lateness: 0, keyFields: p.keys,
      aggregates: { __rows: (rs) => rs }, tsField: 'ts', sourceParallelism: p.sourceParallelism, filter: WHERE_FN[p.where],
    });
    const periods = new Map<string, { keys: Rec; start: number; slices: Array<{ end: number; rows: Rec[] }> }>();
    for (const sl of slices.output) {
      const start = (sl.windowStart as number) - ((((sl.windowStart as number) % ms(w.max)) + ms(w.max)) % ms(w.max));
      const id = JSON.stringify([p.keys.map((k) => sl[k]), start]);
      const e = periods.get(id) ?? { keys: sl, start, slices: [] };
      e.slices.push({ end: sl.windowEnd as number, rows: sl.__rows as Rec[] });
      periods.set(id, e);
    }
    const output: Rec[] = [];
    for (const per of periods.values()) {
      const first = Math.min(...per.slices.map((x) => x.end));
      for (let end = first; end <= per.start + ms(w.max); end += ms(w.step)) {
        const row = rowOf(per.keys, per.start, end, per.slices.filter((x) => x.end <= end).flatMap((x) => x.rows));
        if (row) output.push(row);
      }
    }
    return { output, lateCount: slices.lateCount };
  }
  const window: WindowDef = w.kind === 'tumbling' ? { kind: 'tumbling', size: ms(w.size) }
    : w.kind === 'sliding' ? { kind: 'sliding', size: ms(w.size), slide: ms(w.slide) } : { kind: 'session', gap: ms(w.gap) };
  const ref = referenceWindows(input, {
    window, bound: ms(p.bound), lateness: 0, keyFields: p.keys, aggregates: { __rows: (rs) => rs }, tsField: 'ts',
    sourceParallelism: p.sourceParallelism, filter: WHERE_FN[p.where],
  });
  const output = ref.output.map((r) => rowOf(r, r.windowStart as number, r.windowEnd as number, r.__rows as Rec[])).filter((r): r is Rec => r !== undefined);
  return { output, lateCount: ref.lateCount };
}

/** Input records { k, region, v, ts }: the semantics suite's generator, in seconds, with some nulls in v. */
export function sqlInputArb(bound: number, opts: { sourceParallelism: number; disorder: Disorder; length?: { min: number; max: number } }): fc.Arbitrary<Rec[]> {
  return inputArb(bound, opts).map((rs) => rs.map((r, i) => ({
    k: r.key === 1 ? 'c' : String(r.key),
    region: r.region,
    v: (i * 7 + (r.v as number)) % 9 === 0 ? null : r.v,
    ts: (r.ts as number) * 1000,
  })));
}

const windowArb: fc.Arbitrary<SqlWindow> = fc.oneof(
  fc.record({ size: fc.integer({ min: 1, max: 20 }) }).map(({ size }) => ({ kind: 'tumbling' as const, size })),
  fc.record({ step: fc.integer({ min: 1, max: 8 }), n: fc.integer({ min: 1, max: 4 }) }).map(({ step, n }) => ({ kind: 'cumulate' as const, step, max: step * n })),
  fc.integer({ min: 1, max: 20 }).chain((size) => fc.integer({ min: 1, max: size }).map((slide) => ({ kind: 'sliding' as const, size, slide }))),
  fc.integer({ min: 1, max: 12 }).map((gap) => ({ kind: 'session' as const, gap })),
);

/** A random scenario; `fixed` pins parameters (a cluster's parallelism, a source parallelism). */
export function sqlScenarioArb(fixed: Partial<SqlParams> & { disorder?: Disorder; length?: { min: number; max: number } } = {}): fc.Arbitrary<SqlScenario> {
  const { disorder, length, ...pinned } = fixed;
  return fc.record({
    window: windowArb,
    form: fc.constantFrom('group' as const, 'tvf' as const),
    keys: fc.constantFrom<Array<'k' | 'region'>>([], ['k'], ['k', 'region']),
    aggs: fc.subarray(['s', 'lo', 'hi', 'n', 'nv', 'av', 'd', 'e'] as SqlAgg[], { minLength: 1 }),
    where: fc.constantFrom<SqlWhere>('none', 'positive', 'notB', 'region1'),
    having: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    bound: fc.integer({ min: 0, max: 6 }),
    parallelism: fc.constantFrom(1, 2, 3),
    sourceParallelism: fc.constant(1),
    source: fc.constant('file' as const),
    mode: fc.constantFrom('query' as const, 'insert' as const),
  }).map((p) => ({ ...p, ...pinned, ...(p.window.kind === 'cumulate' ? { form: 'tvf' as const } : {}) } as SqlParams)).chain((params) => sqlInputArb(params.bound, {
    sourceParallelism: params.sourceParallelism,
    disorder: disorder ?? { kind: 'late', latePercent: fc.integer({ min: 0, max: 30 }) },
    ...(length ? { length } : {}),
  }).map((input) => ({ params: { ...params, ...(params.having === undefined ? {} : {}) }, input })));
}

export interface ClusterTarget { url: string; env: Record<string, string> }

/** Runs a scenario through `rlink run` (or `rlink submit` to a cluster) and compares it with the reference. */
export async function runAndCompare(s: SqlScenario, cluster?: ClusterTarget): Promise<void> {
  const p = s.params;
  const dir = tempDir('rlink-sql-prop-');
  writeJsonl(join(dir, 'in.jsonl'), s.input);
  const query = sqlOf(p);
  const args = [
    SQL_APP, `input=${join(dir, 'in.jsonl')}`, `output=${join(dir, 'out')}`, `query=${query}`, `bound=${p.bound * 1000}`,
    `parallelism=${p.parallelism}`, `sourceParallelism=${p.sourceParallelism}`, `source=${p.source}`, `mode=${p.mode}`, '--json',
  ];
  const full = cluster ? ['submit', ...args, '--jm', cluster.url] : ['run', ...args];
  writeFileSync(join(dir, 'command.txt'), `node bin/rlink.js ${full.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  const r = await rlink(full, cluster ? { env: cluster.env } : {});
  const where = `\nquery:\n${query}\nparams: ${JSON.stringify(p)}\n(input and command kept in ${dir})`;
  if (r.exitCode !== 0) throw new Error(`rlink ${full[0]} failed (exit ${r.exitCode})${where}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr.slice(-3000)}`);
  const json = JSON.parse(r.stdout.slice(r.stdout.search(/^\{/m)));
  const late = cluster
    ? (json.job.vertices as Array<{ metrics: Record<string, number | null> }>).reduce((n, v) => n + (v.metrics['late-records-dropped'] ?? 0), 0)
    : json.progress.lateRecordsDropped as number;
  const expected = referenceSql(s.input, p);
  expect(canonical(readJsonl(join(dir, 'out'))), `output differs from the reference${where}`).toEqual(canonical(expected.output));
  expect(late, `late records differ from the reference${where}`).toBe(expected.lateCount);
  rmSync(dir, { recursive: true, force: true });
}

const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
/** Runs per property: RLINK_SQL_RUNS (default 12). */
export const SQL_RUNS = env('RLINK_SQL_RUNS') ?? 12;

/** fast-check over `arb`; replay a failure with RLINK_SQL_SEED and RLINK_SQL_PATH. */
export async function assertSqlMatchesReference(arb: fc.Arbitrary<SqlScenario>, numRuns = SQL_RUNS, cluster?: ClusterTarget): Promise<void> {
  const seed = env('RLINK_SQL_SEED');
  const path = process.env.RLINK_SQL_PATH;
  let firstFailureAt: number | undefined;
  await fc.assert(fc.asyncProperty(arb, async (s) => {
    if (firstFailureAt !== undefined && Date.now() - firstFailureAt > 60_000) return; // shrinking budget spent
    try { await runAndCompare(s, cluster); } catch (e) { firstFailureAt ??= Date.now(); throw e; }
  }), { numRuns, ...(seed !== undefined ? { seed } : {}), ...(path ? { path } : {}) });
}
