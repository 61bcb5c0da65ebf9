import { createHash } from 'node:crypto';
import type { ConnectorContext, Sink } from '../../core/api/connector';
import { RlinkError } from '../../core/errors';
import { describeEndpoint, hostPort, parseEndpoint, type ConnectionObject, type Endpoint } from '../store/endpoint';
import { flagOption, resolveBatchOptions, resolveUpsertKey, type StoreBatchOptions } from '../store/options';
import { planWrite, type Statement } from '../store/sql';
import { ConnectionSlot, SqlSinkWriter, type SqlConnection, type SqlSinkSettings } from '../store/sql-writer';
import { POSTGRES_DEFAULT_PORT, PostgresDriver } from './client';

/** Options of {@link postgresSink} (`sinks.postgres`). */
export interface PostgresSinkOptions extends StoreBatchOptions {
  /** `postgres://user:password@host:5432/database` (`postgresql://` too), or `{ host, port, user, password, database }`. */
  connection: string | ConnectionObject;
  /** The table to write, `name` or `schema.name` (SQL rules: unquoted names are folded to lower case). It must exist. */
  table: string;
  /**
   * The record field(s) that identify a row: the table's primary key or a unique index. Rows are then
   * upserted (`INSERT … ON CONFLICT (key) DO UPDATE`), so a replay after a restore overwrites what it
   * wrote before: exactly-once in effect. Records of an updating stream (`op` '-D') delete their key's
   * row, '-U' records are skipped. Without it, records are inserted: at-least-once (a replay inserts
   * again), unless `transactional`.
   */
  upsertKey?: string | string[];
  /**
   * Two-phase commit: the records of each checkpoint interval go into one transaction per subtask,
   * prepared (`PREPARE TRANSACTION`) when the checkpoint barrier passes the sink and committed
   * (`COMMIT PREPARED`) when the checkpoint has completed; readers see them only then. Exactly once
   * with or without an upsertKey. Needs `max_prepared_transactions` > 0 on the server. Default false.
   */
  transactional?: boolean;
  /**
   * transactional: the prefix of the prepared transactions' ids (default: the job id). Set it when a
   * new job restores a savepoint of an old one, so the old job's lingering prepared transactions are
   * found and rolled back; two jobs writing at the same time must use different prefixes.
   */
  transactionIdPrefix?: string;
}

/** What the transactional sink's `prepareCommit` returns (kept in checkpoints): one prepared transaction. */
export interface PostgresCommittable {
  /** The prepared transaction's id: `rlink-<prefix>-<operator>-<subtask>-<checkpoint>-a<attempt>`. */
  gid: string;
  checkpointId: number;
  /** Rows written or deleted in it. */
  rows: number;
}

/**
 * `sinks.postgres`: writes records as rows of an existing table, one column per field (a field with
 * no column is an error), in batches, retrying transient failures with back-off. See
 * {@link PostgresSinkOptions} for the three guarantees: upserts by `upsertKey`, inserts, and
 * `transactional` two-phase commit.
 */
export function postgresSink<T = unknown>(opts: PostgresSinkOptions): Sink<T> {
  const what = 'postgres sink';
  if (!opts || typeof opts !== 'object') throw new RlinkError('RLINK_CONFIG', `${what}: options { connection, table } are required`);
  const endpoint = parseEndpoint(what, opts.connection, ['postgres', 'postgresql'], POSTGRES_DEFAULT_PORT);
  if (typeof opts.table !== 'string' || opts.table.trim() === '') throw new RlinkError('RLINK_CONFIG', `${what}: option "table" is required (a table name)`);
  const upsertKey = resolveUpsertKey(what, opts.upsertKey);
  const batch = resolveBatchOptions(what, opts);
  const transactionalOption = flagOption(opts.transactional);
  if (transactionalOption !== undefined && typeof transactionalOption !== 'boolean') throw new RlinkError('RLINK_CONFIG', `${what}: transactional must be true or false`);
  const prefix = opts.transactionIdPrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix))) {
    throw new RlinkError('RLINK_CONFIG', `${what}: transactionIdPrefix must be 1-64 letters, digits, '_', '.', ':' or '-', not ${JSON.stringify(prefix)}`);
  }
  const transactional = transactionalOption === true;
  const settings: SqlSinkSettings = {
    what, endpoint, table: opts.table.trim(), upsertKey, batch,
    keyHint: 'add one, e.g. ALTER TABLE t ADD PRIMARY KEY (…)',
  };
  // acceptsUpdates (core/api/changelog.ts): with an upsertKey, an update stream is applied by key; without, SQL refuses one.
  const sink: Sink<T> = {
    kind: 'postgres',
    acceptsUpdates: upsertKey !== undefined,
    describe: () => ({
      kind: 'postgres', connection: describeEndpoint(endpoint), table: settings.table, upsertKey: upsertKey ?? null,
      guarantee: guaranteeOf(transactional, upsertKey), batchSize: batch.batchSize, flushIntervalMs: batch.flushIntervalMs,
    }),
    createWriter: (ctx) => (transactional
      ? new TransactionalPostgresWriter<T>(settings, endpoint, prefix, ctx)
      : new SqlSinkWriter<T>(settings, new PostgresDriver(endpoint), ctx)),
  };
  return sink;
}

function guaranteeOf(transactional: boolean, upsertKey: string[] | undefined): string {
  if (transactional) return 'exactly-once (two-phase commit)';
  return upsertKey ? 'exactly-once (idempotent upserts)' : 'at-least-once';
}

/** Rows of the open transaction kept in memory to write them again when its connection breaks. */
const REPLAY_LIMIT = 200_000;
/** How long a write waits for a row lock (e.g. held by a prepared transaction) before it is retried. */
const LOCK_TIMEOUT = '10s';
const GID_PATTERN = /^(\d+)-(\d+)-a(\d+)$/;

/**
 * `transactional: true`: Flink's two-phase commit over PostgreSQL's prepared transactions.
 *
 *   first write after checkpoint n−1   BEGIN on the writer's connection; batches go into the transaction
 *   checkpoint n (barrier)             prepareCommit: write the rest, PREPARE TRANSACTION '<gid>'; the gid
 *                                      goes into checkpoint n, the rows stay invisible
 *   checkpoint n completed             commit: COMMIT PREPARED '<gid>' (on a second connection); one that
 *                                      no longer exists was committed before: a no-op
 *   restore from K                     ROLLBACK PREPARED every prepared transaction of this sink (and
 *                                      subtask, and the old subtasks k + p, k + 2p, … after a rescale)
 *                                      that K does not list; then the operator commits those K lists
 *
 * gid = `rlink-<prefix>-<operator id>-<subtask>-<checkpoint id>-a<attempt>`: every transaction has its
 * own, so committing again after a failure can never commit another one; the attempt tells a
 * transaction that a task of a failed attempt prepared late (it never belongs to a checkpoint of the
 * running attempt) from this attempt's: such ones are rolled back at each commit.
 *
 * Retries: a prepared transaction survives the server and the connection; the open one does not. So
 * the batches written into it are kept (up to {@link REPLAY_LIMIT} rows) and written again into a
 * new transaction when its connection breaks; beyond the limit a lost connection fails the subtask
 * (the job then restarts from its checkpoint). A connection lost during PREPARE is checked against
 * `pg_prepared_xacts` before anything is written again.
 *
 * Locks: rows written by a prepared transaction stay locked until it is committed. While any of this
 * writer's transactions waits for its commit, new batches are only buffered, so no write waits for a
 * lock that only the (pending) "checkpoint complete" could release.
 */
export class TransactionalPostgresWriter<T> extends SqlSinkWriter<T> {
  private readonly control: ConnectionSlot;
  /** The generation of the main connection the open transaction lives on (undefined: none open). */
  private txnOn: number | undefined;
  /** Batches written into the open transaction; undefined once there were more than REPLAY_LIMIT rows. */
  private replay: Statement[][] | undefined = [];
  private replayRows = 0;
  private txnRows = 0;
  /** Prepared by this writer, not yet committed. */
  private readonly pending = new Set<string>();
  /** Listed by the checkpoint this writer was restored from: committed by the operator, never rolled back. */
  private known = new Set<string>();
  private readonly base: string;

  constructor(s: SqlSinkSettings, endpoint: Endpoint, prefix: string | undefined, ctx: ConnectorContext) {
    super(s, new PostgresDriver(endpoint), ctx);
    this.control = new ConnectionSlot(() => this.driver.connect());
    let base = `rlink-${prefix ?? ctx.jobId}-${ctx.operatorId.replace(/[^A-Za-z0-9_.:-]/g, '_')}`;
    // PostgreSQL's gids are at most 200 bytes: a long operator id is shortened to a hash.
    if (base.length > 150) base = `rlink-${createHash('sha1').update(base).digest('hex')}`;
    this.base = base;
  }

  /** The id of the transaction subtask `subtask` prepares for checkpoint `checkpointId` in `attempt`. */
  gid(subtask: number, checkpointId: number, attempt: number): string { return `${this.base}-${subtask}-${checkpointId}-a${attempt}`; }

  override async open(restored?: unknown): Promise<void> {
    await super.open(restored);
    const setting = await this.withConnection('connect', (c) => c.query<{ max_prepared_transactions: string }>('SHOW max_prepared_transactions'), this.control);
    const max = Number(setting[0]?.max_prepared_transactions ?? 0);
    if (!(max > 0)) {
      throw new RlinkError('RLINK_CONFIG', `${this.s.what}: transactional writes need max_prepared_transactions > 0 on ${hostPort(this.s.endpoint)} (it is ${max}): set it in postgresql.conf and restart the server`,
        { context: { host: hostPort(this.s.endpoint) } });
    }
    this.known = new Set(restoredCommittables(restored).map((c) => c.gid));
    const rolledBack = await this.rollBackLingering(true);
    this.ctx.logger.info({ event: 'sink.open', prepared: this.known.size, rolledBack },
      `${this.target}: two-phase commit with prepared transactions ${this.base}-${this.ctx.subtaskIndex}-…` +
      (rolledBack.length > 0 ? `; rolled back ${rolledBack.length} left by a failed attempt (${rolledBack.join(', ')})` : ''));
  }

  protected override openConnection(): Promise<SqlConnection> {
    return this.driver.connect().then(async (c) => {
      await c.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`);
      return c;
    });
  }

  protected override canFlush(): boolean { return this.pending.size === 0; }

  protected override async flush(batch: T[]): Promise<void> {
    const { statements, rows } = planWrite(batch, this.plan);
    if (statements.length === 0) return;
    await this.withConnection('write', async (conn) => {
      await this.ensureTransaction(conn);
      for (const st of statements) await conn.query(st.text, st.values);
    });
    this.txnRows += rows;
    if (this.replay) {
      this.replayRows += rows;
      if (this.replayRows > REPLAY_LIMIT) {
        this.replay = undefined;
        this.ctx.logger.info({ rows: this.replayRows }, `${this.target}: more than ${REPLAY_LIMIT} rows in the open transaction: a lost connection now fails the subtask (the job restarts from its checkpoint)`);
      } else {
        this.replay.push(statements);
      }
    }
  }

  override async prepareCommit(checkpointId: number): Promise<PostgresCommittable | null> {
    await this.batcher.drain();
    if (this.txnRows === 0 && this.txnOn === undefined) return null;
    const gid = this.gid(this.ctx.subtaskIndex, checkpointId, this.ctx.attempt);
    await this.withConnection('prepare', async (conn) => {
      if (this.txnOn !== this.main.current) {
        // The connection broke since the last write, perhaps during an earlier PREPARE of this gid.
        if ((await conn.query('SELECT 1 FROM pg_prepared_xacts WHERE gid = $1', [gid])).length > 0) return;
        await this.ensureTransaction(conn);
      }
      await conn.query(`PREPARE TRANSACTION '${gid}'`);
    });
    const rows = this.txnRows;
    this.txnOn = undefined;
    this.replay = [];
    this.replayRows = 0;
    this.txnRows = 0;
    this.pending.add(gid);
    this.ctx.logger.debug({ gid, checkpointId, rows }, `${this.target}: prepared ${gid} (${rows} rows)`);
    return { gid, checkpointId, rows };
  }

  override async commit(committables: unknown[]): Promise<void> {
    const list = committables.filter(isCommittable).sort((a, b) => a.checkpointId - b.checkpointId);
    for (const c of list) {
      const done = await this.withConnection('commit', async (conn) => {
        try {
          await conn.query(`COMMIT PREPARED '${c.gid}'`);
          return true;
        } catch (e) {
          if ((e as { code?: unknown }).code === '42704') return false; // no such prepared transaction
          throw e;
        }
      }, this.control);
      this.pending.delete(c.gid);
      this.known.delete(c.gid);
      if (done) this.ctx.logger.debug({ gid: c.gid, checkpointId: c.checkpointId, rows: c.rows }, `${this.target}: committed ${c.gid}`);
      else this.ctx.logger.info({ gid: c.gid, checkpointId: c.checkpointId }, `${this.target}: ${c.gid} (checkpoint ${c.checkpointId}) is already committed`);
    }
    if (list.length > 0 && this.ctx.attempt > 0) {
      const late = await this.rollBackLingering(false);
      if (late.length > 0) this.ctx.logger.warn({ gids: late }, `${this.target}: rolled back ${late.length} prepared transaction(s) of an earlier attempt: ${late.join(', ')}`);
    }
    this.batcher.poke();
  }

  override async close(): Promise<void> {
    await super.close(); // closing the connection aborts a transaction not prepared: it belongs to no checkpoint
    await this.control.drop();
  }

  /** Begins the transaction on `conn` unless it is open there; after a lost connection, writes its batches again. */
  private async ensureTransaction(conn: SqlConnection): Promise<void> {
    if (this.txnOn === this.main.current) return;
    if (this.txnOn !== undefined || this.txnRows > 0) {
      if (!this.replay) {
        throw new RlinkError('RLINK_NETWORK', `${this.target}: the connection broke with ${this.txnRows} rows in the open transaction, more than can be written again (${REPLAY_LIMIT}); the job restarts from its last checkpoint`,
          { retriable: true, context: { host: hostPort(this.s.endpoint) } });
      }
    }
    this.txnOn = undefined;
    await conn.query('BEGIN');
    for (const statements of this.replay ?? []) for (const st of statements) await conn.query(st.text, st.values);
    this.txnOn = this.main.current;
  }

  /**
   * Rolls back this sink's prepared transactions that nothing will commit: those of this subtask (and
   * of old subtasks k + p, k + 2p, …) not listed by the restored checkpoint and not prepared by this
   * writer; with `all` false only those of earlier attempts. Returns their gids.
   */
  private async rollBackLingering(all: boolean): Promise<string[]> {
    const { subtaskIndex: k, parallelism: p, attempt } = this.ctx;
    const prefix = `${this.base}-`;
    const rows = await this.withConnection('commit', (c) => c.query<{ gid: string }>(
      'SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)', [prefix]), this.control);
    const out: string[] = [];
    for (const { gid } of rows) {
      const m = GID_PATTERN.exec(gid.slice(prefix.length));
      if (!m) continue;
      const subtask = Number(m[1]);
      if (subtask % p !== k || this.known.has(gid) || this.pending.has(gid)) continue;
      if (!all && Number(m[3]) >= attempt) continue;
      await this.withConnection('commit', async (c) => {
        await c.query(`ROLLBACK PREPARED '${gid}'`).catch((e: unknown) => { if ((e as { code?: unknown }).code !== '42704') throw e; });
      }, this.control);
      out.push(gid);
    }
    return out;
  }
}

/** The committables in a restored sink state `{ prepared: [[checkpointId, committable], …] }`. */
function restoredCommittables(restored: unknown): PostgresCommittable[] {
  const prepared = (restored as { prepared?: unknown } | undefined)?.prepared;
  if (!Array.isArray(prepared)) return [];
  return prepared.map((e) => (Array.isArray(e) ? e[1] : e)).filter(isCommittable);
}

function isCommittable(c: unknown): c is PostgresCommittable {
  if (!c || typeof c !== 'object') return false;
  const o = c as Partial<PostgresCommittable>;
  return typeof o.gid === 'string' && /^[A-Za-z0-9_.:-]+$/.test(o.gid) && typeof o.checkpointId === 'number';
}
