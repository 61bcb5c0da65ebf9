/**
 * Store sink throughput: rows per second through each sink writer (batches of 1000, one subtask),
 * from the first write until the checkpoint's prepareCommit (and, two-phase, the commit) is done,
 * against the test servers of test/stores/servers.ts on loopback (fsync off for PostgreSQL,
 * innodb_flush_log_at_trx_commit=2 for MariaDB, appendfsync everysec for Redis). Median of 3.
 *
 *   npm run bench -- store-sinks            # ROWS=200000 for more rows per run
 */
import type { Sink, SinkWriter } from '../core/api/connector';
import { testContext } from '../connectors/testing/context';
import { redisSink } from '../connectors/redis/sink';
import { postgresSink } from '../connectors/postgres/sink';
import { mysqlSink } from '../connectors/mysql/sink';
import { startMariadb, startPostgres, startRedis, storeAvailable, type StoreServer } from '../test/stores/servers';
import { mysqlQuery, pgQuery } from '../test/stores/tables';

const ROWS = Number(process.env.ROWS ?? 100_000);
const REPS = 3;

interface Row { key: number; windowStart: number; windowEnd: number; events: number; seqSum: number; lastSeq: number }
const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({ key: i % 1000, windowStart: Math.floor(i / 1000) * 10_000, windowEnd: Math.floor(i / 1000) * 10_000 + 10_000, events: i % 97, seqSum: i, lastSeq: i }));

async function measure(sink: Sink<Row>, attempt: number): Promise<number> {
  const w = sink.createWriter(testContext({ jobId: `bench${attempt}`, attempt: 0 })) as SinkWriter<Row>;
  await w.open();
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i += 1000) await w.write(rows.slice(i, i + 1000), []);
  const c = await w.prepareCommit(1);
  if (c) await w.commit([c]);
  const ms = performance.now() - t0;
  await w.close();
  return ROWS / (ms / 1000);
}

/** The same rows written by the client library alone, in the same batches: what the sink adds is the rest. */
async function measureRaw(write: (batch: Row[]) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i += 1000) await write(rows.slice(i, i + 1000));
  return ROWS / ((performance.now() - t0) / 1000);
}

async function bench(name: string, reset: () => Promise<void>, sink: () => Sink<Row>, raw?: (batch: Row[]) => Promise<void>): Promise<void> {
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await reset();
    rates.push(raw ? await measureRaw(raw) : await measure(sink(), r));
  }
  rates.sort((a, b) => a - b);
  process.stdout.write(`${name.padEnd(34)} ${Math.round(rates[1]!).toString().padStart(8)} rows/s   (runs: ${rates.map((x) => Math.round(x)).join(', ')})\n`);
}

const servers: StoreServer[] = [];
try {
  process.stdout.write(`store sinks: ${ROWS} rows per run, batches of 1000, median of ${REPS}\n`);
  if (storeAvailable('redis').ok) {
    const s = await startRedis();
    servers.push(s);
    const { Redis } = await import('ioredis');
    const flush = async () => { const c = new Redis(s.url); await c.flushall(); c.disconnect(); };
    await bench('redis set', flush, () => redisSink<Row>({ url: s.url, command: 'set', key: 'b:{key}:{windowStart}' }));
    await bench('redis hset (field per record)', flush, () => redisSink<Row>({ url: s.url, command: 'hset', key: 'b:{windowStart}', field: '{key}' }));
    await bench('redis xadd', flush, () => redisSink<Row>({ url: s.url, command: 'xadd', key: 'b' }));
    const client = new Redis(s.url);
    await bench('  raw ioredis pipeline of SET', flush, () => { throw new Error('raw'); }, async (batch) => {
      const p = client.pipeline();
      for (const r of batch) p.set(`b:${r.key}:${r.windowStart}`, JSON.stringify(r));
      await p.exec();
    });
    client.disconnect();
  }
  if (storeAvailable('postgres').ok) {
    const s = await startPostgres();
    servers.push(s);
    const reset = (pk: boolean) => async () => {
      await pgQuery(s, 'DROP TABLE IF EXISTS b');
      await pgQuery(s, `CREATE TABLE b (key int, windowStart bigint, windowEnd bigint, events bigint, seqSum bigint, lastSeq bigint${pk ? ', PRIMARY KEY (key, windowStart)' : ''})`);
    };
    await bench('postgres upsert', reset(true), () => postgresSink<Row>({ connection: s.url, table: 'b', upsertKey: ['key', 'windowStart'] }));
    await bench('postgres insert', reset(false), () => postgresSink<Row>({ connection: s.url, table: 'b' }));
    await bench('postgres transactional (2PC)', reset(false), () => postgresSink<Row>({ connection: s.url, table: 'b', transactional: true }));
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: s.url });
    await client.connect();
    await bench('  raw pg multi-row INSERT', reset(false), () => { throw new Error('raw'); }, async (batch) => {
      const values: unknown[] = [];
      const tuples = batch.map((r) => `(${[r.key, r.windowStart, r.windowEnd, r.events, r.seqSum, r.lastSeq].map((v) => `$${values.push(v)}`).join(', ')})`);
      await client.query(`INSERT INTO b VALUES ${tuples.join(', ')}`, values);
    });
    await client.end();
  }
  if (storeAvailable('mariadb').ok) {
    const s = await startMariadb();
    servers.push(s);
    const reset = (pk: boolean) => async () => {
      await mysqlQuery(s, 'DROP TABLE IF EXISTS b');
      await mysqlQuery(s, `CREATE TABLE b (\`key\` INT, windowStart BIGINT, windowEnd BIGINT, events BIGINT, seqSum BIGINT, lastSeq BIGINT${pk ? ', PRIMARY KEY (`key`, windowStart)' : ''})`);
    };
    await bench('mysql (MariaDB) upsert', reset(true), () => mysqlSink<Row>({ connection: s.url, table: 'b', upsertKey: ['key', 'windowStart'] }));
    await bench('mysql (MariaDB) insert', reset(false), () => mysqlSink<Row>({ connection: s.url, table: 'b' }));
    const { createConnection } = await import('mysql2/promise');
    const client = await createConnection({ uri: s.url });
    await bench('  raw mysql2 multi-row INSERT', reset(false), () => { throw new Error('raw'); }, async (batch) => {
      const values: unknown[] = [];
      const tuples = batch.map((r) => { values.push(r.key, r.windowStart, r.windowEnd, r.events, r.seqSum, r.lastSeq); return '(?, ?, ?, ?, ?, ?)'; });
      await client.query(`INSERT INTO b VALUES ${tuples.join(', ')}`, values);
    });
    await client.end();
  }
} finally {
  for (const s of servers) await s.stop();
}
