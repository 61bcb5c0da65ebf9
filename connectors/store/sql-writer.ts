/**
 * The sink writer the PostgreSQL and MySQL sinks share (the transactional PostgreSQL writer extends
 * it): batches of records written with retries, as upserts keyed by `upsertKey` (exactly-once in
 * effect: a replay after a restore writes the same rows again, which overwrites them) or as plain
 * inserts (at-least-once: a replay inserts them again).
 *
 *   open       connect (retried), read the table's columns and unique keys, check upsertKey
 *   write      buffer (Batcher) ─▶ batch ─▶ planWrite ─▶ statements, in one transaction when several
 *   checkpoint every buffered record written (prepareCommit waits for it): the checkpoint covers them
 */
import type { ConnectorContext, SinkWriter } from '../../core/api/connector';
import { RlinkError, errorMessage } from '../../core/errors';
import { RateLimitedLog } from '../../core/util/rate-limited-log';
import { Batcher } from './batcher';
import { describeEndpoint, hostPort, type Endpoint } from './endpoint';
import type { ResolvedBatchOptions } from './options';
import { withRetries, formatMs } from './retry';
import { ColumnMapper, planWrite, resolveKeyColumns, type PlanContext, type SqlDialect, type SqlTable, type Statement } from './sql';
import { OP_FIELD } from './changelog';

/** One connection to the database. */
export interface SqlConnection {
  /** Runs a statement; resolves with its rows (none for writes). */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** The connection broke (an error event, the server went away): it is not used again. */
  readonly broken: boolean;
  close(): Promise<void>;
}

/** What differs between the databases, behind one interface. */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** `BEGIN` or `START TRANSACTION`. */
  readonly begin: string;
  /** Opens a connection (rejects with the client's error). */
  connect(): Promise<SqlConnection>;
  /** The table `name` as the database describes it; RLINK_CONFIG when it does not exist. */
  describeTable(conn: SqlConnection, name: string): Promise<SqlTable>;
  /** Whether a failure may go away by itself: a lost connection, a server starting or stopping, a deadlock. */
  isTransient(e: unknown): boolean;
  /** A driver error in one line, with the database's error code. */
  describeError(e: unknown): string;
}

export interface SqlSinkSettings {
  /** `postgres sink`, `mysql sink`: how messages start. */
  what: string;
  endpoint: Endpoint;
  table: string;
  upsertKey: string[] | undefined;
  batch: ResolvedBatchOptions;
  /** How to add the unique index an upsertKey needs, in this database's words (for the error). */
  keyHint: string;
}

export class SqlSinkWriter<T> implements SinkWriter<T> {
  /** The writer's connection. */
  protected readonly main: ConnectionSlot;
  protected plan!: PlanContext;
  protected readonly batcher: Batcher<T>;
  protected closed = false;
  protected readonly retryLog: RateLimitedLog;
  /** `postgres sink (table counts on rlink@127.0.0.1:5432/db)` */
  protected readonly target: string;

  constructor(protected readonly s: SqlSinkSettings, protected readonly driver: SqlDriver, protected readonly ctx: ConnectorContext) {
    this.target = `${s.what} (table ${s.table} on ${describeEndpoint(s.endpoint)})`;
    this.retryLog = new RateLimitedLog(ctx.logger, 'store.retry', 5, 10_000);
    this.main = new ConnectionSlot(() => this.openConnection());
    this.batcher = new Batcher<T>({
      batchSize: s.batch.batchSize, flushIntervalMs: s.batch.flushIntervalMs,
      flush: (batch) => this.flush(batch), canFlush: () => this.canFlush(),
    });
  }

  async open(_restored?: unknown): Promise<void> {
    const table = await this.withConnection('connect', async (conn) => this.driver.describeTable(conn, this.s.table));
    const mapper = new ColumnMapper(table, this.s.what);
    const keyFields = this.s.upsertKey;
    const keyColumns = keyFields ? resolveKeyColumns(this.s.what, mapper, keyFields, this.s.keyHint) : undefined;
    this.plan = { what: this.s.what, dialect: this.driver.dialect, mapper, keyFields, keyColumns, opColumn: !keyFields && mapper.has(OP_FIELD) };
    this.ctx.logger.info({ event: 'sink.open', table: table.display, host: hostPort(this.s.endpoint), upsertKey: keyColumns ?? null },
      `${this.target}: ${keyColumns ? `upserts keyed by (${keyColumns.join(', ')})` : 'inserts'}, batches of ${this.s.batch.batchSize}`);
  }

  write(values: T[]): Promise<void> | void {
    return this.batcher.add(values);
  }

  async prepareCommit(_checkpointId: number): Promise<unknown> {
    await this.batcher.drain();
    return null;
  }

  commit(_committables: unknown[]): Promise<void> | void {}

  async close(): Promise<void> {
    this.closed = true;
    await this.batcher.close();
    await this.main.drop();
  }

  /** Opens a connection of the writer (subclasses set session options here). */
  protected openConnection(): Promise<SqlConnection> { return this.driver.connect(); }

  // ---- writing ----

  protected canFlush(): boolean { return true; }

  /** Writes one batch: its statements, in one transaction when there are several; retried as a whole. */
  protected async flush(batch: T[]): Promise<void> {
    const { statements } = planWrite(batch, this.plan);
    if (statements.length === 0) return;
    await this.withConnection('write', (conn) => this.run(conn, statements, statements.length > 1));
  }

  /** Runs statements, in a transaction of their own when `atomic` (rolled back when one fails). */
  protected async run(conn: SqlConnection, statements: Statement[], atomic: boolean): Promise<void> {
    if (!atomic) {
      for (const st of statements) await conn.query(st.text, st.values);
      return;
    }
    await conn.query(this.driver.begin);
    try {
      for (const st of statements) await conn.query(st.text, st.values);
      await conn.query('COMMIT');
    } catch (e) {
      if (!conn.broken) await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  // ---- connections and retries ----

  /**
   * Runs `fn` on a live connection of `slot` (the writer's own by default), retrying transient failures
   * — on a new connection each time — for up to `retryTimeout`. `step` names what failed in the final
   * error: `connect` (the subtask's first connection), `write`, `prepare`, `commit`.
   */
  protected withConnection<R>(step: string, fn: (conn: SqlConnection) => Promise<R>, slot: ConnectionSlot = this.main): Promise<R> {
    const host = hostPort(this.s.endpoint);
    return withRetries(async () => {
      const conn = await slot.get().catch((e: unknown) => { throw new ConnectFailure(e); });
      return fn(conn);
    }, {
      timeoutMs: this.s.batch.retryTimeoutMs,
      closed: () => this.closed,
      isTransient: (e) => this.driver.isTransient(e instanceof ConnectFailure ? e.cause : e),
      onRetry: async (e, attempt, waitMs) => {
        const err = e instanceof ConnectFailure ? e.cause : e;
        const what = step === 'connect' || e instanceof ConnectFailure ? 'cannot connect' : `${step} failed`;
        this.retryLog.warn({ host, attempt, waitMs, error: this.driver.describeError(err) },
          `${this.target}: ${what} (${this.driver.describeError(err)}), retrying in ${formatMs(waitMs)}`);
        await slot.drop();
      },
      fail: (last, ms) => {
        const err = last instanceof ConnectFailure ? last.cause : last;
        const what = step === 'connect' || last instanceof ConnectFailure ? 'reach' : `${step} to`;
        return new RlinkError('RLINK_NETWORK',
          `${this.s.what}: cannot ${what} ${host} (${describeEndpoint(this.s.endpoint)}) within ${formatMs(ms)}, retried with back-off: ${this.driver.describeError(err)}`,
          { retriable: true, context: { host }, cause: err });
      },
    }).catch((e: unknown) => { throw this.failure(step, e); });
  }

  /** A final failure as an RlinkError naming the host and the cause. */
  protected failure(step: string, e: unknown): RlinkError {
    if (e instanceof RlinkError) return e;
    const host = hostPort(this.s.endpoint);
    if (e instanceof ConnectFailure) {
      return new RlinkError('RLINK_CONFIG', `${this.s.what}: cannot connect to ${host} (${describeEndpoint(this.s.endpoint)}): ${this.driver.describeError(e.cause)}`,
        { context: { host }, cause: e.cause });
    }
    return new RlinkError('RLINK_TASK_FAILED', `${this.target}: ${step} failed: ${this.driver.describeError(e)}`, { context: { host }, cause: e });
  }
}

/** A connection opened on demand and replaced when it broke. */
export class ConnectionSlot {
  private conn: SqlConnection | undefined;
  private generation = 0;

  constructor(private readonly open: () => Promise<SqlConnection>) {}

  /** Bumped for every new connection: work tied to a connection (a transaction) knows when it is gone. */
  get current(): number { return this.generation; }

  async get(): Promise<SqlConnection> {
    if (this.conn && !this.conn.broken) return this.conn;
    await this.drop();
    this.conn = await this.open();
    this.generation++;
    return this.conn;
  }

  async drop(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    if (c) await withTimeout(c.close(), 3_000);
  }
}

/** A failure to open a connection (as opposed to one of a statement). */
export class ConnectFailure extends Error {
  constructor(override readonly cause: unknown) { super(errorMessage(cause)); this.name = 'ConnectFailure'; }
}

export function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => { t = setTimeout(r, ms); })]).finally(() => clearTimeout(t));
}
