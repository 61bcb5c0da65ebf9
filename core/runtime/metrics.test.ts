import { describe, it, expect } from 'vitest';
import { TaskMetrics } from './metrics';

describe('TaskMetrics time accounting (busy / idle / backpressured)', () => {
  it('counts waits as idle or backpressured and the rest of the running time as busy', () => {
    const m = new TaskMetrics();
    m.startClock(1000);
    m.beginWait('idle', 1100);
    m.endWait(1400);
    m.beginWait('backpressure', 1500);
    m.endWait(1700);
    expect(m.snapshot(2000)).toMatchObject({ busyMs: 500, idleMs: 300, backpressureMs: 200 });
  });

  it('counts a wait in progress up to the snapshot', () => {
    const m = new TaskMetrics();
    m.startClock(0);
    m.beginWait('backpressure', 100);
    expect(m.snapshot(1100)).toMatchObject({ busyMs: 100, backpressureMs: 1000, idleMs: 0 });
    // A new wait closes the open one first.
    m.beginWait('idle', 1200);
    expect(m.snapshot(1300)).toMatchObject({ busyMs: 100, backpressureMs: 1100, idleMs: 100 });
  });

  it('stops counting when the task stops, and counts nothing before it runs', () => {
    const m = new TaskMetrics();
    expect(m.snapshot(5000)).toMatchObject({ busyMs: 0, idleMs: 0, backpressureMs: 0 });
    m.startClock(5000);
    m.beginWait('idle', 5500);
    m.stopClock(6000);
    expect(m.snapshot(9000)).toMatchObject({ busyMs: 500, idleMs: 500, backpressureMs: 0 });
    m.endWait(9500); // nothing open any more
    expect(m.snapshot(9999)).toMatchObject({ busyMs: 500, idleMs: 500 });
  });
});
