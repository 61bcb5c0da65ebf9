/**
 * Real clusters for tests: a job manager and task managers as separate OS processes on loopback,
 * started through the `rlink` binary as a user would, each with its own log file.
 */
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, tempDir } from '../helpers/cli';

export interface ClusterProcess { proc: ResultPromise; pid: number; log: string; /** A task manager's id. */ id?: string }

export interface TestCluster {
  url: string;
  token: string;
  dir: string;
  jobManager: ClusterProcess;
  taskManagers: ClusterProcess[];
  env: Record<string, string>;
  addTaskManager(slots?: number): Promise<ClusterProcess>;
  waitForTaskManagers(n: number, timeoutMs?: number): Promise<void>;
  /** Runs the rlink CLI against this cluster (token in the environment). */
  rlink(args: string[], timeoutMs?: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  get(path: string): Promise<any>;
  stop(): Promise<void>;
}

/** Reads stdout until the daemon's first JSON line (its ready message). */
export async function readyLine(proc: ResultPromise, log: string, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms (see ${log})`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); try { resolve(JSON.parse(buf.slice(0, nl))); } catch (e) { reject(e); } }
    });
    proc.catch((e: unknown) => { clearTimeout(timer); reject(new Error(`daemon exited before it was ready: ${String((e as Error).message).slice(0, 400)} (see ${log})`)); });
  });
}

export function spawnDaemon(args: string[], env: Record<string, string>, log: string): ClusterProcess {
  const proc = execa('node', [BIN, ...args, '--json'], { env, reject: false, stdin: 'ignore', buffer: false, cleanup: true });
  proc.stderr!.pipe(createWriteStream(log));
  return { proc, pid: proc.pid!, log };
}

export async function startCluster(opts: {
  taskManagers: number; slots?: number; heartbeatTimeout?: string; env?: Record<string, string>;
  /** More flags of `rlink jobmanager start`, e.g. ['--property', 'job.build.timeout=3s']. */
  jobManagerArgs?: string[];
}): Promise<TestCluster> {
  const dir = tempDir('rlink-cluster-');
  mkdirSync(join(dir, 'logs'));
  const token = randomBytes(24).toString('hex');
  const env = { RLINK_TOKEN: token, RLINK_LOG_LEVEL: 'info', ...opts.env };
  const jmLog = join(dir, 'logs', 'jobmanager.log');
  const jobManager = spawnDaemon(['jobmanager', 'start', '--port', '0', '--data-dir', join(dir, 'jm'), '--heartbeat-timeout', opts.heartbeatTimeout ?? '10s', ...(opts.jobManagerArgs ?? [])], env, jmLog);
  const { url } = await readyLine(jobManager.proc, jmLog, 30_000) as { url: string };
  const taskManagers: ClusterProcess[] = [];
  const cluster: TestCluster = {
    url, token, dir, jobManager, taskManagers, env,
    async addTaskManager(slots = opts.slots ?? 2) {
      const i = taskManagers.length;
      const log = join(dir, 'logs', `taskmanager-${i}.log`);
      const tm = spawnDaemon(['taskmanager', 'start', '--jm', url, '--slots', String(slots), '--work-dir', join(dir, `tm-${i}`), '--heartbeat-interval', '200'], env, log);
      const ready = await readyLine(tm.proc, log, 30_000) as { id: string };
      tm.id = ready.id;
      taskManagers.push(tm);
      return tm;
    },
    async waitForTaskManagers(n, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const r = await cluster.get('/taskmanagers').catch(() => ({ taskmanagers: [] })); // not listening yet
        if (r.taskmanagers.length === n) return;
        if (Date.now() > end) throw new Error(`expected ${n} task managers, have ${r.taskmanagers.length}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
    async rlink(args, timeoutMs = 120_000) {
      const r = await execa('node', [BIN, ...args], { env, reject: false, timeout: timeoutMs, stdin: 'ignore' });
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    async get(path) {
      const res = await fetch(new URL(path, url));
      return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
    },
    async stop() {
      for (const p of [...taskManagers, jobManager]) p.proc.kill('SIGTERM');
      await Promise.all([...taskManagers, jobManager].map((p) => Promise.race([p.proc, new Promise((r) => setTimeout(r, 5000))])));
      for (const p of [...taskManagers, jobManager]) p.proc.kill('SIGKILL');
    },
  };
  for (let i = 0; i < opts.taskManagers; i++) await cluster.addTaskManager();
  await cluster.waitForTaskManagers(opts.taskManagers);
  return cluster;
}

/** Polls `fn` every 100 ms until it returns a value (bounded by `timeoutMs`). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
