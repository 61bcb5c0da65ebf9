/**
 * The SQL side of a StreamExecutionEnvironment (Flink's StreamTableEnvironment): the tables a query
 * can name — views over streams, sink tables, tables declared with CREATE TABLE — and the entry points
 * `sqlQuery` (a SELECT → a stream) and `executeSql` (INSERT INTO, CREATE TABLE, CREATE VIEW).
 *
 * Everything here runs inside `build`, on the job manager and on every task manager, from the same
 * text: planning is deterministic, so every process makes the same operators with the same ids.
 */
import { SingleOutputStream, type DataStream, type DataStreamSink } from '../api/datastream';
import type { OperatorOptions } from '../api/environment';
import type { StreamExecutionEnvironment } from '../api/environment';
import type { Sink } from '../api/connector';
import { refusesUpdates } from '../api/changelog';
import { RlinkError } from '../errors';
import { WatermarkStrategy } from '../time/watermark-strategy';
import type { Select, Statement } from './ast';
import { sqlError, type SqlPos } from './errors';
import { parseStatement } from './parser';
import { Planner, type Relation, type SqlQueryOptions, type TableResolver } from './planner';
import { compileSchema, type Schema, type SchemaSpec } from './types';
import { ddlSink, ddlSource, type DdlTable } from './ddl';

/** What is known about a stream's records: their columns, time attribute, whether they are updates. */
export interface StreamInfo {
  columns: Relation['columns'];
  timeAttr?: string;
  changelog: boolean;
}

const INFO = new WeakMap<object, StreamInfo>();

/** Remembers what a stream's records are (sources with a schema, SQL results), for views made from it. */
export function setStreamInfo(stream: DataStream<any>, info: StreamInfo): void { INFO.set(stream, info); }
export function streamInfo(stream: DataStream<any>): StreamInfo | undefined { return INFO.get(stream); }

/** The info of a source stream with a schema. */
export function infoOfSchema(schema: Schema, watermarksFromSchema: boolean): StreamInfo {
  return {
    columns: schema.columns.map((c) => ({ name: c.name, type: c.type })),
    ...(watermarksFromSchema && schema.watermark ? { timeAttr: schema.watermark.field } : {}),
    changelog: false,
  };
}

type TableEntry =
  | { kind: 'view'; name: string; stream: DataStream<any>; info: StreamInfo; watermark?: { field: string; delayMs: number }; timed?: DataStream<any> }
  | { kind: 'sink'; name: string; sink: Sink<any>; schema?: Schema }
  | { kind: 'ddl'; name: string; table: DdlTable; stream?: DataStream<any>; sink?: Sink<any> };

/** Per-statement context of SQL scripts: `${name}` substitution in WITH options. */
export interface SqlScriptContext {
  /** The value of `${name}` in a WITH option (a job property); throws when unset. */
  variable?(name: string): string;
}

export class SqlCatalog implements TableResolver {
  private readonly tables = new Map<string, TableEntry>();

  constructor(private readonly env: StreamExecutionEnvironment, private readonly ctx: SqlScriptContext = {}) {}

  createView(name: string, stream: DataStream<any>, schema?: SchemaSpec | Schema): void {
    this.checkName(name, 'createTemporaryView');
    if (!stream || typeof (stream as DataStream<any>).keyBy !== 'function') {
      throw new RlinkError('RLINK_GRAPH', `createTemporaryView('${name}', stream): the second argument must be a stream (env.fromSource(…), a map, a SQL query …)`);
    }
    const upstream = streamInfo(stream);
    if (schema === undefined) {
      this.tables.set(name, { kind: 'view', name, stream, info: upstream ?? { columns: undefined, changelog: false } });
      return;
    }
    const s = compileSchema(schema, `createTemporaryView('${name}')`);
    const info: StreamInfo = { columns: s.columns.map((c) => ({ name: c.name, type: c.type })), changelog: upstream?.changelog ?? false };
    if (s.watermark) info.timeAttr = s.watermark.field;
    else if (upstream?.timeAttr && s.columns.some((c) => c.name === upstream.timeAttr)) info.timeAttr = upstream.timeAttr;
    this.tables.set(name, { kind: 'view', name, stream, info, ...(s.watermark ? { watermark: s.watermark } : {}) });
  }

  createSinkTable(name: string, sink: Sink<any>, schema?: SchemaSpec | Schema): void {
    this.checkName(name, 'createTemporarySinkTable');
    if (!sink || typeof sink.createWriter !== 'function') {
      throw new RlinkError('RLINK_GRAPH', `createTemporarySinkTable('${name}', sink): the second argument must be a sink (sinks.file({…}), sinks.print(), …)`);
    }
    this.tables.set(name, { kind: 'sink', name, sink, ...(schema !== undefined ? { schema: compileSchema(schema, `createTemporarySinkTable('${name}')`) } : {}) });
  }

  private checkName(name: string, what: string): void {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name)) {
      throw new RlinkError('RLINK_GRAPH', `${what}: table name ${JSON.stringify(name)} must be a plain name (letters, digits, _; not starting with a digit)`);
    }
    if (this.tables.has(name)) throw new RlinkError('RLINK_GRAPH', `${what}: a table named '${name}' exists already`);
  }

  /** A SELECT as a stream whose records carry the query's column names. */
  query(sql: string, opts: SqlQueryOptions = {}): SingleOutputStream<any> {
    const stmt = parseStatement(sql);
    if (stmt.kind !== 'select') {
      sqlError(stmt.pos, stmt.kind === 'insert' || stmt.kind === 'create-table' || stmt.kind === 'create-view'
        ? `sqlQuery takes a SELECT; run ${stmt.kind === 'insert' ? 'INSERT INTO' : 'CREATE'} with env.executeSql(…)`
        : 'sqlQuery takes a SELECT');
    }
    return this.select(stmt, opts);
  }

  /** One statement: INSERT INTO (returns its sink), CREATE TABLE, CREATE VIEW. */
  execute(sql: string, opts: SqlQueryOptions = {}): DataStreamSink | undefined {
    return this.executeStatement(parseStatement(sql), opts);
  }

  executeStatement(stmt: Statement, opts: SqlQueryOptions = {}, onSelect?: (stream: SingleOutputStream<any>) => void): DataStreamSink | undefined {
    switch (stmt.kind) {
      case 'select': {
        if (!onSelect) sqlError(stmt.pos, 'executeSql runs INSERT INTO, CREATE TABLE and CREATE VIEW; a SELECT gives a stream: env.sqlQuery(…)');
        onSelect(this.select(stmt, opts));
        return undefined;
      }
      case 'insert': return this.insert(stmt, opts);
      case 'create-view': {
        if (this.tables.has(stmt.name)) sqlError(stmt.pos, `a table named '${stmt.name}' exists already`);
        const { relation } = new Planner(this, opts).plan(stmt.query);
        this.tables.set(stmt.name, { kind: 'view', name: stmt.name, stream: relation.stream, info: infoOf(relation) });
        return undefined;
      }
      case 'create-table': {
        if (this.tables.has(stmt.name)) {
          if (stmt.ifNotExists) return undefined;
          sqlError(stmt.pos, `a table named '${stmt.name}' exists already`);
        }
        this.tables.set(stmt.name, { kind: 'ddl', name: stmt.name, table: stmt });
        return undefined;
      }
      case 'set': return sqlError(stmt.pos, 'SET is for SQL scripts (rlink sql, *.sql jobs); in code, set properties in prepareProperties');
    }
  }

  private select(q: Select, opts: SqlQueryOptions): SingleOutputStream<any> {
    const { stream, relation } = new Planner(this, opts).plan(q);
    const result = new SqlResultStream<any>(this.env, [...stream.handles], relation.changelog);
    setStreamInfo(result, infoOf(relation));
    return result;
  }

  private insert(stmt: Extract<Statement, { kind: 'insert' }>, opts: SqlQueryOptions): DataStreamSink {
    const entry = this.tables.get(stmt.table);
    if (!entry) sqlError(stmt.tablePos, `unknown table '${stmt.table}'${this.known()}`);
    let sink: Sink<any>;
    let schema: Schema | undefined;
    if (entry.kind === 'view') sqlError(stmt.tablePos, `'${stmt.table}' is a view: INSERT INTO needs a sink table (createTemporarySinkTable, or CREATE TABLE … WITH ('connector' = …))`);
    if (entry.kind === 'sink') { sink = entry.sink; schema = entry.schema; } else {
      entry.sink ??= ddlSink(entry.table, this.ctx, stmt.tablePos);
      sink = entry.sink;
      schema = { columns: entry.table.columns.map((c) => ({ name: c.name, type: c.type })) };
    }
    const { stream, relation } = new Planner(this, opts).plan(stmt.query);
    if (relation.changelog && refusesUpdates(sink)) {
      sqlError(stmt.tablePos, `table '${stmt.table}' (a ${sink.kind} sink) takes inserts only, but the query makes an update stream (a GROUP BY without a window): add a window, or write to a sink that takes updates`);
    }
    const target = stmt.columns?.map((c) => c.name) ?? schema?.columns.map((c) => c.name);
    let out: DataStream<any> = stream;
    const cols = relation.columns;
    if (target) {
      if (!cols) sqlError(stmt.query.pos, `INSERT INTO ${stmt.table}: the query's columns are not known (SELECT * of an undeclared stream): name them`);
      if (cols.length !== target.length) {
        sqlError(stmt.query.pos, `INSERT INTO ${stmt.table}: the query has ${cols.length} column${cols.length === 1 ? '' : 's'} (${cols.map((c) => c.name).join(', ')}), the table ${target.length} (${target.join(', ')})`);
      }
      const from = cols.map((c) => c.name);
      if (from.some((n, i) => n !== target[i])) {
        const changelog = relation.changelog;
        out = stream.map((r: any) => {
          const o: Record<string, unknown> = changelog ? { op: r.op } : {};
          for (let i = 0; i < from.length; i++) o[target[i]!] = r[from[i]!];
          return o;
        }, { name: `SQL INSERT INTO ${stmt.table}`, ...(opts.uid !== undefined ? { uid: `${opts.uid}-insert` } : {}) });
      }
    }
    return out.sinkTo(sink, { name: `Sink: ${stmt.table}`, ...(opts.uid !== undefined ? { uid: `${opts.uid}-sink` } : {}) });
  }

  resolve(name: string, pos: SqlPos): Relation {
    const entry = this.tables.get(name);
    if (!entry) sqlError(pos, `unknown table '${name}'${this.known(name)}`);
    switch (entry.kind) {
      case 'sink': return sqlError(pos, `table '${name}' is a sink table: it can be written (INSERT INTO), not read`);
      case 'view': {
        if (entry.watermark && !entry.timed) {
          const w = entry.watermark;
          entry.timed = entry.stream.assignTimestampsAndWatermarks(
            WatermarkStrategy.forBoundedOutOfOrderness(w.delayMs).withTimestampField(w.field), { name: `SQL WATERMARK ${name}` });
        }
        return { stream: entry.timed ?? entry.stream, ...entry.info };
      }
      case 'ddl': {
        if (!entry.stream) {
          const { source, parallelism } = ddlSource(entry.table, this.ctx, pos);
          entry.stream = this.env.fromSource(source, { name: `Source: ${name}`, ...(parallelism !== undefined ? { parallelism } : {}) });
        }
        const t = entry.table;
        return {
          stream: entry.stream,
          columns: t.columns.map((c) => ({ name: c.name, type: c.type })),
          ...(t.watermark ? { timeAttr: t.watermark.column } : {}),
          changelog: false,
        };
      }
    }
  }

  private known(name?: string): string {
    const names = [...this.tables.keys()];
    if (names.length === 0) return ' (no tables are registered: env.createTemporaryView(name, stream) or CREATE TABLE)';
    const ci = name === undefined ? undefined : names.find((n) => n.toLowerCase() === name.toLowerCase());
    return `${ci ? `; did you mean '${ci}'? (names are case-sensitive)` : ''} (tables: ${names.join(', ')})`;
  }
}

/**
 * The stream of a SELECT: a SingleOutputStream that refuses, in `sinkTo`, to write an update stream
 * into a sink that declared it cannot take one (`acceptsUpdates: false`).
 */
class SqlResultStream<T> extends SingleOutputStream<T> {
  constructor(env: StreamExecutionEnvironment, handles: DataStream<T>['handles'], private readonly changelog: boolean) {
    super(env, handles);
  }

  override sinkTo(sink: Sink<T>, opts: OperatorOptions = {}): DataStreamSink {
    if (this.changelog && sink && refusesUpdates(sink)) {
      throw new RlinkError('RLINK_SQL', `SQL: the query makes an update stream (a GROUP BY without a window: records with op +I, -U, +U, -D) and the ${sink.kind} sink takes inserts only (acceptsUpdates: false): add a window, or write to a sink that applies updates`);
    }
    return super.sinkTo(sink, opts);
  }
}

function infoOf(r: Relation): StreamInfo {
  return { columns: r.columns, ...(r.timeAttr !== undefined ? { timeAttr: r.timeAttr } : {}), changelog: r.changelog };
}
