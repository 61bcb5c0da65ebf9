/**
 * Entry point of the rlink runtime bundle (`lib/rlink.mjs` on a cluster host): one self-contained
 * file with the job manager, the task manager and every dependency, so a host needs nothing but
 * Node ≥ 20. The same file is the slot workers' script: a worker thread started with slot data runs
 * the slot runner instead of the command line.
 *
 *   node rlink.mjs jobmanager start [flags]     node rlink.mjs taskmanager start [flags]
 *   node rlink.mjs --version
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const RLINK_RUNTIME_VERSION: string;

const self = fileURLToPath(import.meta.url);
const role = isMainThread ? undefined : (workerData as { role?: string } | null)?.role;
if (role === 'slot') {
  await import('../../taskmanager/slot-worker');
} else if (role === 'graph-builder') {
  await import('../../jobmanager/build/graph-builder-worker');
} else {
  await main(process.argv.slice(2));
}

async function main(argv: string[]): Promise<void> {
  const { useRuntimeBundle } = await import('../../core/app/worker-scripts');
  useRuntimeBundle(self);
  type Runnable = { run(argv: string[], config: unknown): Promise<unknown> };
  const commands: Record<string, Runnable> = {
    'jobmanager start': (await import('../../cli/commands/jobmanager/start')).default as unknown as Runnable,
    'taskmanager start': (await import('../../cli/commands/taskmanager/start')).default as unknown as Runnable,
  };
  if (argv[0] === '--version' || argv[0] === 'version') { process.stdout.write(`rlink runtime ${RLINK_RUNTIME_VERSION}\n`); return; }
  const name = argv.slice(0, 2).join(' ');
  const command = commands[name];
  if (!command) {
    process.stderr.write(`usage: node ${self} ${Object.keys(commands).join(' | ')} [flags] (--help for the flags)\n`);
    process.exitCode = 2;
    return;
  }
  // oclif without command discovery: the two commands are run directly with a minimal config.
  const { Config, flush, handle } = await import('@oclif/core');
  const config = await Config.load({
    root: dirname(self),
    pjson: { name: 'rlink', version: RLINK_RUNTIME_VERSION, oclif: { bin: 'rlink', dirname: 'rlink', topicSeparator: ' ' } } as never,
  });
  try {
    await command.run(argv.slice(2), config);
    await flush();
  } catch (e) {
    await handle(e as Error);
  }
}
