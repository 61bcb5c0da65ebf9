/**
 * Progress of work on many hosts: on a terminal, one line per host redrawn in place (so 16 hosts
 * are 16 lines that change); when piped, one plain `host: message` line per event. With --json,
 * nothing (stdout is the result; logs stay on stderr).
 */
export class HostProgress {
  private readonly lines = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly enabled = true) {}

  readonly update = (host: string, message: string): void => {
    if (!this.enabled) return;
    this.lines.set(host, message);
    if (!this.stream.isTTY) { this.stream.write(`${host}: ${message}\n`); return; }
    const width = Math.max(...[...this.lines.keys()].map((h) => h.length));
    const cols = this.stream.columns ?? 120;
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const [h, m] of this.lines) out += `\r\x1b[2K${`${h.padEnd(width)}  ${m}`.slice(0, cols - 1)}\n`;
    this.drawn = this.lines.size;
    this.stream.write(out);
  };
}

/** A plain text table: a header and left-aligned columns. */
export function renderTable(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
