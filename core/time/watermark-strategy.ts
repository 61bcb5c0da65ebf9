import { toMillis, type Duration } from './duration';
import { RlinkError } from '../errors';

export type TimestampAssigner<T = any> = (value: T, previousTimestamp: number) => number;

/**
 * How event time is read and watermarks are made, as Flink's WatermarkStrategy. Immutable: each
 * `with…` returns a new strategy.
 *
 *   watermark = max timestamp seen − bound − 1 ms
 *
 * A strategy given to `fromSource` runs per split (per file, per Kafka partition) inside the source;
 * given to `assignTimestampsAndWatermarks` it runs per subtask mid-stream.
 */
export class WatermarkStrategy<T = any> {
  private constructor(
    /** Out-of-orderness bound in ms; null for "no watermarks". */
    readonly boundMs: number | null,
    readonly timestampField: string | undefined,
    readonly assigner: TimestampAssigner<T> | undefined,
    readonly idlenessMs: number | undefined,
  ) {}

  /** Elements may arrive up to `bound` late relative to the largest timestamp seen. */
  static forBoundedOutOfOrderness<T = any>(bound: Duration): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(toMillis(bound, 'out-of-orderness bound'), undefined, undefined, undefined);
  }

  /** Timestamps never decrease (a bound of 0). */
  static forMonotonousTimestamps<T = any>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(0, undefined, undefined, undefined);
  }

  /** Timestamps are assigned but no watermark is ever generated (event-time windows fire only at end of input). */
  static noWatermarks<T = any>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(null, undefined, undefined, undefined);
  }

  /** Reads the event time (epoch ms, or an ISO date string) from a field of each record. */
  withTimestampField(field: string): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.boundMs, field, undefined, this.idlenessMs);
  }

  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') throw new RlinkError('RLINK_CONFIG', 'withTimestampAssigner needs a function');
    return new WatermarkStrategy<T>(this.boundMs, undefined, assigner, this.idlenessMs);
  }

  /** A split (or input) with no element for `timeout` of processing time is idle: it stops holding back the watermark. */
  withIdleness(timeout: Duration): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.boundMs, this.timestampField, this.assigner, toMillis(timeout, 'idleness timeout'));
  }

  describe(): Record<string, unknown> {
    return { bound: this.boundMs, timestampField: this.timestampField ?? null, assigner: this.assigner ? 'fn' : null, idleness: this.idlenessMs ?? null };
  }
}
