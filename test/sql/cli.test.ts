/**
 * SQL through the real CLI: the rlink-rs README query (examples/rlink-simple-sql.ts) equals its
 * DataStream version (examples/rlink-simple.ts); `rlink sql` runs a script file (examples/clicks.sql)
 * and statements given with -e; its failures are one line naming the line, the column and the token.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, canonical, readJsonl, rlink, tempDir, writeJsonl } from '../helpers/cli';

const dirs: string[] = [];
const dir = () => { const d = tempDir('rlink-sql-cli-'); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('SQL through the CLI', () => {
  it('the rlink-rs README query gives the windows of the DataStream job (examples/rlink-simple-sql.ts = examples/rlink-simple.ts)', async () => {
    const d = dir();
    for (const name of ['rlink-simple', 'rlink-simple-sql']) {
      const r = await rlink(['run', join(ROOT, 'examples', `${name}.ts`), 'count=50000', `output=${join(d, name)}`]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const api = readJsonl(join(d, 'rlink-simple'));
    const sql = readJsonl(join(d, 'rlink-simple-sql'));
    expect(api.length).toBeGreaterThan(20);
    expect(Object.keys(sql[0])).toEqual(['EXPR$0', 'EXPR$1', 'name', 'EXPR$3', 'EXPR$4', 'EXPR$5', 'EXPR$6']);
    const renamed = sql.map((r) => ({ windowStart: r['EXPR$0'], windowEnd: r['EXPR$1'], name: r.name, sum: r['EXPR$3'], max: r['EXPR$4'], min: r['EXPR$5'], count: r['EXPR$6'] }));
    expect(canonical(renamed)).toEqual(canonical(api));
  });

  it('rlink sql runs a script: CREATE TABLE (filesystem) with a watermark, INSERT INTO, a window TVF with WHERE and HAVING', async () => {
    const d = dir();
    const out = join(d, 'stats.jsonl');
    const r = await rlink(['sql', join(ROOT, 'examples', 'clicks.sql'), `input=${join(ROOT, 'examples', 'data', 'clicks.jsonl')}`, `output=${out}`, '--slots', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/FINISHED page-stats in [\d.]+s: 24 records in/);
    // The brute-force answer (every click is within the 5 s bound of the latest, so none is late).
    const clicks = readFileSync(join(ROOT, 'examples', 'data', 'clicks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ts: string; user: string; page: string; ms: number });
    const groups = new Map<string, { minute: number; page: string; rows: typeof clicks }>();
    for (const c of clicks) {
      if (c.page.startsWith('/admin')) continue;
      const ts = Date.parse(`${c.ts.replace(' ', 'T')}Z`);
      const minute = ts - (ts % 60_000);
      const g = groups.get(`${c.page}@${minute}`) ?? { minute, page: c.page, rows: [] };
      g.rows.push(c);
      groups.set(`${c.page}@${minute}`, g);
    }
    const expected = [...groups.values()].filter((g) => g.rows.length > 1).map((g) => ({
      minute: g.minute, page: g.page, clicks: g.rows.length, users: new Set(g.rows.map((x) => x.user)).size,
      avg_ms: g.rows.reduce((s, x) => s + x.ms, 0) / g.rows.length,
    }));
    expect(expected.length).toBeGreaterThan(3);
    expect(canonical(readJsonl(out))).toEqual(canonical(expected));
  });

  it('rlink sql -e prints a SELECT; key=value arguments fill ${…} in WITH options; --json gives the result', async () => {
    const d = dir();
    writeJsonl(join(d, 'in.jsonl'), [{ n: 'a', v: 1 }, { n: 'b', v: 2 }, { n: 'c', v: 'x' }]);
    const r = await rlink(['sql', '-e', "CREATE TABLE t (n STRING, v BIGINT) WITH ('connector' = 'filesystem', 'path' = '${in}', 'format' = 'json'); SELECT UPPER(n) AS big, v * 10 AS v10 FROM t WHERE v > 1", `in=${join(d, 'in.jsonl')}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual(['{"big":"B","v10":20}']);
    expect(r.stdout).toMatch(/FINISHED query in [\d.]+s: 2 records in, 1 out \(1 invalid records skipped\)/);
    const j = await rlink(['sql', '-e', "CREATE TABLE t (n STRING) WITH ('connector' = 'filesystem', 'path' = '${in}', 'format' = 'json'); INSERT INTO o SELECT n FROM t", `in=${join(d, 'in.jsonl')}`, '--json']);
    expect(j.exitCode).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'RLINK_APP_BUILD', message: "app 'query' failed to build: query.sql: SQL: line 1, column 111: unknown table 'o' (tables: t)" } });
  });

  it('a syntax error in a script file is one line naming the file, line, column and token', async () => {
    const d = dir();
    const f = join(d, 'broken.sql');
    writeFileSync(f, "CREATE TABLE t (n STRING) WITH ('connector' = 'print');\n\nSELECT n,\n  FROM t GROUP BY n;\n");
    const r = await rlink(['sql', f]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe("rlink sql: broken.sql: SQL: line 4, column 3: unexpected 'FROM', expected an expression ('FROM' is a reserved word: quote it as `FROM` to use it as a name)");
    const none = await rlink(['sql']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr.trim()).toBe('rlink sql: give a SQL script file or the statements with -e "…" (one of them)');
  });
});
