/** The SQL lexer and parser: the forms rlink supports, and errors that name line, column and token. */
import { describe, it, expect } from 'vitest';
import { parseExpression, parseScript, parseStatement } from './parser';
import { SqlError } from './errors';
import type { Expr, Select } from './ast';

const select = (sql: string) => parseStatement(sql) as Select;
const err = (sql: string): SqlError => {
  try { parseScript(sql); } catch (e) { if (e instanceof SqlError) return e; throw e; }
  throw new Error(`parsed: ${sql}`);
};

describe('SQL parser', () => {
  it('parses the rlink-rs README query: timestamp and value are column names, HOP in GROUP BY', () => {
    const q = select("SELECT HOP_START(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND), name, SUM(value), COUNT(*) FROM stream_table GROUP BY HOP(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND), name");
    expect(q.items.map((i) => (i.kind === 'expr' ? i.text : '*'))).toEqual(["HOP_START(timestamp, INTERVAL '20' SECOND, INTERVAL '60' SECOND)", 'name', 'SUM(value)', 'COUNT(*)']);
    const hop = q.groupBy[0] as Extract<Expr, { kind: 'call' }>;
    expect(hop).toMatchObject({ kind: 'call', name: 'HOP', args: [{ kind: 'column', name: 'timestamp' }, { kind: 'interval', ms: 20_000 }, { kind: 'interval', ms: 60_000 }] });
    expect(q.items[3]).toMatchObject({ expr: { kind: 'call', name: 'COUNT', star: true } });
  });

  it('parses window TVFs (also with named arguments), aliases with and without AS, COUNT(DISTINCT)', () => {
    const q = select("SELECT window_start AS ws, page p, COUNT(DISTINCT user) AS count FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) AS w GROUP BY window_start, window_end, page");
    expect(q.from).toMatchObject({ kind: 'tvf', fn: 'TUMBLE', input: { name: 'clicks' }, timeColumn: { name: 'ts' }, intervals: [{ ms: 60_000 }], alias: 'w' });
    expect(q.items.map((i) => i.kind === 'expr' && i.alias)).toEqual(['ws', 'p', 'count']);
    expect(q.items[2]).toMatchObject({ expr: { name: 'COUNT', distinct: true, args: [{ name: 'user' }] } });
    const named = select("SELECT * FROM TABLE(HOP(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), SLIDE => INTERVAL '5' SECOND, SIZE => INTERVAL '10' SECOND))");
    expect(named.from).toMatchObject({ fn: 'HOP', intervals: [{ ms: 5000 }, { ms: 10_000 }] });
  });

  it('parses INSERT INTO, CREATE TABLE with a watermark and options, CREATE VIEW, SET; a script of several', () => {
    const s = parseScript(`
      SET 'parallelism.default' = '2';
      CREATE TABLE clicks (user STRING, url VARCHAR(200), ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
        WITH ('connector' = 'kafka', 'topic' = 'clicks');
      CREATE TEMPORARY VIEW v AS SELECT user FROM clicks;
      INSERT INTO out (u) SELECT user FROM v;`);
    expect(s.map((x) => x.kind)).toEqual(['set', 'create-table', 'create-view', 'insert']);
    expect(s[0]).toMatchObject({ key: 'parallelism.default', value: '2' });
    expect(s[1]).toMatchObject({
      name: 'clicks', columns: [{ name: 'user', type: 'string' }, { name: 'url', type: 'string' }, { name: 'ts', type: 'timestamp' }],
      watermark: { column: 'ts', delayMs: 5000 }, options: [{ key: 'connector', value: 'kafka' }, { key: 'topic', value: 'clicks' }],
    });
    expect(s[3]).toMatchObject({ table: 'out', columns: [{ name: 'u' }] });
  });

  it('gives operators SQL precedence and folds negative numbers', () => {
    expect(parseExpression('a OR b AND NOT c = 1 + 2 * -3')).toMatchObject({
      op: 'OR', left: { name: 'a' },
      right: { op: 'AND', left: { name: 'b' }, right: { op: 'NOT', arg: { op: '=', right: { op: '+', right: { op: '*', right: { value: -3 } } } } } },
    });
    expect(parseExpression("x NOT BETWEEN 1 AND 2 AND y NOT IN ('a', 'b') AND z NOT LIKE '%q' AND w IS NOT NULL")).toMatchObject({ op: 'AND' });
    expect(parseExpression("INTERVAL '1.5' SECOND")).toMatchObject({ kind: 'interval', ms: 1500 });
    expect(parseExpression("TIMESTAMP '2026-01-01 00:00:00'")).toMatchObject({ kind: 'literal', value: Date.UTC(2026, 0, 1), type: 'timestamp' });
  });

  it('names line, column and the offending token', () => {
    expect(err('SELECT a,\nFROM t').message).toBe("SQL: line 2, column 1: unexpected 'FROM', expected an expression ('FROM' is a reserved word: quote it as `FROM` to use it as a name)");
    expect(err('SELECT a FROM t WHERE').message).toBe('SQL: line 1, column 22: unexpected end of input, expected an expression');
    expect(err("SELECT a FROM t\n  WHERE b = 'x").message).toMatch(/^SQL: line 2, column 13: unterminated string/);
    expect(err('SELECT a FROM t GROUP a').message).toBe("SQL: line 1, column 23: unexpected 'a', expected BY");
    expect(err("SELECT a FROM t WHERE ts > INTERVAL '1' MONTH").message).toMatch(/column 41: INTERVAL … MONTH: months and years have no fixed length/);
    expect(err("SELECT * FROM TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND)").message).toMatch(/column 15: TUMBLE\(…\) in FROM must be wrapped in TABLE\(…\)/);
    expect(err('SELECT a # b FROM t').message).toBe("SQL: line 1, column 10: unexpected character '#'");
    expect(err('SELECT 1a FROM t').message).toMatch(/column 8: '1a' is not a number/);
    const e = err('SELECT\n  x FROM t LIMIT 3');
    expect([e.line, e.column, e.code]).toEqual([2, 12, 'RLINK_SQL']);
  });
});
