// The offsets a Kafka source asks the cluster about. Positions live in checkpoints; Kafka is only
// asked where a partition starts when no checkpoint says (earliest, latest, or the group's committed
// offset), and the positions of completed checkpoints are committed back to the group for monitoring
// (lag), never read back from it once the job runs.
import { RlinkError } from '../../../core/errors';
import { formatMs, kafkaMessage, listOffsets, retryUntil } from '../client';
import type { Part } from './partition';
import type { ReaderScope } from './scope';
import type { RestoredPositions } from './split-state';

export async function listPartitionOffsets(scope: ReaderScope, partitions: number[], which: 'earliest' | 'latest'): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (partitions.length === 0) return out;
  const { o, what } = scope;
  const cluster = scope.cluster!;
  const res = await retryUntil(() => listOffsets(cluster, o.topic, partitions, which === 'earliest'), {
    timeoutMs: o.retryTimeoutMs,
    closed: () => scope.closed,
    onRetry: () => { void cluster.refreshMetadata().catch(() => undefined); },
    fail: (e, ms) => new RlinkError('RLINK_TASK_FAILED', `${what}: cannot read the ${which} offsets of partitions [${partitions.join(', ')}] within ${formatMs(ms)}: ${kafkaMessage(e)}`, { retriable: true, cause: e }),
  });
  for (const [p, off] of res) out.set(p, off);
  for (const p of partitions) {
    if (!out.has(p)) throw new RlinkError('RLINK_TASK_FAILED', `${what}: no ${which} offset for partition ${p}`, { retriable: true });
  }
  return out;
}

export async function committedOffsets(scope: ReaderScope, partitions: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (partitions.length === 0) return out;
  const { o, what } = scope;
  const cluster = scope.cluster!;
  const groupId = o.groupId!;
  const res = await retryUntil(async () => {
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    return coordinator.offsetFetch({ groupId, topics: [{ topic: o.topic, partitions: partitions.map((partition) => ({ partition })) }] });
  }, {
    timeoutMs: o.retryTimeoutMs,
    closed: () => scope.closed,
    fail: (e, ms) => new RlinkError('RLINK_TASK_FAILED', `${what}: cannot read the offsets committed for group '${groupId}' within ${formatMs(ms)}: ${kafkaMessage(e)}`, { retriable: true, cause: e }),
  });
  for (const t of res.responses) {
    if (t.topic !== o.topic) continue;
    for (const x of t.partitions) {
      const off = Number(x.offset);
      if (Number.isSafeInteger(off) && off >= 0) out.set(x.partition, off);
    }
  }
  return out;
}

/**
 * Where each of the `assigned` partitions starts: its restored position, else as `startingOffsets`
 * says. Also returns the latest offsets (of every assigned partition when the source is bounded:
 * where a partition without a restored end stops).
 */
export async function startPositions(
  scope: ReaderScope, assigned: number[], saved: RestoredPositions | undefined,
): Promise<{ startOf: Map<number, number>; latest: Map<number, number> }> {
  const { o, what } = scope;
  const startOf = new Map<number, number>();
  const need: { earliest: number[]; latest: number[]; committed: number[] } = { earliest: [], latest: [], committed: [] };
  for (const i of assigned) {
    const pos = saved?.positions.get(i);
    if (pos !== undefined) startOf.set(i, pos);
    // Restored, but no position: the partition was added to the topic since; read all of it (as Flink).
    else if (saved) need.earliest.push(i);
    else need[o.startingOffsets].push(i);
  }
  const [earliest, latest, committed] = await Promise.all([
    listPartitionOffsets(scope, need.earliest, 'earliest'),
    listPartitionOffsets(scope, o.bounded ? assigned : need.latest, 'latest'),
    committedOffsets(scope, need.committed),
  ]);
  const noCommit: number[] = [];
  for (const i of need.earliest) startOf.set(i, earliest.get(i)!);
  for (const i of need.latest) startOf.set(i, latest.get(i)!);
  for (const i of need.committed) {
    const c = committed.get(i);
    if (c !== undefined) startOf.set(i, c); else noCommit.push(i);
  }
  if (noCommit.length > 0) {
    const fallback = await listPartitionOffsets(scope, noCommit, 'earliest');
    for (const i of noCommit) startOf.set(i, fallback.get(i)!);
    scope.ctx.logger.info({ topic: o.topic, groupId: o.groupId, partitions: noCommit }, `${what}: group '${o.groupId}' has no committed offset for partitions ${noCommit.join(', ')}: reading them from the earliest offset`);
  }
  return { startOf, latest };
}

/**
 * Commits the positions of completed checkpoints to the source's consumer group (only with a
 * groupId). Monitoring only: a failed commit is logged, never fails the job.
 */
export class OffsetCommitter {
  /** Snapshots whose offsets go to Kafka when their checkpoint completes (only with a groupId). */
  private readonly toCommit: Array<{ id: number | undefined; offsets: Array<[number, number]> }> = [];
  private committing: Promise<void> = Promise.resolve();
  private lastCommitted = '';

  constructor(private readonly scope: ReaderScope) {}

  /** A snapshot was taken (for checkpoint `checkpointId`, if given): remembers its positions. */
  snapshotTaken(checkpointId: number | undefined, parts: Iterable<Part>): void {
    if (!this.scope.o.groupId) return;
    this.toCommit.push({ id: checkpointId, offsets: [...parts].map((x) => [x.partition, x.position]) });
    if (this.toCommit.length > 100) this.toCommit.shift();
  }

  /** Commits the snapshot of `checkpointId` (or the latest one taken without an id), after the commits before it. */
  checkpointComplete(checkpointId: number): void {
    if (!this.scope.o.groupId || this.toCommit.length === 0 || this.scope.closed) return;
    let chosen = -1;
    for (let i = 0; i < this.toCommit.length; i++) {
      const id = this.toCommit[i]!.id;
      if (id === undefined || id <= checkpointId) chosen = i;
    }
    if (chosen < 0) return;
    const { offsets } = this.toCommit[chosen]!;
    this.toCommit.splice(0, chosen + 1);
    this.committing = this.committing.then(() => this.commit(offsets, checkpointId));
  }

  /** Settles once the commits started so far are done (they never reject). */
  settled(): Promise<void> {
    return this.committing;
  }

  private async commit(offsets: Array<[number, number]>, checkpointId: number): Promise<void> {
    const { scope } = this;
    const { o, what } = scope;
    const cluster = scope.cluster;
    const groupId = o.groupId;
    if (!cluster || !groupId || offsets.length === 0) return;
    const key = JSON.stringify(offsets);
    if (key === this.lastCommitted) return;
    try {
      await retryUntil(async () => {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        // Generation -1 and no member: a "simple" commit, as a consumer using assign() makes it.
        await coordinator.offsetCommit({
          groupId, groupGenerationId: -1, memberId: '',
          topics: [{ topic: o.topic, partitions: offsets.map(([partition, offset]) => ({ partition, offset: String(offset) })) }],
        });
      }, { timeoutMs: Math.min(o.retryTimeoutMs, 10_000), closed: () => scope.closed && scope.cluster === undefined, fail: (e) => e instanceof Error ? e : new Error(String(e)) });
      this.lastCommitted = key;
      const which = checkpointId === Number.MAX_SAFE_INTEGER ? 'the end of input' : `checkpoint ${checkpointId}`;
      scope.ctx.logger.debug({ groupId, checkpointId, offsets: Object.fromEntries(offsets) }, `${what}: committed the offsets of ${which} to group '${groupId}'`);
    } catch (e) {
      scope.ctx.logger.warn({ groupId, checkpointId, error: kafkaMessage(e) }, `${what}: could not commit offsets to group '${groupId}' (monitoring only; positions are in the checkpoint): ${kafkaMessage(e)}`);
    }
  }
}
