/**
 * Channel ids: how a channel between two subtasks is named, in one place. Every process that builds
 * the job computes the same ids from the job graph; the data sockets carry them scoped to the job
 * attempt, so that frames of an attempt that ended can never reach its successor.
 *
 *   channel id   <edge id>#<producer index>><consumer index>          window-agg-1.in0#1>0
 *   on the wire  <job id>#<attempt>/<channel id>                       9c24…6431#2/window-agg-1.in0#1>0
 *
 * Edge ids are `<target vertex id>.in<i>` (job-graph.ts); vertex ids are operator ids (no `/`).
 */
export interface AttemptRef { jobId: string; attempt: number }

/** The id of the channel from producer subtask `producer` to consumer subtask `consumer` of `edge`. */
export function channelId(edge: string, producer: number, consumer: number): string {
  return `${edge}#${producer}>${consumer}`;
}

/** What every wire id of an attempt starts with. */
export function attemptPrefix(jobId: string, attempt: number): string { return `${jobId}#${attempt}/`; }

/** A channel's id on the data sockets: scoped to the job attempt. */
export function wireChannelId(jobId: string, attempt: number, channel: string): string {
  return `${attemptPrefix(jobId, attempt)}${channel}`;
}

/** The parts of a wire id (undefined when it is not one). */
export function parseWireChannelId(wireId: string): (AttemptRef & { channel: string }) | undefined {
  const m = /^([^#/]+)#(\d+)\/(.+)$/.exec(wireId);
  return m ? { jobId: m[1]!, attempt: Number(m[2]), channel: m[3]! } : undefined;
}

/** Whether a wire id belongs to job attempt `a`. */
export function isOfAttempt(wireId: string, a: AttemptRef): boolean {
  return wireId.startsWith(attemptPrefix(a.jobId, a.attempt));
}
