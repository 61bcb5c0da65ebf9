import { describe, expect, it } from 'vitest';
import { ColumnMapper, MYSQL_DIALECT, POSTGRES_DIALECT, planWrite, resolveKeyColumns, toSqlValue, type PlanContext, type SqlTable } from './sql';

const table: SqlTable = {
  sql: '"public"."counts"', display: 'counts',
  columns: [
    { name: 'user', type: 'text', kind: 'other' },
    { name: 'windowstart', type: 'bigint', kind: 'other' },
    { name: 'n', type: 'bigint', kind: 'other' },
    { name: 'at', type: 'timestamp with time zone', kind: 'time' },
    { name: 'tags', type: 'jsonb', kind: 'other' },
  ],
  uniqueKeys: [['user', 'windowstart']],
};

function ctx(keyFields: string[] | undefined, dialect = POSTGRES_DIALECT, t = table): PlanContext {
  const mapper = new ColumnMapper(t, 'postgres sink');
  return { what: 'postgres sink', dialect, mapper, keyFields, keyColumns: keyFields ? resolveKeyColumns('postgres sink', mapper, keyFields, 'add one') : undefined, opColumn: mapper.has('op') };
}

describe('SQL statements of a batch', () => {
  it('maps fields to columns ignoring case (PostgreSQL folds unquoted names) and names the columns when one is missing', () => {
    const m = new ColumnMapper(table, 'postgres sink');
    expect(m.column('windowStart').name).toBe('windowstart');
    expect(() => m.column('nope')).toThrow("postgres sink: record field 'nope' has no column in table counts (columns: user, windowstart, n, at, tags)");
  });

  it('upserts: one multi-row INSERT … ON CONFLICT per column set, the last record per key wins', () => {
    const plan = planWrite([
      { user: 'a', windowStart: 0, n: 1 },
      { user: 'b', windowStart: 0, n: 2 },
      { user: 'a', windowStart: 0, n: 3 },
    ], ctx(['user', 'windowStart']));
    expect(plan.statements).toEqual([{
      text: 'INSERT INTO "public"."counts" ("user", "windowstart", "n") VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT ("user", "windowstart") DO UPDATE SET "n" = EXCLUDED."n"',
      values: ['b', 0, 2, 'a', 0, 3],
    }]);
    expect(plan.rows).toBe(2);
  });

  it('an updating stream: -D deletes its key, -U is skipped, op is never a column', () => {
    const plan = planWrite([
      { op: '+I', user: 'a', windowStart: 0, n: 1 },
      { op: '-U', user: 'a', windowStart: 0, n: 1 },
      { op: '+U', user: 'a', windowStart: 0, n: 2 },
      { op: '+I', user: 'b', windowStart: 0, n: 1 },
      { op: '-D', user: 'b', windowStart: 0, n: 1 },
    ], ctx(['user', 'windowStart']));
    expect(plan.statements.map((s) => s.text)).toEqual([
      'DELETE FROM "public"."counts" WHERE ("user", "windowstart") IN (($1, $2))',
      'INSERT INTO "public"."counts" ("user", "windowstart", "n") VALUES ($1, $2, $3) ON CONFLICT ("user", "windowstart") DO UPDATE SET "n" = EXCLUDED."n"',
    ]);
    expect(plan.statements[0]!.values).toEqual(['b', 0]);
    expect(plan.statements[1]!.values).toEqual(['a', 0, 2]);
  });

  it('inserts without a key; an update stream needs upsertKey unless the table has an op column', () => {
    const plan = planWrite([{ user: 'a', n: 1 }, { op: '+I', user: 'b', n: 2 }], ctx(undefined));
    expect(plan.statements).toEqual([{ text: 'INSERT INTO "public"."counts" ("user", "n") VALUES ($1, $2), ($3, $4)', values: ['a', 1, 'b', 2] }]);
    expect(() => planWrite([{ op: '-D', user: 'a' }], ctx(undefined))).toThrow(/a record with op '-D' \(an updating stream\) cannot be appended to table counts: set upsertKey/);
    const withOp: SqlTable = { ...table, columns: [...table.columns, { name: 'op', type: 'text', kind: 'other' }] };
    expect(planWrite([{ op: '-D', user: 'a' }], ctx(undefined, POSTGRES_DIALECT, withOp)).statements[0]!.text).toContain('("op", "user")');
  });

  it('MySQL: backquotes, ? placeholders, ON DUPLICATE KEY UPDATE with VALUES()', () => {
    const t: SqlTable = { ...table, sql: '`rlink`.`counts`' };
    const plan = planWrite([{ user: 'a', windowStart: 0, n: 1 }, { op: '-D', user: 'b', windowStart: 5, n: 0 }], ctx(['user', 'windowStart'], MYSQL_DIALECT, t));
    expect(plan.statements.map((s) => s.text)).toEqual([
      'DELETE FROM `rlink`.`counts` WHERE (`user`, `windowstart`) IN ((?, ?))',
      'INSERT INTO `rlink`.`counts` (`user`, `windowstart`, `n`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `n` = VALUES(`n`)',
    ]);
  });

  it('splits a batch at the parameter limit', () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ user: `u${i}`, windowStart: 0, n: i }));
    const plan = planWrite(rows, ctx(['user', 'windowStart']));
    expect(plan.statements.length).toBe(2); // 65 000 parameters / 3 columns = 21 666 rows per statement
    expect(plan.statements.reduce((s, st) => s + st.values.length, 0)).toBe(90_000);
  });

  it('converts values for their columns: epoch ms into timestamps, objects into JSON', () => {
    expect(toSqlValue(0, table.columns[3]!)).toEqual(new Date(0));
    expect(toSqlValue({ a: [1] }, table.columns[4]!)).toBe('{"a":[1]}');
    expect(toSqlValue(undefined, table.columns[0]!)).toBeNull();
  });

  it('refuses an upsertKey that is not a unique key, and a record without the key', () => {
    const m = new ColumnMapper(table, 'postgres sink');
    expect(() => resolveKeyColumns('postgres sink', m, ['user'], 'add one')).toThrow('postgres sink: upsertKey (user) is not the primary key or a unique index of table counts (unique keys: (user, windowstart)); add one');
    expect(() => planWrite([{ user: 'a', n: 1 }], ctx(['user', 'windowStart']))).toThrow("postgres sink: a record has no value for the upsertKey field 'windowStart'");
  });
});
