import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command';
import { Props } from '../../core/api/props';
import { createLogger } from '../../core/logging';
import { RlinkError, type ErrorCode } from '../../core/errors';
import { runLocal, type LocalRunResult } from '../../local/local-cluster';
import { prepareApp } from '../lib/app-bundle';
import { applyTextJobProperties } from '../lib/text-job';
import { ProgressReporter } from '../lib/progress';

export default class Run extends BaseCommand {
  static override summary = 'Run a job on an embedded local cluster.';
  static override description = 'Bundles the app with esbuild (`import … from \'rlink\'` resolves to this rlink), runs it on a job manager and task manager inside this process (slots on worker threads), and returns when its bounded sources are done. Ctrl-C cancels the job.';
  static override examples = [
    '<%= config.bin %> run examples/rlink-simple.ts',
    '<%= config.bin %> run jobs/clicks.ts input=data/clicks.jsonl output=out/clicks.jsonl',
    '<%= config.bin %> run jobs/clicks.ts input=a.jsonl output=b.jsonl --json',
    '<%= config.bin %> run examples/click-count.yaml brokers=localhost:9092',
  ];
  static override strict = false;
  static override args = {
    app: Args.string({ description: 'The job file: TypeScript or JavaScript that default-exports defineApp({...}), a config-file job (.yaml) or a SQL script (.sql).', required: true }),
  };
  static override flags = {
    'from-savepoint': Flags.string({ description: 'Start from this savepoint or checkpoint (its directory or _metadata file); operators are matched by uid.' }),
    slots: Flags.integer({ description: 'Worker threads (slots) of the embedded task manager; default: the job\'s largest parallelism.', min: 1 }),
  };

  async run(): Promise<LocalRunResult> {
    const { args, flags, argv } = await this.parse(Run);
    const extra = (argv as string[]).slice(1);
    const badFlag = extra.find((a) => a.startsWith('-'));
    if (badFlag) throw new RlinkError('RLINK_CONFIG', `Nonexistent flag: ${badFlag} (see rlink run --help)`);
    const props = Props.fromArgs(extra);
    applyTextJobProperties(args.app, props);
    if (flags['from-savepoint']) props.set('execution.savepoint.path', flags['from-savepoint']);
    const logger = createLogger({ level: flags['log-level'] ?? process.env.RLINK_LOG_LEVEL ?? 'warn' });
    const { app, bundle, dispose } = await prepareApp(args.app);
    const progress = new ProgressReporter();
    const json = this.jsonEnabled();
    let cancel: (() => void) | undefined;
    let interrupted = 0;
    const onSigint = () => {
      interrupted++;
      if (interrupted > 1) process.exit(130);
      process.stderr.write('\ncancelling… (Ctrl-C again to exit at once)\n');
      cancel?.();
    };
    process.on('SIGINT', onSigint);
    try {
      const result = await runLocal({
        app, appRef: { kind: 'bundle', path: bundle.path, hash: bundle.hash }, props, logger,
        ...(flags.slots !== undefined ? { slots: flags.slots } : {}),
        onStarted: (j) => { cancel = j.cancel; },
        ...(json ? {} : { onProgress: (p) => progress.update(p), progressIntervalMs: progress.tty ? 500 : 1000 }),
      });
      progress.done();
      const secs = (result.durationMs / 1000).toFixed(1);
      if (result.status === 'FINISHED') {
        if (!json) this.log(`FINISHED ${app.name} in ${secs}s: ${result.progress.recordsIn} records in, ${result.progress.recordsOut} out${summaryExtra(result)}`);
        return result;
      }
      if (result.status === 'CANCELED') {
        if (json) this.log(JSON.stringify(result));
        else process.stderr.write(`rlink run: job ${app.name} CANCELED after ${secs}s\n`);
        this.exit(130);
      }
      throw new RlinkError((result.errorCode ?? 'RLINK_TASK_FAILED') as ErrorCode, `job ${app.name} FAILED: ${result.error ?? 'unknown error'}`);
    } finally {
      process.off('SIGINT', onSigint);
      await dispose();
    }
  }
}

function summaryExtra(r: LocalRunResult): string {
  const parts = [];
  if (r.progress.invalidRecords > 0) parts.push(`${r.progress.invalidRecords} invalid records skipped`);
  if (r.progress.lateRecordsDropped > 0) parts.push(`${r.progress.lateRecordsDropped} late records dropped`);
  if (r.restarts > 0) parts.push(`${r.restarts} restarts`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
