/**
 * A recursive-descent parser for rlink's streaming SQL (docs/sql.md has the grammar). Hand-written
 * rather than an npm parser: node-sql-parser 5.4 (flinksql) rejects the rlink-rs README query
 * (`timestamp` and `value` as column names), `COUNT(DISTINCT user)`, and keeps no positions in its
 * tree, so planning errors could not name a line and column. Every error here names the line, the
 * column and the offending token.
 *
 *   script     := statement (';' statement)* [';']
 *   statement  := query | INSERT INTO name ['(' names ')'] query
 *               | CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name '(' columns [',' WATERMARK FOR c AS c '-' interval] ')' WITH '(' options ')'
 *               | CREATE [TEMPORARY] VIEW name AS query | SET key '=' value
 *   query      := SELECT [DISTINCT|ALL] item (',' item)* FROM from [WHERE expr] [GROUP BY expr (',' expr)*] [HAVING expr]
 *   item       := '*' | name '.' '*' | expr [[AS] name]
 *   from       := name [[AS] name] | '(' query ')' [[AS] name] | TABLE '(' tvf ')' [[AS] name]
 *   tvf        := (TUMBLE|HOP|CUMULATE|SESSION) '(' TABLE name [PARTITION BY names] ',' DESCRIPTOR '(' name ')' (',' interval)+ ')'
 *   expr       := disjunction, with the usual precedence: OR < AND < NOT < comparison, IS, IN, BETWEEN, LIKE
 *                 < + - || < * / % < unary - + < primary
 *   primary    := number | string | TRUE | FALSE | NULL | interval | TIMESTAMP string | CASE … END
 *               | CAST '(' expr AS type ')' | name '(' [DISTINCT] args | '*' ')' | name ['.' name] | '(' expr ')'
 *   interval   := INTERVAL string unit        unit: MILLISECOND | SECOND | MINUTE | HOUR | DAY (or plural)
 */
import { describeToken, tokenize, type Token } from './lexer';
import { sqlError, type SqlPos } from './errors';
import { parseTimestamp, parseTypeName, type SqlType } from './types';
import type { BinaryOp, ColumnDef, Expr, FromItem, Select, SelectItem, Statement, WindowTvf } from './ast';

/** Words that are never a name unless quoted. */
const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'HAVING', 'AS', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE',
  'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'CAST', 'INTERVAL', 'BETWEEN', 'LIKE', 'DISTINCT', 'ALL', 'INSERT', 'INTO',
  'TABLE', 'ON', 'JOIN', 'UNION', 'ORDER', 'LIMIT', 'WITH', 'CREATE', 'VALUES', 'LEFT', 'RIGHT', 'INNER', 'OUTER',
  'FULL', 'CROSS', 'EXCEPT', 'INTERSECT', 'OVER', 'PARTITION', 'WINDOW', 'MATCH_RECOGNIZE',
]);

const UNIT_MS: Record<string, number> = {
  MILLISECOND: 1, MILLISECONDS: 1, SECOND: 1000, SECONDS: 1000, MINUTE: 60_000, MINUTES: 60_000,
  HOUR: 3_600_000, HOURS: 3_600_000, DAY: 86_400_000, DAYS: 86_400_000,
};

/** Parses a script of statements separated by `;`. */
export function parseScript(sql: string): Statement[] {
  const p = new Parser(sql);
  const out: Statement[] = [];
  for (;;) {
    while (p.acceptOp(';'));
    if (p.atEnd()) break;
    out.push(p.statement());
    if (!p.atEnd() && !p.acceptOp(';')) p.unexpected('\';\' or the end of the statement');
  }
  if (out.length === 0) sqlError({ line: 1, column: 1, offset: 0 }, 'no SQL statement');
  return out;
}

/** Parses exactly one statement (a trailing `;` is allowed). */
export function parseStatement(sql: string): Statement {
  const p = new Parser(sql);
  if (p.atEnd()) sqlError({ line: 1, column: 1, offset: 0 }, 'no SQL statement');
  const s = p.statement();
  p.acceptOp(';');
  if (!p.atEnd()) p.unexpected('the end of the statement (one statement at a time here)');
  return s;
}

/** Parses one expression (config-file transforms, `filter: v > 10`). */
export function parseExpression(text: string): Expr {
  const p = new Parser(text);
  if (p.atEnd()) sqlError({ line: 1, column: 1, offset: 0 }, 'empty expression');
  const e = p.expr();
  if (!p.atEnd()) p.unexpected('an operator or the end of the expression');
  return e;
}

class Parser {
  private readonly t: Token[];
  private i = 0;

  constructor(private readonly src: string) {
    this.t = tokenize(src);
  }

  // ---- token helpers ----

  private get tok(): Token { return this.t[this.i]!; }
  private peek(k = 1): Token { return this.t[Math.min(this.i + k, this.t.length - 1)]!; }
  private next(): Token { const t = this.tok; if (t.kind !== 'eof') this.i++; return t; }
  /** End offset of the last consumed token. */
  private get lastEnd(): number { return this.i === 0 ? 0 : this.t[this.i - 1]!.end; }

  atEnd(): boolean { return this.tok.kind === 'eof'; }

  private isWord(w: string, k = 0): boolean { const t = this.peek(k); return t.kind === 'word' && t.upper === w; }
  private isOp(op: string, k = 0): boolean { const t = this.peek(k); return t.kind === 'op' && t.text === op; }

  acceptOp(op: string): boolean { if (this.isOp(op)) { this.i++; return true; } return false; }
  private acceptWord(w: string): boolean { if (this.isWord(w)) { this.i++; return true; } return false; }

  private expectOp(op: string, what = `'${op}'`): Token {
    if (!this.isOp(op)) this.unexpected(what);
    return this.next();
  }

  private expectWord(w: string, what = w): Token {
    if (!this.isWord(w)) this.unexpected(what);
    return this.next();
  }

  unexpected(expected: string): never {
    const t = this.tok;
    sqlError(t.pos, `unexpected ${describeToken(t)}, expected ${expected}`);
  }

  /** A name: an unquoted non-reserved word or a quoted name. */
  private name(what: string): { name: string; pos: SqlPos } {
    const t = this.tok;
    if (t.kind === 'quoted') { this.i++; return { name: t.text, pos: t.pos }; }
    if (t.kind === 'word') {
      if (RESERVED.has(t.upper)) sqlError(t.pos, `unexpected ${describeToken(t)}, expected ${what} ('${t.text}' is a reserved word: quote it as \`${t.text}\` to use it as a name)`);
      this.i++;
      return { name: t.text, pos: t.pos };
    }
    this.unexpected(what);
  }

  private isNameStart(k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'quoted' || (t.kind === 'word' && !RESERVED.has(t.upper));
  }

  private stringLiteral(what: string): { value: string; pos: SqlPos } {
    const t = this.tok;
    if (t.kind !== 'string') this.unexpected(what);
    this.i++;
    return { value: t.text, pos: t.pos };
  }

  // ---- statements ----

  statement(): Statement {
    const t = this.tok;
    if (this.isWord('SELECT')) return this.select();
    if (this.isWord('INSERT')) {
      this.next();
      this.expectWord('INTO');
      const table = this.name('a table name');
      let columns: Array<{ name: string; pos: SqlPos }> | undefined;
      if (this.acceptOp('(')) {
        columns = [this.name('a column name')];
        while (this.acceptOp(',')) columns.push(this.name('a column name'));
        this.expectOp(')');
      }
      if (!this.isWord('SELECT')) this.unexpected('SELECT (INSERT INTO <table> SELECT …)');
      const query = this.select();
      return { kind: 'insert', pos: t.pos, table: table.name, tablePos: table.pos, ...(columns ? { columns } : {}), query };
    }
    if (this.isWord('CREATE')) return this.create();
    if (this.isWord('SET')) {
      this.next();
      const key = this.tok.kind === 'string' ? this.stringLiteral('a key').value : this.dottedName();
      this.expectOp('=');
      const vt = this.tok;
      let value: string;
      if (vt.kind === 'string' || vt.kind === 'number' || vt.kind === 'word') { this.next(); value = vt.text; } else this.unexpected('a value');
      return { kind: 'set', pos: t.pos, key, value };
    }
    this.unexpected('SELECT, INSERT INTO, CREATE TABLE, CREATE VIEW or SET');
  }

  private dottedName(): string {
    let s = this.name('a key').name;
    while (this.acceptOp('.')) s += `.${this.tok.kind === 'word' || this.tok.kind === 'quoted' ? this.next().text : this.unexpected('a key')}`;
    return s;
  }

  private create(): Statement {
    const pos = this.next().pos;
    const temporary = this.acceptWord('TEMPORARY');
    if (this.acceptWord('VIEW')) {
      const name = this.name('a view name');
      this.expectWord('AS');
      if (!this.isWord('SELECT')) this.unexpected('SELECT');
      return { kind: 'create-view', pos, name: name.name, temporary, query: this.select() };
    }
    this.expectWord('TABLE', 'TABLE or VIEW');
    let ifNotExists = false;
    if (this.acceptWord('IF')) { this.expectWord('NOT'); this.expectWord('EXISTS'); ifNotExists = true; }
    const name = this.name('a table name');
    this.expectOp('(');
    const columns: ColumnDef[] = [];
    let watermark: { column: string; pos: SqlPos; delayMs: number } | undefined;
    do {
      if (this.isWord('WATERMARK')) {
        const wpos = this.next().pos;
        this.expectWord('FOR');
        const col = this.name('the time column');
        this.expectWord('AS');
        const same = this.name('the time column');
        if (same.name !== col.name) sqlError(same.pos, `WATERMARK FOR ${col.name} AS … must be ${col.name} or ${col.name} - INTERVAL '…' <unit>`);
        let delayMs = 0;
        if (this.acceptOp('-')) {
          const iv = this.primary();
          if (iv.kind !== 'interval') sqlError(iv.pos, `expected an interval such as INTERVAL '5' SECOND after '-'`);
          delayMs = iv.ms;
        }
        watermark = { column: col.name, pos: wpos, delayMs };
        continue;
      }
      const c = this.name('a column name');
      columns.push({ name: c.name, pos: c.pos, type: this.typeName() });
    } while (this.acceptOp(','));
    this.expectOp(')', "',' or ')'");
    const options: Array<{ key: string; value: string; pos: SqlPos }> = [];
    if (this.acceptWord('WITH')) {
      this.expectOp('(');
      do {
        const k = this.stringLiteral("an option key in quotes, e.g. 'connector'");
        this.expectOp('=');
        const v = this.stringLiteral("an option value in quotes, e.g. 'kafka'");
        options.push({ key: k.value, value: v.value, pos: k.pos });
      } while (this.acceptOp(','));
      this.expectOp(')', "',' or ')'");
    }
    return { kind: 'create-table', pos, name: name.name, temporary, ifNotExists, columns, ...(watermark ? { watermark } : {}), options };
  }

  private typeName(): SqlType {
    const t = this.tok;
    if (t.kind !== 'word') this.unexpected('a type (STRING, DOUBLE, BIGINT, BOOLEAN, TIMESTAMP)');
    this.next();
    let text = t.text;
    if (this.acceptOp('(')) {
      const a = this.tok.kind === 'number' ? this.next().text : this.unexpected('a length or precision');
      let b = '';
      if (this.acceptOp(',')) b = `,${this.tok.kind === 'number' ? this.next().text : this.unexpected('a scale')}`;
      this.expectOp(')');
      text += `(${a}${b})`;
    }
    // TIMESTAMP(3) WITH LOCAL TIME ZONE, DOUBLE PRECISION
    if (t.upper === 'TIMESTAMP' && this.isWord('WITH')) { this.next(); this.acceptWord('LOCAL'); this.expectWord('TIME'); this.expectWord('ZONE'); }
    if (t.upper === 'TIMESTAMP' && this.isWord('WITHOUT')) { this.next(); this.expectWord('TIME'); this.expectWord('ZONE'); }
    if (t.upper === 'DOUBLE') this.acceptWord('PRECISION');
    const type = parseTypeName(text);
    if (!type) sqlError(t.pos, `unknown type '${text}' (use STRING, DOUBLE, BIGINT, BOOLEAN or TIMESTAMP)`);
    if (this.isWord('NOT') && this.isWord('NULL', 1)) { this.i += 2; }
    return type;
  }

  // ---- queries ----

  private select(): Select {
    const pos = this.expectWord('SELECT').pos;
    let distinct = false;
    if (this.acceptWord('DISTINCT')) distinct = true; else this.acceptWord('ALL');
    const items: SelectItem[] = [this.selectItem()];
    while (this.acceptOp(',')) items.push(this.selectItem());
    if (!this.isWord('FROM')) this.unexpected("',' or FROM");
    this.next();
    const from = this.fromItem();
    const q: Select = { kind: 'select', pos, distinct, items, from, groupBy: [] };
    if (this.acceptWord('WHERE')) q.where = this.expr();
    if (this.isWord('GROUP')) {
      this.next();
      this.expectWord('BY');
      q.groupBy.push(this.expr());
      while (this.acceptOp(',')) q.groupBy.push(this.expr());
    }
    if (this.acceptWord('HAVING')) q.having = this.expr();
    for (const w of ['ORDER', 'LIMIT', 'JOIN', 'UNION', 'LEFT', 'INNER', 'WINDOW']) {
      if (this.isWord(w)) sqlError(this.tok.pos, `${w} is not supported by rlink's streaming SQL (see docs/sql.md for the grammar)`);
    }
    if (this.isOp(',')) sqlError(this.tok.pos, "unexpected ',': joins of several tables (FROM a, b) are not supported");
    return q;
  }

  private selectItem(): SelectItem {
    const start = this.tok;
    if (this.isOp('*')) { this.next(); return { kind: 'star', pos: start.pos }; }
    if (this.isNameStart() && this.isOp('.', 1) && this.isOp('*', 2)) {
      const table = this.name('a table name').name;
      this.i += 2;
      return { kind: 'star', pos: start.pos, table };
    }
    const expr = this.expr();
    const text = this.src.slice(start.pos.offset, this.lastEnd);
    let alias: string | undefined;
    if (this.acceptWord('AS')) alias = this.aliasName();
    else if (this.isNameStart() && !this.isWord('FROM')) alias = this.aliasName();
    return { kind: 'expr', pos: start.pos, expr, text, ...(alias !== undefined ? { alias } : {}) };
  }

  /** After AS any word is a name, reserved or not (`COUNT(*) AS count`). */
  private aliasName(): string {
    const t = this.tok;
    if (t.kind === 'quoted' || t.kind === 'word') { this.i++; return t.text; }
    this.unexpected('a name after AS');
  }

  private optionalAlias(): string | undefined {
    if (this.acceptWord('AS')) return this.aliasName();
    if (this.isNameStart()) return this.name('an alias').name;
    return undefined;
  }

  private fromItem(): FromItem {
    const t = this.tok;
    if (this.isWord('TABLE') && this.isOp('(', 1)) {
      this.i += 2;
      const tvf = this.tvf();
      this.expectOp(')');
      const alias = this.optionalAlias();
      return alias !== undefined ? { ...tvf, alias } : tvf;
    }
    if (this.isOp('(')) {
      this.next();
      if (!this.isWord('SELECT')) this.unexpected('SELECT (a subquery)');
      const query = this.select();
      this.expectOp(')');
      const alias = this.optionalAlias();
      return { kind: 'subquery', pos: t.pos, query, ...(alias !== undefined ? { alias } : {}) };
    }
    const name = this.name('a table name');
    if (this.isOp('(')) sqlError(t.pos, `${name.name}(…) in FROM must be wrapped in TABLE(…): FROM TABLE(${name.name.toUpperCase()}(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))`);
    const alias = this.optionalAlias();
    return { kind: 'table', pos: t.pos, name: name.name, ...(alias !== undefined ? { alias } : {}) };
  }

  private tvf(): WindowTvf {
    const t = this.tok;
    const fn = t.kind === 'word' ? t.upper : '';
    if (fn !== 'TUMBLE' && fn !== 'HOP' && fn !== 'CUMULATE' && fn !== 'SESSION') this.unexpected('a windowing function: TUMBLE, HOP, CUMULATE or SESSION');
    this.next();
    this.expectOp('(');
    this.acceptNamedArg('DATA');
    if (!this.isWord('TABLE')) this.unexpected(`TABLE <name> (${fn}(TABLE t, DESCRIPTOR(ts), …))`);
    const tpos = this.next().pos;
    const tname = this.name('a table name');
    const input: FromItem = { kind: 'table', pos: tpos, name: tname.name };
    const partitionBy: Array<{ name: string; pos: SqlPos }> = [];
    if (this.isWord('PARTITION')) {
      this.next();
      this.expectWord('BY');
      const paren = this.acceptOp('(');
      partitionBy.push(this.name('a column name'));
      // Without parentheses the list ends where DESCRIPTOR (or TIMECOL =>) begins.
      while (this.isOp(',') && (paren || !(this.isWord('DESCRIPTOR', 1) || this.isWord('TIMECOL', 1)))) { this.next(); partitionBy.push(this.name('a column name')); }
      if (paren) this.expectOp(')');
    }
    this.expectOp(',', `',' DESCRIPTOR(<time column>)`);
    this.acceptNamedArg('TIMECOL');
    if (!this.isWord('DESCRIPTOR')) this.unexpected('DESCRIPTOR(<time column>)');
    this.next();
    this.expectOp('(');
    const timeColumn = this.name('the time column');
    this.expectOp(')');
    const intervals: Array<{ ms: number; pos: SqlPos }> = [];
    while (this.acceptOp(',')) {
      this.acceptNamedArg('SIZE') || this.acceptNamedArg('SLIDE') || this.acceptNamedArg('STEP') || this.acceptNamedArg('GAP') || this.acceptNamedArg('OFFSET');
      const e = this.primary();
      if (e.kind !== 'interval') sqlError(e.pos, `expected an interval such as INTERVAL '1' MINUTE, got ${this.src.slice(e.pos.offset, this.lastEnd)}`);
      intervals.push({ ms: e.ms, pos: e.pos });
    }
    this.expectOp(')', "',' or ')'");
    const want = fn === 'TUMBLE' || fn === 'SESSION' ? 1 : 2;
    if (intervals.length !== want) {
      const form = fn === 'TUMBLE' ? 'TUMBLE(TABLE t, DESCRIPTOR(ts), size)' : fn === 'HOP' ? 'HOP(TABLE t, DESCRIPTOR(ts), slide, size)'
        : fn === 'CUMULATE' ? 'CUMULATE(TABLE t, DESCRIPTOR(ts), step, maxSize)' : 'SESSION(TABLE t [PARTITION BY k], DESCRIPTOR(ts), gap)';
      sqlError(t.pos, `${fn} takes ${want} interval${want > 1 ? 's' : ''}, got ${intervals.length} (${form}; offsets are not supported)`);
    }
    return { kind: 'tvf', pos: t.pos, fn, input, timeColumn: { name: timeColumn.name, pos: timeColumn.pos }, intervals, partitionBy };
  }

  /** `NAME =>` before a table function argument (Flink's named arguments). */
  private acceptNamedArg(name: string): boolean {
    if (this.isWord(name) && this.isOp('=', 1) && this.isOp('>', 2)) { this.i += 3; return true; }
    return false;
  }

  // ---- expressions ----

  expr(): Expr { return this.disjunction(); }

  private disjunction(): Expr {
    let left = this.conjunction();
    while (this.isWord('OR')) {
      const pos = this.next().pos;
      left = { kind: 'binary', pos, op: 'OR', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Expr {
    let left = this.negation();
    while (this.isWord('AND')) {
      const pos = this.next().pos;
      left = { kind: 'binary', pos, op: 'AND', left, right: this.negation() };
    }
    return left;
  }

  private negation(): Expr {
    if (this.isWord('NOT')) {
      const pos = this.next().pos;
      return { kind: 'unary', pos, op: 'NOT', arg: this.negation() };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.additive();
    const t = this.tok;
    if (t.kind === 'op' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      const op = (t.text === '!=' ? '<>' : t.text) as BinaryOp;
      return { kind: 'binary', pos: t.pos, op, left, right: this.additive() };
    }
    if (this.isWord('IS')) {
      this.next();
      const not = this.acceptWord('NOT');
      if (this.acceptWord('NULL')) return { kind: 'isnull', pos: t.pos, arg: left, not };
      if (this.isWord('TRUE') || this.isWord('FALSE')) {
        const value = this.next().upper === 'TRUE';
        const cmp: Expr = { kind: 'binary', pos: t.pos, op: '=', left, right: { kind: 'literal', pos: t.pos, value, type: 'boolean' } };
        // IS TRUE is never null: null IS TRUE is false.
        const isTrue: Expr = { kind: 'call', pos: t.pos, name: 'COALESCE', args: [cmp, { kind: 'literal', pos: t.pos, value: false, type: 'boolean' }], distinct: false, star: false };
        return not ? { kind: 'unary', pos: t.pos, op: 'NOT', arg: isTrue } : isTrue;
      }
      this.unexpected('NULL, NOT NULL, TRUE or FALSE after IS');
    }
    const not = this.isWord('NOT') && (this.isWord('IN', 1) || this.isWord('BETWEEN', 1) || this.isWord('LIKE', 1));
    if (not) this.next();
    if (this.acceptWord('IN')) {
      this.expectOp('(');
      if (this.isWord('SELECT')) sqlError(this.tok.pos, 'IN (SELECT …) subqueries are not supported');
      const list = [this.expr()];
      while (this.acceptOp(',')) list.push(this.expr());
      this.expectOp(')', "',' or ')'");
      return { kind: 'in', pos: t.pos, arg: left, list, not };
    }
    if (this.acceptWord('BETWEEN')) {
      this.acceptWord('ASYMMETRIC');
      const low = this.additive();
      this.expectWord('AND');
      return { kind: 'between', pos: t.pos, arg: left, low, high: this.additive(), not };
    }
    if (this.acceptWord('LIKE')) return { kind: 'like', pos: t.pos, arg: left, pattern: this.additive(), not };
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.tok;
      if (t.kind === 'op' && (t.text === '+' || t.text === '-' || t.text === '||')) {
        this.next();
        left = { kind: 'binary', pos: t.pos, op: t.text as BinaryOp, left, right: this.multiplicative() };
      } else return left;
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.tok;
      if (t.kind === 'op' && (t.text === '*' || t.text === '/' || t.text === '%')) {
        this.next();
        left = { kind: 'binary', pos: t.pos, op: t.text as BinaryOp, left, right: this.unary() };
      } else return left;
    }
  }

  private unary(): Expr {
    const t = this.tok;
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      const arg = this.unary();
      if (t.text === '-' && arg.kind === 'literal' && typeof arg.value === 'number') return { ...arg, pos: t.pos, value: -arg.value };
      return { kind: 'unary', pos: t.pos, op: t.text, arg };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.tok;
    switch (t.kind) {
      case 'number': {
        this.next();
        const value = Number(t.text);
        return { kind: 'literal', pos: t.pos, value, type: /^\d+$/.test(t.text) && Number.isSafeInteger(value) ? 'bigint' : 'double' };
      }
      case 'string': this.next(); return { kind: 'literal', pos: t.pos, value: t.text, type: 'string' };
      case 'quoted': return this.nameOrCall();
      case 'op':
        if (t.text === '(') {
          this.next();
          if (this.isWord('SELECT')) sqlError(this.tok.pos, 'scalar subqueries are not supported');
          const e = this.expr();
          this.expectOp(')');
          return e;
        }
        this.unexpected('an expression');
      case 'eof': this.unexpected('an expression');
      case 'word': break;
    }
    switch (t.upper) {
      case 'NULL': this.next(); return { kind: 'literal', pos: t.pos, value: null, type: 'null' };
      case 'TRUE': case 'FALSE': this.next(); return { kind: 'literal', pos: t.pos, value: t.upper === 'TRUE', type: 'boolean' };
      case 'INTERVAL': return this.interval();
      case 'CASE': return this.caseExpr();
      case 'CAST': {
        this.next();
        this.expectOp('(');
        const arg = this.expr();
        this.expectWord('AS');
        const type = this.typeName();
        this.expectOp(')');
        return { kind: 'cast', pos: t.pos, arg, type };
      }
      case 'TIMESTAMP':
        if (this.peek().kind === 'string') {
          this.next();
          const s = this.stringLiteral('a timestamp');
          const ms = parseTimestamp(s.value);
          if (!Number.isFinite(ms)) sqlError(s.pos, `'${s.value}' is not a timestamp (use 'yyyy-MM-dd HH:mm:ss[.SSS]', UTC)`);
          return { kind: 'literal', pos: t.pos, value: ms, type: 'timestamp' };
        }
        break;
      default:
        if (RESERVED.has(t.upper)) this.unexpected(`an expression ('${t.text}' is a reserved word: quote it as \`${t.text}\` to use it as a name)`);
    }
    return this.nameOrCall();
  }

  private interval(): Expr {
    const pos = this.next().pos;
    const neg = this.acceptOp('-');
    const s = this.tok.kind === 'number' ? { value: this.next().text, pos } : this.stringLiteral("a quoted amount, e.g. INTERVAL '20' SECOND");
    const amount = Number(s.value.trim());
    if (s.value.trim() === '' || !Number.isFinite(amount) || amount < 0) sqlError(s.pos, `'${s.value}' is not an interval amount (write e.g. INTERVAL '20' SECOND)`);
    const u = this.tok;
    const unit = u.kind === 'word' ? u.upper : '';
    if (unit === 'MONTH' || unit === 'YEAR' || unit === 'MONTHS' || unit === 'YEARS') sqlError(u.pos, `INTERVAL … ${unit}: months and years have no fixed length; use DAY, HOUR, MINUTE, SECOND or MILLISECOND`);
    const f = UNIT_MS[unit];
    if (f === undefined) this.unexpected('a unit: DAY, HOUR, MINUTE, SECOND or MILLISECOND');
    this.next();
    const ms = Math.round(amount * f) * (neg ? -1 : 1);
    return { kind: 'interval', pos, ms, text: this.src.slice(pos.offset, this.lastEnd) };
  }

  private caseExpr(): Expr {
    const pos = this.next().pos;
    const operand = this.isWord('WHEN') ? undefined : this.expr();
    const whens: Array<{ when: Expr; then: Expr }> = [];
    while (this.acceptWord('WHEN')) {
      const when = this.expr();
      this.expectWord('THEN');
      whens.push({ when, then: this.expr() });
    }
    if (whens.length === 0) this.unexpected('WHEN');
    const otherwise = this.acceptWord('ELSE') ? this.expr() : undefined;
    this.expectWord('END', 'WHEN, ELSE or END');
    return { kind: 'case', pos, ...(operand ? { operand } : {}), whens, ...(otherwise ? { else: otherwise } : {}) };
  }

  private nameOrCall(): Expr {
    const t = this.tok;
    const first = this.name('an expression');
    if (this.isOp('(') && t.kind === 'word') {
      this.next();
      const name = t.upper;
      if (this.acceptOp(')')) return { kind: 'call', pos: t.pos, name, args: [], distinct: false, star: false };
      if (this.isOp('*') && this.isOp(')', 1)) { this.i += 2; return { kind: 'call', pos: t.pos, name, args: [], distinct: false, star: true }; }
      const distinct = this.acceptWord('DISTINCT');
      if (!distinct) this.acceptWord('ALL');
      const args = [this.expr()];
      if (name === 'SUBSTRING' && this.isWord('FROM')) {
        this.next();
        args.push(this.expr());
        if (this.acceptWord('FOR')) args.push(this.expr());
      } else {
        while (this.acceptOp(',')) args.push(this.expr());
      }
      this.expectOp(')', "',' or ')'");
      return { kind: 'call', pos: t.pos, name, args, distinct, star: false };
    }
    if (this.isOp('.') && this.isNameStart(1)) {
      this.next();
      const col = this.name('a column name');
      return { kind: 'column', pos: t.pos, name: col.name, table: first.name };
    }
    return { kind: 'column', pos: t.pos, name: first.name };
  }
}
