/** How a foreground daemon talks to whoever started it, and when it stops. */

export interface DaemonIo {
  /** `--json`: the ready line (and a failure) as one JSON object on stdout. */
  json: boolean;
  /** Writes one line to stdout. */
  log(line: string): void;
  /** Resolves when the daemon should stop (default: SIGINT or SIGTERM). */
  stop?: Promise<void>;
}

/** Resolves on SIGINT or SIGTERM (foreground daemons stop cleanly). */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Resolves when the daemon is told to stop (io.stop, else a signal) or when `also` resolves. */
export function untilStopped(io: DaemonIo, ...also: Array<Promise<unknown>>): Promise<void> {
  return Promise.race([io.stop ?? waitForSignal(), ...also]).then(() => undefined);
}
