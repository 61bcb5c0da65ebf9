import type { StreamGraph } from '../graph/stream-graph';
import type { JobGraph } from '../graph/job-graph';
import { outputEdges } from '../graph/job-graph';
import type { StreamOperator, OperatorContext, OperatorSnapshot, RestoredState } from './operator';
import type { InputChannel, OutputChannel } from './network/channel';
import { InputGate } from './network/input-gate';
import { RecordWriter } from './network/record-writer';
import { ChainOutput } from './chain';
import { Mailbox } from './mailbox';
import { TaskMetrics } from './metrics';
import { SourceOperator } from './operators/source';
import { MAX_WATERMARK, type BarrierElement, type StreamElement } from './elements';
import { stringifySnapshot } from '../protocol/checkpoint-metadata';
import { checkpointStorageFor, type CheckpointStorage } from '../fs/checkpoint-storage';
import type { Logger } from '../logging';
import { RlinkError, errorMessage } from '../errors';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** The checkpoint id of "end of input": sinks prepare and commit it like any other. */
export const FINAL_CHECKPOINT_ID = Number.MAX_SAFE_INTEGER;

/** Lifecycle of a subtask (Flink's ExecutionState, trimmed). */
export type TaskState = 'CREATED' | 'DEPLOYING' | 'RUNNING' | 'FINISHED' | 'CANCELING' | 'CANCELED' | 'FAILED';

export interface TaskDescriptor {
  jobId: string;
  attempt: number;
  vertexId: string;
  subtaskIndex: number;
  batchSize: number;
}

/** What the hosting runtime (embedded cluster or task manager) gives a task. */
export interface TaskEnvironment {
  graph: StreamGraph;
  job: JobGraph;
  /** Input channels in gate order. */
  inputs: InputChannel[];
  /** Output channels per network edge id, ordered by consumer subtask. */
  outputs: Map<string, OutputChannel[]>;
  logger: Logger;
  now(): number;
  /** Called once the task has consumed all input; resolves when the job manager declares the final checkpoint complete. */
  awaitFinalCheckpoint(): Promise<void>;
  /** The snapshot of checkpoint `id` is written: tell the job manager. */
  acknowledgeCheckpoint?(checkpointId: number, handle: SnapshotHandle): void;
  /** This task could not take checkpoint `id`. */
  declineCheckpoint?(checkpointId: number, reason: string): void;
  /** State to start from, by operator id (a restore from a checkpoint or savepoint). */
  restore?: ReadonlyMap<string, RestoredState>;
  /** The storage of a checkpoint's directory (local or hdfs://); default: chosen by the path and the environment. */
  checkpointStorage?(target: string): CheckpointStorage;
}

/** What one subtask wrote for a checkpoint. */
export interface SubtaskSnapshot {
  vertex: string;
  index: number;
  parallelism: number;
  checkpointId: number;
  operators: OperatorSnapshot[];
}

export interface SnapshotHandle { path: string; bytes: number }

/**
 * One subtask: a chain of operators fed by a source reader or by an input gate, writing to record
 * writers. Runs in one thread of control; between batches it serves its mailbox (timers) and waits
 * for downstream credit (backpressure).
 */
export class StreamTask {
  readonly metrics = new TaskMetrics();
  readonly mailbox = new Mailbox();
  state: TaskState = 'CREATED';
  private operators: StreamOperator[] = [];
  private writers: RecordWriter[] = [];
  private gate: InputGate | undefined;
  private canceled = false;
  private endRequested = false;
  /** Checkpoint work queued from outside the task's loop (triggers at sources, commit notifications). */
  private readonly checkpointActions: Array<() => Promise<void>> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;
  readonly name: string;

  constructor(readonly desc: TaskDescriptor, private readonly env: TaskEnvironment) {
    const vertex = env.job.vertices.find((v) => v.id === desc.vertexId);
    if (!vertex) throw new RlinkError('RLINK_INTERNAL', `vertex '${desc.vertexId}' is not in the job graph`);
    this.name = `${vertex.name} (${desc.subtaskIndex + 1}/${vertex.parallelism})`;
    this.log = env.logger.child({ task: `${desc.vertexId}[${desc.subtaskIndex}]` });
  }

  /** Runs the task to the end of its input (or cancellation); rejects with the failure. */
  async run(): Promise<void> {
    this.state = 'DEPLOYING';
    try {
      await this.setUp();
      this.state = 'RUNNING';
      this.metrics.startClock();
      const head = this.operators[0]!;
      if (head instanceof SourceOperator) await this.runSource(head);
      else await this.runInputs();
      if (this.canceled) {
        this.metrics.stopClock();
        // Commits of completed checkpoints that arrived before the cancel still happen (stop with savepoint).
        await this.runCheckpointActions().catch(() => {});
        await this.tearDown();
        this.state = 'CANCELED';
        return;
      }
      await this.finish();
      this.state = this.canceled ? 'CANCELED' : 'FINISHED';
    } catch (err) {
      this.metrics.stopClock();
      await this.tearDown().catch(() => {});
      if (this.canceled) { this.state = 'CANCELED'; return; }
      this.state = 'FAILED';
      throw err instanceof RlinkError ? err : new RlinkError('RLINK_TASK_FAILED', errorMessage(err), { cause: err, context: { task: this.name } });
    }
  }

  /** True when the task's head is a source (checkpoint barriers start there). */
  get isSource(): boolean { return this.env.job.vertices.find((v) => v.id === this.desc.vertexId)!.inputs.length === 0; }

  cancel(): void {
    if (this.state === 'FINISHED' || this.state === 'FAILED' || this.state === 'CANCELED') return;
    this.canceled = true;
    this.state = 'CANCELING';
    this.gate?.interrupt();
    this.mailbox.wake();
  }

  private async setUp(): Promise<void> {
    const { graph, job, desc } = { ...this.env, desc: this.desc };
    const vertex = job.vertices.find((v) => v.id === desc.vertexId)!;
    this.metrics.place(`${desc.jobId}/${vertex.id}`, downstreamOf(job, vertex.id).map((v) => `${desc.jobId}/${v}`));
    const nodes = vertex.nodes.map((id) => graph.node(id));
    this.operators = nodes.map((n) => n.createOperator());
    const outputs = nodes.map(() => new ChainOutput());
    const inChain = new Map(nodes.map((n, i) => [n.id, i]));
    // Chained consumers: a node's single forward input from a node of this chain.
    nodes.forEach((n, i) => {
      if (i === 0) return;
      const e = n.inputs[0]!;
      outputs[inChain.get(e.source)!]!.main.operators.push(this.operators[i]!);
    });
    // Network consumers.
    for (const edge of outputEdges(job, vertex.id)) {
      const channels = this.env.outputs.get(edge.id) ?? [];
      const streamEdge = graph.node(edge.targetNode).inputs.find((e) => e.source === edge.sourceNode
        && (e.sideOutput ?? undefined) === (edge.sideOutput ?? undefined) && (e.input ?? 0) === (edge.input ?? 0));
      const w = new RecordWriter(channels, edge.partitioning, streamEdge?.key, job.maxParallelism, desc.subtaskIndex, desc.batchSize, this.metrics, streamEdge?.partials === true);
      this.writers.push(w);
      const out = outputs[inChain.get(edge.sourceNode)!]!;
      (edge.sideOutput !== undefined ? out.sideTargets(edge.sideOutput) : out.main).writers.push(w);
    }
    if (this.env.inputs.length > 0) this.gate = new InputGate(this.env.inputs, this.mailbox);
    nodes.forEach((n, i) => {
      const restored = this.env.restore?.get(n.id);
      if (!restored) return;
      const own = restored.oldParallelism === vertex.parallelism ? restored.byIndex[desc.subtaskIndex] : undefined;
      this.operators[i]!.initializeState?.({ ...restored, own });
    });
    // Open from the tail, so an operator's consumers are ready before it emits.
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i]!;
      const ctx: OperatorContext = {
        operatorId: n.id, operatorName: n.name, subtaskIndex: desc.subtaskIndex, parallelism: vertex.parallelism,
        maxParallelism: job.maxParallelism, jobId: desc.jobId, attempt: desc.attempt, batchSize: desc.batchSize, watermarkSlack: job.watermarkSlack ?? 0,
        logger: this.log.child({ operator: n.name }), metrics: this.metrics,
        now: this.env.now, scheduleAt: (at, fn) => this.scheduleAt(at, fn),
      };
      await this.operators[i]!.open(ctx, outputs[i]!);
    }
  }

  private scheduleAt(at: number, fn: () => void): () => void {
    const t = setTimeout(() => { this.timers.delete(t); this.mailbox.put(fn); }, Math.max(0, at - this.env.now()));
    this.timers.add(t);
    return () => { clearTimeout(t); this.timers.delete(t); };
  }

  private async runSource(head: SourceOperator): Promise<void> {
    let lastYield = Date.now();
    while (!this.canceled) {
      this.mailbox.drain();
      await this.runCheckpointActions();
      if (this.endRequested) break;
      const t0 = this.metrics.processingStarts();
      const r = await head.pollNext();
      this.metrics.processingEnded(t0);
      await this.afterElement();
      if (r.kind === 'end') break;
      if (r.kind === 'idle') {
        this.flushWriters();
        this.metrics.beginWait('idle');
        await Promise.race([sleep(r.waitMs, this.timers), this.mailbox.whenNotEmpty()]);
        this.metrics.endWait();
        lastYield = Date.now();
      } else if (Date.now() - lastYield >= 1) {
        // Partial batches go out at least every millisecond; then let this thread's timers and messages run.
        this.flushWriters();
        await yieldToEventLoop();
        lastYield = Date.now();
      }
    }
    if (this.canceled) return;
    head.processWatermark(MAX_WATERMARK); // a bounded source ends with +∞: every window fires
  }

  private async runInputs(): Promise<void> {
    const gate = this.gate!;
    const head = this.operators[0]!;
    for (;;) {
      let ev = gate.poll();
      if (!ev) {
        // Nothing to do right now: send the partial batches before waiting (latency stays low when the
        // pipeline is not saturated; batches fill up when it is).
        this.flushWriters();
        this.metrics.beginWait('idle');
        ev = await gate.next();
        this.metrics.endWait();
      }
      if (!ev || this.canceled) return;
      const t0 = this.metrics.processingStarts();
      switch (ev.kind) {
        case 'records':
          this.metrics.recordsIn += ev.values.length;
          head.processBatch(ev.values, ev.timestamps, ev.input);
          break;
        case 'watermark':
          this.metrics.watermark = gate.watermark;
          head.processWatermark(ev.timestamp, ev.input);
          break;
        case 'status': head.processStatus(ev.idle, ev.input); break;
        case 'mail': ev.run(); break;
        case 'barrier': await this.checkpoint(ev.barrier); break;
        case 'end': return;
      }
      // The thread's other subtasks (slot sharing) do not count this time as theirs.
      this.metrics.processingEnded(t0);
      await this.afterElement();
    }
  }

  private flushWriters(): void { for (const w of this.writers) w.flush(); }

  /** Source tasks: end the input now, as if the source were bounded (stop with drain). */
  endInput(): void {
    this.endRequested = true;
    this.mailbox.put(() => {});
  }

  /** Source tasks: inject a barrier (from the job manager's trigger) between two batches. */
  triggerCheckpoint(barrier: BarrierElement): void {
    this.checkpointActions.push(() => this.checkpoint(barrier));
    this.mailbox.put(() => {}); // wake the loop
  }

  /** Checkpoint `id` completed everywhere: operators may publish what it covers (two-phase commit). */
  notifyCheckpointComplete(checkpointId: number): void {
    this.checkpointActions.push(async () => { for (const op of this.operators) await op.notifyCheckpointComplete?.(checkpointId); });
    this.mailbox.put(() => {});
  }

  private async runCheckpointActions(): Promise<void> {
    for (let a = this.checkpointActions.shift(); a; a = this.checkpointActions.shift()) await a();
  }

  /**
   * Takes checkpoint `barrier`: snapshots every operator of the chain (state is serialised now, so the
   * task may go on at once), sends the barrier downstream after everything emitted before it, then
   * writes the snapshot and acknowledges in the background.
   */
  private async checkpoint(barrier: BarrierElement): Promise<void> {
    const operators: OperatorSnapshot[] = [];
    try {
      for (const op of this.operators) if (op.snapshotState) operators.push(await op.snapshotState(barrier.checkpointId));
    } catch (e) {
      this.env.declineCheckpoint?.(barrier.checkpointId, `snapshot of ${this.name} failed: ${errorMessage(e)}`);
      this.flushWriters();
      this.broadcast(barrier);
      return;
    }
    this.flushWriters();
    this.broadcast(barrier);
    const vertex = this.env.job.vertices.find((v) => v.id === this.desc.vertexId)!;
    const snapshot: SubtaskSnapshot = { vertex: vertex.id, index: this.desc.subtaskIndex, parallelism: vertex.parallelism, checkpointId: barrier.checkpointId, operators };
    const text = stringifySnapshot(snapshot);
    const name = `${vertex.id}-${this.desc.subtaskIndex}.json`;
    let storage: CheckpointStorage;
    try { storage = this.env.checkpointStorage ? this.env.checkpointStorage(barrier.target) : checkpointStorageFor(barrier.target); } catch (e) {
      this.env.declineCheckpoint?.(barrier.checkpointId, `cannot write ${barrier.target}: ${errorMessage(e)}`);
      return;
    }
    const path = storage.join(barrier.target, name);
    void storage.writeFile(path, text)
      .then(() => this.env.acknowledgeCheckpoint?.(barrier.checkpointId, { path, bytes: Buffer.byteLength(text) }),
        (e: unknown) => this.env.declineCheckpoint?.(barrier.checkpointId, `cannot write ${path}: ${errorMessage(e)}`));
  }

  /** After each input element: run checkpoint work, wait for async sinks, then for downstream credit. */
  private async afterElement(): Promise<void> {
    if (this.checkpointActions.length > 0) await this.runCheckpointActions();
    for (const op of this.operators) { const p = op.pending?.(); if (p) await p; }
    for (const w of this.writers) {
      if (!w.writable) {
        this.flushWriters();
        this.metrics.beginWait('backpressure');
        await Promise.race([w.whenWritable(), this.mailbox.whenNotEmpty()]);
        this.metrics.endWait();
        while (!w.writable && !this.canceled) {
          this.mailbox.drain();
          this.metrics.beginWait('backpressure');
          await Promise.race([w.whenWritable(), this.mailbox.whenNotEmpty()]);
          this.metrics.endWait();
        }
      }
    }
  }

  private broadcast(element: StreamElement): void { for (const w of this.writers) w.broadcast(element); }

  /** End of input: flush every operator, prepare the final commit, wait for the job manager's word, commit. */
  private async finish(): Promise<void> {
    for (const op of this.operators) { await op.endInput(); this.flushWriters(); await this.afterElement(); }
    this.broadcast({ kind: 'end' });
    for (const op of this.operators) if (op.snapshotState && isCommitting(op)) await op.snapshotState(FINAL_CHECKPOINT_ID);
    this.metrics.watermark = MAX_WATERMARK;
    this.metrics.beginWait('idle'); // input consumed: waiting for the job manager's final commit
    await this.env.awaitFinalCheckpoint();
    this.metrics.stopClock();
    if (this.canceled) { await this.tearDown(); return; } // cancelled while waiting: commit nothing
    for (const op of this.operators) await op.notifyCheckpointComplete?.(FINAL_CHECKPOINT_ID);
    await this.tearDown();
  }

  private async tearDown(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const op of this.operators) await op.close();
  }
}

/** The vertices that consume, directly or not, what `vertexId` emits. */
function downstreamOf(job: JobGraph, vertexId: string): string[] {
  const seen = new Set<string>();
  const todo = [vertexId];
  for (let v = todo.pop(); v !== undefined; v = todo.pop()) {
    for (const e of outputEdges(job, v)) if (!seen.has(e.targetVertex)) { seen.add(e.targetVertex); todo.push(e.targetVertex); }
  }
  return [...seen];
}

function isCommitting(op: StreamOperator): boolean { return typeof op.notifyCheckpointComplete === 'function'; }

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  });
}
