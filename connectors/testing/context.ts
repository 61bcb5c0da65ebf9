import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ConnectorContext } from '../../core/api/connector';
import { silentLogger, type Logger } from '../../core/logging';
import { TaskMetrics } from '../../core/runtime/metrics';

/** A connector context for unit tests. */
export function testContext(over: Partial<ConnectorContext> = {}): ConnectorContext {
  return {
    subtaskIndex: 0,
    parallelism: 1,
    batchSize: 1000,
    logger: silentLogger(),
    metrics: new TaskMetrics(),
    jobId: 'test-job',
    operatorId: 'op-1',
    attempt: 0,
    ...over,
  };
}

/** A pino logger that keeps its JSON lines in memory (synchronously), to assert on what was logged. */
export function memoryLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) { chunks.push(chunk.toString()); cb(); },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
