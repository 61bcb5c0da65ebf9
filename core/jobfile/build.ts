/**
 * Builds a config-file job on the DataStream API, inside `build` (on the job manager and on every task
 * manager, from the same text). Sources, transforms and sinks become the same operators a TypeScript
 * job would make: `fromSource` with the schema's watermark, `filter` / `map` with compiled expressions,
 * `env.sqlQuery` for SQL over earlier ids (each source and transform is a table named by its id),
 * `sinkTo`. Problems found here (an unknown column, a missing property) are reported together, each
 * with its line, in one RLINK_CONFIG error.
 */
import type { DataStream } from '../api/datastream';
import type { StreamExecutionEnvironment, OperatorOptions } from '../api/environment';
import type { Props } from '../api/props';
import type { KeyedProcessFunction, RuntimeContext } from '../runtime/operators/keyed-process';
import type { ValueState } from '../state/value-state';
import { connectorFactories } from '../api/connector-registry';
import { ProblemList } from '../config/yaml-reader';
import { RlinkError, errorMessage } from '../errors';
import { WatermarkStrategy } from '../time/watermark-strategy';
import { SqlError } from '../sql/errors';
import { compileExpr, type Compiled, type ExprType } from '../sql/expressions';
import { parseExpression } from '../sql/parser';
import { rowScope, type Relation } from '../sql/planner';
import { setStreamInfo, streamInfo, type StreamInfo } from '../sql/catalog';
import type { SchemaSpec } from '../sql/types';
import type { JobFile, OptionValue, SourceSpec, Text, TransformSpec, Where } from './spec';

/** A problem of one node: its line, its key path, what. Thrown inside a node's build, collected by buildJobFile. */
class NodeProblem extends Error {
  constructor(readonly where: Where, message: string) { super(message); }
}

export function buildJobFile(job: JobFile, env: StreamExecutionEnvironment, props: Props): void {
  const problems = new ProblemList(job.file);
  const built = new Map<string, DataStream<any>>();
  const failed = new Set<string>();
  const record = (where: Where, e: unknown): void => {
    if (e instanceof NodeProblem) problems.add(e.where.line, e.where.path, e.message);
    else if (e instanceof RlinkError && e.code === 'RLINK_INTERNAL') throw e;
    else problems.add(where.line, where.path, errorMessage(e));
  };
  const resolve = (v: OptionValue): unknown => substitute(v, props);

  // Only what a sink reads, directly or through transforms, is built.
  const needed = new Set<string>();
  const need = (id: string): void => {
    if (needed.has(id)) return;
    needed.add(id);
    for (const i of job.transforms.find((t) => t.id === id)?.inputs ?? []) need(i.id);
  };
  for (const s of job.sinks) need(s.input.id);

  for (const id of job.order) {
    if (!needed.has(id)) continue;
    const source = job.sources.find((s) => s.id === id);
    const transform = source ? undefined : job.transforms.find((t) => t.id === id)!;
    const node = (source ?? transform)!;
    if (transform && transform.inputs.some((i) => failed.has(i.id) || !built.has(i.id))) { failed.add(id); continue; }
    try {
      const stream = source ? buildSource(source, env, resolve) : buildTransform(transform!, env, built);
      built.set(id, stream);
      env.createTemporaryView(id, stream);
    } catch (e) {
      failed.add(id);
      record(node, e);
    }
  }
  for (const sink of job.sinks) {
    const input = built.get(sink.input.id);
    if (!input) continue;
    try {
      const options = resolveAll(sink.options, resolve);
      const s = connectorFactories().sinks[sink.type]!(options);
      input.sinkTo(s, opts(sink));
    } catch (e) {
      record(sink, e);
    }
  }
  problems.throwIfAny();
}

/** The options with their properties substituted; one that is empty after substitution is left out (unset). */
function resolveAll(options: Record<string, OptionValue>, resolve: (v: OptionValue) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    const value = resolve(v);
    if (value !== '') out[k] = value;
  }
  return out;
}

function opts(n: { parallelism?: number; uid?: string; name?: string }, name?: string): OperatorOptions {
  return {
    ...(n.parallelism !== undefined ? { parallelism: n.parallelism } : {}),
    ...(n.uid !== undefined ? { uid: n.uid } : {}),
    ...(n.name !== undefined ? { name: n.name } : name !== undefined ? { name } : {}),
  };
}

/** `${name}` in a string option → the job property; a whole-value reference to a number becomes a number. */
function substitute(v: OptionValue, props: Props): unknown {
  const sub = (s: string): string => s.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    const key = name.trim();
    if (!props.has(key)) throw new NodeProblem(v, `missing required property '${key}' (pass it as ${key}=<value>, or set it under settings.properties)`);
    return props.get(key);
  });
  if (Array.isArray(v.value)) return v.value.map(sub);
  if (typeof v.value !== 'string') return v.value;
  const out = sub(v.value);
  return v.value !== out && /^\s*-?\d+(\.\d+)?\s*$/.test(out) ? Number(out) : out;
}

function buildSource(s: SourceSpec, env: StreamExecutionEnvironment, resolve: (v: OptionValue) => unknown): DataStream<any> {
  const options = resolveAll(s.options, resolve);
  if (s.schema) {
    const schema: Record<string, unknown> = { ...s.schema.fields };
    if (s.watermark?.field !== undefined) schema.watermark = { field: s.watermark.field, delay: s.watermark.delay };
    options.schema = schema as SchemaSpec;
  }
  if (s.type === 'generator') {
    const fields = (s.generate ?? []).map((g) => ({ field: g.field, fn: compileText(g.expr, generatorScope).fn }));
    options.generate = (i: number) => {
      const o: Record<string, unknown> = {};
      for (const f of fields) o[f.field] = f.fn(i);
      return o;
    };
  }
  const source = connectorFactories().sources[s.type]!(options);
  // A watermark without a schema: a strategy on the records' field, or on their own timestamps (Kafka's).
  const w = s.watermark;
  const watermarks = w && !s.schema
    ? (w.field !== undefined ? WatermarkStrategy.forBoundedOutOfOrderness(w.delay).withTimestampField(w.field) : WatermarkStrategy.forBoundedOutOfOrderness(w.delay))
    : undefined;
  const stream = env.fromSource(source, { ...opts(s, `Source: ${s.id}`), ...(watermarks ? { watermarks } : {}) });
  if (w && !s.schema && w.field !== undefined) setStreamInfo(stream, { columns: undefined, timeAttr: w.field, changelog: false });
  return stream;
}

/** A generator's expressions see one column, `i` (the record's number). */
const generatorScope = {
  column(e: { name: string; pos: { line: number; column: number; offset: number } }): Compiled {
    if (e.name !== 'i') throw new SqlError(e.pos, `unknown column '${e.name}': a generator's expressions can use i, the record's number`);
    return { fn: (i: unknown) => i, type: 'bigint' as ExprType };
  },
  aggregatesRefused: 'aggregate functions are not allowed in a generator',
};

function compileText(t: Text, scope: Parameters<typeof compileExpr>[1]): Compiled {
  try {
    return compileExpr(parseExpression(t.text), scope);
  } catch (e) {
    if (e instanceof SqlError) throw new NodeProblem({ line: t.firstLine + e.line - 1, path: t.path }, e.message);
    throw e;
  }
}

function relationOf(stream: DataStream<any>): Relation {
  const info: StreamInfo = streamInfo(stream) ?? { columns: undefined, changelog: false };
  return { stream, ...info };
}

function buildTransform(t: TransformSpec, env: StreamExecutionEnvironment, built: Map<string, DataStream<any>>): DataStream<any> {
  const op = t.op;
  if (op.kind === 'sql') {
    try {
      return env.sqlQuery(op.sql.text, { ...(t.parallelism !== undefined ? { parallelism: t.parallelism } : {}), ...(t.uid !== undefined ? { uid: t.uid } : {}) });
    } catch (e) {
      if (e instanceof SqlError) throw new NodeProblem({ line: op.sql.firstLine + e.line - 1, path: op.sql.path }, e.message);
      throw e;
    }
  }
  const inputs = t.inputs.map((i) => built.get(i.id)!);
  const first = inputs[0]!;
  const input = inputs.length === 1 ? first : first.union(...inputs.slice(1));
  const rel = relationOf(first);
  if (inputs.length > 1) {
    const cols = inputs.map((s) => JSON.stringify(streamInfo(s)?.columns?.map((c) => c.name) ?? null));
    if (new Set(cols).size > 1) throw new NodeProblem(t.inputs[0]!, `the inputs of a union must have the same fields (${t.inputs.map((i, k) => `${i.id}: ${cols[k]}`).join('; ')})`);
  }
  const scope = rowScope({ ...rel, stream: input }, t.op.kind);
  const o = opts(t, `${op.kind}: ${t.id}`);
  let out: DataStream<any>;
  let columns = rel.columns;
  switch (op.kind) {
    case 'filter': {
      const c = compileText(op.expr, scope);
      if (c.type !== 'boolean' && c.type !== 'any' && c.type !== 'null') throw new NodeProblem(op.expr, `filter needs a condition (a BOOLEAN), got a ${c.type.toUpperCase()}`);
      const f = c.fn;
      out = input.filter((r: unknown) => f(r) === true, o);
      break;
    }
    case 'map': {
      const fields = op.fields.map((x) => ({ name: x.field, c: compileText(x.expr, scope) }));
      out = input.map((r: Record<string, unknown>) => {
        const next: Record<string, unknown> = { ...r };
        for (const f of fields) next[f.name] = nullish(f.c.fn(r));
        return next;
      }, o);
      if (columns) columns = [...columns.filter((c) => !fields.some((f) => f.name === c.name)), ...fields.map((f) => ({ name: f.name, type: f.c.type }))];
      break;
    }
    case 'select': {
      const fields = op.fields.map((x, i) => {
        const c = compileText(x.expr, scope);
        const e = parseExpression(x.expr.text);
        const name = x.field ?? (e.kind === 'column' ? e.name : `EXPR$${i}`);
        return { name, c };
      });
      const keepOp = rel.changelog;
      out = input.map((r: Record<string, unknown>) => {
        const next: Record<string, unknown> = keepOp ? { op: r.op } : {};
        for (const f of fields) next[f.name] = nullish(f.c.fn(r));
        return next;
      }, o);
      columns = fields.map((f) => ({ name: f.name, type: f.c.type }));
      break;
    }
    case 'drop': {
      const drop = new Set(op.fields);
      if (columns) {
        for (const f of op.fields) if (!columns.some((c) => c.name === f)) throw new NodeProblem(t, `drop: unknown field '${f}' (fields: ${columns.map((c) => c.name).join(', ')})`);
        columns = columns.filter((c) => !drop.has(c.name));
      }
      out = input.map((r: Record<string, unknown>) => {
        const next: Record<string, unknown> = {};
        for (const k of Object.keys(r)) if (!drop.has(k)) next[k] = r[k];
        return next;
      }, o);
      break;
    }
    case 'limit': {
      // One subtask keeps the count (checkpointed keyed state), so the limit is exact across restores.
      out = input.keyBy(() => 0).process(new Limit(op.count), { ...o, parallelism: 1 });
      break;
    }
  }
  setStreamInfo(out, { columns, ...(rel.timeAttr !== undefined && columns?.some((c) => c.name === rel.timeAttr) !== false ? { timeAttr: rel.timeAttr } : {}), changelog: rel.changelog });
  return out;
}

const nullish = (v: unknown): unknown => (v === undefined ? null : v);

/** The first `count` records. */
class Limit implements KeyedProcessFunction<any, any> {
  private seen!: ValueState<number>;
  constructor(private readonly count: number) {}
  open(ctx: RuntimeContext): void { this.seen = ctx.getState('seen', 0); }
  processElement(v: unknown, _ctx: unknown, out: { collect(x: unknown): void }): void {
    const n = this.seen.value() ?? 0;
    if (n >= this.count) return;
    this.seen.update(n + 1);
    out.collect(v);
  }
}
