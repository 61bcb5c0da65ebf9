/**
 * Plans a SELECT onto the DataStream API, so that SQL jobs run, checkpoint and restore as any other:
 *
 *   SELECT … FROM t WHERE …                       filter → map (records carry the query's column names)
 *   … GROUP BY TUMBLE|HOP|SESSION(ts, …), keys    filter → keyBy(keys) → window(assigner).aggregate → process
 *   … FROM TABLE(TUMBLE(TABLE t, …)) GROUP BY window_start, window_end, keys    the same
 *   … FROM TABLE(TUMBLE(TABLE t, …))  (no GROUP BY)     process: each row with window_start, window_end, window_time
 *   … GROUP BY keys  (no window), SELECT DISTINCT  filter → keyBy(keys) → keyed process with value state:
 *                                                 an update stream (core/api/changelog.ts)
 *
 * Windows are event time: they use the records' timestamps, which the table's watermark declaration
 * makes from its time column (in the source, or mid-stream for a view whose schema declares it).
 * A window result carries the timestamp windowEnd − 1, as every window result of the DataStream API.
 */
import type { DataStream, SingleOutputStream } from '../api/datastream';
import type { OperatorOptions } from '../api/environment';
import type { KeyedProcessFunction, RuntimeContext } from '../runtime/operators/keyed-process';
import type { ValueState } from '../state/value-state';
import { TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows, windowStart, type WindowAssigner } from '../windows/assigners';
import type { Expr, FromItem, Select, SelectItem, WindowTvf } from './ast';
import { sqlError, type SqlPos } from './errors';
import {
  AGGREGATE_FUNCTIONS, WINDOW_FUNCTIONS, compileExpr, hasAggregate, sameExpr,
  type Compiled, type Evaluator, type ExprType, type Scope,
} from './expressions';
import { compileAggregateCall, rowAggregate, type AggregateCall } from './aggregates';

/** A relation while planning: a stream, the columns of its records (undefined: not known), its time attribute. */
export interface Relation {
  stream: DataStream<any>;
  /** The columns, in order; undefined when the records' fields are not declared (any name is accepted). */
  columns: Array<{ name: string; type: ExprType }> | undefined;
  /** The column whose values are the records' event timestamps, when known. */
  timeAttr?: string;
  /** An update stream: records carry `op` (core/api/changelog.ts). */
  changelog: boolean;
}

/** Options of `env.sqlQuery(sql, options)`. */
export interface SqlQueryOptions {
  /** Parallelism of the query's keyed operators (windows, GROUP BY); default: the environment's. */
  parallelism?: number;
  /**
   * A prefix for the uids of the query's operators (`<uid>-where`, `<uid>-window`, `<uid>-select`, …),
   * so that a savepoint still matches after the job changes.
   */
  uid?: string;
}

/** What the planner needs from the catalog: the relation a table name stands for. */
export interface TableResolver {
  resolve(name: string, pos: SqlPos): Relation;
}

interface WindowSpec {
  fn: 'TUMBLE' | 'HOP' | 'SESSION' | 'CUMULATE';
  /** TUMBLE: [size]; HOP: [slide, size]; SESSION: [gap]; CUMULATE: [step, maxSize] (ms). */
  sizes: number[];
  pos: SqlPos;
  /** The group-window call in GROUP BY (its arguments must be repeated by _START/_END), if any. */
  call?: Extract<Expr, { kind: 'call' }>;
}

const WINDOW_COLUMNS = ['window_start', 'window_end', 'window_time'] as const;

export class Planner {
  private readonly uids = new Set<string>();

  constructor(private readonly tables: TableResolver, private readonly opts: SqlQueryOptions = {}) {}

  /** Options for the n-th operator of the query: its name and, with a uid prefix, its uid. */
  private op(role: string, name: string, keyed = false): OperatorOptions {
    const o: OperatorOptions = { name: `SQL ${name}` };
    if (this.opts.uid !== undefined) {
      let uid = `${this.opts.uid}-${role}`;
      for (let n = 2; this.uids.has(uid); n++) uid = `${this.opts.uid}-${role}-${n}`;
      this.uids.add(uid);
      o.uid = uid;
    }
    if (keyed && this.opts.parallelism !== undefined) o.parallelism = this.opts.parallelism;
    return o;
  }

  plan(q: Select): { stream: SingleOutputStream<any>; relation: Relation } {
    const from = this.planFrom(q.from);
    const aggregating = q.groupBy.length > 0 || q.having !== undefined || q.items.some((i) => i.kind === 'expr' && hasAggregate(i.expr));
    if (aggregating || q.distinct) return this.planAggregate(q, from);
    const input = 'tvf' in from ? this.materializeTvf(from) : from;
    return this.planProjection(q, input);
  }

  // ---- FROM ----

  private planFrom(f: FromItem): Relation | TvfRelation {
    switch (f.kind) {
      case 'table': return this.tables.resolve(f.name, f.pos);
      case 'subquery': return this.plan(f.query).relation;
      case 'tvf': {
        const input = this.planFrom(f.input) as Relation;
        checkTimeColumn(input, f.timeColumn.name, f.timeColumn.pos, `DESCRIPTOR(${f.timeColumn.name})`);
        if (input.changelog) sqlError(f.pos, `${f.fn} over an update stream is not supported: its rows change`);
        const w: WindowSpec = { fn: f.fn, sizes: f.intervals.map((i) => positiveInterval(i.ms, i.pos)), pos: f.pos };
        if (f.partitionBy.length > 0 && f.fn !== 'SESSION') sqlError(f.partitionBy[0]!.pos, `PARTITION BY is only for SESSION`);
        for (const p of f.partitionBy) columnOf(input, p.name, p.pos);
        return { tvf: f, window: w, input };
      }
    }
  }

  /** A window TVF without aggregation: each row once per window it falls in, with the window columns. */
  private materializeTvf(t: TvfRelation): Relation {
    const { window: w, input, tvf } = t;
    if (w.fn === 'SESSION') sqlError(tvf.pos, 'SESSION(TABLE …) is only supported with GROUP BY window_start, window_end (sessions must merge)');
    const time = tvf.timeColumn.name;
    const sizes = w.sizes;
    const windows = windowsOf(w);
    const fn = (v: any, _ctx: unknown, out: { collect(x: unknown): void }) => {
      const ts = v[time];
      if (typeof ts !== 'number') return;
      for (const [s, e] of windows(ts)) out.collect({ ...v, window_start: s, window_end: e, window_time: e - 1 });
    };
    const stream = t.input.stream.process(fn, this.op('window-tvf', `${w.fn}(${sizes.map(formatDuration).join(', ')})`));
    const columns = input.columns ? [...input.columns.filter((c) => !(WINDOW_COLUMNS as readonly string[]).includes(c.name)), ...WINDOW_COLUMNS.map((name) => ({ name, type: 'timestamp' as ExprType }))] : undefined;
    return { stream, columns, timeAttr: 'window_time', changelog: false };
  }

  // ---- SELECT without aggregation ----

  private planProjection(q: Select, input: Relation): { stream: SingleOutputStream<any>; relation: Relation } {
    const scope = rowScope(input, 'WHERE');
    let stream: DataStream<any> = input.stream;
    if (q.where) {
      const pred = compileCondition(q.where, scope, 'WHERE');
      stream = stream.filter((r: unknown) => pred(r) === true, this.op('where', 'WHERE'));
    }
    const selectScope = rowScope(input, 'SELECT');
    const out = this.outputColumns(q.items, input, (e) => compileExpr(e, selectScope));
    const cols = out.map((c) => c.name);
    const fns = out.map((c) => c.compiled?.fn);
    const star = out.length === 1 && out[0]!.star && input.columns === undefined;
    const keepOp = input.changelog;
    const n = cols.length;
    const project = star
      ? (r: any) => ({ ...r })
      : (r: any) => {
        const o: Record<string, unknown> = keepOp ? { op: r.op } : {};
        for (let i = 0; i < n; i++) {
          const f = fns[i];
          if (f === undefined) { Object.assign(o, starFields(r, keepOp)); continue; }
          o[cols[i]!] = f(r);
        }
        return o;
      };
    const result = stream.map(project, this.op('select', 'SELECT'));
    const columns = out.some((c) => c.star) && input.columns === undefined ? undefined : out.map((c) => ({ name: c.name, type: c.compiled?.type ?? 'any' }));
    const timeCol = out.find((c) => c.source !== undefined && c.source === input.timeAttr);
    return { stream: result, relation: { stream: result, columns, ...(timeCol ? { timeAttr: timeCol.name } : {}), changelog: input.changelog } };
  }

  /**
   * The output columns of a SELECT list: `*` expands to the input's columns (or stays a pass-through
   * when they are not known); names are the alias, a column's own name, or Flink's EXPR$<i>.
   */
  private outputColumns(items: SelectItem[], input: Relation | undefined, compile: (e: Expr) => Compiled):
    Array<{ name: string; compiled?: Compiled; star: boolean; source?: string; pos: SqlPos }> {
    const out: Array<{ name: string; compiled?: Compiled; star: boolean; source?: string; pos: SqlPos }> = [];
    items.forEach((item, i) => {
      if (item.kind === 'star') {
        if (!input) sqlError(item.pos, 'SELECT * cannot be used with GROUP BY: name the columns');
        if (input.columns) {
          for (const c of input.columns) out.push({ name: c.name, compiled: compileExpr({ kind: 'column', pos: item.pos, name: c.name }, rowScope(input, 'SELECT')), star: false, source: c.name, pos: item.pos });
        } else out.push({ name: '*', star: true, pos: item.pos });
        return;
      }
      const name = item.alias ?? (item.expr.kind === 'column' ? item.expr.name : `EXPR$${i}`);
      out.push({ name, compiled: compile(item.expr), star: false, ...(item.expr.kind === 'column' ? { source: item.expr.name } : {}), pos: item.pos });
    });
    const seen = new Map<string, SqlPos>();
    for (const c of out) {
      if (c.star) continue;
      const before = seen.get(c.name);
      if (before) sqlError(c.pos, `two output columns are named '${c.name}' (the other at line ${before.line}, column ${before.column}): give one an alias`);
      seen.set(c.name, c.pos);
    }
    return out;
  }

  // ---- aggregation ----

  private planAggregate(q: Select, from: Relation | TvfRelation): { stream: SingleOutputStream<any>; relation: Relation } {
    for (const item of q.items) if (item.kind === 'star') sqlError(item.pos, 'SELECT * cannot be used with GROUP BY or aggregates: name the columns');
    const tvf = 'tvf' in from ? from : undefined;
    const input = tvf ? tvf.input : from as Relation;
    if (input.changelog) sqlError(q.pos, 'aggregating an update stream (the result of a GROUP BY without a window) is not supported');
    const rScope = rowScope(input, 'GROUP BY');

    // The window: a group-window function in GROUP BY, or window_start and window_end of a window TVF.
    let window: WindowSpec | undefined;
    const keyExprs: Expr[] = [];
    const groupBy = q.distinct && q.groupBy.length === 0 ? distinctKeys(q) : q.groupBy;
    const tvfCols: string[] = [];
    for (const g of groupBy) {
      if (g.kind === 'call' && WINDOW_FUNCTIONS[g.name]?.returns === 'window') {
        if (tvf) sqlError(g.pos, `${g.name}(…) in GROUP BY over a window TVF: group by window_start, window_end instead`);
        if (window) sqlError(g.pos, 'only one group window per GROUP BY');
        window = groupWindow(g, input);
        continue;
      }
      if (g.kind === 'column' && tvf && (WINDOW_COLUMNS as readonly string[]).includes(g.name)) { tvfCols.push(g.name); continue; }
      if (hasAggregate(g)) sqlError(g.pos, 'aggregate functions are not allowed in GROUP BY');
      keyExprs.push(g);
    }
    if (tvf) {
      if (!tvfCols.includes('window_start') || !tvfCols.includes('window_end')) {
        sqlError(q.pos, `an aggregation over ${tvf.tvf.fn}(TABLE …) must GROUP BY window_start, window_end (and its keys)`);
      }
      window = tvf.window;
      for (const p of tvf.tvf.partitionBy) {
        if (!keyExprs.some((k) => k.kind === 'column' && k.name === p.name)) sqlError(p.pos, `SESSION … PARTITION BY ${p.name}: ${p.name} must also be in GROUP BY`);
      }
      // rlink keeps sessions per group key: Flink's sessions are per PARTITION BY key, so the two must agree.
      if (tvf.tvf.fn === 'SESSION' && keyExprs.length !== tvf.tvf.partitionBy.length) {
        sqlError(tvf.tvf.pos, `SESSION(TABLE … PARTITION BY …): the PARTITION BY columns must be exactly the GROUP BY keys (${keyExprs.map((k) => (k.kind === 'column' ? k.name : '…')).join(', ') || 'none'})`);
      }
    }
    if (window?.fn === 'CUMULATE' && window.sizes[1]! % window.sizes[0]! !== 0) sqlError(window.pos, 'CUMULATE: the max size must be a multiple of the step');

    const keys = keyExprs.map((k) => compileExpr(k, { ...rScope, aggregatesRefused: 'aggregate functions are not allowed in GROUP BY' }));
    const calls: AggregateCall[] = [];
    const post = postScope({ window, tvf: tvf !== undefined, keyExprs, keys, calls, rowScope: rowScope(input, 'an aggregate') });
    const out = this.outputColumns(q.items, undefined, (e) => compileExpr(e, post));
    const having = q.having ? compileCondition(q.having, post, 'HAVING') : undefined;
    if (q.where && hasAggregate(q.where)) sqlError(q.where.pos, 'aggregate functions are not allowed in WHERE (use HAVING)');

    let stream: DataStream<any> = input.stream;
    if (q.where) {
      const pred = compileCondition(q.where, rowScope(input, 'WHERE'), 'WHERE');
      stream = stream.filter((r: unknown) => pred(r) === true, this.op('where', 'WHERE'));
    }
    const keyFns = keys.map((k) => k.fn);
    const nk = keyFns.length;
    const keyOf: (r: unknown) => unknown = nk === 0 ? () => null : nk === 1 ? keyFns[0]! : (r) => JSON.stringify(keyFns.map((f) => nullish(f(r))));
    const decode: (key: unknown) => unknown[] = nk === 0 ? () => [] : nk === 1 ? (k) => [k] : (k) => JSON.parse(k as string) as unknown[];
    const agg = rowAggregate(calls);
    const names = out.map((c) => c.name);
    const fns = out.map((c) => c.compiled!.fn);
    const project = (g: GroupRow): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) o[names[i]!] = nullish(fns[i]!(g));
      return o;
    };
    // Plain columns: keyBy by field names (the runtime's field selector); expressions: by a function.
    const fields = keyExprs.every((k) => k.kind === 'column') ? keyExprs.map((k) => (k as { name: string }).name) : undefined;
    const byFields = fields !== undefined && fields.length > 0 && !fields.some((f) => f === 'key' || f === 'windowStart' || f === 'windowEnd' || f === '$sql');
    const keyed = byFields ? stream.keyBy(fields.length === 1 ? fields[0]! : fields) : stream.keyBy(keyOf);
    const keysOf: (r: Record<string, unknown>) => unknown[] = byFields ? (r) => fields.map((f) => r[f]) : (r) => decode(r.key);
    const columns = out.map((c) => ({ name: c.name, type: c.compiled!.type }));

    if (window?.fn === 'CUMULATE') {
      // Slices: a tumbling window of `step` gives each key's accumulator per slice (records late for
      // their slice are dropped and counted there, as Flink's slicing windows do); a keyed process
      // merges the slices of each period of `max` and emits the growing windows at their ends.
      const [step, max] = window.sizes as [number, number];
      const keep = { createAccumulator: agg.createAccumulator, add: agg.add, merge: agg.merge, getResult: (acc: unknown) => acc };
      const slices = keyed.window(TumblingEventTimeWindows.of(step)).aggregate({ $acc: keep }, this.op('slices', `CUMULATE slices(${formatDuration(step)})`, true));
      const reKeyed = byFields ? slices.keyBy(fields.length === 1 ? fields[0]! : fields) : slices.keyBy('key');
      // The timer context has the normalized key: one value, or the JSON of several (as `decode` reads it).
      const fn = new CumulateFunction(step, max, agg, decode, having, project);
      const result = reKeyed.process(fn, this.op('window', `CUMULATE(${formatDuration(step)}, ${formatDuration(max)})`, true));
      const rowtime = out.find((c) => (c.compiled as { rowtime?: boolean } | undefined)?.rowtime === true);
      return { stream: result, relation: { stream: result, columns, ...(rowtime ? { timeAttr: rowtime.name } : {}), changelog: false } };
    }
    if (window) {
      const assigner = assignerOf(window);
      const aggregated = keyed.window(assigner).aggregate({ $sql: agg }, this.op('window', `${window.fn}(${window.sizes.map(formatDuration).join(', ')})`, true));
      const finish = (r: any, _ctx: unknown, o: { collect(x: unknown): void }) => {
        const g: GroupRow = { k: keysOf(r), ws: r.windowStart, we: r.windowEnd, a: r.$sql };
        if (having && having(g) !== true) return;
        o.collect(project(g));
      };
      const result = aggregated.process(finish, this.op('select', 'SELECT'));
      const rowtime = out.find((c) => (c.compiled as { rowtime?: boolean } | undefined)?.rowtime === true);
      return { stream: result, relation: { stream: result, columns, ...(rowtime ? { timeAttr: rowtime.name } : {}), changelog: false } };
    }
    const fn = new GroupAggregateFunction(agg, decode, having, project);
    const result = keyed.process(fn, this.op('group-by', 'GROUP BY', true));
    return { stream: result, relation: { stream: result, columns, changelog: true } };
  }
}

/** The row a post-aggregation expression sees: key values, window bounds, aggregate results. */
interface GroupRow { k: unknown[]; ws?: number; we?: number; a: unknown[] }

interface TvfRelation { tvf: WindowTvf; window: WindowSpec; input: Relation }

const nullish = (v: unknown): unknown => (v === undefined ? null : v);

/**
 * A regular GROUP BY as an update stream: per key, the accumulator and the row last emitted are value
 * state (checkpointed with the key); each record updates the accumulator and, when the key's row
 * changed, emits `-U` old / `+U` new (`+I` for a key's first row, `-D` when HAVING stops holding).
 * An unchanged row emits nothing, as Flink's GroupAggFunction.
 */
class GroupAggregateFunction implements KeyedProcessFunction<any, any> {
  private acc!: ValueState<Record<string, unknown>>;
  private last!: ValueState<Record<string, unknown> | null>;

  constructor(
    private readonly agg: ReturnType<typeof rowAggregate>,
    private readonly decode: (key: unknown) => unknown[],
    private readonly having: Evaluator | undefined,
    private readonly project: (g: GroupRow) => Record<string, unknown>,
  ) {}

  open(ctx: RuntimeContext): void {
    this.acc = ctx.getState('acc');
    this.last = ctx.getState('row', null);
  }

  processElement(value: unknown, ctx: { currentKey: unknown }, out: { collect(x: unknown): void }): void {
    const acc = this.agg.add(this.acc.value() ?? this.agg.createAccumulator(), value);
    this.acc.update(acc);
    const g: GroupRow = { k: this.decode(ctx.currentKey), a: this.agg.getResult(acc) };
    const row = this.having && this.having(g) !== true ? null : this.project(g);
    const prev = this.last.value() ?? null;
    if (row === null && prev === null) return;
    if (row !== null && prev !== null && JSON.stringify(row) === JSON.stringify(prev)) return;
    if (prev !== null) out.collect(row === null ? { op: '-D', ...prev } : { op: '-U', ...prev });
    if (row !== null) out.collect({ op: prev === null ? '+I' : '+U', ...row });
    this.last.update(row);
  }
}

/**
 * CUMULATE(step, max) over slices: per key and period [s, s + max), the slices' accumulators arrive
 * (each when its tumbling window of `step` fired) and are merged; an event-time timer at each window
 * end − 1 emits the window [s, end) from the slices so far, from the key's first slice to the period's
 * end. State (per period: the merged accumulator) is checkpointed with the key.
 */
class CumulateFunction implements KeyedProcessFunction<any, any> {
  /** Per period start: the key's slices by their end (a slice fired late with others must not count early). */
  private periods!: ValueState<Record<string, Record<string, Record<string, unknown>>>>;

  constructor(
    private readonly step: number,
    private readonly max: number,
    private readonly agg: ReturnType<typeof rowAggregate>,
    private readonly decode: (key: unknown) => unknown[],
    private readonly having: Evaluator | undefined,
    private readonly project: (g: GroupRow) => Record<string, unknown>,
  ) {}

  open(ctx: RuntimeContext): void { this.periods = ctx.getState('periods', {}); }

  processElement(slice: Record<string, any>, ctx: { timerService(): { registerEventTimeTimer(t: number): void } }): void {
    const s = windowStart(slice.windowStart as number, 0, this.max);
    const periods = { ...(this.periods.value() ?? {}) };
    periods[s] = { ...(periods[s] ?? {}), [slice.windowEnd as number]: slice.$acc };
    this.periods.update(periods);
    ctx.timerService().registerEventTimeTimer((slice.windowEnd as number) - 1);
  }

  onTimer(t: number, ctx: { currentKey: unknown; timerService(): { registerEventTimeTimer(t: number): void } }, out: { collect(x: unknown): void }): void {
    const end = t + 1;
    const s = windowStart(t, 0, this.max);
    const periods = this.periods.value() ?? {};
    const slices = periods[s];
    if (slices === undefined) return;
    let acc = this.agg.createAccumulator();
    for (const [sliceEnd, a] of Object.entries(slices)) if (Number(sliceEnd) <= end) acc = this.agg.merge(acc, a);
    const g: GroupRow = { k: this.decode(ctx.currentKey), ws: s, we: end, a: this.agg.getResult(acc) };
    if (!this.having || this.having(g) === true) out.collect(this.project(g));
    if (end < s + this.max) ctx.timerService().registerEventTimeTimer(t + this.step);
    else {
      const rest = { ...periods };
      delete rest[s];
      this.periods.update(rest);
    }
  }
}

// ---- scopes ----

/** Column references against a relation's rows. */
export function rowScope(rel: Relation, clause: string): Scope {
  return {
    aggregatesRefused: `aggregate functions are not allowed in ${clause}`,
    column(e) {
      const c = columnOf(rel, e.name, e.pos);
      const name = e.name;
      return { fn: (r: any) => { const v = r[name]; return v === undefined ? null : v; }, type: c.type };
    },
  };
}

function columnOf(rel: Relation, name: string, pos: SqlPos): { name: string; type: ExprType } {
  if (!rel.columns) return { name, type: 'any' };
  const c = rel.columns.find((x) => x.name === name);
  if (c) return c;
  const ci = rel.columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
  sqlError(pos, `unknown column '${name}'${ci ? `; did you mean '${ci.name}'? (names are case-sensitive)` : ''} (columns: ${rel.columns.map((x) => x.name).join(', ')})`);
}

function checkTimeColumn(rel: Relation, name: string, pos: SqlPos, what: string): void {
  const c = columnOf(rel, name, pos);
  if (rel.timeAttr !== undefined && rel.timeAttr !== name) {
    sqlError(pos, `${what}: '${name}' is not the table's time attribute; windows use event time, which comes from '${rel.timeAttr}' (its watermark declaration)`);
  }
  if (c.type !== 'timestamp' && c.type !== 'bigint' && c.type !== 'any') sqlError(pos, `${what}: '${name}' is a ${c.type.toUpperCase()}, not a TIMESTAMP`);
}

function postScope(p: {
  window: WindowSpec | undefined; tvf: boolean; keyExprs: Expr[]; keys: Compiled[]; calls: AggregateCall[]; rowScope: Scope;
}): Scope {
  return {
    aggregatesRefused: 'nested aggregates are not allowed',
    special(e) {
      if (e.kind === 'call' && AGGREGATE_FUNCTIONS.has(e.name)) {
        let i = p.calls.findIndex((c) => sameExpr(c.expr, e));
        if (i < 0) { p.calls.push(compileAggregateCall(e, p.rowScope)); i = p.calls.length - 1; }
        const idx = i;
        return { fn: (g: GroupRow) => g.a[idx], type: p.calls[idx]!.type };
      }
      if (e.kind === 'call' && WINDOW_FUNCTIONS[e.name] && WINDOW_FUNCTIONS[e.name]!.returns !== 'window') {
        const wf = WINDOW_FUNCTIONS[e.name]!;
        const w = p.window;
        if (!w || p.tvf || !w.call) sqlError(e.pos, `${e.name}(…) needs GROUP BY ${wf.window}(…)${p.tvf ? ' (over a window TVF, use window_start, window_end, window_time)' : ''}`);
        if (w.fn !== wf.window || e.args.length !== w.call.args.length || !e.args.every((a, i) => sameExpr(a, w.call!.args[i]!))) {
          sqlError(e.pos, `${e.name}(…) must repeat the arguments of the GROUP BY window ${w.fn}(…) exactly`);
        }
        return windowProp(wf.returns as 'start' | 'end' | 'rowtime');
      }
      for (let i = 0; i < p.keyExprs.length; i++) {
        const k = p.keyExprs[i]!;
        if (sameExpr(k, e) || (k.kind === 'column' && e.kind === 'column' && k.name === e.name)) {
          const idx = i;
          return { fn: (g: GroupRow) => g.k[idx], type: p.keys[idx]!.type };
        }
      }
      return undefined;
    },
    column(e) {
      if (p.tvf && p.window) {
        if (e.name === 'window_start') return windowProp('start');
        if (e.name === 'window_end') return windowProp('end');
        if (e.name === 'window_time') return windowProp('rowtime');
      }
      // Not grouped: still an error when the column does not exist at all.
      p.rowScope.column(e);
      sqlError(e.pos, `column '${e.name}' must be in GROUP BY or inside an aggregate function`);
    },
  };
}

function windowProp(which: 'start' | 'end' | 'rowtime'): Compiled & { rowtime?: boolean } {
  if (which === 'start') return { fn: (g: GroupRow) => g.ws, type: 'timestamp' };
  if (which === 'end') return { fn: (g: GroupRow) => g.we, type: 'timestamp' };
  return { fn: (g: GroupRow) => g.we! - 1, type: 'timestamp', rowtime: true };
}

function compileCondition(e: Expr, scope: Scope, clause: string): Evaluator {
  const c = compileExpr(e, scope);
  if (c.type !== 'boolean' && c.type !== 'any' && c.type !== 'null') sqlError(e.pos, `${clause} needs a condition (a BOOLEAN), got a ${c.type.toUpperCase()}`);
  return c.fn;
}

/** SELECT DISTINCT a, b: GROUP BY a, b. */
function distinctKeys(q: Select): Expr[] {
  return q.items.map((i) => {
    if (i.kind === 'star') sqlError(i.pos, 'SELECT DISTINCT * is not supported: name the columns');
    return i.expr;
  });
}

function groupWindow(g: Extract<Expr, { kind: 'call' }>, input: Relation): WindowSpec {
  const fn = WINDOW_FUNCTIONS[g.name]!.window;
  const want = fn === 'HOP' ? 3 : 2;
  const form = fn === 'HOP' ? 'HOP(ts, slide, size)' : fn === 'TUMBLE' ? 'TUMBLE(ts, size)' : 'SESSION(ts, gap)';
  if (g.args.length !== want) sqlError(g.pos, `${fn} takes ${want} arguments, got ${g.args.length}: ${form}, e.g. ${fn === 'HOP' ? "HOP(ts, INTERVAL '20' SECOND, INTERVAL '60' SECOND)" : `${fn}(ts, INTERVAL '1' MINUTE)`}`);
  const time = g.args[0]!;
  if (time.kind !== 'column') sqlError(time.pos, `the first argument of ${fn} must be the time column`);
  checkTimeColumn(input, time.name, time.pos, `${fn}(${time.name}, …)`);
  const sizes = g.args.slice(1).map((a) => {
    if (a.kind !== 'interval') sqlError(a.pos, `${fn}: expected an interval such as INTERVAL '1' MINUTE`);
    return positiveInterval(a.ms, a.pos);
  });
  return { fn, sizes, pos: g.pos, call: g };
}

function positiveInterval(ms: number, pos: SqlPos): number {
  if (!(ms > 0)) sqlError(pos, 'a window interval must be longer than 0');
  return ms;
}

function assignerOf(w: WindowSpec): WindowAssigner {
  switch (w.fn) {
    case 'TUMBLE': return TumblingEventTimeWindows.of(w.sizes[0]!);
    case 'HOP': return SlidingEventTimeWindows.of(w.sizes[1]!, w.sizes[0]!);
    case 'SESSION': return EventTimeSessionWindows.withGap(w.sizes[0]!);
    default: return sqlError(w.pos, `${w.fn} windows are not supported yet`);
  }
}

/** The [start, end) windows of a timestamp for a window TVF without aggregation. */
function windowsOf(w: WindowSpec): (ts: number) => Array<[number, number]> {
  if (w.fn === 'TUMBLE') { const size = w.sizes[0]!; return (ts) => { const s = windowStart(ts, 0, size); return [[s, s + size]]; }; }
  if (w.fn === 'HOP') {
    const [slide, size] = w.sizes as [number, number];
    return (ts) => { const out: Array<[number, number]> = []; for (let s = windowStart(ts, 0, slide); s > ts - size; s -= slide) out.push([s, s + size]); return out; };
  }
  // CUMULATE(step, maxSize): [start, start + k·step) for every k with start + k·step > ts.
  const [step, max] = w.sizes as [number, number];
  if (max % step !== 0) sqlError(w.pos, 'CUMULATE: the max size must be a multiple of the step');
  return (ts) => { const s = windowStart(ts, 0, max); const out: Array<[number, number]> = []; for (let e = s + step; e <= s + max; e += step) if (e > ts) out.push([s, e]); return out; };
}

/** `20s`, `1m`, `1500ms`: an interval for operator names. */
export function formatDuration(ms: number): string {
  for (const [unit, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % f === 0) return `${ms / f}${unit}`;
  return `${ms}ms`;
}

function starFields(r: Record<string, unknown>, skipOp: boolean): Record<string, unknown> {
  if (!skipOp) return r;
  const { op: _op, ...rest } = r;
  return rest;
}
