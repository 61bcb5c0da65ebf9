import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import type { AppDefinition } from '../core/api/app';
import type { AppRef, DeployMessage, JobManagerToTaskManager, SubtaskRef, TaskManagerToJobManager } from '../core/protocol/control-messages';
import { PROTOCOL_VERSION, type SlotAssignment } from '../core/protocol/control-messages';
import { SYSTEM_PROPERTIES } from '../core/config/system-properties';
import { toMillis } from '../core/time/duration';
import { channelsOf, subtaskId } from '../core/graph/execution-graph';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import { SlotRunner } from './slot-runner';
import { attemptPrefix, wireChannelId } from '../core/protocol/channel-ids';
import { type ChannelPort, type MainToSlot, type RemoteChannel, type SlotNetworkConfig, type SlotToMain } from './slot-protocol';
import { DataPlane } from './data-plane/data-plane';

interface AttemptHere {
  jobId: string;
  attempt: number;
  /** Subtasks that have not reported an end, by slot. */
  live: Map<number, Set<string>>;
  cancellationTimeoutMs: number;
  watchdog?: NodeJS.Timeout;
}

/**
 * A slot: a worker thread, or (inline mode) a runner on the main thread. `dataAddress`: where its own
 * data plane listens (with a network configured).
 */
interface Slot { post(msg: MainToSlot, transfer?: ChannelPort['port'][]): void; terminate(): Promise<void>; ready: Promise<void>; dataAddress?: Promise<string> }

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
  /** Makes a deployment's app available locally (downloads and caches a bundle); identity when absent. */
  localizeApp?: (ref: AppRef) => Promise<AppRef>;
  /**
   * Channels to other task managers: every slot starts a data plane of its own with this (its data
   * server on `bind`, reached at `advertisedHost`). Without it a job must fit on this task manager.
   */
  network?: SlotNetworkConfig;
  /** This task manager's data address (its slot directory), announced at registration. */
  dataAddress?: string;
}

/**
 * The task manager's executor (Flink's TaskExecutor): offers slots to the job manager, runs the
 * subtasks it is sent in its slots, and relays their states and metrics. Channels between its own
 * slots are MessagePorts; channels to other task managers arrive with the distributed runtime.
 */
export class TaskExecutor {
  readonly id: string;
  private readonly slots: Slot[] = [];
  /** Job attempts with subtasks here: which still run (by slot), the peers their channels reach, the cancel watchdog. */
  private readonly attempts = new Map<string, AttemptHere>();
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
    send({ type: 'register', taskManagerId: this.id, slots: this.opts.slots, version: PROTOCOL_VERSION, ...(this.opts.dataAddress ? { dataAddress: this.opts.dataAddress } : {}) });
    return (msg) => this.handle(msg);
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (s) return s;
    let address: ((a: string) => void) | undefined;
    const dataAddress = this.opts.network ? new Promise<string>((r) => { address = r; }) : undefined;
    let ready!: () => void;
    const started = new Promise<void>((r) => { ready = r; });
    const relay = (m: SlotToMain) => {
      if (m.type === 'slot-ready') ready();
      else if (m.type === 'data-address') address?.(m.address);
      else this.onSlotMessage(m);
    };
    if (this.opts.mode === 'inline') {
      const log = this.log.child({ slot: i });
      let runner: SlotRunner | undefined;
      const plane = this.opts.network ? new DataPlane({
        taskManagerId: this.id, token: this.opts.network.token, bind: this.opts.network.bind, advertisedHost: this.opts.network.advertisedHost, logger: log,
        onPeerLost: (a, e, info) => runner?.channelsLost(info.channels, `lost the data connection to ${a}: ${e.message}`),
      }) : undefined;
      runner = new SlotRunner(log, relay, this.opts.resolveApp, undefined, plane);
      if (plane) void plane.start().then((a) => address?.(a));
      ready();
      s = { post: (m) => queueMicrotask(() => runner.handle(m)), terminate: async () => { runner.cancelAll(); await plane?.stop(); }, ready: started };
    } else {
      if (!this.opts.workerScript) throw new RlinkError('RLINK_INTERNAL', 'threads mode needs the worker script');
      const w = new Worker(this.opts.workerScript, { workerData: { role: 'slot', slot: i, taskManagerId: this.id, logLevel: this.log.level, network: this.opts.network } });
      w.on('message', relay);
      w.on('error', (e) => this.slotLost(i, `slot ${i} worker crashed: ${e.message}`));
      w.on('exit', (code) => { ready(); if (this.slots[i] === s && !this.stopping) this.slotLost(i, `slot ${i} worker exited with code ${code}`); });
      s = { post: (m, transfer) => w.postMessage(m, transfer ?? []), terminate: async () => { await w.terminate(); }, ready: started };
    }
    if (dataAddress) s.dataAddress = dataAddress;
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
      for (const s of w.subtasks) this.onSlotMessage({ type: 'task-state', jobId: w.jobId, attempt: w.attempt, subtask: s, state: 'FAILED', error: { code: 'RLINK_TASK_FAILED', message: reason } });
    }
  }

  private handle(msg: JobManagerToTaskManager): void {
    switch (msg.type) {
      case 'registered': break; // the connection checks the leader epoch
      case 'deploy': this.deploy(msg); break;
      case 'cancel':
        for (const s of this.slots) s?.post({ type: 'slot-cancel', jobId: msg.jobId, attempt: msg.attempt });
        this.watchCancellation(attemptKey(msg.jobId, msg.attempt));
        break;
      case 'checkpoint-complete':
        for (const s of this.slots) s?.post({ type: 'slot-checkpoint-complete', jobId: msg.jobId, attempt: msg.attempt, checkpointId: msg.checkpointId });
        break;
      case 'end-input':
        for (const s of this.slots) s?.post({ type: 'slot-end-input', jobId: msg.jobId, attempt: msg.attempt });
        break;
      case 'trigger-checkpoint': {
        const barrier = { kind: 'barrier' as const, checkpointId: msg.checkpointId, timestamp: msg.timestamp, savepoint: msg.savepoint, target: msg.target };
        for (const s of this.slots) s?.post({ type: 'slot-trigger-checkpoint', jobId: msg.jobId, attempt: msg.attempt, barrier });
        break;
      }
    }
  }

  /**
   * The cancellation watchdog (Flink's TaskCancelerWatchDog): the attempt's subtasks here must report
   * their end within task.cancellation.timeout after a cancel; a slot still running one then has its
   * worker thread terminated (which stops any JavaScript, a `while (true) {}` included) and replaced.
   * Its subtasks of the cancelled attempt are reported CANCELED, any others on that slot FAILED.
   */
  private watchCancellation(key: string): void {
    const a = this.attempts.get(key);
    if (!a || a.watchdog) return;
    a.watchdog = setTimeout(() => {
      a.watchdog = undefined;
      if (this.attempts.get(key) !== a) return;
      for (const [slot, live] of a.live) {
        if (live.size === 0) continue;
        if (this.opts.mode === 'inline') {
          this.log.error({ event: 'task.cancel-timeout', slot, tasks: [...live] }, `tasks ${[...live].join(', ')} ignored the cancel for ${a.cancellationTimeoutMs} ms (inline slots cannot be terminated)`);
          continue;
        }
        this.terminateSlot(slot, key, `did not stop within ${a.cancellationTimeoutMs} ms of the cancel (task.cancellation.timeout): slot ${slot}'s worker thread was terminated`);
      }
    }, a.cancellationTimeoutMs);
    a.watchdog.unref();
  }

  /** Ends a slot's worker thread; what ran there is reported ended (`cancelledKey`'s subtasks CANCELED, others FAILED). */
  private terminateSlot(i: number, cancelledKey: string, reason: string): void {
    const slot = this.slots[i];
    if (!slot) return;
    this.slots[i] = undefined as unknown as Slot; // the exit that follows is expected: no crash report
    this.slotWork.delete(i);
    this.log.error({ event: 'slot.terminated', slot: i, reason }, `slot ${i}: ${reason}`);
    void slot.terminate().catch(() => {});
    for (const [key, a] of [...this.attempts]) {
      const live = a.live.get(i);
      if (!live || live.size === 0) continue;
      for (const id of [...live]) {
        const ref = parseSubtaskId(id);
        const cancelled = key === cancelledKey;
        this.onSlotMessage({
          type: 'task-state', jobId: a.jobId, attempt: a.attempt, subtask: ref, state: cancelled ? 'CANCELED' : 'FAILED',
          ...(cancelled ? {} : { error: { code: 'RLINK_TASK_FAILED', message: `slot ${i}'s worker thread was terminated: a task of another attempt ${reason}` } }),
        });
      }
    }
  }

  private deploy(msg: DeployMessage): void {
    const localize = this.opts.localizeApp ?? (async (r: AppRef) => r);
    const failAll = (code: string, message: string) => {
      for (const a of msg.slots) for (const s of a.subtasks) {
        this.send({ type: 'task-state', jobId: msg.jobId, attempt: msg.attempt, subtask: s, state: 'FAILED', error: { code, message } });
      }
    };
    const problem = deploymentProblem(msg, this.id, this.opts.slots);
    if (problem) {
      this.log.warn({ event: 'deploy.refused', job: msg.jobId, attempt: msg.attempt, problem }, `refusing a deployment of job ${msg.jobId}: ${problem}`);
      failAll('RLINK_PROTOCOL', `task manager ${this.id} refused the deployment: ${problem}`);
      return;
    }
    localize(msg.app).then((app) => {
      try { this.start({ ...msg, app }); } catch (e) { failAll(e instanceof RlinkError ? e.code : 'RLINK_INTERNAL', errorMessage(e)); }
    }, (e: unknown) => failAll('RLINK_APP_BUILD', `cannot fetch the job's bundle: ${errorMessage(e)}`));
  }

  /** Where slot `slot`'s data plane listens (its worker started if needed); undefined when there is no such slot. */
  slotDataAddress(slot: number): Promise<string> | undefined {
    if (!this.opts.network || !Number.isInteger(slot) || slot < 0 || slot >= this.opts.slots || this.stopping) return undefined;
    return this.slot(slot).dataAddress;
  }

  private start(msg: DeployMessage): void {
    const prefix = attemptKey(msg.jobId, msg.attempt);
    const where = new Map<string, { tm: string; slot: number }>();
    for (const p of msg.placement) for (const a of p.assignments) for (const s of a.subtasks) where.set(subtaskId(s.vertex, s.index), { tm: p.taskManagerId, slot: a.slot });
    const ports = new Map<number, ChannelPort[]>(msg.slots.map((a) => [a.slot, []]));
    const remote = new Map<number, RemoteChannel[]>(msg.slots.map((a) => [a.slot, []]));
    for (const v of msg.jobGraph.vertices) {
      for (const edge of v.inputs) {
        for (const c of channelsOf(msg.jobGraph, edge)) {
          const from = where.get(subtaskId(c.producer.vertex, c.producer.index))!;
          const to = where.get(subtaskId(c.consumer.vertex, c.consumer.index))!;
          const fromHere = from.tm === this.id;
          const toHere = to.tm === this.id;
          if (!fromHere && !toHere) continue;
          if (fromHere && toHere) {
            if (from.slot === to.slot) continue; // a local channel inside the slot
            const mc = new MessageChannel();
            ports.get(from.slot)!.push({ channelId: c.id, role: 'out', port: mc.port1 });
            ports.get(to.slot)!.push({ channelId: c.id, role: 'in', port: mc.port2 });
            continue;
          }
          // Another task manager: the slot's own data plane carries it (data-plane/data-plane.ts).
          if (!this.opts.network) throw new RlinkError('RLINK_INTERNAL', `channel ${c.id} crosses task managers but this task manager has no data plane`);
          if (fromHere) {
            const peer = msg.dataAddresses[to.tm];
            if (!peer) throw new RlinkError('RLINK_INTERNAL', `task manager ${to.tm} has no data address`);
            remote.get(from.slot)!.push({ channelId: c.id, wireId: wireChannelId(msg.jobId, msg.attempt, c.id), role: 'out', peer: { taskManager: peer, slot: to.slot } });
          } else remote.get(to.slot)!.push({ channelId: c.id, wireId: wireChannelId(msg.jobId, msg.attempt, c.id), role: 'in' });
        }
      }
    }
    const live = new Map(msg.slots.map((a) => [a.slot, new Set(a.subtasks.map((x) => subtaskId(x.vertex, x.index)))]));
    this.attempts.set(prefix, {
      jobId: msg.jobId, attempt: msg.attempt, live,
      cancellationTimeoutMs: durationOr(msg.props['task.cancellation.timeout'], SYSTEM_PROPERTIES['task.cancellation.timeout'].default),
    });
    for (const a of msg.slots) {
      const work = this.slotWork.get(a.slot) ?? new Map();
      for (const [k, w] of work) if (w.jobId === msg.jobId) work.delete(k); // an older attempt of this job
      work.set(`${msg.jobId}#${msg.attempt}`, { jobId: msg.jobId, attempt: msg.attempt, subtasks: a.subtasks });
      this.slotWork.set(a.slot, work);
      const p = ports.get(a.slot)!;
      this.slot(a.slot).post({
        type: 'slot-deploy', jobId: msg.jobId, attempt: msg.attempt, app: msg.app, props: msg.props, graphFingerprint: msg.graphFingerprint,
        subtasks: a.subtasks, ports: p, remote: remote.get(a.slot)!, batchSize: msg.batchSize, ...(msg.restore ? { restore: msg.restore } : {}),
      }, p.map((x) => x.port));
    }
  }

  /** Follows the local subtasks of each attempt (the cancellation watchdog's view). */
  private onSlotMessage(m: Exclude<SlotToMain, { type: 'data-address' | 'slot-ready' }>): void {
    if (m.type === 'task-state' && (m.state === 'FINISHED' || m.state === 'FAILED' || m.state === 'CANCELED')) {
      const key = attemptKey(m.jobId, m.attempt);
      const a = this.attempts.get(key);
      if (a) {
        const id = subtaskId(m.subtask.vertex, m.subtask.index);
        let found = false;
        for (const set of a.live.values()) found = set.delete(id) || found;
        if (!found) return; // reported already (e.g. by the watchdog, before the worker's own late report)
        if ([...a.live.values()].every((x) => x.size === 0)) {
          if (a.watchdog) clearTimeout(a.watchdog);
          this.attempts.delete(key);
        }
      }
    }
    this.send(m);
  }

  /** Cancels everything running here (e.g. the job manager connection was lost). */
  cancelAll(): void {
    for (const [key, a] of this.attempts) {
      for (const slot of this.slots) slot?.post({ type: 'slot-cancel', jobId: a.jobId, attempt: a.attempt });
      this.watchCancellation(key);
    }
  }

  private stopping = false;

  /**
   * Starts every slot now rather than at its first deployment, and resolves once their workers have
   * loaded rlink (a few hundred milliseconds each, in parallel): the embedded cluster does this before
   * it submits, as Flink's MiniCluster starts its task managers before the job.
   */
  async startSlots(): Promise<void> {
    const slots: Slot[] = [];
    for (let i = 0; i < this.opts.slots; i++) slots.push(this.slot(i));
    await Promise.all(slots.map((s) => s.ready));
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const a of this.attempts.values()) if (a.watchdog) clearTimeout(a.watchdog);
    await Promise.all(this.slots.filter(Boolean).map((s) => s.terminate()));
    this.slots.length = 0;
  }
}

/** An attempt's key here (the prefix of its channels' wire ids). */
const attemptKey = attemptPrefix;

function parseSubtaskId(id: string): SubtaskRef {
  const m = /^(.*)\[(\d+)\]$/.exec(id);
  return m ? { vertex: m[1]!, index: Number(m[2]) } : { vertex: id, index: 0 };
}

function durationOr(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  try { return toMillis(v, 'task.cancellation.timeout'); } catch { return fallback; }
}

/**
 * What a deployment must satisfy before anything starts (it passed its schema, but may still not fit):
 * slots this task manager has, each once; subtasks of vertices of the job graph within their
 * parallelism; a placement that places every subtask of the job exactly once and includes this task
 * manager with the same slots; edges between vertices of the graph.
 */
export function deploymentProblem(msg: DeployMessage, self: string, slots: number): string | undefined {
  const vertices = new Map(msg.jobGraph.vertices.map((v) => [v.id, v]));
  for (const v of msg.jobGraph.vertices) {
    for (const e of v.inputs) {
      if (!vertices.has(e.sourceVertex) || e.targetVertex !== v.id) return `edge ${e.id} connects vertices the job graph does not have`;
    }
  }
  const seenSlots = new Set<number>();
  for (const a of msg.slots) {
    if (a.slot >= slots) return `slot ${a.slot} does not exist (this task manager has ${slots})`;
    if (seenSlots.has(a.slot)) return `slot ${a.slot} is assigned twice`;
    seenSlots.add(a.slot);
  }
  const placed = new Set<string>();
  let mine: SlotAssignment[] | undefined;
  for (const p of msg.placement) {
    if (p.taskManagerId === self) mine = p.assignments;
    if (!(p.taskManagerId in msg.dataAddresses)) return `task manager ${p.taskManagerId} of the placement has no data address`;
    for (const a of p.assignments) {
      for (const s of a.subtasks) {
        const v = vertices.get(s.vertex);
        if (!v || s.index >= v.parallelism) return `subtask ${s.vertex}[${s.index}] is not one of the job graph`;
        const id = `${s.vertex}[${s.index}]`;
        if (placed.has(id)) return `subtask ${id} is placed twice`;
        placed.add(id);
      }
    }
  }
  const total = msg.jobGraph.vertices.reduce((n, v) => n + v.parallelism, 0);
  if (placed.size !== total) return `the placement holds ${placed.size} of the job's ${total} subtasks`;
  const key = (as: SlotAssignment[]) => JSON.stringify(as.map((a) => [a.slot, a.subtasks.map((x) => `${x.vertex}[${x.index}]`)]).sort());
  if (!mine || key(mine) !== key(msg.slots)) return 'its slots differ from what the placement says this task manager runs';
  return undefined;
}
