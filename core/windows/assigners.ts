import { toMillis, type Duration } from '../time/duration';
import { RlinkError } from '../errors';

/**
 * Window assigners. Windows are half-open [start, end), aligned to the epoch plus an offset, as in
 * Flink. Assigners are plain descriptions (JSON-serialisable); the window operator implements them.
 */
export type WindowAssigner =
  | { kind: 'tumbling'; time: TimeDomain; size: number; offset: number }
  | { kind: 'sliding'; time: TimeDomain; size: number; slide: number; offset: number }
  | { kind: 'session'; time: TimeDomain; gap: number }
  /** One window per key that never ends: a trigger (WindowedStream.trigger) decides when it fires. */
  | { kind: 'global'; time: TimeDomain };

export type TimeDomain = 'event' | 'processing';

/** The start of the window of length `size` (aligned to offset) that contains `ts` (Flink's TimeWindow.getWindowStartWithOffset). */
export function windowStart(ts: number, offset: number, size: number): number {
  const r = (ts - offset) % size;
  return r < 0 ? ts - (r + size) : ts - r;
}

function positive(d: Duration, what: string): number {
  const ms = toMillis(d, what);
  if (ms <= 0) throw new RlinkError('RLINK_CONFIG', `${what} must be greater than 0`);
  return ms;
}

function tumbling(time: TimeDomain) {
  return {
    /** Fixed-size, non-overlapping windows of `size`, aligned to the epoch plus `offset`. */
    of(size: Duration, offset: Duration = 0): WindowAssigner {
      const s = positive(size, 'window size');
      return { kind: 'tumbling', time, size: s, offset: toMillis(offset, 'window offset') % s };
    },
  };
}

function sliding(time: TimeDomain) {
  return {
    /** Windows of `size` starting every `slide` (an element belongs to size/slide windows). */
    of(size: Duration, slide: Duration, offset: Duration = 0): WindowAssigner {
      const s = positive(size, 'window size');
      const sl = positive(slide, 'window slide');
      return { kind: 'sliding', time, size: s, slide: sl, offset: toMillis(offset, 'window offset') % sl };
    },
  };
}

function session(time: TimeDomain) {
  return {
    /** Per-key windows that close after `gap` without elements; overlapping or touching sessions merge. */
    withGap(gap: Duration): WindowAssigner {
      return { kind: 'session', time, gap: positive(gap, 'session gap') };
    },
  };
}

export const TumblingEventTimeWindows = tumbling('event');
export const SlidingEventTimeWindows = sliding('event');
export const EventTimeSessionWindows = session('event');
export const TumblingProcessingTimeWindows = tumbling('processing');
export const SlidingProcessingTimeWindows = sliding('processing');
export const ProcessingTimeSessionWindows = session('processing');

/**
 * All of a key's elements in one window that never ends (Flink's GlobalWindows): give it a trigger
 * with `.trigger(...)` (e.g. `Triggers.purging(Triggers.count(100))`), or use `keyBy(k).countWindow(n)`.
 * Its triggers' timers run in event time (watermarks) unless `time: 'processing'`.
 */
export const GlobalWindows = {
  create(opts: { time?: TimeDomain } = {}): WindowAssigner {
    return { kind: 'global', time: opts.time ?? 'event' };
  },
};
