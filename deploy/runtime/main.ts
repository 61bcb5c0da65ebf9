/**
 * Entry point of the rlink runtime bundle (`lib/rlink.mjs` on a cluster host, the image's entry
 * point on Kubernetes, the localized file in a YARN container): one self-contained file with the job
 * manager, the task manager and every dependency, so a host needs nothing but Node ≥ 20. The same
 * file is the slot workers' script: a worker thread started with slot data runs the slot runner
 * instead of the command line.
 *
 *   node rlink.mjs jobmanager start [flags]     node rlink.mjs taskmanager start [flags]
 *   node rlink.mjs --version
 *
 * The daemons are started directly (deploy/daemons/: the same flags and the same code as `rlink
 * jobmanager start` / `rlink taskmanager start`, without oclif); a failure is one line on stderr,
 * `rlink jobmanager start: <cause>`, or `{"error":{"code","message"}}` on stdout with --json, and
 * exit code 1, as the CLI reports it.
 */
import { isMainThread, workerData } from 'node:worker_threads';
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
  if (argv[0] === '--version' || argv[0] === 'version') { process.stdout.write(`rlink runtime ${RLINK_RUNTIME_VERSION}\n`); return; }
  const { daemonHelp, parseDaemonArgv } = await import('../daemons/flags');
  const jobmanager = await import('../daemons/jobmanager');
  const taskmanager = await import('../daemons/taskmanager');
  type Daemon = { help(): string; run(argv: string[], json: (j: boolean) => void): Promise<unknown> };
  const io = (json: boolean) => ({ json, log: (line: string) => { process.stdout.write(`${line}\n`); } });
  const daemons: Record<string, Daemon> = {
    'jobmanager start': {
      help: () => daemonHelp(`node ${self} jobmanager start`, jobmanager.JOBMANAGER_DESCRIPTION, jobmanager.JOBMANAGER_FLAGS),
      async run(args, json) {
        const p = parseDaemonArgv(jobmanager.JOBMANAGER_FLAGS, args);
        json(p.json);
        if (p.help) { process.stdout.write(this.help()); return undefined; }
        return jobmanager.runJobManager(p.flags, io(p.json));
      },
    },
    'taskmanager start': {
      help: () => daemonHelp(`node ${self} taskmanager start`, taskmanager.TASKMANAGER_SUMMARY, taskmanager.TASKMANAGER_FLAGS),
      async run(args, json) {
        const p = parseDaemonArgv(taskmanager.TASKMANAGER_FLAGS, args);
        json(p.json);
        if (p.help) { process.stdout.write(this.help()); return undefined; }
        return taskmanager.runTaskManager(p.flags, io(p.json));
      },
    },
  };
  const name = argv.slice(0, 2).join(' ');
  const daemon = daemons[name];
  if (!daemon) {
    process.stderr.write(`usage: node ${self} ${Object.keys(daemons).join(' | ')} [flags] (--help for the flags)\n`);
    process.exitCode = 2;
    return;
  }
  // --json is known once the flags parsed; a command line that does not parse is reported as JSON
  // when it asked for it.
  let json = argv.includes('--json');
  try {
    const result = await daemon.run(argv.slice(2), (j) => { json = j; });
    if (json && result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (e) {
    const { RlinkError, errorMessage } = await import('../../core/errors');
    const code = e instanceof RlinkError ? e.code : 'RLINK_CLI';
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message: errorMessage(e) } })}\n`);
    else process.stderr.write(`rlink ${name}: ${errorMessage(e)}\n`);
    process.exit(1);
  }
}
