import type { JobGraph } from '../core/graph/job-graph';
import type { SlotAssignment, SubtaskRef } from '../core/protocol/control-messages';
import { RlinkError } from '../core/errors';

/** The slots of one task manager that a job may take: their indexes, ascending. */
export interface SlotOffer { taskManagerId: string; slots: readonly number[] }

export interface Placement { taskManagerId: string; assignments: SlotAssignment[] }

/** The slots a job needs: its largest parallelism (slot sharing). */
export function slotsNeeded(job: JobGraph): number {
  return Math.max(...job.vertices.map((v) => v.parallelism));
}

/**
 * Slot sharing, as Flink's default: a slot holds at most one subtask of each vertex, so a job needs as
 * many slots as its largest parallelism, and subtask i of every vertex shares the job's slot i
 * (pipelines stay local). Slots are taken round-robin across task managers (the first free slot of
 * each, then the second of each, …) so the load spreads over machines. The work is proportional to
 * the slots taken, never to the slots offered.
 */
export function schedule(job: JobGraph, offers: readonly SlotOffer[]): Placement[] {
  const needed = slotsNeeded(job);
  const taken: Array<{ taskManagerId: string; slot: number }> = [];
  for (let round = 0; taken.length < needed; round++) {
    let any = false;
    for (const o of offers) {
      if (round >= o.slots.length) continue;
      any = true;
      taken.push({ taskManagerId: o.taskManagerId, slot: o.slots[round]! });
      if (taken.length === needed) break;
    }
    if (!any) break;
  }
  if (taken.length < needed) {
    throw new RlinkError('RLINK_GRAPH', `job '${job.jobName}' needs ${needed} slots but the cluster has ${taken.length} (${offers.length} task managers)`, { retriable: true });
  }
  const byTm = new Map<string, SlotAssignment[]>();
  taken.forEach(({ taskManagerId, slot }, i) => {
    const subtasks: SubtaskRef[] = job.vertices.filter((v) => i < v.parallelism).map((v) => ({ vertex: v.id, index: i }));
    if (!byTm.has(taskManagerId)) byTm.set(taskManagerId, []);
    byTm.get(taskManagerId)!.push({ slot, subtasks });
  });
  return [...byTm].map(([taskManagerId, assignments]) => ({ taskManagerId, assignments }));
}
