/** The benchmark's records: 1000 keys, 100 records per millisecond of event time, in order. */
export const BASE_TS = Date.UTC(2026, 0, 1);
export const KEYS = 1000;
export const PER_MS = 100;

export interface Reading { key: number; ts: number; value: number }

export function generate(i: number): Reading {
  return { key: i % KEYS, ts: BASE_TS + Math.floor(i / PER_MS), value: i % 97 };
}
