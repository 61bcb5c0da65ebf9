import type { JobDetails } from '../../core/client/jobmanager-client';
import { human } from './progress';

/**
 * `rlink job status <id>` for humans: the job's vertices with parallelism, records in and out per
 * second, watermark lag, busy time and back pressure: an aligned table on a terminal, one
 * `key=value` line per vertex when piped (easy to grep and awk). `--json` prints the REST body.
 *
 *   VERTEX                     PAR  STATUS   IN/S   OUT/S  WM LAG  BUSY  BACKPRESSURE
 *   Source: generator            1  RUNNING  9.8k   9.8k   1.2 s   12%   87% HIGH
 */
export interface VertexRow {
  id: string;
  name: string;
  parallelism: number;
  status: string;
  inPerSecond: number | null;
  /** Records sent downstream plus records handed to sinks, per second. */
  outPerSecond: number | null;
  /** How far the vertex's watermark is behind the job manager's clock, in ms; null without a watermark. */
  watermarkLagMs: number | null;
  busyMsPerSecond: number | null;
  backpressuredMsPerSecond: number | null;
  idleMsPerSecond: number | null;
  /** Flink's level: ok ≤ 10 % of the time backpressured, low ≤ 50 %, high above. */
  backpressure: 'ok' | 'low' | 'high' | null;
}

type Metrics = Record<string, number | null | undefined>;

export function vertexRows(j: JobDetails, now = j.now ?? Date.now()): VertexRow[] {
  return (j.vertices ?? []).map((v) => {
    const m = v.metrics as Metrics;
    const num = (k: string) => (typeof m[k] === 'number' ? m[k] : null);
    const out = num('numRecordsOutPerSecond');
    const bp = num('backPressuredTimeMsPerSecond');
    const wm = num('watermark');
    return {
      id: v.id, name: v.name, parallelism: v.parallelism, status: v.status,
      inPerSecond: num('numRecordsInPerSecond'),
      outPerSecond: out === null ? null : out + (num('numRecordsWrittenPerSecond') ?? 0),
      watermarkLagMs: wm === null ? null : Math.max(0, now - wm),
      busyMsPerSecond: num('busyTimeMsPerSecond'), backpressuredMsPerSecond: bp, idleMsPerSecond: num('idleTimeMsPerSecond'),
      backpressure: bp === null ? null : bp <= 100 ? 'ok' : bp <= 500 ? 'low' : 'high',
    };
  });
}

const dash = '—';
const rate = (x: number | null) => (x === null ? dash : human(x));
const pct = (x: number | null) => (x === null ? dash : `${Math.round(x / 10)}%`);

/** "850 ms", "12.3 s", "4.0 min", "2.5 h", "3.1 d". */
export function lag(ms: number | null): string {
  if (ms === null) return dash;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** The table for a terminal: a header, then one aligned row per vertex (names cut at `nameWidth`). */
export function vertexTable(rows: readonly VertexRow[], nameWidth = 40): string[] {
  const cut = (s: string) => (s.length > nameWidth ? `${s.slice(0, nameWidth - 1)}…` : s);
  const header = ['VERTEX', 'PAR', 'STATUS', 'IN/S', 'OUT/S', 'WM LAG', 'BUSY', 'BACKPRESSURE'];
  const cells = rows.map((r) => [
    cut(r.name), String(r.parallelism), r.status, rate(r.inPerSecond), rate(r.outPerSecond), lag(r.watermarkLagMs),
    pct(r.busyMsPerSecond), r.backpressure === null ? dash : `${pct(r.backpressuredMsPerSecond)} ${r.backpressure.toUpperCase()}`,
  ]);
  const width = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  // Text columns left-aligned, numbers right-aligned.
  const right = new Set([1, 3, 4, 5, 6]);
  const line = (c: readonly string[]) => c.map((x, i) => (right.has(i) ? x.padStart(width[i]!) : x.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)];
}

/** One `key=value` line per vertex, for pipes. */
export function vertexLines(rows: readonly VertexRow[]): string[] {
  const n = (x: number | null) => (x === null ? '-' : String(x));
  return rows.map((r) => [
    `vertex=${r.id}`, `name=${JSON.stringify(r.name)}`, `parallelism=${r.parallelism}`, `status=${r.status}`,
    `in_per_s=${n(r.inPerSecond)}`, `out_per_s=${n(r.outPerSecond)}`, `watermark_lag_ms=${n(r.watermarkLagMs)}`,
    `busy_ms_per_s=${n(r.busyMsPerSecond)}`, `backpressured_ms_per_s=${n(r.backpressuredMsPerSecond)}`, `idle_ms_per_s=${n(r.idleMsPerSecond)}`,
    `backpressure=${r.backpressure ?? '-'}`,
  ].join(' '));
}
