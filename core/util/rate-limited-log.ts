import type { Logger } from '../logging';

/**
 * Logs the first few occurrences of a recurring event, then one summary line per interval, so that a
 * stream of bad records is visible without flooding the log.
 */
export class RateLimitedLog {
  private count = 0;
  private suppressed = 0;
  private lastSummary = 0;

  constructor(private readonly logger: Logger, private readonly event: string, private readonly firstN = 10, private readonly intervalMs = 10_000) {}

  warn(fields: Record<string, unknown>, msg: string): void {
    this.count++;
    if (this.count <= this.firstN) { this.logger.warn({ event: this.event, ...fields }, msg); return; }
    this.suppressed++;
    const now = Date.now();
    if (now - this.lastSummary >= this.intervalMs) {
      this.logger.warn({ event: this.event, suppressed: this.suppressed, total: this.count }, `${this.suppressed} more like this (${this.count} in all)`);
      this.suppressed = 0;
      this.lastSummary = now;
    }
  }
}
