import { describe, it, expect } from 'vitest';
import type { TaskMetricsSnapshot } from '../core/runtime/metrics';
import { MetricRates, STALE_MS, WINDOW_MS } from './metric-rates';

const snap = (over: Partial<TaskMetricsSnapshot> = {}): TaskMetricsSnapshot => ({
  recordsIn: 0, recordsOut: 0, recordsWritten: 0, bytesIn: 0, bytesOut: 0, recordsInvalid: 0, lateRecordsDropped: 0,
  backpressureMs: 0, idleMs: 0, busyMs: 0, watermark: null, ...over,
});

describe('MetricRates', () => {
  it('has no rates before two reports', () => {
    const r = new MetricRates();
    expect(r.rates('v[0]', 1000)).toBeUndefined();
    r.record('v[0]', snap(), 1000);
    expect(r.rates('v[0]', 1000)).toBeUndefined();
  });

  it('divides records by the job manager\'s clock and time by the subtask\'s accounted time', () => {
    const r = new MetricRates();
    r.record('v[0]', snap(), 10_000);
    // 1.5 s later by the job manager's clock, but the reports cover 2 s of the task's time.
    r.record('v[0]', snap({ recordsIn: 3000, recordsOut: 1500, recordsWritten: 300, busyMs: 500, backpressureMs: 1300, idleMs: 200 }), 11_500);
    expect(r.rates('v[0]', 11_600)).toEqual({
      numRecordsInPerSecond: 2000, numRecordsOutPerSecond: 1000, numRecordsWrittenPerSecond: 200,
      busyTimeMsPerSecond: 250, backPressuredTimeMsPerSecond: 650, idleTimeMsPerSecond: 100, at: 11_500,
    });
  });

  it('looks back over the last WINDOW_MS only', () => {
    const r = new MetricRates();
    // 10 s at 100 records/s, then 1000 records/s: the window sees the new rate.
    for (let t = 0; t <= 10_000; t += 250) r.record('v[0]', snap({ recordsIn: t / 10, busyMs: t }), t);
    let n = 1000;
    for (let t = 10_250; t <= 10_000 + WINDOW_MS; t += 250) { n += 250; r.record('v[0]', snap({ recordsIn: n, busyMs: t }), t); }
    expect(r.rates('v[0]', 10_000 + WINDOW_MS)!.numRecordsInPerSecond).toBe(1000);
    expect(r.rates('v[0]', 10_000 + WINDOW_MS)!.busyTimeMsPerSecond).toBe(1000);
  });

  it('forgets the rates of a subtask that stopped reporting', () => {
    const r = new MetricRates();
    r.record('v[0]', snap(), 0);
    r.record('v[0]', snap({ recordsIn: 10, busyMs: 250 }), 250);
    expect(r.rates('v[0]', 250 + STALE_MS)).toBeDefined();
    expect(r.rates('v[0]', 251 + STALE_MS)).toBeUndefined();
  });

  it('starts afresh when the counters go down (a restarted attempt counts from 0)', () => {
    const r = new MetricRates();
    r.record('v[0]', snap({ recordsIn: 5000, busyMs: 4000 }), 0);
    r.record('v[0]', snap({ recordsIn: 6000, busyMs: 5000 }), 1000);
    r.record('v[0]', snap({ recordsIn: 10, busyMs: 10 }), 2000);
    expect(r.rates('v[0]', 2000)).toBeUndefined();
    r.record('v[0]', snap({ recordsIn: 510, busyMs: 110, idleMs: 900 }), 3000);
    expect(r.rates('v[0]', 3000)).toMatchObject({ numRecordsInPerSecond: 500, busyTimeMsPerSecond: 100, idleTimeMsPerSecond: 900 });
  });

  it('has no time gauges for a task manager that does not measure busy and idle time', () => {
    const r = new MetricRates();
    const old = (x: Partial<TaskMetricsSnapshot>) => { const s = snap(x); delete s.busyMs; delete s.idleMs; return s; };
    r.record('v[0]', old({}), 0);
    r.record('v[0]', old({ recordsIn: 100, backpressureMs: 500 }), 1000);
    expect(r.rates('v[0]', 1000)).toMatchObject({ numRecordsInPerSecond: 100, busyTimeMsPerSecond: null, backPressuredTimeMsPerSecond: null, idleTimeMsPerSecond: null });
  });
});
