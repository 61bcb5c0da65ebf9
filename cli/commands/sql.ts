import { Args, Flags } from '@oclif/core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseCommand } from '../base-command';
import { RlinkError } from '../../core/errors';
import Run from './run';
import Submit from './submit';

/** `rlink run` / `rlink submit` under the name `sql`, so their messages say `rlink sql: …`. */
class SqlRun extends Run { static override id = 'sql'; }
class SqlSubmit extends Submit { static override id = 'sql'; }

export default class Sql extends BaseCommand {
  static override summary = 'Run SQL statements as a job: CREATE TABLE, INSERT INTO, SELECT.';
  static override description = 'Runs a SQL script (a file, or the statements after -e) as a job: on the embedded cluster as `rlink run` does, or, with --jm, on that cluster as `rlink submit` does. CREATE TABLE … WITH (\'connector\' = \'filesystem\' | \'kafka\' | \'print\', …) declares tables, INSERT INTO writes them, a SELECT is printed; SET \'key\' = \'value\' sets a job property unless the command line does. `${name}` in a WITH option is the job property name (key=value arguments). Grammar and limits: docs/sql.md.';
  static override examples = [
    '<%= config.bin %> sql jobs/clicks.sql input=data/clicks.jsonl output=out/stats',
    '<%= config.bin %> sql -e "CREATE TABLE t (name STRING, v DOUBLE) WITH (\'connector\' = \'filesystem\', \'path\' = \'in.jsonl\', \'format\' = \'json\'); SELECT name, v * 2 AS twice FROM t"',
    '<%= config.bin %> sql jobs/clicks.sql brokers=kafka-1:9092 --jm http://10.1.2.0:8770 --detached',
  ];
  static override strict = false;
  static override args = {
    file: Args.string({ description: 'A SQL script (.sql); or use -e.', required: false }),
  };
  static override flags = {
    execute: Flags.string({ char: 'e', description: 'The SQL statements to run, instead of a file.' }),
    jm: Flags.string({ description: 'Submit to the cluster whose job manager is at this URL (as rlink submit) instead of running here.', helpGroup: 'CLUSTER' }),
    'token-file': Flags.string({ description: 'With --jm: the file holding the cluster token (as rlink submit).', helpGroup: 'CLUSTER', dependsOn: ['jm'] }),
    detached: Flags.boolean({ description: 'With --jm: return once the job runs; print its id.', helpGroup: 'CLUSTER', dependsOn: ['jm'] }),
    'from-savepoint': Flags.string({ description: 'Start from this savepoint or checkpoint (its directory or _metadata file).' }),
    slots: Flags.integer({ description: 'Without --jm: worker threads (slots) of the embedded task manager (as rlink run).', min: 1, exclusive: ['jm'] }),
  };

  async run(): Promise<void> {
    const { args, flags, argv } = await this.parse(Sql);
    // Positional arguments after the file are key=value properties; with -e, all of them are.
    const file0 = flags.execute === undefined ? args.file : undefined;
    const rest = (argv as string[]).slice(file0 === undefined ? 0 : 1);
    let file = file0;
    if ((flags.execute === undefined) === (file === undefined)) {
      throw new RlinkError('RLINK_CLI', 'give a SQL script file or the statements with -e "…" (one of them)');
    }
    if (file !== undefined && !file.toLowerCase().endsWith('.sql')) throw new RlinkError('RLINK_CLI', `${file}: a SQL script's name ends in .sql`);
    const dir = flags.execute !== undefined ? await mkdtemp(join(tmpdir(), 'rlink-sql-')) : undefined;
    try {
      if (dir) {
        file = join(dir, 'query.sql');
        await writeFile(file, flags.execute!);
      }
      const passed = [
        ...(this.jsonEnabled() ? ['--json'] : []), ...(flags['log-level'] ? ['--log-level', flags['log-level']] : []),
        ...(flags['from-savepoint'] ? ['--from-savepoint', flags['from-savepoint']] : []),
        ...(flags.slots !== undefined ? ['--slots', String(flags.slots)] : []),
        ...(flags['token-file'] ? ['--token-file', flags['token-file']] : []), ...(flags.detached ? ['--detached'] : []),
      ];
      if (flags.jm !== undefined) await SqlSubmit.run([file!, ...rest, '--jm', flags.jm, ...passed], this.config);
      else await SqlRun.run([file!, ...rest, ...passed], this.config);
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  /** The inner command has reported its failure and chosen the exit code already. */
  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<unknown> {
    if (err.code === 'EEXIT' && err.oclif?.exit !== undefined) return this.exit(err.oclif.exit);
    return super.catch(err);
  }
}
