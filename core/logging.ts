import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The root logger of a process. Components take a child (`logger.child({ component: 'taskmanager' })`)
 * and are handed their logger; nothing logs through a global. Logs go to stderr so that stdout stays
 * the command's result (`--json`).
 */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  const level = opts.level ?? process.env.RLINK_LOG_LEVEL ?? 'info';
  return pino({ level, name: opts.name ?? 'rlink', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: for tests and for embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
