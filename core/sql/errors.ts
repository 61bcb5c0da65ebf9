import { RlinkError } from '../errors';

/** Where a token or an AST node starts in the SQL text: 1-based line and column, 0-based offset. */
export interface SqlPos {
  line: number;
  column: number;
  offset: number;
}

/**
 * A parse or planning error: RLINK_SQL, its message naming the line, the column and (in the caller's
 * words) the offending token, e.g. `SQL: line 1, column 8: unknown column 'nmae' (columns: name, value, ts)`.
 * The position is also in `context.line`; `column` is kept on the error for tools.
 */
export class SqlError extends RlinkError {
  readonly line: number;
  readonly column: number;
  readonly reason: string;

  constructor(pos: SqlPos, reason: string) {
    super('RLINK_SQL', `SQL: line ${pos.line}, column ${pos.column}: ${reason}`, { context: { line: pos.line } });
    this.line = pos.line;
    this.column = pos.column;
    this.reason = reason;
  }
}

/** Throws a {@link SqlError} at `pos`. */
export function sqlError(pos: SqlPos, reason: string): never {
  throw new SqlError(pos, reason);
}
