/**
 * CREATE TABLE … WITH ('connector' = …): Flink's connector options mapped onto rlink's connectors.
 *
 *   'connector'            source                                   sink
 *   'filesystem'           sources.file (path, format json|csv)      sinks.file (path)
 *   'kafka'                sources.kafka                             sinks.kafka
 *   'print'                —                                         sinks.print
 *
 * Option values may name job properties as `${name}` (e.g. 'path' = '${input}'). The table's columns
 * become the source's schema (records are conformed to it) and its WATERMARK clause the schema's
 * watermark, so watermarks are made inside the source, per split.
 */
import type { Sink, Source } from '../api/connector';
import { connectorFactories } from '../api/connector-registry';
import { RlinkError, errorMessage } from '../errors';
import type { Statement } from './ast';
import { sqlError, type SqlPos } from './errors';
import type { SqlScriptContext } from './catalog';
import type { Schema } from './types';

export type DdlTable = Extract<Statement, { kind: 'create-table' }>;

interface ConnectorSpec {
  source?: { factory: string; keys: Record<string, string> };
  sink?: { factory: string; keys: Record<string, string> };
}

/** Flink option → rlink option, per connector and side. Values are translated in {@link translate}. */
const CONNECTORS: Record<string, ConnectorSpec> = {
  filesystem: {
    source: { factory: 'file', keys: { path: 'path', format: 'format', 'scan.parallelism': 'parallelism' } },
    sink: { factory: 'file', keys: { path: 'path', format: 'format', 'sink.parallelism': 'parallelism' } },
  },
  kafka: {
    source: {
      factory: 'kafka',
      keys: {
        topic: 'topic', 'properties.bootstrap.servers': 'brokers', 'properties.group.id': 'groupId', 'scan.startup.mode': 'startingOffsets',
        'scan.bounded.mode': 'bounded', format: 'format', 'properties.isolation.level': 'isolationLevel', 'scan.parallelism': 'parallelism',
        'properties.client.id': 'clientId',
      },
    },
    sink: {
      factory: 'kafka',
      keys: {
        topic: 'topic', 'properties.bootstrap.servers': 'brokers', 'sink.delivery-guarantee': 'guarantee', 'sink.transactional-id-prefix': 'transactionalIdPrefix',
        'key.fields': 'key', format: 'format', 'sink.parallelism': 'parallelism', 'properties.client.id': 'clientId',
        'properties.group.id': 'groupId', 'scan.startup.mode': 'startingOffsets', 'scan.bounded.mode': 'bounded',
      },
    },
  },
  print: { sink: { factory: 'print', keys: { 'print-identifier': 'prefix', 'sink.parallelism': 'parallelism' } } },
};

/** Options that only one side uses and the other ignores (a Kafka table read and written). */
const IGNORED: Record<string, Record<string, string[]>> = {
  kafka: { sink: ['properties.group.id', 'scan.startup.mode', 'scan.bounded.mode'] },
};

export function ddlSource(t: DdlTable, ctx: SqlScriptContext, usedAt: SqlPos): { source: Source<any>; parallelism?: number } {
  const { factory, options, parallelism } = translate(t, 'source', ctx, usedAt);
  const schema: Schema = {
    columns: t.columns.map((c) => ({ name: c.name, type: c.type })),
    ...(t.watermark ? { watermark: { field: t.watermark.column, delayMs: t.watermark.delayMs } } : {}),
  };
  if (t.watermark && !t.columns.some((c) => c.name === t.watermark!.column)) sqlError(t.watermark.pos, `WATERMARK FOR ${t.watermark.column}: no such column`);
  return { source: make(t, () => connectorFactories().sources[factory]!({ ...options, schema })), ...(parallelism !== undefined ? { parallelism } : {}) };
}

export function ddlSink(t: DdlTable, ctx: SqlScriptContext, usedAt: SqlPos): Sink<any> {
  const { factory, options } = translate(t, 'sink', ctx, usedAt);
  return make(t, () => connectorFactories().sinks[factory]!(options));
}

function make<T>(t: DdlTable, create: () => T): T {
  try {
    return create();
  } catch (e) {
    if (e instanceof RlinkError && e.code === 'RLINK_MISSING_PROP') throw e;
    return sqlError(t.pos, `table '${t.name}': ${errorMessage(e)}`);
  }
}

function translate(t: DdlTable, side: 'source' | 'sink', ctx: SqlScriptContext, usedAt: SqlPos): { factory: string; options: Record<string, unknown>; parallelism?: number } {
  const connectorOpt = t.options.find((o) => o.key === 'connector');
  if (!connectorOpt) sqlError(t.pos, `table '${t.name}' has no 'connector' option (WITH ('connector' = 'kafka' | 'filesystem' | 'print', …))`);
  const connector = connectorOpt.value;
  const spec = CONNECTORS[connector];
  if (!spec) sqlError(connectorOpt.pos, `unknown connector '${connector}' (rlink has ${Object.keys(CONNECTORS).map((c) => `'${c}'`).join(', ')})`);
  const s = spec[side];
  if (!s) sqlError(usedAt, `table '${t.name}' (connector '${connector}') cannot be ${side === 'source' ? 'read' : 'written'}`);
  const options: Record<string, unknown> = {};
  let parallelism: number | undefined;
  const ignored = IGNORED[connector]?.[side] ?? [];
  for (const o of t.options) {
    if (o.key === 'connector' || ignored.includes(o.key)) continue;
    const target = s.keys[o.key] ?? (side === 'source' ? spec.sink?.keys[o.key] === undefined ? undefined : '' : spec.source?.keys[o.key] === undefined ? undefined : '');
    if (target === undefined) {
      const known = [...new Set([...Object.keys(spec.source?.keys ?? {}), ...Object.keys(spec.sink?.keys ?? {})])];
      sqlError(o.pos, `unknown option '${o.key}' for connector '${connector}' (known: ${known.join(', ')})`);
    }
    if (target === '') continue; // the other side's option
    const value = substitute(o.value, ctx, o.pos);
    if (target === 'parallelism') {
      const p = Number(value);
      if (!Number.isInteger(p) || p < 1) sqlError(o.pos, `'${o.key}' must be a positive integer, got '${value}'`);
      if (side === 'source') parallelism = p; else options.parallelism = p;
      continue;
    }
    options[target] = translateValue(connector, target, value, o.pos);
  }
  if (side === 'sink') delete options.parallelism;
  if (connector === 'filesystem' && options.format === undefined && side === 'source') sqlError(t.pos, `table '${t.name}': 'format' is required ('json' or 'csv')`);
  if (connector === 'filesystem' && side === 'sink') delete options.format;
  if (connector === 'kafka' && side === 'sink' && options.guarantee === undefined) options.guarantee = 'at-least-once';
  return { factory: s.factory, options, ...(parallelism !== undefined ? { parallelism } : {}) };
}

function translateValue(connector: string, key: string, value: string, pos: SqlPos): unknown {
  switch (key) {
    case 'format':
      if (connector === 'filesystem') {
        if (value === 'json' || value === 'jsonl') return 'jsonl';
        if (value === 'csv') return 'csv';
        return sqlError(pos, `'format' = '${value}': the filesystem connector reads 'json' (JSON lines) or 'csv'`);
      }
      if (value !== 'json' && value !== 'raw') sqlError(pos, `'format' = '${value}': the kafka connector reads 'json' or 'raw'`);
      return value === 'raw' ? 'string' : 'json';
    case 'startingOffsets': {
      const m: Record<string, string> = { 'earliest-offset': 'earliest', 'latest-offset': 'latest', 'group-offsets': 'committed' };
      return m[value] ?? sqlError(pos, `'scan.startup.mode' = '${value}': use 'earliest-offset', 'latest-offset' or 'group-offsets'`);
    }
    case 'bounded':
      if (value === 'latest-offset') return 'latest';
      if (value === 'unbounded') return undefined;
      return sqlError(pos, `'scan.bounded.mode' = '${value}': use 'latest-offset' or 'unbounded'`);
    case 'isolationLevel': return value.replace('-', '_');
    case 'key': {
      const fields = value.split(/[;,]/).map((f) => f.trim()).filter(Boolean);
      if (fields.length !== 1) sqlError(pos, `'key.fields' = '${value}': rlink keys Kafka messages by one field`);
      return fields[0];
    }
    default: return value;
  }
}

/** `${name}` → the job property `name`. */
function substitute(value: string, ctx: SqlScriptContext, pos: SqlPos): string {
  return value.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    if (!ctx.variable) sqlError(pos, `\${${name}}: properties can only be substituted in SQL scripts (rlink sql, *.sql jobs)`);
    return ctx.variable(name.trim());
  });
}
