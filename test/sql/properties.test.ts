/**
 * Property tests: random windowed SQL queries (TUMBLE, HOP, SESSION, CUMULATE; group windows and window TVFs;
 * keys, SUM/MIN/MAX/COUNT/AVG/COUNT(DISTINCT), WHERE, HAVING; sqlQuery and INSERT INTO) on random
 * out-of-order input with nulls and late records, through `rlink run` (the embedded cluster), against
 * the brute-force reference (test/sql/scenarios.ts over test/reference/windows.ts). Output rows and
 * the late count must be exactly the reference's.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { assertSqlMatchesReference, sqlScenarioArb, SQL_RUNS } from './scenarios';

const TIMEOUT = (SQL_RUNS * 5 + 120) * 1000;

describe('windowed SQL: rlink run = reference', () => {
  it('one source subtask, late records, keyed operators at parallelism 1 to 3', async () => {
    await assertSqlMatchesReference(sqlScenarioArb());
  }, TIMEOUT);

  it('two source subtasks (watermarks assigned by the view, per subtask), disorder within the bound', async () => {
    await assertSqlMatchesReference(fc.constantFrom('within', 'below').chain((d) => sqlScenarioArb({
      sourceParallelism: 2, source: 'collection', disorder: { kind: d === 'within' ? 'withinBound' : 'belowBound' },
    }).filter((s) => d === 'below' || s.params.window.kind !== 'session')), Math.max(4, Math.round(SQL_RUNS / 2)));
  }, TIMEOUT);

  it('CUMULATE window TVFs (slices of the step, growing windows of the period)', async () => {
    await assertSqlMatchesReference(sqlScenarioArb().filter((s) => s.params.window.kind === 'cumulate'), Math.max(4, Math.round(SQL_RUNS / 2)));
  }, TIMEOUT);

  it('long input (500–1500 records, many batches)', async () => {
    await assertSqlMatchesReference(sqlScenarioArb({ length: { min: 500, max: 1500 } }), Math.max(2, Math.round(SQL_RUNS / 4)));
  }, TIMEOUT);
});
