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

  it('counts the time a downstream subtask of its thread processed as backpressure, and leaves out an upstream one\'s', () => {
    // One slot: a source and the map it feeds share the thread (as Flink's BackpressureMap would a core).
    const source = new TaskMetrics();
    const map = new TaskMetrics();
    source.place('j/src', ['j/map']);
    map.place('j/map', []);
    source.startClock(0);
    map.startClock(0);
    map.beginWait('idle', 0);
    source.processingEnded(source.processingStarts(0), 100); // the source emits a batch
    map.endWait(100);
    map.processingEnded(map.processingStarts(100), 400); // the map works it off while the source is ready
    map.beginWait('idle', 400);
    source.processingEnded(source.processingStarts(400), 500);
    source.beginWait('backpressure', 600); // no credit left
    map.endWait(700);
    map.processingEnded(map.processingStarts(700), 900); // during the source's own wait: already backpressure
    map.beginWait('idle', 900);
    expect(source.snapshot(1000)).toMatchObject({ busyMs: 300, backpressureMs: 700, idleMs: 0 });
    // The map: busy while it processed; the source's 200 ms of processing between its waits are not its own.
    expect(map.snapshot(1000)).toMatchObject({ busyMs: 500, idleMs: 500, backpressureMs: 0 });
  });

  it('does not count processing nested in another one\'s await twice', () => {
    const outer = new TaskMetrics();
    const inner = new TaskMetrics();
    outer.place('j/a', []);
    inner.place('j/b', []);
    outer.startClock(0);
    inner.startClock(0);
    inner.beginWait('idle', 0);
    const mark = outer.processingStarts(0);
    inner.endWait(100);
    inner.processingEnded(inner.processingStarts(100), 300); // runs while the outer awaits inside its processing
    inner.beginWait('idle', 300);
    outer.processingEnded(mark, 400);
    // 400 ms of wall time: 200 the inner's, 200 the outer's; the outer's 200 ms of inner time are left out.
    expect(outer.snapshot(400)).toMatchObject({ busyMs: 200, backpressureMs: 0, idleMs: 0 });
    expect(inner.snapshot(400)).toMatchObject({ busyMs: 200, idleMs: 200 });
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
