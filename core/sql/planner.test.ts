/**
 * SQL planned onto the DataStream runtime, run in process (the embedded cluster, inline): projections,
 * group windows, window TVFs, HAVING, regular GROUP BY as an update stream, INSERT INTO, and the
 * rlink-rs README query against its DataStream twin. Random inputs against a brute-force reference
 * are in test/sql/ (through the CLI and on clusters).
 */
import { describe, it, expect } from 'vitest';
import {
  defineApp, sources, sinks, WatermarkStrategy, SlidingEventTimeWindows, sum, max, min, count,
  type AppDefinition, type StreamExecutionEnvironment, type Sink,
} from '../../index';
import { Props } from '../api/props';
import { silentLogger } from '../logging';
import { runLocal } from '../../local/local-cluster';
import { memorySink } from '../../test/helpers/memory-sink';
import { buildStreamGraph } from '../api/app';
import { RlinkError } from '../errors';

async function run(app: AppDefinition, props: Record<string, string> = {}) {
  const r = await runLocal({ app, appRef: { kind: 'inline', key: app.name }, props: new Props(props), logger: silentLogger(), mode: 'inline' });
  expect(r.status, r.error).toBe('FINISHED');
  return r;
}

const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
/** Records as sorted JSON texts with sorted keys: compare outputs as multisets. */
const canonical = (xs: unknown[]) => xs.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r as object).sort(([a], [b]) => a.localeCompare(b))))).sort();

/** Runs `build` with a collection table `t` of `rows` (watermark on ts, 0 ms delay) and collects the SQL result. */
async function sql<T = Record<string, unknown>>(query: string, rows: any[], schema: Record<string, unknown> = { k: 'string', v: 'bigint', ts: 'timestamp', watermark: { field: 'ts', delay: 0 } }): Promise<T[]> {
  const out = memorySink<T>();
  await run(defineApp({
    name: 'sql-test',
    build(env) {
      env.createTemporaryView('t', env.fromSource(sources.collection(rows), { parallelism: 1 }), schema as any);
      env.sqlQuery(query).sinkTo(out.sink, { parallelism: 1 });
    },
  }));
  return out.committed;
}

/** The error `build` throws for a query (planning happens in build). */
function planError(query: string, schema: Record<string, unknown> = { k: 'string', v: 'bigint', ts: 'timestamp', watermark: { field: 'ts', delay: 0 } }): RlinkError {
  try {
    buildStreamGraph(defineApp({
      name: 'plan',
      build(env) {
        env.createTemporaryView('t', env.fromSource(sources.collection<any>([]), { parallelism: 1 }), schema as any);
        env.sqlQuery(query).sinkTo(sinks.print());
      },
    }), new Props());
  } catch (e) {
    return e as RlinkError;
  }
  throw new Error(`no error for: ${query}`);
}

const ROWS = [
  { k: 'a', v: 1, ts: 1000 }, { k: 'b', v: 2, ts: 1500 }, { k: 'a', v: 3, ts: 2500 },
  { k: 'a', v: 4, ts: 9000 }, { k: 'b', v: 5, ts: 12000 }, { k: 'c', v: null, ts: 12500 },
];

describe('SQL: projections', () => {
  it('selects expressions with aliases and Flink names (EXPR$i) for unnamed ones, and filters with WHERE', async () => {
    const out = await sql("SELECT k, v * 2 AS twice, UPPER(k) || '!', v FROM t WHERE v > 1 AND k <> 'b'", ROWS);
    expect(out).toEqual([{ k: 'a', twice: 6, 'EXPR$2': 'A!', v: 3 }, { k: 'a', twice: 8, 'EXPR$2': 'A!', v: 4 }]);
  });

  it('follows SQL null rules: arithmetic on NULL is NULL, WHERE keeps only true', async () => {
    const out = await sql('SELECT k, v + 1 AS w, v IS NULL AS missing, COALESCE(v, -1) AS c FROM t WHERE v IS NULL OR v > 4', ROWS);
    expect(sorted(out)).toEqual(sorted([{ k: 'b', w: 6, missing: false, c: 5 }, { k: 'c', w: null, missing: true, c: -1 }]));
  });

  it('expands * to the declared columns, and reads a subquery', async () => {
    const out = await sql('SELECT *, v % 2 = 0 AS even FROM (SELECT k AS key, v FROM t WHERE v < 3) AS s', ROWS);
    expect(out).toEqual([{ key: 'a', v: 1, even: false }, { key: 'b', v: 2, even: true }]);
  });

  it('has CASE, CAST, BETWEEN, IN, LIKE, integer division', async () => {
    const out = await sql(
      "SELECT CASE WHEN v BETWEEN 1 AND 2 THEN 'low' WHEN v IN (3, 4) THEN 'mid' ELSE 'high' END AS level, CAST(v AS STRING) AS s, v / 2 AS half, k LIKE 'a%' AS isA, CAST(ts AS STRING) AS at FROM t WHERE v IS NOT NULL",
      ROWS,
    );
    expect(out.map((r) => r.level)).toEqual(['low', 'low', 'mid', 'mid', 'high']);
    expect(out[0]).toEqual({ level: 'low', s: '1', half: 0, isA: true, at: '1970-01-01 00:00:01.000' });
    expect(out[2]!.half).toBe(1);
  });
});

describe('SQL: group windows', () => {
  it('TUMBLE with _START/_END, SUM/MIN/MAX/COUNT/AVG and COUNT(DISTINCT)', async () => {
    const rows = [
      { k: 'a', v: 1, ts: 1000 }, { k: 'a', v: 3, ts: 4000 }, { k: 'a', v: 3, ts: 4500 }, { k: 'b', v: 7, ts: 2000 },
      { k: 'a', v: 10, ts: 6000 }, { k: 'a', v: null, ts: 7000 },
    ];
    const out = await sql(
      "SELECT k, TUMBLE_START(ts, INTERVAL '5' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '5' SECOND) AS we, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi, COUNT(*) AS n, COUNT(v) AS nv, AVG(v) AS av, COUNT(DISTINCT v) AS d FROM t GROUP BY TUMBLE(ts, INTERVAL '5' SECOND), k",
      rows,
    );
    expect(sorted(out)).toEqual(sorted([
      { k: 'a', ws: 0, we: 5000, s: 7, lo: 1, hi: 3, n: 3, nv: 3, av: 7 / 3, d: 2 },
      { k: 'b', ws: 0, we: 5000, s: 7, lo: 7, hi: 7, n: 1, nv: 1, av: 7, d: 1 },
      { k: 'a', ws: 5000, we: 10000, s: 10, lo: 10, hi: 10, n: 2, nv: 1, av: 10, d: 1 },
    ]));
  });

  it('HOP and SESSION windows, and HAVING on an aggregate', async () => {
    const hop = await sql("SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) AS ws, COUNT(*) AS n FROM t GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) HAVING COUNT(*) > 2", ROWS);
    expect(sorted(hop)).toEqual(sorted([{ ws: -5000, n: 3 }, { ws: 0, n: 4 }, { ws: 5000, n: 3 }]));
    const session = await sql("SELECT k, SESSION_START(ts, INTERVAL '2' SECOND) AS s, SESSION_END(ts, INTERVAL '2' SECOND) AS e, SUM(v) AS total FROM t GROUP BY k, SESSION(ts, INTERVAL '2' SECOND)", ROWS);
    expect(sorted(session)).toEqual(sorted([
      { k: 'a', s: 1000, e: 4500, total: 4 }, { k: 'b', s: 1500, e: 3500, total: 2 }, { k: 'a', s: 9000, e: 11000, total: 4 },
      { k: 'b', s: 12000, e: 14000, total: 5 }, { k: 'c', s: 12500, e: 14500, total: null },
    ]));
  });

  it('window TVFs: TUMBLE and HOP with GROUP BY window_start, window_end; TUMBLE rows without aggregation', async () => {
    const tumble = await sql("SELECT window_start, window_end, k, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k", ROWS);
    expect(sorted(tumble)).toEqual(sorted([
      { window_start: 0, window_end: 10000, k: 'a', n: 3 }, { window_start: 0, window_end: 10000, k: 'b', n: 1 },
      { window_start: 10000, window_end: 20000, k: 'b', n: 1 }, { window_start: 10000, window_end: 20000, k: 'c', n: 1 },
    ]));
    const hop = await sql("SELECT window_start AS ws, SUM(v) AS s FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) GROUP BY window_start, window_end", ROWS);
    expect(sorted(hop)).toEqual(sorted([{ ws: -5000, s: 6 }, { ws: 0, s: 10 }, { ws: 5000, s: 9 }, { ws: 10000, s: 5 }]));
    const rows = await sql("SELECT k, window_start, window_time FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) WHERE v > 3", ROWS);
    expect(rows).toEqual([{ k: 'a', window_start: 0, window_time: 9999 }, { k: 'b', window_start: 10000, window_time: 19999 }]);
  });

  it('CUMULATE: growing windows of a period, emitted at each step from the key\'s first slice, with keys and HAVING', async () => {
    const out = await sql("SELECT k, window_start AS ws, window_end AS we, COUNT(*) AS n, SUM(v) AS s FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) GROUP BY window_start, window_end, k", ROWS);
    expect(sorted(out)).toEqual(sorted([
      { k: 'a', ws: 0, we: 5000, n: 2, s: 4 }, { k: 'a', ws: 0, we: 10000, n: 3, s: 8 }, { k: 'a', ws: 0, we: 15000, n: 3, s: 8 },
      { k: 'b', ws: 0, we: 5000, n: 1, s: 2 }, { k: 'b', ws: 0, we: 10000, n: 1, s: 2 }, { k: 'b', ws: 0, we: 15000, n: 2, s: 7 },
      { k: 'c', ws: 0, we: 15000, n: 1, s: null },
    ]));
    const having = await sql("SELECT window_end AS we, COUNT(*) AS n FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) GROUP BY window_start, window_end HAVING COUNT(*) >= 4", ROWS);
    expect(sorted(having)).toEqual(sorted([{ we: 10000, n: 4 }, { we: 15000, n: 6 }]));
  });

  it('drops records late for their window, as the DataStream window does', async () => {
    const rows = [{ k: 'a', v: 1, ts: 1000 }, { k: 'a', v: 1, ts: 12000 }, { k: 'a', v: 100, ts: 2000 }];
    const out = await sql("SELECT SUM(v) AS s FROM t GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)", rows);
    expect(sorted(out)).toEqual(sorted([{ s: 1 }, { s: 1 }]));
  });
});

describe('SQL: regular GROUP BY (update stream)', () => {
  it('emits +I, then -U/+U pairs as a key changes; nothing when the row is unchanged', async () => {
    const out = await sql('SELECT k, COUNT(*) AS n, MAX(v) AS top FROM t WHERE v IS NOT NULL GROUP BY k', [
      { k: 'a', v: 1, ts: 1 }, { k: 'b', v: 5, ts: 2 }, { k: 'a', v: 3, ts: 3 },
    ]);
    expect(out).toEqual([
      { op: '+I', k: 'a', n: 1, top: 1 }, { op: '+I', k: 'b', n: 1, top: 5 },
      { op: '-U', k: 'a', n: 1, top: 1 }, { op: '+U', k: 'a', n: 2, top: 3 },
    ]);
    const same = await sql('SELECT k, MAX(v) AS top FROM t GROUP BY k', [{ k: 'a', v: 3, ts: 1 }, { k: 'a', v: 1, ts: 2 }]);
    expect(same).toEqual([{ op: '+I', k: 'a', top: 3 }]);
  });

  it('HAVING turns rows on (+I) and off (-D); SELECT DISTINCT emits each row once', async () => {
    const out = await sql('SELECT k, SUM(v) AS s FROM t GROUP BY k HAVING SUM(v) BETWEEN 2 AND 4', [
      { k: 'a', v: 1, ts: 1 }, { k: 'a', v: 2, ts: 2 }, { k: 'a', v: 5, ts: 3 },
    ]);
    expect(out).toEqual([{ op: '+I', k: 'a', s: 3 }, { op: '-D', k: 'a', s: 3 }]);
    const distinct = await sql('SELECT DISTINCT k FROM t', ROWS);
    expect(sorted(distinct)).toEqual(sorted([{ op: '+I', k: 'a' }, { op: '+I', k: 'b' }, { op: '+I', k: 'c' }]));
  });

  it('refuses an update stream into a sink that declares it cannot take updates, naming the table and position', () => {
    const appendOnly: Sink = { ...memorySink().sink, acceptsUpdates: false };
    expect(() => buildStreamGraph(defineApp({
      name: 'x',
      build(env) {
        env.createTemporaryView('t', env.fromSource(sources.collection([{ k: 'a' }])), { k: 'string' });
        env.createTemporarySinkTable('out', appendOnly);
        env.executeSql('INSERT INTO out\nSELECT k, COUNT(*) FROM t GROUP BY k');
      },
    }), new Props())).toThrow(/line 1, column 13: table 'out' \(a memory sink\) takes inserts only/);
    expect(() => buildStreamGraph(defineApp({
      name: 'y',
      build(env) {
        env.createTemporaryView('t', env.fromSource(sources.collection([{ k: 'a' }])), { k: 'string' });
        env.sqlQuery('SELECT k, COUNT(*) AS n FROM t GROUP BY k').sinkTo(appendOnly);
      },
    }), new Props())).toThrow(/the query makes an update stream .* and the memory sink takes inserts only/);
    // A window aggregate only inserts: the same sink takes it.
    expect(() => buildStreamGraph(defineApp({
      name: 'z',
      build(env) {
        env.createTemporaryView('t', env.fromSource(sources.collection([{ k: 'a', ts: 1 }])), { k: 'string', ts: 'timestamp', watermark: { field: 'ts', delay: 0 } });
        env.sqlQuery("SELECT k, COUNT(*) AS n FROM t GROUP BY k, TUMBLE(ts, INTERVAL '1' SECOND)").uid('counts').sinkTo(appendOnly);
      },
    }), new Props())).not.toThrow();
  });
});

describe('SQL: INSERT INTO and tables', () => {
  it('writes a query into a sink table, renaming the columns to the table schema by position', async () => {
    const out = memorySink();
    await run(defineApp({
      name: 'insert',
      build(env) {
        env.createTemporaryView('t', env.fromSource(sources.collection(ROWS.slice(0, 3))), { k: 'string', v: 'bigint', ts: 'timestamp' });
        env.createTemporarySinkTable('out', out.sink, { key: 'string', doubled: 'bigint' });
        env.executeSql('INSERT INTO out SELECT k, v * 2 FROM t');
      },
    }));
    expect(sorted(out.committed)).toEqual(sorted([{ key: 'a', doubled: 2 }, { key: 'b', doubled: 4 }, { key: 'a', doubled: 6 }]));
  });

  it('a view of a SQL result, and a source schema as the table (watermarks made in the source)', async () => {
    const out = memorySink();
    await run(defineApp({
      name: 'chained',
      build(env) {
        const src = env.fromSource(sources.generator({
          count: 100, generate: (i) => ({ k: `k${i % 3}`, v: String(i), ts: i * 100 }),
          schema: { k: 'string', v: 'bigint', ts: 'timestamp', watermark: { field: 'ts', delay: '0s' } },
        }), { parallelism: 1 });
        env.createTemporaryView('src', src);
        env.createTemporaryView('big', env.sqlQuery('SELECT k, v, ts FROM src WHERE v >= 50'));
        env.sqlQuery("SELECT k, TUMBLE_END(ts, INTERVAL '1' SECOND) AS at, SUM(v) AS s FROM big GROUP BY TUMBLE(ts, INTERVAL '1' SECOND), k")
          .sinkTo(out.sink, { parallelism: 1 });
      },
    }));
    const expected = new Map<string, { k: string; at: number; s: number }>();
    for (let i = 50; i < 100; i++) {
      const at = Math.floor(i / 10) * 1000 + 1000;
      const key = `k${i % 3}|${at}`;
      const e = expected.get(key) ?? { k: `k${i % 3}`, at, s: 0 };
      e.s += i;
      expected.set(key, e);
    }
    expect(sorted(out.committed)).toEqual(sorted([...expected.values()]));
  });
});

describe('SQL: the rlink-rs README query', () => {
  const NAMES = ['A-0', 'B-1', 'C-2', 'D-3'];
  const generate = (i: number) => ({ timestamp: 1_767_225_600_000 + i * 37 - ((i * 7919) % 500), name: NAMES[i % NAMES.length]!, value: (i * 31) % 1000 });
  const SQL = `SELECT HOP_START(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND), HOP_END(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND), name, SUM(value), MAX(value), MIN(value), COUNT(*) FROM stream_table GROUP BY HOP(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND), name`;

  it('equals the DataStream version of the same job (examples/rlink-simple.ts)', async () => {
    const viaSql = memorySink<Record<string, number | string>>();
    const viaApi = memorySink<Record<string, number | string>>();
      const events = (env: StreamExecutionEnvironment) => env.fromSource(sources.generator({ count: 20_000, generate }), { parallelism: 1 });
    await run(defineApp({
      name: 'readme-sql',
      build(env) {
        env.createTemporaryView('stream_table', events(env), { name: 'string', value: 'double', timestamp: 'timestamp', watermark: { field: 'timestamp', delay: '1s' } });
        env.sqlQuery(SQL, { parallelism: 2 }).sinkTo(viaSql.sink, { parallelism: 1 });
      },
    }));
    await run(defineApp({
      name: 'readme-datastream',
      build(env) {
        events(env)
          .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('timestamp'))
          .keyBy('name')
          .window(SlidingEventTimeWindows.of('60s', '20s'))
          .aggregate({ sum: sum('value'), max: max('value'), min: min('value'), count: count() }, { parallelism: 2 })
          .sinkTo(viaApi.sink, { parallelism: 1 });
      },
    }));
    expect(viaApi.committed.length).toBeGreaterThan(20);
    const asApi = viaSql.committed.map((r) => ({
      windowStart: r['EXPR$0'], windowEnd: r['EXPR$1'], name: r.name, sum: r['EXPR$3'], max: r['EXPR$4'], min: r['EXPR$5'], count: r['EXPR$6'],
    }));
    expect(canonical(asApi)).toEqual(canonical(viaApi.committed));
    expect(Object.keys(viaSql.committed[0]!)).toEqual(['EXPR$0', 'EXPR$1', 'name', 'EXPR$3', 'EXPR$4', 'EXPR$5', 'EXPR$6']);
  });
});

describe('SQL: errors name the line, the column and the token', () => {
  it('parse errors', () => {
    expect(planError('SELECT k,\n  FROM t').message).toMatch(/SQL: line 2, column 3: unexpected 'FROM', expected an expression \('FROM' is a reserved word/);
    expect(planError("SELECT k FROM t WHERE v > 'a").message).toMatch(/line 1, column 27: unterminated string/);
    expect(planError('SELECT k FROM t ORDER BY k').message).toMatch(/line 1, column 17: ORDER is not supported/);
  });

  it('planning errors', () => {
    expect(planError('SELECT k, nmae FROM t').message).toMatch(/line 1, column 11: unknown column 'nmae' \(columns: k, v, ts\)/);
    expect(planError('SELECT k, v FROM t GROUP BY k').message).toMatch(/line 1, column 11: column 'v' must be in GROUP BY or inside an aggregate function/);
    expect(planError('SELECT k FROM tt').message).toMatch(/line 1, column 15: unknown table 'tt' \(tables: t\)/);
    expect(planError("SELECT COUNT(*) FROM t GROUP BY TUMBLE(v, INTERVAL '1' SECOND)").message).toMatch(/line 1, column 40: TUMBLE\(v, …\): 'v' is not the table's time attribute/);
    expect(planError("SELECT TUMBLE_START(ts, INTERVAL '2' SECOND) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)").message).toMatch(/line 1, column 8: TUMBLE_START\(…\) must repeat the arguments/);
    expect(planError('SELECT k FROM t WHERE SUM(v) > 1').message).toMatch(/line 1, column 23: aggregate functions are not allowed in WHERE/);
    expect(planError("SELECT k || 1 > 'x' AND v FROM t").message).toMatch(/line 1, column 25: AND cannot take a BIGINT/);
    expect(planError('SELECT FOO(k) FROM t').message).toMatch(/line 1, column 8: unknown function FOO/);
  });

  it('is RLINK_SQL inside, reported by build as RLINK_APP_BUILD naming the app', () => {
    const e = planError('SELECT x FROM t');
    expect(e.code).toBe('RLINK_APP_BUILD');
    expect(e.message).toMatch(/^app 'plan' failed to build: SQL: line 1, column 8: unknown column 'x'/);
    expect((e.cause as RlinkError).code).toBe('RLINK_SQL');
  });
});
