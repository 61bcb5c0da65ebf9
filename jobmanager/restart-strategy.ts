import type { RestartConfig } from '../core/config/system-properties';

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * The delay before restart number `restartsSoFar + 1`, or undefined when the strategy gives up
 * (Flink's fixed-delay and exponential-delay strategies; `none` never restarts).
 */
export function restartDelay(cfg: RestartConfig, restartsSoFar: number): number | undefined {
  if (cfg.strategy === 'none' || restartsSoFar >= cfg.attempts) return undefined;
  if (cfg.strategy === 'fixed-delay') return cfg.delayMs;
  return Math.min(MAX_BACKOFF_MS, cfg.delayMs * 2 ** restartsSoFar);
}
