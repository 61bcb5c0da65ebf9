/**
 * The SQL lexer: text → tokens with positions. Words are not split into keywords and identifiers
 * here: the parser decides from context (so `timestamp` and `value` can be column names, as in
 * rlink-rs's README query), and only a few reserved words can never be an unquoted name.
 *
 *   word      [A-Za-z_][A-Za-z0-9_$]*              upper-cased copy in `upper`
 *   quoted    `name` or "name"                     (a doubled quote inside escapes it)
 *   string    'text'                               ('' inside escapes a quote)
 *   number    12  1.5  .5  1e3  1.5E-2
 *   op        ( ) , . ; * + - / % = <> != < <= > >= ||
 *   eof
 *
 * Comments: `-- …` to the end of the line, and `/* … *\/`.
 */
import { sqlError, type SqlPos } from './errors';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The value: a word or name as written, a string's content, a number's digits, an operator. */
  text: string;
  /** Words: the upper-cased text (keyword matching); others: same as text. */
  upper: string;
  pos: SqlPos;
  /** Offset just past the token. */
  end: number;
}

const OPERATORS = ['<>', '!=', '<=', '>=', '||', '(', ')', ',', '.', ';', '*', '+', '-', '/', '%', '=', '<', '>'];

/** How a token reads in an error message: `'FROM'`, `end of input`, `string 'abc'`. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of input';
    case 'string': return `string '${t.text.length > 30 ? `${t.text.slice(0, 30)}…` : t.text}'`;
    case 'quoted': return `\`${t.text}\``;
    default: return `'${t.text}'`;
  }
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = sql.length;
  const posAt = (offset: number): SqlPos => ({ line, column: offset - lineStart + 1, offset });
  /** Advances over `text` from `from` to `to`, counting the newlines in it. */
  const skipTo = (from: number, to: number): void => {
    for (let j = from; j < to; j++) if (sql.charCodeAt(j) === 10) { line++; lineStart = j + 1; }
    i = to;
  };

  while (i < n) {
    const c = sql[i]!;
    if (c === '\n') { line++; i++; lineStart = i; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\ufeff') { i++; continue; }
    if (c === '-' && sql[i + 1] === '-') { while (i < n && sql[i] !== '\n') i++; continue; }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) sqlError(posAt(i), 'unterminated comment /* … (no closing */)');
      skipTo(i, close + 2);
      continue;
    }
    const pos = posAt(i);
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const text = sql.slice(i, j);
      tokens.push({ kind: 'word', text, upper: text.toUpperCase(), pos, end: j });
      i = j;
      continue;
    }
    if (c === '`' || c === '"') {
      const { text, end } = readQuoted(sql, i, c, pos, c === '`' ? 'quoted name' : 'quoted name');
      if (text === '') sqlError(pos, 'empty quoted name');
      tokens.push({ kind: 'quoted', text, upper: text, pos, end });
      skipTo(i, end);
      continue;
    }
    if (c === '\'') {
      const { text, end } = readQuoted(sql, i, '\'', pos, 'string');
      tokens.push({ kind: 'string', text, upper: text, pos, end });
      skipTo(i, end);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i, i + 64))!;
      let j = i + m[0].length;
      if (j < n && /[A-Za-z_]/.test(sql[j]!)) {
        while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
        sqlError(pos, `'${sql.slice(i, j)}' is not a number (a name cannot start with a digit: quote it as \`${sql.slice(i, j)}\`)`);
      }
      tokens.push({ kind: 'number', text: m[0], upper: m[0], pos, end: j });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => sql.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, upper: op, pos, end: i + op.length });
      i += op.length;
      continue;
    }
    sqlError(pos, `unexpected character '${c}'`);
  }
  // The end of input is reported right after the last token (not after trailing blank lines).
  const last = tokens.length > 0 ? tokens[tokens.length - 1]!.end : 0;
  let l = 1, ls = 0;
  for (let j = 0; j < last; j++) if (sql.charCodeAt(j) === 10) { l++; ls = j + 1; }
  tokens.push({ kind: 'eof', text: '', upper: '', pos: { line: l, column: last - ls + 1, offset: last }, end: last });
  return tokens;
}

/** Reads a quoted token starting at `start` (the opening quote); a doubled quote is one quote. */
function readQuoted(sql: string, start: number, q: string, pos: SqlPos, what: string): { text: string; end: number } {
  let out = '';
  let j = start + 1;
  for (;;) {
    const k = sql.indexOf(q, j);
    if (k < 0) sqlError(pos, `unterminated ${what} starting with ${q}${sql.slice(start + 1, start + 21)}${sql.length > start + 21 ? '…' : ''}`);
    out += sql.slice(j, k);
    if (sql[k + 1] === q) { out += q; j = k + 2; continue; }
    return { text: out, end: k + 1 };
  }
}
