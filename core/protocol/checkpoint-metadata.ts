import { RlinkError, errorMessage } from '../errors';
import { checkpointStorageFor, type CheckpointStorage } from '../fs/checkpoint-storage';
import type { SubtaskSnapshot } from '../runtime/task';
import { s, SchemaViolation, type Schema } from './schema';

/**
 * A completed checkpoint's `_metadata` file: which snapshot file holds each operator's state for each
 * old subtask. Operators are matched by id (their uid when the user set one), so a job changed since
 * can still restore what it shares with the old one.
 *
 *   <checkpoint.dir>/<job id>/chk-<n>/_metadata
 *   <checkpoint.dir>/<job id>/chk-<n>/<vertex>-<subtask>.json   (one per subtask: all operators of its chain)
 */
export const METADATA_VERSION = 1;
export const METADATA_FILE = '_metadata';

export interface CheckpointMetadata {
  version: number;
  jobId: string;
  jobName: string;
  checkpointId: number;
  timestamp: number;
  savepoint: boolean;
  operators: Record<string, { vertex: string; parallelism: number; files: string[] }>;
}

const MetadataSchema: Schema<CheckpointMetadata> = s.object({
  version: s.literal(METADATA_VERSION),
  jobId: s.string({ max: 200 }),
  jobName: s.string({ max: 10_000 }),
  checkpointId: s.int({ min: 1 }),
  timestamp: s.number(),
  savepoint: s.boolean(),
  operators: s.record(s.object({
    vertex: s.string({ min: 1, max: 200 }), parallelism: s.int({ min: 1, max: 32768 }), files: s.array(s.string({ max: 4096 }), { max: 32768 }),
  }), { maxKeys: 100_000 }),
});

/** The shape of a subtask's snapshot file; operator state itself is the operator's to check. */
const SnapshotSchema: Schema<SubtaskSnapshot> = s.object({
  vertex: s.string({ min: 1, max: 200 }),
  index: s.int({ min: 0, max: 32767 }),
  parallelism: s.int({ min: 1, max: 32768 }),
  checkpointId: s.int({ min: 1 }),
  operators: s.array(s.object({
    operatorId: s.string({ min: 1, max: 200 }),
    operatorState: s.optional(s.json()),
    keyedState: s.optional(s.record(s.json(), { maxKeys: 32768, key: s.string({ pattern: /^\d+$/ }) })),
  }), { max: 10_000 }),
});

/** Writes `_metadata` (atomically: a reader never sees half a metadata file) to the storage of `path`. */
export async function writeCheckpointMetadata(path: string, meta: CheckpointMetadata, storage: CheckpointStorage = checkpointStorageFor(path)): Promise<number> {
  const text = JSON.stringify(meta, null, 1);
  await storage.writeFile(path, text);
  return Buffer.byteLength(text);
}

/** Reads and checks a metadata file; a missing, truncated or foreign file is a clear RLINK_CONFIG error. */
export async function readCheckpointMetadata(path: string, storage?: CheckpointStorage): Promise<CheckpointMetadata> {
  let text: string;
  try {
    const bytes = await (storage ?? checkpointStorageFor(path)).readFile(path);
    if (bytes === null) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    text = bytes.toString('utf8');
  } catch (e) {
    throw new RlinkError('RLINK_CONFIG', `checkpoint metadata ${path} cannot be read: ${errorMessage(e)}`, { context: { file: path } });
  }
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch {
    throw new RlinkError('RLINK_CONFIG', `checkpoint metadata ${path} is corrupt or truncated`, { context: { file: path } });
  }
  try {
    return MetadataSchema.check(parsed, '_metadata');
  } catch (e) {
    const version = (parsed as { version?: unknown } | null)?.version;
    if (version !== METADATA_VERSION) throw new RlinkError('RLINK_CONFIG', `checkpoint metadata ${path} is not an rlink checkpoint of version ${METADATA_VERSION}`, { context: { file: path } });
    throw new RlinkError('RLINK_CONFIG', `checkpoint metadata ${path} is not valid: ${errorMessage(e)}`, { context: { file: path } });
  }
}

/** A subtask snapshot file's text, from the storage of `path`; a missing file is an error naming it. */
export async function readSnapshotText(path: string, storage: CheckpointStorage = checkpointStorageFor(path)): Promise<string> {
  const bytes = await storage.readFile(path);
  if (bytes === null) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return bytes.toString('utf8');
}

/**
 * JSON for snapshots: numbers JSON cannot hold (±Infinity, NaN — a min accumulator before its first
 * value, a watermark of −∞) are written as { "$n": "Infinity" } and read back as numbers.
 */
export function stringifySnapshot(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $n: String(v) } : v));
}

export function parseSnapshot(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$n === 'string' && Object.keys(o).length === 1) return Number(o.$n);
    }
    return v;
  });
}

/**
 * Reads and checks one subtask's snapshot file: JSON of a snapshot's shape, of checkpoint
 * `checkpointId`, of the subtask `expected` names. A file that is not (a truncated write, another
 * file, `{"not":"a snapshot"}`) is an RLINK_CONFIG error naming the file and what is wrong, so a restore
 * treats it as it treats a missing file: the checkpoint is unusable.
 */
export async function readSubtaskSnapshot(path: string, storage: CheckpointStorage, expected: { checkpointId: number; vertex?: string; index?: number }): Promise<SubtaskSnapshot> {
  const bad = (why: string) => new RlinkError('RLINK_CONFIG', `checkpoint ${expected.checkpointId}: ${path} is not a usable snapshot: ${why}`, { context: { file: path } });
  let text: string;
  try { text = await readSnapshotText(path, storage); } catch (e) {
    throw new RlinkError('RLINK_CONFIG', `checkpoint ${expected.checkpointId}: cannot read ${path}: ${errorMessage(e)}`, { context: { file: path } });
  }
  let parsed: unknown;
  try { parsed = parseSnapshot(text); } catch (e) { throw bad(`not JSON (${errorMessage(e)})`); }
  let snap: SubtaskSnapshot;
  try { snap = SnapshotSchema.check(parsed, 'snapshot'); } catch (e) { throw bad(e instanceof SchemaViolation ? e.message : errorMessage(e)); }
  if (snap.checkpointId !== expected.checkpointId) throw bad(`it belongs to checkpoint ${snap.checkpointId}`);
  if (expected.vertex !== undefined && snap.vertex !== expected.vertex) throw bad(`it is the snapshot of ${snap.vertex}, not of ${expected.vertex}`);
  if (expected.index !== undefined && snap.index !== expected.index) throw bad(`it is subtask ${snap.index}'s, not subtask ${expected.index}'s`);
  return snap;
}
