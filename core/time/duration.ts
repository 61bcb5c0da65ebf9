import { RlinkError } from '../errors';

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'20s'`, `'1m'`, `'1h'`, `'1d'`. */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$/;

/** Converts a {@link Duration} to whole milliseconds; throws RLINK_CONFIG naming `what` when malformed. */
export function toMillis(d: Duration, what = 'duration'): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new RlinkError('RLINK_CONFIG', `${what}: ${d} is not a non-negative number of milliseconds`);
    return Math.floor(d);
  }
  const m = PATTERN.exec(d);
  if (!m) throw new RlinkError('RLINK_CONFIG', `${what}: '${d}' is not a duration (use e.g. 500ms, 20s, 1m, 1h)`);
  return Math.floor(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}
