import type { MessagePort } from 'node:worker_threads';
import type { AppRef, SubtaskMetrics, SubtaskRef } from '../core/protocol/control-messages';
import type { TaskState } from '../core/runtime/task';
import type { BarrierElement } from '../core/runtime/elements';

/**
 * Messages between a task manager's main thread and its slot workers (worker threads).
 *
 *   main ──slot-deploy (+ MessagePorts of cross-slot channels,
 *                       + the channels to other task managers)──▶ worker
 *   main ──slot-cancel / slot-checkpoint-complete──────────────▶ worker
 *   main ◀─slot-ready (once: its modules are loaded)──────────── worker
 *   main ◀─data-address (once: where its data server listens)── worker
 *   main ◀─task-state / final-ready / metrics─────────────────── worker
 */
export interface ChannelPort { channelId: string; role: 'in' | 'out'; port: MessagePort }

/**
 * A channel to a subtask on another task manager: the slot's own data plane carries it. `wireId` is
 * its attempt-scoped id on the data sockets; `peer`, for a producer, where the consumer's slot is.
 */
export interface RemoteChannel { channelId: string; wireId: string; role: 'in' | 'out'; peer?: { taskManager: string; slot: number } }

/** The data plane a slot worker starts (threads mode, when the task manager has a data address). */
export interface SlotNetworkConfig { token: string; bind: string; advertisedHost: string }

export type MainToSlot =
  /** `graphFingerprint`: the job manager's; the slot compares the graph it builds from the bundle with it. */
  | { type: 'slot-deploy'; jobId: string; attempt: number; app: AppRef; props: Record<string, string>; graphFingerprint: string; subtasks: SubtaskRef[]; ports: ChannelPort[]; remote: RemoteChannel[]; batchSize: number; restore?: { checkpointId: number; metadataPath: string } }
  | { type: 'slot-trigger-checkpoint'; jobId: string; attempt: number; barrier: BarrierElement }
  | { type: 'slot-end-input'; jobId: string; attempt: number }
  | { type: 'slot-cancel'; jobId: string; attempt: number }
  | { type: 'slot-checkpoint-complete'; jobId: string; attempt: number; checkpointId: number };

export type SlotToMain =
  | { type: 'slot-ready' }
  | { type: 'data-address'; address: string }
  | { type: 'task-state'; jobId: string; attempt: number; subtask: SubtaskRef; state: TaskState; error?: { code: string; message: string } }
  | { type: 'final-ready'; jobId: string; attempt: number; subtask: SubtaskRef }
  | { type: 'metrics'; jobId: string; attempt: number; tasks: SubtaskMetrics[] }
  | { type: 'checkpoint-ack'; jobId: string; attempt: number; checkpointId: number; subtask: SubtaskRef; path: string; bytes: number }
  | { type: 'checkpoint-declined'; jobId: string; attempt: number; checkpointId: number; subtask: SubtaskRef; reason: string };
