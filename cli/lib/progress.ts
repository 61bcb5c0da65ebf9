import type { JobProgress } from '../../local/local-cluster';

/**
 * Progress of a running job for humans: on a terminal, one line redrawn in place (rates, watermark);
 * when piped, a plain line every `plainEveryMs`. Writes to stderr; stdout carries the result.
 */
export class ProgressReporter {
  private last: { at: number; in: number; out: number } | undefined;
  private lastPlain = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly plainEveryMs = 5000) {}

  get tty(): boolean { return !!this.stream.isTTY; }

  update(p: JobProgress): void {
    const now = Date.now();
    const prev = this.last;
    const dt = prev ? (now - prev.at) / 1000 : p.elapsedMs / 1000;
    const inRate = dt > 0 ? (p.recordsIn - (prev?.in ?? 0)) / dt : 0;
    const outRate = dt > 0 ? (p.recordsOut - (prev?.out ?? 0)) / dt : 0;
    this.last = { at: now, in: p.recordsIn, out: p.recordsOut };
    const line = formatProgress(p, inRate, outRate);
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (now - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = now;
      this.stream.write(`${line}\n`);
    }
  }

  /** Clears the in-place line before the final summary. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
  }
}

export function formatProgress(p: JobProgress, inRate: number, outRate: number): string {
  const wm = p.watermark === null ? '—' : new Date(p.watermark).toISOString();
  const extra = [
    p.invalidRecords > 0 ? `${p.invalidRecords} invalid` : '',
    p.lateRecordsDropped > 0 ? `${p.lateRecordsDropped} late dropped` : '',
  ].filter(Boolean).join(', ');
  return `${p.status} ${(p.elapsedMs / 1000).toFixed(1)}s  in ${human(p.recordsIn)} (${human(inRate)}/s)  out ${human(p.recordsOut)} (${human(outRate)}/s)  watermark ${wm}${extra ? `  ${extra}` : ''}`;
}

export function human(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}
