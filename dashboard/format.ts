/**
 * Numbers, sizes, durations and times as the dashboard shows them. Pure (no DOM), so the unit tests
 * run them in Node (test/dashboard/format.test.ts).
 */

/** 1234 → "1.2k", 2500000 → "2.50M"; one decimal below 10. */
export function human(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  if (a > 0 && a < 10 && !Number.isInteger(n)) return n.toFixed(1);
  return String(Math.round(n));
}

/** A rate in records per second ("1.2k/s"); "—" when unknown. */
export function rate(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : `${human(n)}/s`;
}

/** Bytes in binary units: "512 B", "3.4 MiB". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A duration: "850 ms", "12.3 s", "4m 05s", "2h 03m", "3d 04h". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const pad = (x: number) => String(Math.floor(x)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${pad((s % 86_400) / 3600)}h`;
}

/** A point in time, local: "2026-05-04 12:03:07"; "—" for none (Flink's -1 and 0). */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms <= 0) return '—';
  const d = new Date(ms);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A time gauge in ms per second as a percentage: 734 → "73%"; "—" when unknown. */
export function percent(msPerSecond: number | null | undefined): string {
  return msPerSecond === null || msPerSecond === undefined ? '—' : `${Math.round(msPerSecond / 10)}%`;
}

export type Level = 'ok' | 'low' | 'high';

/** Flink's back-pressure level of a backPressuredTimeMsPerSecond (ok ≤ 10 %, low ≤ 50 %, high above). */
export function level(backPressuredMsPerSecond: number | null | undefined): Level | null {
  if (backPressuredMsPerSecond === null || backPressuredMsPerSecond === undefined) return null;
  const r = backPressuredMsPerSecond / 1000;
  return r <= 0.1 ? 'ok' : r <= 0.5 ? 'low' : 'high';
}

/** A watermark and how far it is behind `now`: "12:03:07.250 (lag 1.2 s)"; "none" without one. */
export function watermark(wm: number | null | undefined, now: number): string {
  if (wm === null || wm === undefined) return 'none';
  const d = new Date(wm);
  const p = (x: number, n = 2) => String(x).padStart(n, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)} (lag ${duration(Math.max(0, now - wm))})`;
}

/** Shortens `s` to `max` characters with an ellipsis. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}
