import { MessageChannel, Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import type { AppDefinition } from '../core/api/app';
import type { AppRef, DeployMessage, JobManagerToTaskManager, SubtaskRef, TaskManagerToJobManager } from '../core/protocol/messages';
import { PROTOCOL_VERSION } from '../core/protocol/messages';
import { channelsOf, subtaskId } from '../core/graph/execution-graph';
import type { Logger } from '../core/logging';
import { RlinkError } from '../core/errors';
import { SlotRunner } from './slot-runner';
import type { ChannelPort, MainToSlot, SlotToMain } from './slot-protocol';

/** A slot: a worker thread, or (inline mode) a runner on the main thread. */
interface Slot { post(msg: MainToSlot, transfer?: ChannelPort['port'][]): void; terminate(): Promise<void> }

export interface TaskExecutorOptions {
  id?: string;
  slots: number;
  /** 'threads': one worker thread per slot (parallelism uses the cores); 'inline': all slots on this thread. */
  mode: 'threads' | 'inline';
  /** The worker entry script (built JS) for 'threads'. */
  workerScript?: string;
  logger: Logger;
  /** Resolves apps in inline mode (and bundles on this thread). */
  resolveApp: (ref: AppRef) => Promise<AppDefinition>;
}

/**
 * The task manager's executor (Flink's TaskExecutor): offers slots to the job manager, runs the
 * subtasks it is sent in its slots, and relays their states and metrics. Channels between its own
 * slots are MessagePorts; channels to other task managers arrive with the distributed runtime.
 */
export class TaskExecutor {
  readonly id: string;
  private readonly slots: Slot[] = [];
  /** What each slot runs (job attempt → subtasks), to fail those subtasks if its worker dies. */
  private readonly slotWork = new Map<number, Map<string, { jobId: string; attempt: number; subtasks: SubtaskRef[] }>>();
  private send: (msg: TaskManagerToJobManager) => void = () => {};
  private readonly log: Logger;

  constructor(private readonly opts: TaskExecutorOptions) {
    this.id = opts.id ?? `tm-${randomUUID().slice(0, 8)}`;
    this.log = opts.logger.child({ component: 'taskmanager', taskManager: this.id });
  }

  /** Connects to the job manager: returns the handler for its messages and registers. */
  connect(send: (msg: TaskManagerToJobManager) => void): (msg: JobManagerToTaskManager) => void {
    this.send = send;
    send({ type: 'register', taskManagerId: this.id, slots: this.opts.slots, version: PROTOCOL_VERSION });
    return (msg) => this.handle(msg);
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (s) return s;
    const relay = (m: SlotToMain) => this.send(m);
    if (this.opts.mode === 'inline') {
      const runner = new SlotRunner(this.log.child({ slot: i }), relay, this.opts.resolveApp);
      s = { post: (m) => queueMicrotask(() => runner.handle(m)), terminate: async () => runner.cancelAll() };
    } else {
      if (!this.opts.workerScript) throw new RlinkError('RLINK_INTERNAL', 'threads mode needs the worker script');
      const w = new Worker(this.opts.workerScript, { workerData: { slot: i, taskManagerId: this.id, logLevel: this.log.level } });
      w.on('message', relay);
      w.on('error', (e) => this.slotLost(i, `slot ${i} worker crashed: ${e.message}`));
      w.on('exit', (code) => { if (this.slots[i] === s && !this.stopping) this.slotLost(i, `slot ${i} worker exited with code ${code}`); });
      s = { post: (m, transfer) => w.postMessage(m, transfer ?? []), terminate: async () => { await w.terminate(); } };
    }
    this.slots[i] = s;
    return s;
  }

  /** A slot's worker died: its subtasks failed (the job master restarts or fails the job), the slot starts afresh. */
  private slotLost(i: number, reason: string): void {
    this.log.error({ event: 'slot.crashed', slot: i, reason }, reason);
    this.slots[i] = undefined as unknown as Slot;
    const work = this.slotWork.get(i);
    this.slotWork.delete(i);
    for (const w of work?.values() ?? []) {
      for (const s of w.subtasks) this.send({ type: 'task-state', jobId: w.jobId, attempt: w.attempt, subtask: s, state: 'FAILED', error: { code: 'RLINK_TASK_FAILED', message: reason } });
    }
  }

  private handle(msg: JobManagerToTaskManager): void {
    switch (msg.type) {
      case 'deploy': this.deploy(msg); break;
      case 'cancel':
        for (const s of this.slots) s?.post({ type: 'slot-cancel', jobId: msg.jobId, attempt: msg.attempt });
        break;
      case 'checkpoint-complete':
        for (const s of this.slots) s?.post({ type: 'slot-checkpoint-complete', jobId: msg.jobId, attempt: msg.attempt, checkpointId: msg.checkpointId });
        break;
    }
  }

  private deploy(msg: DeployMessage): void {
    const slotOf = new Map<string, number>();
    for (const a of msg.slots) for (const s of a.subtasks) slotOf.set(subtaskId(s.vertex, s.index), a.slot);
    const ports = new Map<number, ChannelPort[]>(msg.slots.map((a) => [a.slot, []]));
    for (const v of msg.jobGraph.vertices) {
      for (const edge of v.inputs) {
        for (const c of channelsOf(msg.jobGraph, edge)) {
          const from = slotOf.get(subtaskId(c.producer.vertex, c.producer.index));
          const to = slotOf.get(subtaskId(c.consumer.vertex, c.consumer.index));
          if (from === undefined && to === undefined) continue;
          if (from === undefined || to === undefined) {
            throw new RlinkError('RLINK_INTERNAL', `channel ${c.id} crosses task managers: not supported by this runtime yet`);
          }
          if (from === to) continue; // local channel inside the slot
          const mc = new MessageChannel();
          ports.get(from)!.push({ channelId: c.id, role: 'out', port: mc.port1 });
          ports.get(to)!.push({ channelId: c.id, role: 'in', port: mc.port2 });
        }
      }
    }
    for (const a of msg.slots) {
      const work = this.slotWork.get(a.slot) ?? new Map();
      for (const [k, w] of work) if (w.jobId === msg.jobId) work.delete(k); // an older attempt of this job
      work.set(`${msg.jobId}#${msg.attempt}`, { jobId: msg.jobId, attempt: msg.attempt, subtasks: a.subtasks });
      this.slotWork.set(a.slot, work);
      const p = ports.get(a.slot)!;
      this.slot(a.slot).post({
        type: 'slot-deploy', jobId: msg.jobId, attempt: msg.attempt, app: msg.app, props: msg.props,
        subtasks: a.subtasks, ports: p, batchSize: msg.batchSize,
      }, p.map((x) => x.port));
    }
  }

  private stopping = false;

  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.filter(Boolean).map((s) => s.terminate()));
    this.slots.length = 0;
  }
}
