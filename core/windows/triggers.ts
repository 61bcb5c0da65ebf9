import { RlinkError } from '../errors';
import type { Key } from '../runtime/keys';

/**
 * Triggers decide when a global window fires (Flink's Trigger): after each element, and when a timer
 * the trigger registered goes off. FIRE emits the window's aggregate and keeps its contents; PURGE
 * drops them; FIRE_AND_PURGE does both (what a count window does).
 */
export type TriggerResult = 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE';

/** A value kept per key and window by a trigger (JSON-serialisable: it is in checkpoints). */
export interface TriggerState<T> { value(): T; update(v: T): void }

export interface TriggerContext {
  readonly key: Key;
  /** The current watermark (−∞ before the first). */
  readonly watermark: number;
  readonly processingTime: number;
  /** Elements in the window, this one included (0 after a purge). */
  readonly count: number;
  /** Calls `onEventTime(time)` once the watermark reaches `time` (one timer per key and time). */
  registerEventTimeTimer(time: number): void;
  /** Calls `onProcessingTime(time)` once the clock reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  /** Per key and window state; cleared by a purge. */
  state<T>(name: string, initial: T): TriggerState<T>;
}

export interface Trigger<T = any> {
  onElement(value: T, timestamp: number, ctx: TriggerContext): TriggerResult;
  onEventTime?(time: number, ctx: TriggerContext): TriggerResult;
  onProcessingTime?(time: number, ctx: TriggerContext): TriggerResult;
  /** Shown in the job graph (JSON). */
  describe?(): Record<string, unknown>;
}

function positiveInteger(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RlinkError('RLINK_GRAPH', `${what} must be a whole number ≥ 1, got ${n}`);
  return n;
}

export const Triggers = {
  /** Fires every `n` elements (the window keeps its contents unless wrapped in `purging`): Flink's CountTrigger. */
  count(n: number): Trigger {
    const size = positiveInteger(n, 'a count trigger\'s count');
    return {
      onElement: (_v, _ts, ctx) => {
        const c = ctx.state('count', 0);
        const next = c.value() + 1;
        if (next >= size) { c.update(0); return 'FIRE'; }
        c.update(next);
        return 'CONTINUE';
      },
      describe: () => ({ trigger: 'count', count: size }),
    };
  },
  /** Purges the window whenever `inner` fires: Flink's PurgingTrigger. */
  purging(inner: Trigger): Trigger {
    const purge = (r: TriggerResult): TriggerResult => (r === 'FIRE' ? 'FIRE_AND_PURGE' : r);
    return {
      onElement: (v, ts, ctx) => purge(inner.onElement(v, ts, ctx)),
      ...(inner.onEventTime ? { onEventTime: (t: number, ctx: TriggerContext) => purge(inner.onEventTime!(t, ctx)) } : {}),
      ...(inner.onProcessingTime ? { onProcessingTime: (t: number, ctx: TriggerContext) => purge(inner.onProcessingTime!(t, ctx)) } : {}),
      describe: () => ({ trigger: 'purging', of: inner.describe?.() ?? 'custom' }),
    };
  },
};

export function isTrigger(x: unknown): x is Trigger {
  return !!x && typeof x === 'object' && typeof (x as Trigger).onElement === 'function';
}
