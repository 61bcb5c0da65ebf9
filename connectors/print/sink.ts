import type { ConnectorContext, Sink, SinkWriter } from '../../core/api/connector';

/** Options of {@link printSink} (`sinks.print`). */
export interface PrintSinkOptions {
  /**
   * A name put before every line, as Flink's `print(sinkIdentifier)`: `name> value` at parallelism 1,
   * `name:<n>> value` otherwise. Default: none (`<n>> value` at parallelism > 1, bare lines at 1).
   * `<n>` is the subtask number counted from 1, as in Flink.
   */
  prefix?: string;
  /** Where the lines go. Default `process.stdout`. */
  stream?: NodeJS.WritableStream;
}

/**
 * `sinks.print`: each value as a JSON line on stdout, one write per batch. Not transactional: lines
 * appear as they arrive, so after a failure and restart some may be printed again (at least once).
 * `prepareCommit` returns null and `commit` does nothing.
 */
export function printSink<T = unknown>(opts: PrintSinkOptions = {}): Sink<T> {
  return {
    kind: 'print',
    describe: () => ({ kind: 'print', ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) }),
    createWriter: (ctx) => new PrintWriter<T>(opts, ctx),
  };
}

class PrintWriter<T> implements SinkWriter<T> {
  private readonly linePrefix: string;
  private readonly out: NodeJS.WritableStream;

  constructor(opts: PrintSinkOptions, ctx: ConnectorContext) {
    this.out = opts.stream ?? process.stdout;
    const id = opts.prefix;
    if (ctx.parallelism > 1) this.linePrefix = id ? `${id}:${ctx.subtaskIndex + 1}> ` : `${ctx.subtaskIndex + 1}> `;
    else this.linePrefix = id ? `${id}> ` : '';
  }

  open(): void {}

  write(values: T[]): Promise<void> | void {
    const n = values.length;
    if (n === 0) return;
    const pre = this.linePrefix;
    let s = '';
    for (let i = 0; i < n; i++) s += pre + (JSON.stringify(values[i]) ?? 'undefined') + '\n';
    if (!this.out.write(s)) return new Promise<void>((resolve) => { this.out.once('drain', () => resolve()); });
  }

  /** Print is not transactional: there is nothing to commit. */
  prepareCommit(): null { return null; }

  commit(): void {}

  close(): void {}
}
