import type { JobGraph } from '../core/graph/job-graph';
import type { SlotAssignment, SubtaskRef } from '../core/protocol/messages';
import { RlinkError } from '../core/errors';

export interface SlotOffer { taskManagerId: string; slots: number }

export interface Placement { taskManagerId: string; assignments: SlotAssignment[] }

/**
 * Slot sharing, as Flink's default: a slot holds at most one subtask of each vertex, so a job needs as
 * many slots as its largest parallelism, and subtask i of every vertex shares slot i (pipelines stay
 * local). Slots are taken round-robin across task managers so the load spreads over machines.
 */
export function schedule(job: JobGraph, offers: SlotOffer[]): Placement[] {
  const needed = Math.max(...job.vertices.map((v) => v.parallelism));
  const slots: Array<{ taskManagerId: string; slot: number }> = [];
  const maxSlots = Math.max(0, ...offers.map((o) => o.slots));
  for (let s = 0; s < maxSlots; s++) for (const o of offers) if (s < o.slots) slots.push({ taskManagerId: o.taskManagerId, slot: s });
  if (slots.length < needed) {
    throw new RlinkError('RLINK_GRAPH', `job '${job.jobName}' needs ${needed} slots but the cluster has ${slots.length} (${offers.length} task managers)`, { retriable: true });
  }
  const byTm = new Map<string, Map<number, SubtaskRef[]>>();
  for (let i = 0; i < needed; i++) {
    const { taskManagerId, slot } = slots[i]!;
    const subtasks = job.vertices.filter((v) => i < v.parallelism).map((v) => ({ vertex: v.id, index: i }));
    if (!byTm.has(taskManagerId)) byTm.set(taskManagerId, new Map());
    byTm.get(taskManagerId)!.set(slot, subtasks);
  }
  return [...byTm].map(([taskManagerId, m]) => ({ taskManagerId, assignments: [...m].map(([slot, subtasks]) => ({ slot, subtasks })) }));
}
