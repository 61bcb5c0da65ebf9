import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logging';
import { ApplicationStore } from './application-store';
import type { JobManager } from '../job-manager';
import type { TaskMetricsSnapshot } from '../../core/runtime/metrics';
import { MetricsExporter } from './metrics';
import { MetricRates } from '../metric-rates';
import { Router, parseTarget } from './router';
import { aggregateState, metricsJson } from './views';
import { propsFromBody } from './application-routes';
import { HttpError } from './responses';

const snap = (over: Partial<TaskMetricsSnapshot> = {}): TaskMetricsSnapshot => ({
  recordsIn: 0, recordsOut: 0, recordsWritten: 0, bytesIn: 0, bytesOut: 0, recordsInvalid: 0, lateRecordsDropped: 0, backpressureMs: 0, watermark: null, ...over,
});

describe('aggregateState (Flink\'s vertex state)', () => {
  it('follows FAILED > CANCELING > CANCELED > RUNNING > FINISHED > DEPLOYING > CREATED', () => {
    expect(aggregateState(['RUNNING', 'FAILED', 'FINISHED'])).toBe('FAILED');
    expect(aggregateState(['RUNNING', 'CANCELING', 'CANCELED'])).toBe('CANCELING');
    expect(aggregateState(['RUNNING', 'CANCELED'])).toBe('CANCELED');
    expect(aggregateState(['DEPLOYING', 'RUNNING'])).toBe('RUNNING');
    expect(aggregateState(['FINISHED', 'FINISHED'])).toBe('FINISHED');
    expect(aggregateState(['FINISHED', 'DEPLOYING'])).toBe('RUNNING');
    expect(aggregateState(['DEPLOYING', 'CREATED'])).toBe('DEPLOYING');
    expect(aggregateState([])).toBe('CREATED');
  });
});

describe('metricsJson', () => {
  it('sums counters and takes the lowest watermark among subtasks that have one', () => {
    const m = metricsJson([snap({ recordsIn: 2, recordsWritten: 1, backpressureMs: 5, watermark: 30 }), snap({ recordsIn: 3, watermark: 10 }), snap({ watermark: null })]);
    expect(m['read-records']).toBe(5);
    expect(m['records-written']).toBe(1);
    expect(m['backpressure-ms']).toBe(5);
    expect(m.watermark).toBe(10);
    expect(metricsJson([snap(), snap()]).watermark).toBeNull();
  });
});

describe('propsFromBody', () => {
  it('takes { args: map }, { args: [k=v] }, a plain map, a plain list and no body', () => {
    expect(propsFromBody({ args: { a: 'x', n: 2, b: true, o: { y: 1 } } }).toJSON()).toEqual({ a: 'x', n: '2', b: 'true', o: '{"y":1}' });
    expect(propsFromBody({ args: ['a=x', 'b=y=z'] }).toJSON()).toEqual({ a: 'x', b: 'y=z' });
    expect(propsFromBody({ a: 'x' }).toJSON()).toEqual({ a: 'x' });
    expect(propsFromBody(['a=x']).toJSON()).toEqual({ a: 'x' });
    expect(propsFromBody(undefined).toJSON()).toEqual({});
    expect(propsFromBody({ args: null }).toJSON()).toEqual({});
  });

  it('refuses what is not arguments with 400', () => {
    for (const bad of [{ args: 'a=x' }, { args: [1] }, { args: ['novalue'] }, 'text', 42, { '': 'x' }]) {
      try {
        propsFromBody(bad);
        expect.unreachable(JSON.stringify(bad));
      } catch (e) {
        expect(e).toBeInstanceOf(HttpError);
        expect((e as HttpError).status).toBe(400);
      }
    }
  });
});

describe('parseTarget and Router', () => {
  const router = new Router()
    .get('/jobs/overview', () => {})
    .get('/jobs/:id', () => {})
    .patch('/jobs/:id', () => {}, { auth: true });

  it('decodes each segment once, so %2F stays inside a segment', () => {
    expect(parseTarget('/jobs/a%2F..%2Fb?mode=cancel')).toMatchObject({ segments: ['jobs', 'a/../b'], path: '/jobs/a%2F..%2Fb' });
    expect(parseTarget('/jobs/').segments).toEqual(['jobs']);
    expect(parseTarget('/').segments).toEqual(['']);
    expect(parseTarget('/jobs?mode=cancel').query.get('mode')).toBe('cancel');
    expect(() => parseTarget('/jobs/%E0%A4%A')).toThrow(HttpError);
    expect(() => parseTarget('*')).toThrow(HttpError);
  });

  it('prefers literal routes registered first, and tells 404 from 405', () => {
    expect(router.match('GET', ['jobs', 'overview'])).toMatchObject({ kind: 'route', route: { pattern: '/jobs/overview' } });
    expect(router.match('GET', ['jobs', 'abc'])).toMatchObject({ kind: 'route', params: { id: 'abc' } });
    expect(router.match('PATCH', ['jobs', 'abc'])).toMatchObject({ kind: 'route', route: { auth: true } });
    expect(router.match('DELETE', ['jobs', 'abc'])).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'PATCH'] });
    expect(router.match('GET', ['jobs', ''])).toEqual({ kind: 'not-found' });
    expect(router.match('GET', ['nope'])).toEqual({ kind: 'not-found' });
  });
});

describe('MetricsExporter', () => {
  it('exports the watermark gauge only for subtasks that have a watermark', async () => {
    const rates = new MetricRates();
    const now = Date.now();
    rates.record('v1[0]', snap({ busyMs: 0, idleMs: 0, backpressureMs: 0 }), now - 1000);
    rates.record('v1[0]', snap({ busyMs: 200, idleMs: 100, backpressureMs: 700 }), now);
    const master = {
      rates,
      jobId: 'j1', name: 'job one', status: { status: 'RUNNING' },
      job: { vertices: [{ id: 'v1', name: 'Source: x', parallelism: 2 }] },
      metrics: new Map([
        ['v1[0]', { subtask: { vertex: 'v1', index: 0 }, name: 'Source: x (1/2)', state: 'RUNNING', metrics: snap({ recordsOut: 7, backpressureMs: 1500, watermark: 1234 }) }],
        ['v1[1]', { subtask: { vertex: 'v1', index: 1 }, name: 'Source: x (2/2)', state: 'RUNNING', metrics: snap({ recordsOut: 3 }) }],
      ]),
    };
    const jm = { taskManagerList: () => [{ slotsNumber: 4, freeSlots: 1 }], jobs: new Map([['j1', master]]) } as unknown as JobManager;
    const text = await new MetricsExporter(jm).snapshot().metrics();
    expect(text).toContain('rlink_task_records_out_total{job_id="j1",job_name="job one",vertex="v1",vertex_name="Source: x",subtask="0"} 7');
    expect(text).toContain('rlink_task_backpressure_seconds_total{job_id="j1",job_name="job one",vertex="v1",vertex_name="Source: x",subtask="0"} 1.5');
    expect(text).toContain('rlink_task_watermark_milliseconds{job_id="j1",job_name="job one",vertex="v1",vertex_name="Source: x",subtask="0"} 1234');
    expect(text).not.toMatch(/rlink_task_watermark_milliseconds\{[^}]*subtask="1"/);
    expect(text).toMatch(/^rlink_slots_available 1$/m);
    expect(text).toContain('rlink_task_busy_time_ms_per_second{job_id="j1",job_name="job one",vertex="v1",vertex_name="Source: x",subtask="0"} 200');
    expect(text).toContain('rlink_task_backpressured_time_ms_per_second{job_id="j1",job_name="job one",vertex="v1",vertex_name="Source: x",subtask="0"} 700');
    expect(text).toContain('rlink_task_idle_time_ms_per_second{job_id="j1",job_name="job one",vertex="v1",vertex_name="Source: x",subtask="0"} 100');
    expect(text).not.toMatch(/rlink_task_busy_time_ms_per_second\{[^}]*subtask="1"/);
    expect(text).toMatch(/^rlink_jobs\{state="RUNNING"\} 1$/m);
  });
});

describe('ApplicationStore', () => {
  it('serves what an earlier job manager stored, and removes partial uploads at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlink-store-'));
    try {
      const first = new ApplicationStore(dir, silentLogger());
      const temp = first.uploadPath();
      writeFileSync(temp, 'export default 1;');
      const { app } = await first.adopt(temp, { hash: 'a'.repeat(64), bytes: 17, filename: 'x.mjs' });
      writeFileSync(first.uploadPath(), 'partial');
      mkdirSync(join(first.root, 'not-an-app'));

      const second = new ApplicationStore(dir, silentLogger());
      expect(second.get(app.id)).toMatchObject({ id: app.id, hash: 'a'.repeat(64), bytes: 17, filename: 'x.mjs', removing: false });
      expect(second.byHash('a'.repeat(64))?.id).toBe(app.id);
      expect(readdirSync(second.root).sort()).toEqual([app.id, 'not-an-app']);
      expect(second.get('../x')).toBeUndefined();
      await second.remove(app.id);
      expect(existsSync(join(second.root, app.id))).toBe(false);
      await expect(second.adopt(join(dir, 'elsewhere'), { hash: 'b'.repeat(64), bytes: 1, filename: null })).rejects.toThrow(/outside/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
