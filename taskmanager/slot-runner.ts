import type { AppDefinition } from '../core/api/app';
import { buildStreamGraph } from '../core/api/app';
import { Props } from '../core/api/props';
import { buildJobGraph, jobGraphFingerprint } from '../core/graph/job-graph';
import { inputChannels, outputChannels, subtaskId } from '../core/graph/execution-graph';
import { outputEdges } from '../core/graph/job-graph';
import { InputChannel, LocalChannel, type OutputChannel } from '../core/runtime/network/channel';
import { PortOutputChannel, bindPortInput } from '../core/runtime/network/port-channel';
import type { NetworkOutputChannel } from './data-plane/network-output-channel';
import { FINAL_CHECKPOINT_ID, StreamTask } from '../core/runtime/task';
import { loadRestoredState } from './restore';
import { checkpointStorageFor } from '../core/fs/checkpoint-storage';
import type { AppRef, SubtaskMetrics } from '../core/protocol/control-messages';
import type { Logger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import type { MainToSlot, SlotToMain } from './slot-protocol';
import { isOfAttempt } from '../core/protocol/channel-ids';
import type { DataPlane } from './data-plane/data-plane';

interface Deployment {
  jobId: string;
  attempt: number;
  tasks: StreamTask[];
  finalWaiters: Array<() => void>;
  finalComplete: boolean;
  metricsTimer: NodeJS.Timeout;
  /** Set when the attempt must fail (e.g. a lost data connection): stopped tasks report FAILED. */
  failReason?: string;
}

/**
 * Runs the subtasks of one slot: rebuilds the job's graph from the app (the same bundle on every
 * task manager), instantiates only its own subtasks, wires their channels (local within the slot,
 * MessagePorts to other slots, the slot's own data plane to other task managers) and reports their
 * states. Runs inside a worker thread, or inline.
 */
export class SlotRunner {
  private readonly deployments = new Map<string, Deployment>();

  constructor(
    private readonly logger: Logger,
    private readonly report: (msg: SlotToMain) => void,
    private readonly resolveApp: (ref: AppRef) => Promise<AppDefinition>,
    private readonly metricsIntervalMs = 250,
    /** Channels to other task managers (none: every job must fit on this task manager). */
    private readonly dataPlane?: DataPlane,
  ) {}

  /**
   * Data connections broke: the attempts whose channels they carried fail (their tasks stop and report
   * FAILED once stopped; a task still committing must not look stopped to the job manager).
   */
  channelsLost(channels: readonly string[], reason: string): void {
    for (const d of this.deployments.values()) {
      if (!channels.some((c) => isOfAttempt(c, d))) continue;
      d.failReason ??= reason;
      this.cancel(d.jobId, d.attempt);
    }
  }

  handle(msg: MainToSlot): void {
    switch (msg.type) {
      case 'slot-deploy':
        this.deploy(msg).catch((e: unknown) => {
          for (const s of msg.subtasks) {
            this.report({ type: 'task-state', jobId: msg.jobId, attempt: msg.attempt, subtask: s, state: 'FAILED', error: { code: 'RLINK_INTERNAL', message: errorMessage(e) } });
          }
        });
        break;
      case 'slot-cancel': this.cancel(msg.jobId, msg.attempt); break;
      case 'slot-checkpoint-complete': {
        const d = this.deployments.get(key(msg.jobId, msg.attempt));
        if (!d) break;
        if (msg.checkpointId === FINAL_CHECKPOINT_ID) { d.finalComplete = true; for (const w of d.finalWaiters.splice(0)) w(); }
        else for (const t of d.tasks) t.notifyCheckpointComplete(msg.checkpointId);
        break;
      }
      case 'slot-end-input': {
        const d = this.deployments.get(key(msg.jobId, msg.attempt));
        for (const t of d?.tasks ?? []) if (t.isSource) t.endInput();
        break;
      }
      case 'slot-trigger-checkpoint': {
        const d = this.deployments.get(key(msg.jobId, msg.attempt));
        // Barriers start at the sources; every other task takes the checkpoint when they reach it.
        for (const t of d?.tasks ?? []) if (t.isSource) t.triggerCheckpoint(msg.barrier);
        break;
      }
    }
  }

  private async deploy(msg: Extract<MainToSlot, { type: 'slot-deploy' }>): Promise<void> {
    const { jobId, attempt } = msg;
    const fail = (ref: { vertex: string; index: number }, e: unknown) => this.report({
      type: 'task-state', jobId, attempt, subtask: ref, state: 'FAILED',
      error: { code: e instanceof RlinkError ? e.code : 'RLINK_TASK_FAILED', message: errorMessage(e) },
    });
    let app: AppDefinition;
    let graph;
    try {
      app = await this.resolveApp(msg.app);
      graph = buildStreamGraph(app, new Props(msg.props)).graph;
    } catch (e) {
      for (const s of msg.subtasks) fail(s, e);
      return;
    }
    const job = buildJobGraph(graph);
    const fingerprint = jobGraphFingerprint(job);
    if (fingerprint !== msg.graphFingerprint) {
      const e = new RlinkError('RLINK_NONDETERMINISTIC_GRAPH', `app '${app.name}' built a different dataflow here than on the job manager (graph fingerprint ${fingerprint} ≠ ${msg.graphFingerprint}): build() must declare the same operators, parallelism and edges in every process (no host names, clocks, random numbers or local files in the topology)`);
      for (const s of msg.subtasks) fail(s, e);
      return;
    }
    // Checkpoint files through the storage of their path (hdfs:// takes checkpoint.webhdfs from the job's properties).
    const checkpointStorage = (path: string) => checkpointStorageFor(path, process.env, msg.props);
    let restore;
    try {
      restore = msg.restore ? await loadRestoredState(msg.restore.metadataPath, msg.restore.checkpointId, checkpointStorage) : undefined;
    } catch (e) {
      for (const s of msg.subtasks) fail(s, e);
      return;
    }
    const mine = new Set(msg.subtasks.map((s) => subtaskId(s.vertex, s.index)));
    const ports = new Map(msg.ports.map((p) => [`${p.role}:${p.channelId}`, p.port]));
    const remote = new Map(msg.remote.map((r) => [`${r.role}:${r.channelId}`, r]));
    const plane = this.dataPlane;
    const netOuts: Array<{ task: string; ch: NetworkOutputChannel }> = [];
    const inputsByTask = new Map<string, InputChannel[]>();
    const localOut = new Map<string, OutputChannel>();
    // Byte counters of channels through ports, bound to their task once it exists.
    const bytesIn = new Map<string, { n: number }>();
    const portOuts: Array<{ task: string; ch: PortOutputChannel }> = [];
    // Inputs first: a local channel's output end needs its input end.
    for (const s of msg.subtasks) {
      const list = inputChannels(job, s.vertex, s.index).map((c, i) => {
        const input = new InputChannel(c.id, i, c.input);
        if (mine.has(subtaskId(c.producer.vertex, c.producer.index))) localOut.set(c.id, new LocalChannel(c.id, input));
        else {
          const counter = bytesIn.get(subtaskId(s.vertex, s.index)) ?? { n: 0 };
          bytesIn.set(subtaskId(s.vertex, s.index), counter);
          const port = ports.get(`in:${c.id}`);
          const net = remote.get(`in:${c.id}`);
          if (port) bindPortInput(port, input, (n) => { counter.n += n; });
          else if (net && plane) plane.input(net.wireId, input, (n) => { counter.n += n; });
          else throw new RlinkError('RLINK_INTERNAL', `no transport for input channel ${c.id}`);
        }
        return input;
      });
      inputsByTask.set(subtaskId(s.vertex, s.index), list);
    }
    const d: Deployment = {
      jobId, attempt, tasks: [], finalWaiters: [], finalComplete: false,
      metricsTimer: setInterval(() => this.reportMetrics(d), this.metricsIntervalMs),
    };
    this.deployments.set(key(jobId, attempt), d);
    for (const s of msg.subtasks) {
      const outputs = new Map<string, OutputChannel[]>();
      for (const edge of outputEdges(job, s.vertex)) {
        outputs.set(edge.id, outputChannels(job, edge, s.index).map((c) => {
          const local = localOut.get(c.id);
          if (local) return local;
          const port = ports.get(`out:${c.id}`);
          if (port) {
            const ch = new PortOutputChannel(c.id, port);
            portOuts.push({ task: subtaskId(s.vertex, s.index), ch });
            return ch;
          }
          const net = remote.get(`out:${c.id}`);
          if (!net?.peer || !plane) throw new RlinkError('RLINK_INTERNAL', `no transport for output channel ${c.id}`);
          const ch = plane.output(net.wireId, net.peer);
          netOuts.push({ task: subtaskId(s.vertex, s.index), ch });
          return ch;
        }));
      }
      const task = new StreamTask({ jobId, attempt, vertexId: s.vertex, subtaskIndex: s.index, batchSize: msg.batchSize }, {
        graph, job, inputs: inputsByTask.get(subtaskId(s.vertex, s.index))!, outputs,
        logger: this.logger.child({ job: jobId, attempt }), now: Date.now,
        ...(restore ? { restore } : {}),
        checkpointStorage,
        acknowledgeCheckpoint: (checkpointId, h) => this.report({ type: 'checkpoint-ack', jobId, attempt, checkpointId, subtask: s, path: h.path, bytes: h.bytes }),
        declineCheckpoint: (checkpointId, reason) => this.report({ type: 'checkpoint-declined', jobId, attempt, checkpointId, subtask: s, reason }),
        awaitFinalCheckpoint: () => {
          this.report({ type: 'final-ready', jobId, attempt, subtask: s });
          return d.finalComplete ? Promise.resolve() : new Promise<void>((r) => d.finalWaiters.push(r));
        },
      });
      d.tasks.push(task);
      const id = subtaskId(s.vertex, s.index);
      for (const p of [...portOuts, ...netOuts]) if (p.task === id) p.ch.onBytes = (n) => { task.metrics.bytesOut += n; };
      const counter = bytesIn.get(id);
      if (counter) task.metrics.bindBytesIn(counter);
    }
    await Promise.all(d.tasks.map(async (task) => {
      const ref = { vertex: task.desc.vertexId, index: task.desc.subtaskIndex };
      this.report({ type: 'task-state', jobId, attempt, subtask: ref, state: 'RUNNING' });
      try {
        await task.run();
        if (d.failReason !== undefined && task.state === 'CANCELED') fail(ref, new RlinkError('RLINK_TASK_FAILED', d.failReason));
        else this.report({ type: 'task-state', jobId, attempt, subtask: ref, state: task.state });
      } catch (e) {
        this.logger.error({ event: 'task.failed', task: task.name, err: errorMessage(e) }, `task ${task.name} failed: ${errorMessage(e)}`);
        fail(ref, e);
      }
    }));
    this.reportMetrics(d);
    clearInterval(d.metricsTimer);
    this.deployments.delete(key(jobId, attempt));
    this.dataPlane?.release({ jobId, attempt });
  }

  private cancel(jobId: string, attempt: number): void {
    const d = this.deployments.get(key(jobId, attempt));
    if (!d) return;
    for (const t of d.tasks) t.cancel();
    for (const w of d.finalWaiters.splice(0)) w();
  }

  private reportMetrics(d: Deployment): void {
    const tasks: SubtaskMetrics[] = d.tasks.map((t) => ({
      subtask: { vertex: t.desc.vertexId, index: t.desc.subtaskIndex }, name: t.name, state: t.state, metrics: t.metrics.snapshot(),
    }));
    this.report({ type: 'metrics', jobId: d.jobId, attempt: d.attempt, tasks });
  }

  /** Cancels everything (shutdown). */
  cancelAll(): void { for (const d of this.deployments.values()) this.cancel(d.jobId, d.attempt); }
}

function key(jobId: string, attempt: number): string { return `${jobId}#${attempt}`; }
