/**
 * A config-file job as read from its YAML (docs/config-jobs.md): sources, transforms and sinks that
 * name each other by id, and settings. Every part keeps its line, so build-time problems can still be
 * reported as `file:line: key: what`.
 */

/** Where a value was written: its line and its key path (`sources[0].topic`). */
export interface Where { line: number; path: string }

/** A text to compile (an expression or a SQL query) and where it starts in the file. */
export interface Text extends Where {
  text: string;
  /** The first line of the text in the file (a block scalar's text starts on the line after its key). */
  firstLine: number;
}

/** An option value as written; strings may hold `${property}` references, resolved when the job is built. */
export interface OptionValue extends Where { value: string | number | boolean | string[] }

export type SourceType = 'file' | 'kafka' | 'generator';
export type SinkType = 'file' | 'kafka' | 'print';

interface NodeSpec extends Where {
  id: string;
  parallelism?: number;
  uid?: string;
  name?: string;
}

export interface SourceSpec extends NodeSpec {
  type: SourceType;
  /** The connector's options by their API names (`topic`, `bounded`, …). */
  options: Record<string, OptionValue>;
  /** Field → type name (the API's schema form). */
  schema?: { fields: Record<string, string> } & Where;
  /** Event time: from `field` (or the records' own timestamps, e.g. Kafka's), `delay` out of order. */
  watermark?: { field?: string; delay: string | number } & Where;
  /** Generator: field → expression of `i`. */
  generate?: Array<{ field: string; expr: Text }>;
}

export type TransformOp =
  | { kind: 'sql'; sql: Text; tables: Array<{ id: string } & Where> }
  | { kind: 'filter'; expr: Text }
  | { kind: 'map'; fields: Array<{ field: string; expr: Text }> }
  | { kind: 'select'; fields: Array<{ field: string | undefined; expr: Text }> }
  | { kind: 'drop'; fields: string[] }
  | { kind: 'limit'; count: number };

export interface TransformSpec extends NodeSpec {
  /** The ids it reads (`input: a` or `input: [a, b]`, a union; for `sql`, the tables it names). */
  inputs: Array<{ id: string } & Where>;
  op: TransformOp;
}

export interface SinkSpec extends NodeSpec {
  type: SinkType;
  input: { id: string } & Where;
  options: Record<string, OptionValue>;
}

export interface JobFile {
  /** The file as named in messages. */
  file: string;
  name: string;
  sources: SourceSpec[];
  transforms: TransformSpec[];
  sinks: SinkSpec[];
  /** The job's settings as properties (`checkpoint.interval`, `parallelism.default`, …). */
  settings: Record<string, string>;
  /** Sources and transforms in an order where every input comes first. */
  order: string[];
}
