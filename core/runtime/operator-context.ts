import type { ConnectorContext } from '../api/connector';
import type { OperatorContext } from './operator';

/** The context a connector's reader or writer is created with. */
export function connectorContext(ctx: OperatorContext): ConnectorContext {
  return {
    subtaskIndex: ctx.subtaskIndex,
    parallelism: ctx.parallelism,
    batchSize: ctx.batchSize,
    logger: ctx.logger,
    metrics: ctx.metrics,
    jobId: ctx.jobId,
    operatorId: ctx.operatorId,
    attempt: ctx.attempt,
  };
}
