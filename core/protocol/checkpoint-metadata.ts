import { RlinkError, errorMessage } from '../errors';
import { checkpointStorageFor, type CheckpointStorage } from '../fs/checkpoint-storage';

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
  let meta: CheckpointMetadata;
  try { meta = JSON.parse(text) as CheckpointMetadata; } catch {
    throw new RlinkError('RLINK_CONFIG', `checkpoint metadata ${path} is corrupt or truncated`, { context: { file: path } });
  }
  if (meta.version !== METADATA_VERSION || typeof meta.checkpointId !== 'number' || typeof meta.operators !== 'object' || meta.operators === null) {
    throw new RlinkError('RLINK_CONFIG', `checkpoint metadata ${path} is not an rlink checkpoint of version ${METADATA_VERSION}`, { context: { file: path } });
  }
  return meta;
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
