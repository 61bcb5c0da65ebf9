// Kafka test broker for rlink's tests: librdkafka's mock cluster (test/kafka/mock-broker.c,
// compiled by test/kafka/build.sh) on loopback, plus `kcat` as an independent client to write
// inputs and read outputs. See mock-broker.test.ts for what the mock does and does not do.
//
// Needs (Debian): librdkafka-dev, pkg-config, a C compiler, kcat. `.ci/run` installs them and
// builds the binary; locally, kafkaAvailable() tells tests whether to run or skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const KAFKA_TEST_DIR = resolve(import.meta.dirname);
export const MOCK_BROKER_BIN = join(KAFKA_TEST_DIR, '.bin', 'mock-broker');
const BUILD_SCRIPT = join(KAFKA_TEST_DIR, 'build.sh');
const MOCK_BROKER_SRC = join(KAFKA_TEST_DIR, 'mock-broker.c');
const KCAT = process.env.KCAT ?? 'kcat';

// ---------------------------------------------------------------------------------------------
// Running a command, bounded in time
// ---------------------------------------------------------------------------------------------

export interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs a command with optional stdin; never longer than timeoutMs (then SIGKILL and reject). */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolvePromise, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    } catch (e) {
      reject(e);
      return;
    }
    let stdout = '';
    let stderr = '';
    let done = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: timed out after ${timeoutMs} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin!.on('error', () => { /* EPIPE when the child exits early: its exit code tells */ });
    child.stdin!.end(opts.input ?? '');
  });
}

function describeFailure(what: string, r: RunResult): Error {
  return new Error(`${what} failed (exit ${r.code ?? r.signal}): ${(r.stderr.trim() || r.stdout.trim()).slice(-2000)}`);
}

// ---------------------------------------------------------------------------------------------
// Availability and build
// ---------------------------------------------------------------------------------------------

export interface KafkaAvailability { ok: boolean; reason?: string; kcatVersion?: string; binary?: string }

let availability: Promise<KafkaAvailability> | undefined;

/** Builds test/kafka/.bin/mock-broker when missing or older than its source (idempotent). */
export async function buildMockBroker(): Promise<string> {
  if (existsSync(MOCK_BROKER_BIN) && statSync(MOCK_BROKER_BIN).mtimeMs >= statSync(MOCK_BROKER_SRC).mtimeMs) {
    return MOCK_BROKER_BIN;
  }
  const r = await run('bash', [BUILD_SCRIPT], { timeoutMs: 120_000 });
  if (r.code !== 0) throw describeFailure('test/kafka/build.sh', r);
  return MOCK_BROKER_BIN;
}

/**
 * Whether the Kafka tests can run here: kcat on the PATH and the mock broker built (or buildable).
 * Never throws; `reason` says what is missing. Cached per process.
 */
export function kafkaAvailable(): Promise<KafkaAvailability> {
  availability ??= (async (): Promise<KafkaAvailability> => {
    let kcatVersion: string;
    try {
      const r = await run(KCAT, ['-V'], { timeoutMs: 10_000 });
      const m = /Version (\S+).*librdkafka (\S+)/s.exec(r.stdout + r.stderr);
      if (r.code !== 0 || !m) return { ok: false, reason: `kcat -V failed: ${(r.stderr || r.stdout).trim()}` };
      kcatVersion = `kcat ${m[1]} (librdkafka ${m[2]})`;
    } catch (e) {
      return { ok: false, reason: `kcat not found (${(e as Error).message}); install Debian packages kcat librdkafka-dev pkg-config` };
    }
    try {
      const binary = await buildMockBroker();
      return { ok: true, kcatVersion, binary };
    } catch (e) {
      return { ok: false, reason: `cannot build the mock broker: ${(e as Error).message}` };
    }
  })();
  return availability;
}

/**
 * For test files: `const kafka = await kafkaTestGate(); describe.skipIf(!kafka.ok)(...)`.
 * Prints why Kafka tests are skipped; with RLINK_REQUIRE_KAFKA=1 (set by .ci/run) a missing
 * prerequisite is an error instead of a skip.
 */
export async function kafkaTestGate(): Promise<KafkaAvailability> {
  const a = await kafkaAvailable();
  if (!a.ok) {
    if (process.env.RLINK_REQUIRE_KAFKA === '1') throw new Error(`Kafka tests required (RLINK_REQUIRE_KAFKA=1) but unavailable: ${a.reason}`);
    console.warn(`[kafka tests skipped] ${a.reason}`);
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// The mock broker process
// ---------------------------------------------------------------------------------------------

export interface MockBrokerOptions {
  /** Topics created before the broker is reported ready (replication factor 1). */
  topics?: Array<{ name: string; partitions: number }>;
  /** Number of brokers in the cluster, ids 1..N (default 1). */
  brokers?: number;
  /** Safety net: the broker exits by itself after this long (default 3600 s). */
  maxSeconds?: number;
  /** How long to wait for the ready line (default 15 s). */
  startTimeoutMs?: number;
}

export interface MockBroker {
  /** bootstrap.servers: `127.0.0.1:PORT[,127.0.0.1:PORT...]` (ephemeral ports). */
  readonly bootstrap: string;
  /** The same, as a list (kafkajs `brokers`). */
  readonly brokers: string[];
  readonly pid: number;
  /** librdkafka version of the mock. */
  readonly librdkafka: string;
  /** Creates a topic (the mock has no CreateTopics API for clients). Rejects if it exists. */
  createTopic(name: string, partitions: number, replication?: number): Promise<void>;
  /** Takes broker `id` (1..N) off the network, keeping its port; brokerUp brings it back. */
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  /** Delays every response of broker `id` by `ms`. */
  brokerRtt(id: number, ms: number): Promise<void>;
  /** The next requests of `api` (name or ApiKey) fail with these Kafka errors, in order. */
  requestErrors(api: string | number, errors: Array<string | number>): Promise<void>;
  /** Delays the responses to the next `count` `api` requests on broker `id` (the request is applied at once). */
  delayNext(id: number, api: string | number, ms: number, count?: number): Promise<void>;
  /** Sends a raw command line (see mock-broker.c); rejects on `{"ok":false}`. */
  command(line: string): Promise<void>;
  /** Stops the broker (stdin EOF, then SIGTERM, then SIGKILL); resolves once the process is gone. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a test forgets stop(): the broker also exits on stdin EOF and on parent death.
  process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });
}

const COMMAND_TIMEOUT_MS = 10_000;

/** Starts librdkafka's mock cluster on loopback; resolves when it accepts connections. */
export async function startMockBroker(opts: MockBrokerOptions = {}): Promise<MockBroker> {
  const bin = await buildMockBroker();
  const args: string[] = ['--brokers', String(opts.brokers ?? 1), '--max-seconds', String(opts.maxSeconds ?? 3600)];
  for (const t of opts.topics ?? []) args.push('--topic', `${t.name}:${t.partitions}`);

  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  installExitHook();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-8000); });
  child.stdin!.on('error', () => { /* broker gone: reported via exit */ });

  let exited = false;
  const exitPromise = new Promise<void>((res) => {
    child.on('exit', () => { exited = true; live.delete(child); res(); });
  });

  // Lines from stdout: the first is the ready line, then one answer per command, in order.
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => { waiting.shift()?.resolve(line); });
  child.on('exit', (code, signal) => {
    const err = new Error(`mock broker exited (${code ?? signal}): ${stderr.trim().slice(-2000)}`);
    for (const w of waiting.splice(0)) w.reject(err);
  });
  child.on('error', (e) => { for (const w of waiting.splice(0)) w.reject(e); });

  const nextLine = (timeoutMs: number, what: string): Promise<string> => new Promise((res, rej) => {
    if (exited) { rej(new Error(`mock broker is not running (${what}): ${stderr.trim().slice(-2000)}`)); return; }
    const entry = {
      resolve: (l: string) => { clearTimeout(timer); res(l); },
      reject: (e: Error) => { clearTimeout(timer); rej(e); },
    };
    const timer = setTimeout(() => {
      const i = waiting.indexOf(entry);
      if (i >= 0) waiting.splice(i, 1);
      rej(new Error(`mock broker: no answer to ${what} within ${timeoutMs} ms; stderr: ${stderr.trim().slice(-2000)}`));
    }, timeoutMs);
    waiting.push(entry);
  });

  let ready: { bootstrap: string; pid: number; librdkafka: string };
  try {
    ready = JSON.parse(await nextLine(opts.startTimeoutMs ?? 15_000, 'startup')) as typeof ready;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  // Commands are answered in order; chain them so a timeout never shifts the answers.
  let chain: Promise<unknown> = Promise.resolve();
  const command = (line: string): Promise<void> => {
    const p = chain.then(async () => {
      const answer = nextLine(COMMAND_TIMEOUT_MS, JSON.stringify(line));
      child.stdin!.write(line + '\n');
      const r = JSON.parse(await answer) as { ok: boolean; error?: string };
      if (!r.ok) throw new Error(`mock broker: ${line}: ${r.error}`);
    });
    chain = p.catch(() => undefined);
    return p;
  };
  const word = (s: string | number): string => {
    const v = String(s);
    if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new Error(`mock broker: bad argument ${JSON.stringify(v)}`);
    return v;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      child.stdin!.end();
      const waitExit = (ms: number) => Promise.race([exitPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      if (await waitExit(5_000)) return;
      child.kill('SIGTERM');
      if (await waitExit(5_000)) return;
      child.kill('SIGKILL');
      await waitExit(5_000);
    })();
    return stopping;
  };

  return {
    bootstrap: ready.bootstrap,
    brokers: ready.bootstrap.split(','),
    pid: ready.pid,
    librdkafka: ready.librdkafka,
    createTopic: async (name, partitions, replication = 1) => {
      // Checked here too for a clear message; the broker validates again.
      if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) throw new Error(`invalid topic name: ${JSON.stringify(name)}`);
      await command(`create-topic ${name} ${Math.trunc(partitions)} ${Math.trunc(replication)}`);
    },
    brokerDown: (id) => command(`broker-down ${word(id)}`),
    brokerUp: (id) => command(`broker-up ${word(id)}`),
    brokerRtt: (id, ms) => command(`broker-rtt ${word(id)} ${word(ms)}`),
    requestErrors: (api, errors) => command(`request-errors ${word(api)} ${errors.map(word).join(',')}`),
    delayNext: (id, api, ms, count = 1) => command(`delay-next ${word(id)} ${word(api)} ${word(ms)} ${word(count)}`),
    command,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// kcat: an independent client
// ---------------------------------------------------------------------------------------------

export interface KcatProduceOptions {
  /** Target partition (kcat -p); default: librdkafka's partitioner (by key; random without key). */
  partition?: number;
  /** Key of the i-th line (kcat -K with a \x1f separator); must not contain \x1f or \n. */
  key?: (i: number) => string;
  /** Produce all lines in one transaction (kcat commits it when its input ends). */
  transactionalId?: string;
  /** Extra librdkafka properties (kcat -X k=v). */
  config?: Record<string, string>;
  timeoutMs?: number;
}

const KEY_DELIM = '\x1f';

/** Writes lines as messages with kcat -P; resolves once all are acknowledged (exit 0). */
export async function kcatProduce(bootstrap: string, topic: string, lines: string[], opts: KcatProduceOptions = {}): Promise<void> {
  const args = ['-P', '-b', bootstrap, '-t', topic, '-q'];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.key) args.push('-K', '\\x1f');
  if (opts.transactionalId) args.push('-X', `transactional.id=${opts.transactionalId}`);
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push('-X', `${k}=${v}`);
  const input = lines.map((line, i) => {
    if (line === '' || line.includes('\n')) throw new Error(`kcatProduce: line ${i} is empty or contains a newline (kcat would skip or split it)`);
    if (!opts.key) return line + '\n';
    const k = opts.key(i);
    if (k.includes(KEY_DELIM) || k.includes('\n')) throw new Error(`kcatProduce: key ${i} contains \\x1f or a newline`);
    return k + KEY_DELIM + line + '\n';
  }).join('');
  if (input === '') return;
  const r = await run(KCAT, args, { input, timeoutMs: opts.timeoutMs ?? 30_000 });
  if (r.code !== 0) throw describeFailure(`kcat -P -t ${topic}`, r);
}

export interface KcatConsumeOptions {
  /** Only this partition (kcat -p). */
  partition?: number;
  /** Stop after this many messages (kcat -c). */
  count?: number;
  /**
   * false (default): stop at the end of every partition (kcat -e), returning what is there.
   * true: keep waiting for `count` messages (required) until timeoutMs, e.g. for output still being written.
   */
  wait?: boolean;
  timeoutMs?: number;
  /** kcat -f format, e.g. '%p %o %k %s\n' (default '%s\n': the values). One message per line. */
  format?: string;
  /** Start offset: 'beginning' (default), 'end', an absolute offset, or kcat's syntax ('-10', 's@ts'). */
  offset?: 'beginning' | 'end' | number | string;
  /** read_committed hides records of open and aborted transactions on a real broker (the mock: see its test). */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  config?: Record<string, string>;
}

/** Reads messages with kcat -C; returns one string per message (formatted by `format`). */
export async function kcatConsume(bootstrap: string, topic: string, opts: KcatConsumeOptions = {}): Promise<string[]> {
  const format = opts.format ?? '%s\n';
  if (!format.endsWith('\n')) throw new Error('kcatConsume: format must end with \\n (one message per line)');
  if (opts.wait && opts.count === undefined) throw new Error('kcatConsume: wait needs a count');
  const args = ['-C', '-b', bootstrap, '-t', topic, '-q', '-o', String(opts.offset ?? 'beginning'), '-f', format];
  if (!opts.wait) args.push('-e');
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.count !== undefined) args.push('-c', String(opts.count));
  if (opts.isolationLevel) args.push('-X', `isolation.level=${opts.isolationLevel}`);
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push('-X', `${k}=${v}`);
  const r = await run(KCAT, args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  if (r.code !== 0) throw describeFailure(`kcat -C -t ${topic}`, r);
  const lines = r.stdout.split('\n');
  lines.pop(); // after the last \n
  return lines;
}

export interface KcatMetadata {
  originating_broker: { id: number; name: string };
  controllerid: number;
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{
    topic: string;
    error?: string;
    partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }>; error?: string }>;
  }>;
}

/** Cluster metadata with kcat -L -J (all topics, or one; asking for one may auto-create it). */
export async function kcatMetadata(bootstrap: string, opts: { topic?: string; timeoutMs?: number } = {}): Promise<KcatMetadata> {
  const args = ['-L', '-J', '-b', bootstrap];
  if (opts.topic) args.push('-t', opts.topic);
  const r = await run(KCAT, args, { timeoutMs: opts.timeoutMs ?? 20_000 });
  if (r.code !== 0) throw describeFailure('kcat -L', r);
  return JSON.parse(r.stdout) as KcatMetadata;
}

/** Low and high watermarks of a partition (kcat -Q with -2 = beginning, -1 = end). */
export async function kcatOffsets(bootstrap: string, topic: string, partition: number, timeoutMs = 20_000): Promise<{ low: number; high: number }> {
  const one = async (ts: number): Promise<number> => {
    const q = await run(KCAT, ['-Q', '-b', bootstrap, '-t', `${topic}:${partition}:${ts}`], { timeoutMs });
    const m = /\[\d+\]\s+offset\s+(-?\d+)/.exec(q.stdout);
    if (q.code !== 0 || !m) throw describeFailure('kcat -Q', q);
    return Number(m[1]);
  };
  return { low: await one(-2), high: await one(-1) };
}

// ---------------------------------------------------------------------------------------------
// ApiVersions: which Kafka APIs a broker offers (a raw request; no client library)
// ---------------------------------------------------------------------------------------------

/** Kafka ApiKeys by name, for reading apiVersions(). */
export const API_KEYS = {
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10,
  JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, DescribeGroups: 15, ListGroups: 16,
  SaslHandshake: 17, ApiVersions: 18, CreateTopics: 19, DeleteTopics: 20, DeleteRecords: 21, InitProducerId: 22,
  OffsetForLeaderEpoch: 23, AddPartitionsToTxn: 24, AddOffsetsToTxn: 25, EndTxn: 26, WriteTxnMarkers: 27,
  TxnOffsetCommit: 28, DescribeAcls: 29, DescribeConfigs: 32, AlterConfigs: 33, CreatePartitions: 37,
  DeleteGroups: 42, ElectLeaders: 43, IncrementalAlterConfigs: 44, ListPartitionReassignments: 46,
  OffsetDelete: 47, DescribeCluster: 60, DescribeProducers: 61, DescribeTransactions: 65, ListTransactions: 66,
} as const;

/** Sends ApiVersions v0 to one `host:port` and returns ApiKey → supported version range. */
export function apiVersions(hostPort: string, timeoutMs = 5_000): Promise<Map<number, { min: number; max: number }>> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i);
  const port = Number(hostPort.slice(i + 1));
  const clientId = Buffer.from('rlink-test');
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  req.writeInt32BE(req.length - 4, 0);
  req.writeInt16BE(API_KEYS.ApiVersions, 4);
  req.writeInt16BE(0, 6); // version 0
  req.writeInt32BE(1, 8); // correlation id
  req.writeInt16BE(clientId.length, 12);
  clientId.copy(req, 14);
  return new Promise((res, rej) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); rej(new Error(`ApiVersions to ${hostPort}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('connect', () => sock.write(req));
    sock.on('error', (e) => { clearTimeout(timer); rej(e); });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      clearTimeout(timer);
      sock.destroy();
      // size, correlation id, error code, [api key, min, max]
      const err = buf.readInt16BE(8);
      if (err !== 0) { rej(new Error(`ApiVersions to ${hostPort}: error code ${err}`)); return; }
      const n = buf.readInt32BE(10);
      const out = new Map<number, { min: number; max: number }>();
      for (let k = 0, o = 14; k < n; k++, o += 6) out.set(buf.readInt16BE(o), { min: buf.readInt16BE(o + 2), max: buf.readInt16BE(o + 4) });
      res(out);
    });
  });
}
