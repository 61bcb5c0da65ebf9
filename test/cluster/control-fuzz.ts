/**
 * Control messages that are almost right: fast-check arbitraries that start from a valid message of
 * every kind (in both directions) and break it the way a buggy or hostile peer would: a field
 * missing, a field of another type, null where an object belongs, an unknown type, an array for an
 * object, or nothing changed at all but the values (well formed, yet about subtasks, attempts and
 * checkpoints the receiver does not have).
 */
import fc from 'fast-check';
import type { JobManagerToTaskManager, TaskManagerToJobManager } from '../../core/protocol/control-messages';

/** What the samples talk about: a real job's id and vertices, so that well-formed messages reach its handlers. */
export interface FuzzTarget { jobId: string; attempt: number; vertices: string[] }

type Json = Record<string, unknown>;

/** One valid message of every task manager → job manager kind but `register`. */
export function taskManagerSamples(t: FuzzTarget, taskManagerId: string): TaskManagerToJobManager[] {
  const subtask = { vertex: t.vertices[0] ?? 'v', index: 0 };
  const { jobId, attempt } = t;
  const metrics = { recordsIn: 1, recordsOut: 1, recordsWritten: 0, bytesIn: 0, bytesOut: 0, recordsInvalid: 0, lateRecordsDropped: 0, backpressureMs: 0, watermark: null };
  return [
    { type: 'heartbeat', taskManagerId },
    { type: 'task-state', jobId, attempt, subtask, state: 'FAILED', error: { code: 'RLINK_TASK_FAILED', message: 'forged' } },
    { type: 'task-state', jobId, attempt, subtask, state: 'FINISHED' },
    { type: 'final-ready', jobId, attempt, subtask },
    { type: 'metrics', jobId, attempt, tasks: [{ subtask, name: 'x', state: 'RUNNING', metrics }] },
    { type: 'checkpoint-ack', jobId, attempt, checkpointId: 1, subtask, path: '/tmp/forged.json', bytes: 10 },
    { type: 'checkpoint-declined', jobId, attempt, checkpointId: 1, subtask, reason: 'forged' },
  ];
}

/** One valid message of every job manager → task manager kind. */
export function jobManagerSamples(t: FuzzTarget): JobManagerToTaskManager[] {
  const { jobId, attempt } = t;
  const vertex = { id: 'v0', name: 'Source', parallelism: 1, nodes: ['n0'], inputs: [] };
  return [
    { type: 'registered', leaderEpoch: 0, jobManagerId: 'jm-fuzz' },
    {
      type: 'deploy', jobId, attempt, app: { kind: 'bundle', path: '/nowhere/app.mjs', hash: 'ab'.repeat(32) }, props: {},
      slots: [{ slot: 0, subtasks: [{ vertex: 'v0', index: 0 }] }],
      jobGraph: { jobName: 'fuzz', maxParallelism: 128, watermarkSlack: 0, vertices: [vertex] },
      graphFingerprint: 'f'.repeat(16), placement: [], dataAddresses: {}, batchSize: 1024,
    },
    { type: 'cancel', jobId, attempt },
    { type: 'checkpoint-complete', jobId, attempt, checkpointId: 1 },
    { type: 'trigger-checkpoint', jobId, attempt, checkpointId: 1, timestamp: 0, savepoint: false, target: '/tmp/fuzz-chk' },
    { type: 'end-input', jobId, attempt },
  ];
}

const anyValue = fc.oneof(
  fc.constant(null), fc.constant(undefined), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 20 }),
  fc.constant(-1), fc.constant(1e12), fc.constant(''), fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** Every path to a value inside `v` ([] is the whole message). */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function edit(msg: Json, path: Array<string | number>, f: (parent: any, key: string | number) => void): Json {
  const copy = structuredClone(msg);
  let parent: any = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  f(parent, path.at(-1)!);
  return copy;
}

export type Mutation = { kind: string; message: unknown };

/**
 * A sample broken one way. `valid` messages come through unchanged but with other values where the
 * schema allows them (another attempt, subtask index, checkpoint id).
 */
export function mutated(samples: readonly unknown[]): fc.Arbitrary<Mutation> {
  return fc.constantFrom(...samples).chain((sample) => {
    const msg = sample as Json;
    const inner = paths(msg).filter((p) => p.length > 0);
    return fc.oneof(
      fc.constantFrom(...inner).map((p) => ({ kind: `without ${p.join('.')}`, message: edit(msg, p, (o, k) => { if (Array.isArray(o)) o.splice(Number(k), 1); else delete o[k]; }) })),
      fc.tuple(fc.constantFrom(...inner), anyValue).map(([p, v]) => ({ kind: `${p.join('.')} = ${JSON.stringify(v)}`, message: edit(msg, p, (o, k) => { o[k] = v; }) })),
      fc.constantFrom(...inner).map((p) => ({ kind: `${p.join('.')} = null`, message: edit(msg, p, (o, k) => { o[k] = null; }) })),
      fc.string({ maxLength: 12 }).map((t) => ({ kind: `type ${JSON.stringify(t)}`, message: { ...msg, type: t } })),
      anyValue.map((v) => ({ kind: `the message is ${JSON.stringify(v)}`, message: v })),
      fc.constant({ kind: 'an array of the message', message: [msg] }),
      fc.record({ attempt: fc.nat({ max: 5 }), index: fc.nat({ max: 40 }), checkpointId: fc.integer({ min: 1, max: 10 }) }).map((r) => {
        const m = structuredClone(msg) as any;
        if ('attempt' in m) m.attempt = r.attempt;
        if (m.subtask) m.subtask.index = r.index;
        if ('checkpointId' in m) m.checkpointId = r.checkpointId;
        return { kind: `valid (attempt ${r.attempt}, index ${r.index}, checkpoint ${r.checkpointId})`, message: m };
      }),
    );
  });
}
