/**
 * Reads a config-file job (docs/config-jobs.md) and reports every problem at once, each as
 * `file:line: key: what` (one RLINK_CONFIG error, as standalone.yaml): unknown keys (with "did you
 * mean"), wrong types, expressions and SQL that do not parse, ids that are unknown, used twice, or
 * that form a cycle.
 */
import { isMap, isSeq } from 'yaml';
import { ProblemList, closestKey, parseYaml, type Entry, type YamlReader } from '../config/yaml-reader';
import { SqlError } from '../sql/errors';
import { parseExpression, parseStatement } from '../sql/parser';
import { parseTypeName, SQL_TYPES } from '../sql/types';
import type { FromItem, Select } from '../sql/ast';
import type { JobFile, OptionValue, SinkSpec, SinkType, SourceSpec, SourceType, Text, TransformOp, TransformSpec, Where } from './spec';

type OptionKind = 'string' | 'strings' | 'int' | 'number' | 'duration' | readonly string[];

/** The connectors' options by their API names (docs/api.md), and which are required. */
export const SOURCE_OPTIONS: Record<SourceType, Record<string, { kind: OptionKind; required?: boolean }>> = {
  file: { path: { kind: 'string', required: true }, format: { kind: ['jsonl', 'csv'], required: true }, readChunkBytes: { kind: 'int' }, maxLineBytes: { kind: 'int' } },
  kafka: {
    brokers: { kind: 'strings', required: true }, topic: { kind: 'string', required: true },
    startingOffsets: { kind: ['earliest', 'latest', 'committed'] }, bounded: { kind: ['latest'] }, format: { kind: ['json', 'string'] },
    groupId: { kind: 'string' }, clientId: { kind: 'string' }, isolationLevel: { kind: ['read_committed', 'read_uncommitted'] },
    retryTimeout: { kind: 'duration' }, maxBytesPerPartition: { kind: 'int' },
  },
  generator: { count: { kind: 'int' }, ratePerSecond: { kind: 'number' } },
};

export const SINK_OPTIONS: Record<SinkType, Record<string, { kind: OptionKind; required?: boolean }>> = {
  file: { path: { kind: 'string', required: true } },
  kafka: {
    brokers: { kind: 'strings', required: true }, topic: { kind: 'string', required: true },
    guarantee: { kind: ['none', 'at-least-once', 'exactly-once'], required: true }, transactionalIdPrefix: { kind: 'string' },
    key: { kind: 'string' }, transactionTimeout: { kind: 'duration' }, retryTimeout: { kind: 'duration' }, clientId: { kind: 'string' },
  },
  print: { prefix: { kind: 'string' } },
};

const TOP_KEYS = ['name', 'sources', 'transforms', 'sinks', 'settings'] as const;
const NODE_KEYS = ['id', 'parallelism', 'uid', 'name'];
const TRANSFORM_OPS = ['sql', 'filter', 'map', 'select', 'drop', 'limit'] as const;
export const SETTINGS_KEYS = ['parallelism', 'checkpoint', 'restart', 'properties'] as const;
const ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseJobFile(text: string, file: string): JobFile {
  const problems = new ProblemList(file);
  const { reader, root } = parseYaml(text, problems);
  if (!reader.pairs(root)) problems.throwIfAny();
  const top = reader.mapping(root, TOP_KEYS) ?? new Map<string, Entry>();

  const nameEntry = top.get('name');
  const name = nameEntry ? reader.string(nameEntry) ?? 'job' : (problems.add(1, 'name', 'required: the job\'s name'), 'job');
  const ids = new Map<string, Where>();
  const claim = (id: string | undefined, e: Entry): string | undefined => {
    if (id === undefined) return undefined;
    if (!ID.test(id)) { reader.fail(e, `id '${id}' must be a plain name (letters, digits, _; not starting with a digit): SQL names tables by it`); return undefined; }
    const before = ids.get(id);
    if (before) { reader.fail(e, `id '${id}' is used twice (also at line ${before.line})`); return undefined; }
    ids.set(id, { line: e.line, path: e.path });
    return id;
  };

  const sources = (listOf(reader, top.get('sources'), 'sources', true) ?? []).map((e) => readSource(reader, e, claim)).filter((s): s is SourceSpec => s !== undefined);
  const transforms = (listOf(reader, top.get('transforms'), 'transforms', false) ?? []).map((e) => readTransform(reader, e, claim)).filter((t): t is TransformSpec => t !== undefined);
  const sinks = (listOf(reader, top.get('sinks'), 'sinks', true) ?? []).map((e) => readSink(reader, e, claim)).filter((s): s is SinkSpec => s !== undefined);
  const settingsEntry = top.get('settings');
  const settings = settingsEntry ? readSettings(reader, settingsEntry) : {};

  // The DAG: every input names a source or transform; no cycles.
  const nodes = new Map<string, Array<{ id: string } & Where>>();
  for (const s of sources) nodes.set(s.id, []);
  for (const t of transforms) nodes.set(t.id, t.inputs);
  const known = () => [...nodes.keys()].join(', ') || 'none';
  const sinkIds = new Set(sinks.map((s) => s.id));
  const checkRef = (ref: { id: string } & Where): void => {
    if (nodes.has(ref.id)) return;
    if (ids.has(ref.id) && !sinkIds.has(ref.id)) return; // declared, but with problems of its own (reported)
    const hint = sinkIds.has(ref.id) ? ` ('${ref.id}' is a sink: sinks cannot be read)` : '';
    const close = closestKey(ref.id, [...nodes.keys()]);
    problems.add(ref.line, ref.path, `unknown id '${ref.id}'${hint}${close ? `; did you mean '${close}'?` : ''} (sources and transforms: ${known()})`);
  };
  for (const t of transforms) for (const i of t.inputs) checkRef(i);
  for (const s of sinks) checkRef(s.input);
  const order = topologicalOrder(nodes, transforms, problems);

  problems.throwIfAny();
  return { file, name, sources, transforms, sinks, settings, order };
}

function listOf(reader: YamlReader, e: Entry | undefined, key: string, required: boolean): Entry[] | undefined {
  if (!e) {
    if (required) reader.problems.add(1, key, `required: a list of ${key}, each with an id (see docs/config-jobs.md)`);
    return undefined;
  }
  const items = reader.list(e);
  if (items && items.length === 0 && required) reader.fail(e, `must list at least one of the ${key}`);
  return items;
}

/** The common keys of a node; `id` is required. */
function readNode(reader: YamlReader, m: Map<string, Entry>, e: Entry, claim: (id: string | undefined, e: Entry) => string | undefined) {
  const idEntry = m.get('id');
  if (!idEntry) { reader.problems.add(e.line, `${e.path}.id`, 'required: an id that others name this by'); return undefined; }
  const id = claim(reader.string(idEntry), idEntry);
  const out: { id?: string; parallelism?: number; uid?: string; name?: string } = {};
  if (id !== undefined) out.id = id;
  const p = m.get('parallelism');
  if (p) { const v = reader.integer(p, 1, 32768); if (v !== undefined) out.parallelism = v; }
  const uid = m.get('uid');
  if (uid) { const v = reader.string(uid); if (v !== undefined) out.uid = v; }
  const name = m.get('name');
  if (name) { const v = reader.string(name); if (v !== undefined) out.name = v; }
  return out;
}

function typeOf<T extends string>(reader: YamlReader, m: Map<string, Entry>, e: Entry, known: readonly T[]): T | undefined {
  const t = m.get('type');
  if (!t) { reader.problems.add(e.line, `${e.path}.type`, `required: one of ${known.join(', ')}`); return undefined; }
  const v = reader.string(t);
  if (v === undefined) return undefined;
  if (!(known as readonly string[]).includes(v)) { reader.fail(t, `unknown type '${v}' (known: ${known.join(', ')})`); return undefined; }
  return v as T;
}

function readSource(reader: YamlReader, e: Entry, claim: (id: string | undefined, e: Entry) => string | undefined): SourceSpec | undefined {
  const all = reader.pairs(e);
  if (!all) return undefined;
  const type = typeOf<SourceType>(reader, all, e, ['file', 'kafka', 'generator']);
  const extra = ['type', 'schema', 'watermark', ...(type === 'generator' ? ['generate'] : [])];
  const m = reader.mapping(e, [...NODE_KEYS, ...extra, ...Object.keys(type ? SOURCE_OPTIONS[type] : {})]) ?? new Map<string, Entry>();
  const node = readNode(reader, m, e, claim);
  if (!type || !node?.id) return undefined;
  const spec: SourceSpec = { ...node, id: node.id, type, line: e.line, path: e.path, options: readOptions(reader, m, e, SOURCE_OPTIONS[type]) };
  const schema = m.get('schema');
  if (schema) {
    const fields = reader.pairs(schema);
    const out: Record<string, string> = {};
    for (const [field, fe] of fields ?? []) {
      if (field === 'watermark') { reader.fail(fe, 'write the watermark next to the schema (watermark: { field, delay }), not inside it'); continue; }
      const t = reader.string(fe);
      if (t !== undefined && !parseTypeName(t)) reader.fail(fe, `unknown type '${t}' (use ${SQL_TYPES.join(', ')})`);
      else if (t !== undefined) out[field] = t;
    }
    spec.schema = { fields: out, line: schema.line, path: schema.path };
  }
  const wm = m.get('watermark');
  if (wm) {
    const w = reader.mapping(wm, ['field', 'delay']);
    const fieldE = w?.get('field');
    const delayE = w?.get('delay');
    const field = fieldE ? reader.string(fieldE) : undefined;
    if (w && !delayE) reader.problems.add(wm.line, `${wm.path}.delay`, 'required: how far out of order records may be (e.g. 5s, or 0)');
    const delay = delayE ? durationOrZero(reader, delayE) : undefined;
    if (field !== undefined && spec.schema && !(field in spec.schema.fields)) reader.fail(fieldE!, `'${field}' is not a field of the schema (${Object.keys(spec.schema.fields).join(', ')})`);
    else if (field !== undefined && spec.schema && parseTypeName(spec.schema.fields[field]!) !== 'timestamp' && parseTypeName(spec.schema.fields[field]!) !== 'bigint') reader.fail(fieldE!, `'${field}' must be a timestamp field (it is ${spec.schema.fields[field]})`);
    if (delay !== undefined) spec.watermark = { ...(field !== undefined ? { field } : {}), delay, line: wm.line, path: wm.path };
    if (field === undefined && type !== 'kafka' && w && !fieldE) reader.problems.add(wm.line, `${wm.path}.field`, `required for a ${type} source: the records carry no timestamps of their own`);
  }
  if (type === 'generator') {
    const g = m.get('generate');
    if (!g) reader.problems.add(e.line, `${e.path}.generate`, "required: each field's expression of i, the record's number (e.g. { user: \"'u' || CAST(i % 10 AS STRING)\", ts: 'i * 100' })");
    else {
      const fields = reader.pairs(g);
      spec.generate = [];
      for (const [field, fe] of fields ?? []) {
        const t = expressionText(reader, fe);
        if (t) spec.generate.push({ field, expr: t });
      }
    }
  }
  return spec;
}

function readSink(reader: YamlReader, e: Entry, claim: (id: string | undefined, e: Entry) => string | undefined): SinkSpec | undefined {
  const all = reader.pairs(e);
  if (!all) return undefined;
  const type = typeOf<SinkType>(reader, all, e, ['file', 'kafka', 'print']);
  const m = reader.mapping(e, [...NODE_KEYS, 'type', 'input', ...Object.keys(type ? SINK_OPTIONS[type] : {})]) ?? new Map<string, Entry>();
  const node = readNode(reader, m, e, claim);
  const inputE = m.get('input');
  if (!inputE) reader.problems.add(e.line, `${e.path}.input`, 'required: the id of the source or transform this sink writes');
  const input = inputE ? reader.string(inputE) : undefined;
  if (!type || !node?.id || input === undefined) return undefined;
  return { ...node, id: node.id, type, line: e.line, path: e.path, input: { id: input, line: inputE!.line, path: inputE!.path }, options: readOptions(reader, m, e, SINK_OPTIONS[type]) };
}

function readTransform(reader: YamlReader, e: Entry, claim: (id: string | undefined, e: Entry) => string | undefined): TransformSpec | undefined {
  const m = reader.mapping(e, [...NODE_KEYS, 'input', ...TRANSFORM_OPS]);
  if (!m) return undefined;
  const node = readNode(reader, m, e, claim);
  const ops = TRANSFORM_OPS.filter((o) => m.has(o));
  if (ops.length !== 1) {
    reader.problems.add(e.line, e.path, ops.length === 0 ? `needs one of ${TRANSFORM_OPS.join(', ')}` : `has ${ops.join(' and ')}: one operation per transform (chain transforms by id)`);
    return undefined;
  }
  const kind = ops[0]!;
  const opE = m.get(kind)!;
  const inputE = m.get('input');
  const inputs: Array<{ id: string } & Where> = [];
  if (inputE) {
    const list = isSeq(inputE.node) ? reader.list(inputE) ?? [] : [inputE];
    for (const i of list) { const v = reader.string(i); if (v !== undefined) inputs.push({ id: v, line: i.line, path: i.path }); }
  }
  let op: TransformOp | undefined;
  switch (kind) {
    case 'sql': {
      if (inputE) reader.fail(inputE, 'a sql transform reads the tables its query names: remove input', true);
      const t = textOf(reader, opE);
      if (!t) break;
      try {
        const stmt = parseStatement(t.text);
        if (stmt.kind !== 'select') { reader.problems.add(t.firstLine, t.path, 'the query must be a SELECT (sinks write the results)'); break; }
        const tables = tablesOf(stmt).map((x) => ({ id: x.name, line: t.firstLine + x.line - 1, path: t.path }));
        inputs.push(...tables);
        op = { kind: 'sql', sql: t, tables };
      } catch (err) { sqlProblem(reader, t, err); }
      break;
    }
    case 'filter': { const t = expressionText(reader, opE); if (t) op = { kind: 'filter', expr: t }; break; }
    case 'map': {
      const fields: Array<{ field: string; expr: Text }> = [];
      for (const [field, fe] of reader.pairs(opE) ?? []) { const t = expressionText(reader, fe); if (t) fields.push({ field, expr: t }); }
      op = { kind: 'map', fields };
      break;
    }
    case 'select': {
      const fields: Array<{ field: string | undefined; expr: Text }> = [];
      if (isMap(opE.node)) {
        for (const [field, fe] of reader.pairs(opE) ?? []) { const t = expressionText(reader, fe); if (t) fields.push({ field, expr: t }); }
      } else {
        for (const fe of reader.list(opE) ?? []) {
          const t = textOf(reader, fe);
          if (!t) continue;
          const m2 = /^([\s\S]*?)\s+AS\s+(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)\s*$/i.exec(t.text);
          const exprText = m2 ? m2[1]! : t.text;
          const alias = m2 ? m2[2]!.replace(/`/g, '') : undefined;
          try { parseExpression(exprText); fields.push({ field: alias, expr: { ...t, text: exprText } }); } catch (err) { sqlProblem(reader, t, err); }
        }
      }
      op = { kind: 'select', fields };
      break;
    }
    case 'drop': {
      const names: string[] = [];
      for (const fe of reader.list(opE) ?? []) { const v = reader.string(fe); if (v !== undefined) names.push(v); }
      op = { kind: 'drop', fields: names };
      break;
    }
    case 'limit': { const n = reader.integer(opE, 0, Number.MAX_SAFE_INTEGER); if (n !== undefined) op = { kind: 'limit', count: n }; break; }
  }
  if (kind !== 'sql' && !inputE) reader.problems.add(e.line, `${e.path}.input`, `required: the id (or ids) of what this ${kind} reads`);
  if (!node?.id || !op) return undefined;
  return { ...node, id: node.id, line: e.line, path: e.path, inputs, op };
}

/** The table names a query reads (FROM, subqueries, window TVFs), with their lines in the query. */
function tablesOf(q: Select): Array<{ name: string; line: number }> {
  const out: Array<{ name: string; line: number }> = [];
  const from = (f: FromItem): void => {
    if (f.kind === 'table') out.push({ name: f.name, line: f.pos.line });
    else if (f.kind === 'subquery') out.push(...tablesOf(f.query));
    else from(f.input);
  };
  from(q.from);
  return out;
}

function textOf(reader: YamlReader, e: Entry): Text | undefined {
  const v = reader.scalar(e);
  if (v === undefined) return undefined;
  const text = String(v);
  if (text.trim() === '') { reader.fail(e, 'must not be empty'); return undefined; }
  return { text, line: e.line, path: e.path, firstLine: reader.isBlock(e) ? e.keyLine + 1 : e.line };
}

function expressionText(reader: YamlReader, e: Entry): Text | undefined {
  const t = textOf(reader, e);
  if (!t) return undefined;
  try { parseExpression(t.text); return t; } catch (err) { sqlProblem(reader, t, err); return undefined; }
}

/** A SQL error inside a YAML value: at the file line of the SQL's line, the SQL's own position kept in the message. */
export function sqlProblem(reader: { problems: ProblemList }, t: Text, err: unknown): void {
  if (!(err instanceof SqlError)) throw err;
  reader.problems.add(t.firstLine + err.line - 1, t.path, err.message);
}

function readOptions(reader: YamlReader, m: Map<string, Entry>, e: Entry, spec: Record<string, { kind: OptionKind; required?: boolean }>): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [key, s] of Object.entries(spec)) {
    const o = m.get(key);
    if (!o) { if (s.required) reader.problems.add(e.line, `${e.path}.${key}`, `required${Array.isArray(s.kind) ? `: one of ${(s.kind as string[]).join(', ')}` : ''}`); continue; }
    const value = optionValue(reader, o, s.kind);
    if (value !== undefined) out[key] = { value, line: o.line, path: o.path };
  }
  return out;
}

function optionValue(reader: YamlReader, o: Entry, kind: OptionKind): OptionValue['value'] | undefined {
  if (kind === 'strings' && isSeq(o.node)) {
    const out: string[] = [];
    for (const i of reader.list(o) ?? []) { const v = reader.string(i); if (v !== undefined) out.push(v); }
    return out;
  }
  const v = reader.scalar(o);
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v.includes('${')) return v; // checked once the property is known
  if (Array.isArray(kind)) {
    if (!kind.includes(String(v))) return reader.fail(o, `must be one of ${kind.join(', ')}, got '${v}'`);
    return String(v);
  }
  switch (kind) {
    case 'int': return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : reader.fail(o, `expected a non-negative integer, got '${v}'`);
    case 'number': return typeof v === 'number' && v > 0 ? v : reader.fail(o, `expected a positive number, got '${v}'`);
    case 'duration': return reader.duration(o);
    default: return typeof v === 'string' ? v : String(v);
  }
}

function durationOrZero(reader: YamlReader, e: Entry): string | number | undefined {
  const v = reader.scalar(e);
  if (v === 0 || v === '0') return 0;
  return reader.duration(e);
}

/** The settings of a job file or a defaults file, as properties. */
export function readSettings(reader: YamlReader, e: Entry): Record<string, string> {
  const out: Record<string, string> = {};
  const m = reader.mapping(e, SETTINGS_KEYS);
  if (!m) return out;
  const p = m.get('parallelism');
  if (p) { const v = reader.integer(p, 1, 32768); if (v !== undefined) out['parallelism.default'] = String(v); }
  const cp = m.get('checkpoint');
  const c = cp && reader.mapping(cp, ['interval', 'dir']);
  if (c?.get('interval')) { const v = reader.duration(c.get('interval')!); if (v !== undefined) out['checkpoint.interval'] = v; }
  if (c?.get('dir')) { const v = reader.string(c.get('dir')!); if (v !== undefined) out['checkpoint.dir'] = v; }
  const rs = m.get('restart');
  const r = rs && reader.mapping(rs, ['strategy', 'attempts', 'delay']);
  if (r?.get('strategy')) {
    const se = r.get('strategy')!;
    const v = reader.string(se);
    if (v !== undefined && !['fixed-delay', 'exponential-delay', 'none'].includes(v)) reader.fail(se, `must be fixed-delay, exponential-delay or none, got '${v}'`);
    else if (v !== undefined) out['restart.strategy'] = v;
  }
  if (r?.get('attempts')) { const v = reader.integer(r.get('attempts')!, 0, 1_000_000); if (v !== undefined) out['restart.attempts'] = String(v); }
  if (r?.get('delay')) { const v = reader.duration(r.get('delay')!); if (v !== undefined) out['restart.delay'] = v; }
  const props = m.get('properties');
  for (const [k, pe] of (props && reader.pairs(props)) ?? []) { const v = reader.scalar(pe); if (v !== undefined) out[k] = String(v); }
  return out;
}

/** Sources first, then transforms so that every input comes before its reader; cycles are problems naming them. */
function topologicalOrder(nodes: Map<string, Array<{ id: string } & Where>>, transforms: TransformSpec[], problems: ProblemList): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(id)), id];
      const key = [...cycle].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        const t = transforms.find((x) => x.id === id)!;
        problems.add(t.line, t.path, `the transforms form a cycle: ${cycle.join(' → ')}`);
      }
      return;
    }
    state.set(id, 'visiting');
    for (const i of nodes.get(id) ?? []) if (nodes.has(i.id)) visit(i.id, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of nodes.keys()) visit(id, []);
  return order;
}
