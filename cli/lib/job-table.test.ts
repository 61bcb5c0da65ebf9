import { describe, it, expect } from 'vitest';
import type { JobDetails } from '../../core/client/jobmanager-client';
import { lag, vertexLines, vertexRows, vertexTable } from './job-table';

const job: JobDetails = {
  jid: 'a'.repeat(32), name: 'bp', state: 'RUNNING', 'start-time': 1, 'end-time': -1, duration: 5, now: 100_000,
  vertices: [
    { id: 'source-1', name: 'Source: generator', parallelism: 1, status: 'RUNNING',
      metrics: { numRecordsInPerSecond: 9800, numRecordsOutPerSecond: 9800, numRecordsWrittenPerSecond: 0, watermark: 98_800, busyTimeMsPerSecond: 120, backPressuredTimeMsPerSecond: 870, idleTimeMsPerSecond: 10 } },
    { id: 'map-2', name: 'Slow map → Sink: discard, with a name longer than forty characters', parallelism: 2, status: 'RUNNING',
      metrics: { numRecordsInPerSecond: 9800, numRecordsOutPerSecond: 0, numRecordsWrittenPerSecond: 9800, watermark: null, busyTimeMsPerSecond: 990, backPressuredTimeMsPerSecond: 0, idleTimeMsPerSecond: 10 } },
    { id: 'sink-3', name: 'Sink', parallelism: 1, status: 'CREATED', metrics: { watermark: null } },
  ],
};

describe('rlink job status table', () => {
  it('derives rates, watermark lag and Flink\'s back-pressure level per vertex', () => {
    const [src, map, sink] = vertexRows(job);
    expect(src).toMatchObject({ inPerSecond: 9800, outPerSecond: 9800, watermarkLagMs: 1200, busyMsPerSecond: 120, backpressuredMsPerSecond: 870, backpressure: 'high' });
    expect(map).toMatchObject({ outPerSecond: 9800, watermarkLagMs: null, busyMsPerSecond: 990, backpressure: 'ok' });
    expect(sink).toMatchObject({ inPerSecond: null, outPerSecond: null, backpressure: null });
    expect(vertexRows({ ...job, vertices: [{ ...job.vertices![0]!, metrics: { backPressuredTimeMsPerSecond: 300, watermark: null } }] })[0]!.backpressure).toBe('low');
  });

  it('aligns a table for a terminal, names cut at 40 characters', () => {
    const lines = vertexTable(vertexRows(job));
    expect(lines[0]).toMatch(/^VERTEX\s+PAR\s+STATUS\s+IN\/S\s+OUT\/S\s+WM LAG\s+BUSY\s+BACKPRESSURE$/);
    expect(lines[1]).toMatch(/^Source: generator\s+1\s+RUNNING\s+9800\s+9800\s+1\.2 s\s+12%\s+87% HIGH$/);
    expect(lines[2]).toContain('Slow map → Sink: discard, with a name l…  ');
    expect(lines[2]).toMatch(/99%\s+0% OK$/);
    expect(lines[3]).toMatch(/^Sink\s+1\s+CREATED\s+—\s+—\s+—\s+—\s+—$/);
    // Every row has the columns where the header has them.
    const at = lines[0]!.indexOf('STATUS');
    for (const l of lines.slice(1)) expect(l.slice(at, at + 7)).toMatch(/^(RUNNING|CREATED)/);
  });

  it('prints one key=value line per vertex when piped', () => {
    const lines = vertexLines(vertexRows(job));
    expect(lines[0]).toBe('vertex=source-1 name="Source: generator" parallelism=1 status=RUNNING in_per_s=9800 out_per_s=9800 watermark_lag_ms=1200 busy_ms_per_s=120 backpressured_ms_per_s=870 idle_ms_per_s=10 backpressure=high');
    expect(lines[2]).toContain('in_per_s=- out_per_s=- watermark_lag_ms=- busy_ms_per_s=- backpressured_ms_per_s=- idle_ms_per_s=- backpressure=-');
  });

  it('writes lags in the unit that fits', () => {
    expect([lag(null), lag(850), lag(12_340), lag(240_000), lag(9_000_000), lag(3 * 86_400_000)]).toEqual(['—', '850 ms', '12.3 s', '4.0 min', '2.5 h', '3.0 d']);
  });
});
