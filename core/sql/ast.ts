/**
 * The SQL syntax tree. Every node keeps the position of its first token, so a planning error can name
 * its line and column. Names keep the case they were written in (identifiers are case-sensitive, as
 * in Flink); function names and keywords are upper-cased.
 */
import type { SqlPos } from './errors';
import type { SqlType } from './types';

export type Expr =
  | { kind: 'column'; pos: SqlPos; name: string; table?: string }
  | { kind: 'literal'; pos: SqlPos; value: string | number | boolean | null; type: SqlType | 'null' }
  /** An interval literal, in milliseconds (`INTERVAL '20' SECOND` → 20000). */
  | { kind: 'interval'; pos: SqlPos; ms: number; text: string }
  | { kind: 'unary'; pos: SqlPos; op: '-' | '+' | 'NOT'; arg: Expr }
  | { kind: 'binary'; pos: SqlPos; op: BinaryOp; left: Expr; right: Expr }
  /** A function call; `star` for COUNT(*), `distinct` for COUNT(DISTINCT x). */
  | { kind: 'call'; pos: SqlPos; name: string; args: Expr[]; distinct: boolean; star: boolean }
  | { kind: 'case'; pos: SqlPos; operand?: Expr; whens: Array<{ when: Expr; then: Expr }>; else?: Expr }
  | { kind: 'cast'; pos: SqlPos; arg: Expr; type: SqlType }
  | { kind: 'isnull'; pos: SqlPos; arg: Expr; not: boolean }
  | { kind: 'in'; pos: SqlPos; arg: Expr; list: Expr[]; not: boolean }
  | { kind: 'between'; pos: SqlPos; arg: Expr; low: Expr; high: Expr; not: boolean }
  | { kind: 'like'; pos: SqlPos; arg: Expr; pattern: Expr; not: boolean };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '||' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

export type SelectItem =
  | { kind: 'star'; pos: SqlPos; table?: string }
  | { kind: 'expr'; pos: SqlPos; expr: Expr; alias?: string; /** The text of the expression as written (for messages). */ text: string };

/** A windowing table-valued function: `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size))` and its kin. */
export interface WindowTvf {
  kind: 'tvf';
  pos: SqlPos;
  fn: 'TUMBLE' | 'HOP' | 'CUMULATE' | 'SESSION';
  input: FromItem;
  timeColumn: { name: string; pos: SqlPos };
  /** TUMBLE: [size]; HOP: [slide, size]; CUMULATE: [step, maxSize]; SESSION: [gap] — intervals in ms. */
  intervals: Array<{ ms: number; pos: SqlPos }>;
  /** SESSION(TABLE t PARTITION BY k, …): the partition keys. */
  partitionBy: Array<{ name: string; pos: SqlPos }>;
  alias?: string;
}

export type FromItem =
  | { kind: 'table'; pos: SqlPos; name: string; alias?: string }
  | { kind: 'subquery'; pos: SqlPos; query: Select; alias?: string }
  | WindowTvf;

export interface Select {
  kind: 'select';
  pos: SqlPos;
  distinct: boolean;
  items: SelectItem[];
  from: FromItem;
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
}

export interface ColumnDef { name: string; type: SqlType; pos: SqlPos }

export type Statement =
  | Select
  | { kind: 'insert'; pos: SqlPos; table: string; tablePos: SqlPos; columns?: Array<{ name: string; pos: SqlPos }>; query: Select }
  | {
    kind: 'create-table'; pos: SqlPos; name: string; temporary: boolean; ifNotExists: boolean;
    columns: ColumnDef[];
    watermark?: { column: string; pos: SqlPos; delayMs: number };
    options: Array<{ key: string; value: string; pos: SqlPos }>;
  }
  | { kind: 'create-view'; pos: SqlPos; name: string; temporary: boolean; query: Select }
  | { kind: 'set'; pos: SqlPos; key: string; value: string };
