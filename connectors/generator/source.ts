import { performance } from 'node:perf_hooks';
import type { ConnectorContext, Source, SourcePoll, SourceReader } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { resumeIndex } from '../strided-index';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { compileSchema, schemaConformer, schemaToSpec, type Schema, type SchemaSpec } from '../../core/sql/types';

/** Options of {@link generatorSource} (`sources.generator`). */
export interface GeneratorSourceOptions<T> {
  /**
   * How many records to produce in all (indexes 0 … count − 1, across all subtasks). Given: the
   * source is bounded. Omitted: unbounded (runs until the job is cancelled or stopped).
   */
  count?: number;
  /**
   * Records per second across all subtasks (each of p subtasks produces rate / p per second), paced
   * against the wall clock. Omitted: as fast as the job can take them.
   */
  ratePerSecond?: number;
  /**
   * Makes record number i. Called on the task that produces i (subtask i mod p); it must be pure and
   * deterministic, like the rest of the app's `build`.
   */
  generate: (i: number) => T;
  /**
   * The fields and types of the records, for SQL and for watermarks (`watermark: { field, delay }`
   * makes `fromSource` generate them): each generated record is conformed to it; one that does not fit
   * is counted as invalid, logged (`gen-<subtask>#<i>`) and skipped.
   */
  schema?: SchemaSpec | Schema;
}

/** A generator subtask's checkpoint state: the next index it will produce. */
export interface GeneratorSourceState { next: number }

/** Longest idle wait handed to the task at once, in ms (keeps it responsive to barriers and cancels). */
const MAX_WAIT_MS = 100;

/**
 * `sources.generator`: records made in-process by `generate(i)`. With parallelism p, subtask k
 * produces the indexes i ≡ k (mod p), in increasing order, as one split `gen-<k>`.
 */
export function generatorSource<T>(opts: GeneratorSourceOptions<T>): Source<T> {
  if (!opts || typeof opts.generate !== 'function') {
    throw new RlinkError('RLINK_CONFIG', 'generator source: option "generate" must be a function (i) => record');
  }
  const { count, ratePerSecond } = opts;
  if (count !== undefined && !(Number.isSafeInteger(count) && count >= 0)) {
    throw new RlinkError('RLINK_CONFIG', `generator source: count must be a non-negative integer, not ${String(count)}`);
  }
  if (ratePerSecond !== undefined && !(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
    throw new RlinkError('RLINK_CONFIG', `generator source: ratePerSecond must be a positive number, not ${String(ratePerSecond)}`);
  }
  const schema = opts.schema === undefined ? undefined : compileSchema(opts.schema, 'generator source');
  return {
    kind: 'generator',
    bounded: count !== undefined,
    ...(schema ? { schema } : {}),
    describe: () => ({ kind: 'generator', count: count ?? null, ratePerSecond: ratePerSecond ?? null, ...(schema ? { schema: schemaToSpec(schema) } : {}) }),
    createReader: (ctx) => new GeneratorReader<T>(opts, ctx, schema),
  };
}

class GeneratorReader<T> implements SourceReader<T> {
  private readonly split: string;
  private readonly step: number;
  private readonly end: number;
  private next: number;
  /** Records per ms for this subtask; 0 = unpaced. */
  private readonly perMs: number;
  private startedAt = -1;
  private emitted = 0;

  private readonly generate: (i: number) => T;

  constructor(private readonly opts: GeneratorSourceOptions<T>, ctx: ConnectorContext, schema?: Schema) {
    this.split = `gen-${ctx.subtaskIndex}`;
    this.generate = schema ? conformed(opts.generate, schema, ctx, this.split) : opts.generate;
    this.step = ctx.parallelism;
    this.next = ctx.subtaskIndex;
    this.end = opts.count ?? Number.MAX_SAFE_INTEGER;
    this.perMs = opts.ratePerSecond ? opts.ratePerSecond / ctx.parallelism / 1000 : 0;
  }

  open(restored?: unknown): string[] {
    this.next = resumeIndex(restored, this.next, this.step) ?? this.next;
    return [this.split];
  }

  poll(max: number): SourcePoll<T> {
    const step = this.step;
    let i = this.next;
    if (i >= this.end) return { kind: 'end' };
    let n = Math.ceil((this.end - i) / step);
    if (n > max) n = max > 0 ? max : 1;
    if (this.perMs > 0) {
      const now = performance.now();
      if (this.startedAt < 0) this.startedAt = now;
      const allowed = Math.floor((now - this.startedAt) * this.perMs) + 1 - this.emitted;
      if (allowed <= 0) {
        const due = this.startedAt + this.emitted / this.perMs;
        const waitMs = Math.min(MAX_WAIT_MS, Math.max(1, Math.ceil(due - now)));
        return { kind: 'idle', waitMs };
      }
      if (n > allowed) n = allowed;
      this.emitted += n;
    }
    const generate = this.generate;
    let values = new Array<T>(n);
    for (let j = 0; j < n; j++) {
      values[j] = generate(i);
      i += step;
    }
    this.next = i;
    if (this.generate !== this.opts.generate) values = values.filter((v) => v !== SKIP);
    if (i >= this.end) return { kind: 'records', split: this.split, values, splitFinished: true };
    return { kind: 'records', split: this.split, values };
  }

  snapshot(): GeneratorSourceState { return { next: this.next }; }

  close(): void {}
}

const SKIP = Symbol('skip') as any;

/** `generate` conforming its records to the schema; a record that does not fit is reported and becomes SKIP. */
function conformed<T>(generate: (i: number) => T, schema: Schema, ctx: ConnectorContext, split: string): (i: number) => T {
  const conform = schemaConformer(schema);
  const log = new RateLimitedLog(ctx.logger, 'record.invalid');
  return (i) => {
    const c = conform(generate(i));
    if (typeof c !== 'string') return c as T;
    ctx.metrics.recordsInvalid++;
    log.warn({ at: `${split}#${i}`, error: c }, `invalid record skipped at ${split}#${i}: ${c}`);
    return SKIP as T;
  };
}
