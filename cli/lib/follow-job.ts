import { RlinkError, type ErrorCode } from '../../core/errors';
import type { JobDetails } from '../../core/client/jobmanager-client';
import { poll } from '../../core/util/retry';

/** What the CLI needs to follow a job: the job manager's REST API directly, or through the Kubernetes API server. */
export interface JobSource {
  job(id: string): Promise<JobDetails>;
  waitForJob(id: string, opts: { onUpdate?: (j: JobDetails) => void }): Promise<JobDetails>;
  /** Cancels the job (absent where the CLI cannot reach the job manager with the token). */
  cancel?(id: string): Promise<unknown>;
}

/** A job that did not end FINISHED, as one error with the job's own code. */
export function jobError(j: JobDetails, jobId: string): RlinkError {
  return new RlinkError((j.errorCode?.startsWith('RLINK_') ? j.errorCode : 'RLINK_TASK_FAILED') as ErrorCode, `job ${j.name} (${jobId}) ${j.state}${j.error ? `: ${j.error}` : ''}`);
}

/**
 * Detached: waits (at most `timeoutMs`) until the job runs or waits in the queue for slots, and
 * says why it does not when it failed instead. Returns its state.
 */
export async function waitUntilRunning(client: JobSource, jobId: string, timeoutMs = 30_000): Promise<string> {
  let last: JobDetails | undefined;
  const stillCreated = new Error('still CREATED');
  const j = await poll(async () => {
    last = await client.job(jobId);
    return last.state === 'CREATED' && !last['waiting-for-slots'] ? undefined : last;
  }, { timeoutMs, intervalMs: 100, fail: () => stillCreated }).catch((e: unknown) => { if (e === stillCreated) return last; throw e; });
  if (j && (j.state === 'FAILED' || j.state === 'CANCELED')) throw jobError(j, jobId);
  return j?.state ?? 'CREATED';
}

/**
 * Follows a job until it ends, printing each new state (unless quiet). Ctrl-C cancels it when the
 * source can (a second Ctrl-C leaves it running and exits 130), else stops following. A job that
 * did not finish is thrown as {@link jobError}.
 */
export async function followJob(client: JobSource, jobId: string, o: { quiet: boolean; onInterrupt?: () => void }): Promise<{ job: JobDetails; interrupted: boolean }> {
  let interrupted = 0;
  const onSigint = () => {
    if (++interrupted > 1 || !client.cancel) { o.onInterrupt?.(); process.exit(130); }
    process.stderr.write(`\ncancelling job ${jobId}… (Ctrl-C again to leave it running and exit)\n`);
    void client.cancel(jobId).catch(() => {});
  };
  process.on('SIGINT', onSigint);
  let last = '';
  const job = await client.waitForJob(jobId, {
    onUpdate: (j) => { if (j.state !== last && !o.quiet) { process.stderr.write(`${j.name} ${j.state}\n`); last = j.state; } },
  }).finally(() => process.off('SIGINT', onSigint));
  return { job, interrupted: interrupted > 0 };
}
