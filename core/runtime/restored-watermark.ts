import type { OperatorSnapshot, RestoredState } from './operator';
import { MIN_WATERMARK } from './elements';

/**
 * The watermark an operator had at the checkpoint (its own at the same parallelism; the lowest of the
 * old subtasks' otherwise), so that records replayed after a restore are late exactly when they were.
 * Operators keep it as `operatorState.watermark`.
 */
export function restoredWatermark(r: RestoredState, parallelism: number): number {
  const wm = (s: OperatorSnapshot | undefined) => (s?.operatorState as { watermark?: number } | undefined)?.watermark;
  if (r.oldParallelism === parallelism) return wm(r.own) ?? MIN_WATERMARK;
  const all = r.all.map(wm).filter((x): x is number => typeof x === 'number');
  return all.length ? Math.min(...all) : MIN_WATERMARK;
}
