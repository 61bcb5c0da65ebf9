import type { RestoredState, OperatorSnapshot } from '../core/runtime/operator';
import type { SubtaskSnapshot } from '../core/runtime/task';
import type { CheckpointMetadata } from '../core/protocol/checkpoint-metadata';
import { readCheckpointMetadata, readSubtaskSnapshot } from '../core/protocol/checkpoint-metadata';
import { checkpointStorageFor, type CheckpointStorage } from '../core/fs/checkpoint-storage';

/**
 * Reads a completed checkpoint (or savepoint) and returns every operator's state by operator id,
 * from every old subtask: the operators take what belongs to them (key groups, split positions).
 */
export async function loadRestoredState(metadataPath: string, checkpointId: number, storageFor: (path: string) => CheckpointStorage = (p) => checkpointStorageFor(p)): Promise<Map<string, RestoredState>> {
  const meta: CheckpointMetadata = await readCheckpointMetadata(metadataPath, storageFor(metadataPath));
  const files = new Map<string, Promise<SubtaskSnapshot>>();
  const read = (path: string, vertex: string, index: number) => {
    let p = files.get(path);
    if (!p) {
      p = readSubtaskSnapshot(path, storageFor(path), { checkpointId: meta.checkpointId, vertex, index });
      files.set(path, p);
    }
    return p;
  };
  const out = new Map<string, RestoredState>();
  for (const [operatorId, op] of Object.entries(meta.operators)) {
    const all: OperatorSnapshot[] = [];
    const byIndex: Array<OperatorSnapshot | undefined> = [];
    for (let i = 0; i < op.files.length; i++) {
      const snap = await read(op.files[i]!, op.vertex, i);
      const s = snap.operators.find((o) => o.operatorId === operatorId);
      byIndex[i] = s;
      if (s) all.push(s);
    }
    out.set(operatorId, { checkpointId: meta.checkpointId, oldParallelism: op.parallelism, own: undefined, all, byIndex });
  }
  return out;
}
