/**
 * A SQL script as a job (`rlink sql`, `rlink run job.sql`): statements separated by `;`.
 *
 *   SET 'checkpoint.interval' = '10s';                        -- job properties (the command line wins)
 *   CREATE TABLE clicks (…, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'kafka', …);
 *   CREATE TABLE out (…) WITH ('connector' = 'filesystem', 'path' = '${output}');
 *   INSERT INTO out SELECT …;                                -- every INSERT INTO is a sink
 *   SELECT …;                                                -- a SELECT is printed (sinks.print)
 *
 * `${name}` in a WITH option is the job property `name` (`rlink sql job.sql output=/tmp/out`).
 * The script is parsed when the bundle loads and planned in `build`, the same in every process.
 */
import { basename } from 'node:path';
import { defineApp, type AppDefinition } from '../api/app';
import { connectorFactories } from '../api/connector-registry';
import { RlinkError } from '../errors';
import { SqlCatalog } from './catalog';
import { SqlError, sqlError } from './errors';
import { parseScript } from './parser';
import type { Statement } from './ast';

/** The job name: `SET 'pipeline.name' = '…'`, else the file's name without its extension. */
function nameOf(statements: Statement[], file: string): string {
  for (const s of statements) if (s.kind === 'set' && s.key === 'pipeline.name') return s.value;
  return basename(file).replace(/\.[^.]+$/, '') || 'sql-job';
}

/** The properties the script's SET statements give (pipeline.name aside). */
export function scriptSettings(statements: Statement[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of statements) if (s.kind === 'set' && s.key !== 'pipeline.name') out[s.key] = s.value;
  return out;
}

/** Parses a script; a statement that writes nothing anywhere is an error up front. */
export function parseSqlScript(script: string, file: string): Statement[] {
  try {
    const statements = parseScript(script);
    if (!statements.some((s) => s.kind === 'insert' || s.kind === 'select')) {
      sqlError(statements[statements.length - 1]!.pos, 'the script produces nothing: add INSERT INTO <table> SELECT … or a SELECT (printed)');
    }
    return statements;
  } catch (e) {
    throw e instanceof SqlError ? new RlinkError('RLINK_SQL', `${basename(file)}: ${e.message}`, { cause: e, context: { file, line: e.line } }) : e;
  }
}

export function sqlScriptApp(script: string, file = 'query.sql'): AppDefinition {
  const statements = parseSqlScript(script, file);
  const settings = scriptSettings(statements);
  return defineApp({
    name: nameOf(statements, file),
    prepareProperties(props) {
      for (const [k, v] of Object.entries(settings)) if (!props.has(k)) props.set(k, v);
    },
    build(env, props) {
      const catalog = new SqlCatalog(env, { variable: (name) => props.get(name) });
      try {
        for (const s of statements) {
          if (s.kind === 'set') continue;
          catalog.executeStatement(s, {}, (stream) => { stream.sinkTo(connectorFactories().sinks.print!({})); });
        }
      } catch (e) {
        throw e instanceof SqlError ? new RlinkError('RLINK_SQL', `${basename(file)}: ${e.message}`, { cause: e, context: { file, line: e.line } }) : e;
      }
    },
  });
}
