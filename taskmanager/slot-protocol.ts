import type { MessagePort } from 'node:worker_threads';
import type { AppRef, SubtaskMetrics, SubtaskRef } from '../core/protocol/control-messages';
import type { TaskState } from '../core/runtime/task';
import type { BarrierElement } from '../core/runtime/elements';

/**
 * Messages between a task manager's main thread and its slot workers (worker threads).
 *
 *   main ──slot-deploy (+ MessagePorts of cross-slot channels)──▶ worker
 *   main ──slot-cancel / slot-checkpoint-complete──────────────▶ worker
 *   main ◀─task-state / final-ready / metrics─────────────────── worker
 */
export interface ChannelPort { channelId: string; role: 'in' | 'out'; port: MessagePort }

export type MainToSlot =
  /** `graphFingerprint`: the job manager's; the slot compares the graph it builds from the bundle with it. */
  | { type: 'slot-deploy'; jobId: string; attempt: number; app: AppRef; props: Record<string, string>; graphFingerprint: string; subtasks: SubtaskRef[]; ports: ChannelPort[]; batchSize: number; restore?: { checkpointId: number; metadataPath: string } }
  | { type: 'slot-trigger-checkpoint'; jobId: string; attempt: number; barrier: BarrierElement }
  | { type: 'slot-end-input'; jobId: string; attempt: number }
  /** Stop the attempt's tasks and report them FAILED (with `reason`) once they have stopped. */
  | { type: 'slot-fail'; jobId: string; attempt: number; reason: string }
  | { type: 'slot-cancel'; jobId: string; attempt: number }
  | { type: 'slot-checkpoint-complete'; jobId: string; attempt: number; checkpointId: number };

export type SlotToMain =
  | { type: 'task-state'; jobId: string; attempt: number; subtask: SubtaskRef; state: TaskState; error?: { code: string; message: string } }
  | { type: 'final-ready'; jobId: string; attempt: number; subtask: SubtaskRef }
  | { type: 'metrics'; jobId: string; attempt: number; tasks: SubtaskMetrics[] }
  | { type: 'checkpoint-ack'; jobId: string; attempt: number; checkpointId: number; subtask: SubtaskRef; path: string; bytes: number }
  | { type: 'checkpoint-declined'; jobId: string; attempt: number; checkpointId: number; subtask: SubtaskRef; reason: string };
