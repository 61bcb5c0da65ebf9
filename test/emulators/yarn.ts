/**
 * Emulates the documented YARN ResourceManager REST API and the YARN Services API for tests; not
 * YARN, never part of the product.
 *
 * One node:http server plays the ResourceManager (`/ws/v1/cluster/…`, ResourceManagerRest.html) and
 * the services API server (`/app/v1/services…`, YarnServiceAPI.html). Containers are real local
 * processes: each gets `<workDir>/<appId>/<containerId>/`, its STATIC files are fetched there from
 * WebHDFS, and its `launch_command` runs under `/bin/sh -c` (inside `ip netns exec <ns>` on a
 * namespaced host) in its own process group, with stdout/stderr in files of that directory.
 *
 * Emulation choices (where YARN leaves room or the emulator simplifies):
 * - Container states: RUNNING_BUT_UNREADY from allocation (localizing, or running for less than
 *   `readyAfterMs`, default 300 ms) → READY once the process has run that long; STOPPED when the
 *   emulator stopped it (flex down, stop, delete, a failed service, RM kill); SUCCEEDED on exit 0;
 *   FAILED on a non-zero exit (with `exit_status` and `diagnostics`: the last lines of stderr) or
 *   when localization or the spawn failed.
 * - Restarts follow `restart_policy` (default ALWAYS: any exit restarts; ON_FAILURE: non-zero only;
 *   NEVER: none), after `restartDelayMs`, as a new container id of the same instance (`b-1`). An
 *   instance restarts at most `maxRestarts` (3) times; its next exit that wants a restart fails the
 *   component. A failed container that is not restarted (NEVER, ON_FAILURE after the limit) fails the
 *   component at once; a FAILED component fails the service (diagnostics name the container, its exit
 *   status and stderr), and the rest of its containers are stopped, as when a service AM gives up.
 * - Component states: INIT (not launched: waiting for dependencies, or the service is not running)
 *   → FLEXING → STABLE (all wanted containers READY) | SUCCEEDED (all exited 0, not restarted) | FAILED.
 *   A component is launched once every dependency is STABLE or SUCCEEDED (all its containers have
 *   run ≥ `readyAfterMs`), as YARN's dependency check waits for ready instances.
 * - Service states: ACCEPTED (until the emulated AM launches the first containers, ~`acceptDelayMs`)
 *   → STARTED → STABLE; FLEX after a flex request until stable again; SUCCEEDED; FAILED; STOPPED after
 *   a stop, an RM kill or the end of `lifetime`. Starting a stopped service runs it as a new
 *   application (new id), as YARN does.
 * - RM applications: a service is an app of type `yarn-service`: ACCEPTED → RUNNING/UNDEFINED;
 *   stopped → FINISHED/ENDED; failed → FINISHED/FAILED; succeeded → FINISHED/SUCCEEDED; killed →
 *   KILLED/KILLED. `POST /ws/v1/cluster/apps` records a submission context and reports it RUNNING
 *   without launching its AM (launching arbitrary AMs is out of scope); `PUT …/state` KILLED ends it.
 * - Placement: round-robin over `hosts`; `bare_host`, `hostname` and `ip` are the host's address.
 * - Stopping a container (flex down, stop, DELETE, RM kill, close): SIGTERM to its process group
 *   (containers are spawned detached, so `ip netns exec` and everything the command started are in
 *   it), SIGKILL after 5 s, then SIGKILL to stragglers and a bounded wait until the group is empty.
 *   A container that exits by itself also gets its leftover group killed, as a NodeManager does.
 * - The RM kill (`PUT /ws/v1/cluster/apps/{id}/state`) answers 200 {"state":"KILLED"} once the
 *   containers are gone (YARN may answer 202 while the kill is in progress).
 * - Container environment: process.env (PATH led by the directory of `nodeBinary`), then the
 *   service's and the component's `configuration.env`, then YARN's: CONTAINER_ID, NM_HOST, NM_PORT,
 *   NM_HTTP_PORT, APPLICATION_ID, LOG_DIRS, LOCAL_DIRS, PWD, WORK_DIR, LOG_DIR and HADOOP_USER_NAME
 *   (the `user.name` of the creating request, when given). `launch_command` and env values get
 *   YARN's token substitution: ${SERVICE_NAME}, ${SERVICE_NAME_LC}, ${USER}, ${COMPONENT_NAME},
 *   ${COMPONENT_NAME_LC}, ${COMPONENT_INSTANCE_NAME}, ${COMPONENT_ID}, ${CONTAINER_ID}, and for each
 *   instance of a dependency ${<INSTANCE>_HOST} / ${<INSTANCE>_IP} (upper case, e.g. ${JOBMANAGER-0_IP}).
 * - STATIC files land in the container directory under the last segment of `dest_file` (of
 *   `src_file` without one), as YARN's ProviderUtils symlinks them. `src_file` may be hdfs://…
 *   (its path is read through `webhdfsUrl`; the authority is ignored), a bare /path (the default FS,
 *   so HDFS too) or file://. Other config-file types are refused with 400.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface YarnEmulatorHost {
  /** The NodeManager host's address: NM_HOST, `bare_host` and `ip` of its containers. */
  address: string;
  /** A network namespace: this host's containers run under `ip netns exec <namespace>`. */
  namespace?: string;
}

export interface YarnEmulatorOptions {
  /** WebHDFS base URL (http://host:port) that hdfs:// `src_file`s are read through. */
  webhdfsUrl: string;
  /** Where container directories go; a temporary directory (removed by close) by default. */
  workDir?: string;
  bind?: string;
  port?: number;
  /** NodeManager hosts; containers are placed round-robin. Default: one host 127.0.0.1. */
  hosts?: YarnEmulatorHost[];
  /** The node binary whose directory leads the containers' PATH (default: this process's). */
  nodeBinary?: string;
  /** How long a container must run before it is READY (default 300 ms). */
  readyAfterMs?: number;
  /** Pause before a container is restarted (default 200 ms). */
  restartDelayMs?: number;
  /** Restarts per container instance before its component fails (default 3). */
  maxRestarts?: number;
  /** How long a service stays ACCEPTED before its containers launch (default 100 ms). */
  acceptDelayMs?: number;
  /** The largest container the cluster grants (default 8192 MB, 8 vCores). */
  maximumResource?: { memory: number; vCores: number };
}

export interface EmulatedContainerProcess {
  service: string;
  component: string;
  id: string;
  pid: number;
  host: string;
  alive: boolean;
}

export interface YarnEmulator {
  /** http://host:port: both the RM REST API and the Services API. */
  url: string;
  workDir: string;
  /** Every current service, as `GET /app/v1/services/{name}` shows it. */
  services(): Record<string, unknown>[];
  /** Every container process ever spawned (restarted and stopped ones too), with whether it still runs. */
  containerProcesses(): EmulatedContainerProcess[];
  /** The container directory of a container id (`<workDir>/<appId>/<containerId>`). */
  containerDir(containerId: string): string | undefined;
  /** Kills every container (whole process groups) and stops the server. */
  close(): Promise<void>;
}

type ContainerState = 'RUNNING_BUT_UNREADY' | 'READY' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';
type RestartPolicy = 'ALWAYS' | 'ON_FAILURE' | 'NEVER';
const RESTART_POLICIES: readonly string[] = ['ALWAYS', 'ON_FAILURE', 'NEVER'];
const CONFIG_FILE_TYPES: readonly string[] = ['XML', 'PROPERTIES', 'JSON', 'YAML', 'TEMPLATE', 'HADOOP_XML', 'STATIC', 'ARCHIVE'];
const ACTIVE_SERVICE_STATES: readonly string[] = ['ACCEPTED', 'STARTED', 'STABLE', 'FLEX'];
const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const STOP_GRACE_MS = 5_000;
const NM_PORT = 45454;
const NM_HTTP_PORT = 8042;

interface StaticFile { src_file: string; dest_file?: string }

interface ComponentPlan {
  name: string;
  launchCommand: string;
  memoryMb: number;
  cpus: number;
  restartPolicy: RestartPolicy;
  dependencies: string[];
  env: Record<string, string>;
  files: StaticFile[];
  /** The component as submitted, echoed back by GET. */
  submitted: Record<string, unknown>;
}

interface Host extends YarnEmulatorHost { index: number }

interface Container {
  id: string;
  instance: Instance;
  host: Host;
  dir: string;
  state: ContainerState;
  launchTime: number;
  pid?: number;
  alive: boolean;
  exitStatus?: number;
  diagnostics?: string;
  stopRequested: boolean;
  stopping?: Promise<void>;
  exited: Promise<void>;
  markExited: () => void;
  readyTimer?: NodeJS.Timeout;
}

interface Instance {
  component: Component;
  index: number;
  name: string;
  restarts: number;
  container?: Container;
  /** Exited and will not be restarted. */
  finished: boolean;
  /** Being removed by a flex down. */
  removing: boolean;
  restartTimer?: NodeJS.Timeout;
}

interface Component {
  service: Service;
  plan: ComponentPlan;
  desired: number;
  instances: Instance[];
  launched: boolean;
  failure?: string;
}

interface Service {
  name: string;
  submitted: Record<string, unknown>;
  user?: string;
  app: App;
  state: string;
  components: Component[];
  diagnostics?: string;
  flexing: boolean;
  containerSeq: number;
  lifetimeTimer?: NodeJS.Timeout;
  acceptTimer?: NodeJS.Timeout;
}

interface App {
  id: string;
  name: string;
  user: string;
  queue: string;
  applicationType: string;
  state: string;
  finalStatus: string;
  startedTime: number;
  finishedTime: number;
  diagnostics: string;
  service?: Service;
  submission?: unknown;
}

/** An HTTP error answered as the Services API ({diagnostics}) or the RM ({RemoteException}) does. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly exception?: string) { super(message); }
}

export async function startYarnEmulator(opts: YarnEmulatorOptions): Promise<YarnEmulator> {
  const ownWorkDir = opts.workDir === undefined;
  const workDir = resolve(opts.workDir ?? mkdtempSync(join(tmpdir(), 'rlink-yarn-')));
  await mkdir(workDir, { recursive: true });
  const webhdfsUrl = opts.webhdfsUrl.replace(/\/+$/, '');
  const hosts: Host[] = (opts.hosts?.length ? opts.hosts : [{ address: '127.0.0.1' }]).map((h, index) => ({ ...h, index }));
  const nodeBinary = opts.nodeBinary ?? process.execPath;
  const readyAfterMs = opts.readyAfterMs ?? 300;
  const restartDelayMs = opts.restartDelayMs ?? 200;
  const maxRestarts = opts.maxRestarts ?? 3;
  const acceptDelayMs = opts.acceptDelayMs ?? 100;
  const maximum = opts.maximumResource ?? { memory: 8192, vCores: 8 };
  const clusterTimestamp = Date.now();

  const services = new Map<string, Service>();
  const apps = new Map<string, App>();
  const reservedAppIds = new Set<string>();
  const allContainers: Container[] = [];
  const pendingStops = new Set<Promise<void>>();
  let appSeq = 0;
  let placement = 0;
  let closed = false;

  const newAppId = () => `application_${clusterTimestamp}_${String(++appSeq).padStart(4, '0')}`;

  // ---------- processes ----------

  /** Signals a container's whole process group; a group that is gone already is fine. */
  const signalGroup = (pid: number, signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: nothing left in the group
    }
  };

  const within = (p: Promise<void>, ms: number) =>
    new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(false), ms);
      void p.then(() => { clearTimeout(timer); done(true); });
    });

  /** Stops a container: SIGTERM to its process group, SIGKILL after 5 s, then SIGKILL for stragglers. */
  const stopContainer = (c: Container): Promise<void> => {
    if (c.stopping) return c.stopping;
    c.stopRequested = true;
    clearTimeout(c.readyTimer);
    if (c.state === 'RUNNING_BUT_UNREADY' || c.state === 'READY') c.state = 'STOPPED';
    const stopping = (async () => {
      if (c.pid !== undefined && c.alive) {
        const pid = c.pid;
        signalGroup(pid, 'SIGTERM');
        if (!(await within(c.exited, STOP_GRACE_MS))) {
          signalGroup(pid, 'SIGKILL');
          await within(c.exited, 2_000);
        }
        // Children that outlived the leader (the exit handler does this too). Only ever right after
        // our own process exited: a long-dead pid may belong to someone else by now.
        signalGroup(pid, 'SIGKILL');
        await groupGone(pid, 2_000);
      } else {
        // Still localizing (the launcher sees stopRequested and never spawns), or already ended.
        await within(c.exited, STOP_GRACE_MS);
      }
    })();
    c.stopping = stopping;
    pendingStops.add(stopping);
    void stopping.finally(() => pendingStops.delete(stopping));
    return stopping;
  };

  /** The last lines of a container's stderr, for diagnostics. */
  const stderrTail = (c: Container): string => {
    try {
      const text = readFileSync(join(c.dir, 'stderr'), 'utf8').trimEnd();
      return text.split('\n').slice(-10).join('\n').slice(-2000);
    } catch {
      return '';
    }
  };

  /** Reads a `src_file` through WebHDFS (following the namenode's 307) or from the local disk. */
  const fetchSource = async (src: string, user: string | undefined): Promise<Buffer> => {
    if (src.startsWith('file:')) return readFile(fileURLToPath(src));
    let path: string;
    if (/^(hdfs|webhdfs):\/\//i.test(src)) path = decodeURIComponent(new URL(src).pathname);
    else if (src.startsWith('/')) path = src;
    else throw new Error(`src_file ${src} is neither hdfs://…, /path nor file://…`);
    const query = new URLSearchParams({ op: 'OPEN' });
    if (user !== undefined) query.set('user.name', user);
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    const res = await fetch(`${webhdfsUrl}/webhdfs/v1${encoded}?${query}`, { redirect: 'follow', signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) {
      const text = body.toString('utf8');
      let detail = text.slice(0, 300);
      try {
        const remote = (JSON.parse(text) as { RemoteException?: { exception?: string; message?: string } }).RemoteException;
        if (remote?.message) detail = `${remote.exception ?? 'RemoteException'}: ${remote.message}`;
      } catch {
        // not JSON
      }
      throw new Error(`WebHDFS OPEN ${path}: ${res.status} ${detail}`);
    }
    return body;
  };

  /** YARN's token substitution (plain replacement, as ProviderUtils.substituteStrWithTokens does). */
  const substitute = (text: string, tokens: Map<string, string>) => {
    let out = text;
    for (const [token, value] of tokens) out = out.split(token).join(value);
    return out;
  };

  const tokensFor = (c: Container): Map<string, string> => {
    const comp = c.instance.component;
    const svc = comp.service;
    const tokens = new Map<string, string>([
      ['${SERVICE_NAME}', svc.name],
      ['${SERVICE_NAME_LC}', svc.name.toLowerCase()],
      ['${USER}', svc.app.user],
      ['${COMPONENT_NAME}', comp.plan.name],
      ['${COMPONENT_NAME_LC}', comp.plan.name.toLowerCase()],
      ['${COMPONENT_INSTANCE_NAME}', c.instance.name],
      ['${COMPONENT_ID}', String(c.instance.index)],
      ['${CONTAINER_ID}', c.id],
    ]);
    for (const dep of comp.plan.dependencies) {
      const depComponent = svc.components.find((k) => k.plan.name === dep);
      for (const inst of depComponent?.instances ?? []) {
        if (!inst.container) continue;
        tokens.set(`\${${inst.name.toUpperCase()}_HOST}`, inst.container.host.address);
        tokens.set(`\${${inst.name.toUpperCase()}_IP}`, inst.container.host.address);
      }
    }
    return tokens;
  };

  /** Localizes the container's files and spawns its launch command; any failure fails the container. */
  const runContainer = async (c: Container) => {
    const comp = c.instance.component;
    const svc = comp.service;
    await mkdir(c.dir, { recursive: true });
    for (const file of comp.plan.files) {
      const data = await fetchSource(file.src_file, svc.user).catch((err: unknown) => {
        throw new Error(`Localization of ${file.src_file} failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      if (c.stopRequested) break;
      const name = basename(file.dest_file || file.src_file.replace(/\/+$/, ''));
      await writeFile(join(c.dir, name), data);
    }
    if (c.stopRequested || closed) { c.markExited(); return; }
    const tokens = tokensFor(c);
    const env: NodeJS.ProcessEnv = { ...process.env };
    env.PATH = [dirname(nodeBinary), process.env.PATH ?? ''].filter(Boolean).join(':');
    for (const [k, v] of Object.entries(comp.plan.env)) env[k] = substitute(v, tokens);
    Object.assign(env, {
      CONTAINER_ID: c.id,
      NM_HOST: c.host.address,
      NM_PORT: String(NM_PORT),
      NM_HTTP_PORT: String(NM_HTTP_PORT),
      APPLICATION_ID: svc.app.id,
      LOG_DIRS: c.dir,
      LOCAL_DIRS: c.dir,
      PWD: c.dir,
      WORK_DIR: c.dir,
      LOG_DIR: c.dir,
    });
    if (svc.user !== undefined) env.HADOOP_USER_NAME = svc.user;
    const command = substitute(comp.plan.launchCommand, tokens);
    const [file, args] = c.host.namespace
      ? ['ip', ['netns', 'exec', c.host.namespace, '/bin/sh', '-c', command]]
      : ['/bin/sh', ['-c', command]];
    const stdout = openSync(join(c.dir, 'stdout'), 'a');
    const stderr = openSync(join(c.dir, 'stderr'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args as string[], { cwd: c.dir, env, detached: true, stdio: ['ignore', stdout, stderr] });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (ended) return;
      ended = true;
      c.alive = false;
      clearTimeout(c.readyTimer);
      // Like a NodeManager, clean up whatever the command left behind in its process group.
      if (c.pid !== undefined) signalGroup(c.pid, 'SIGKILL');
      c.markExited();
      if (c.stopRequested || closed) return;
      if (error) {
        containerEnded(c, 'FAILED', -1, `Container launch failed: ${error.message}`);
      } else {
        const status = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
        if (status === 0) containerEnded(c, 'SUCCEEDED', 0, undefined);
        else {
          const tail = stderrTail(c);
          containerEnded(c, 'FAILED', status, `Container exited with a non-zero exit code ${status}.${tail ? ` Last lines of stderr:\n${tail}` : ''}`);
        }
      }
    };
    child.once('exit', (code, signal) => onEnd(code, signal));
    child.once('error', (err) => onEnd(null, null, err));
    if (child.pid === undefined) return; // the 'error' event reports it
    c.pid = child.pid;
    c.alive = true;
    c.readyTimer = setTimeout(() => {
      if (c.alive && c.state === 'RUNNING_BUT_UNREADY') {
        c.state = 'READY';
        reconcile(svc);
      }
    }, readyAfterMs);
  };

  // ---------- the service "AM" ----------

  const isActive = (svc: Service) => ACTIVE_SERVICE_STATES.includes(svc.state);

  const launch = (inst: Instance) => {
    const comp = inst.component;
    const svc = comp.service;
    const host = hosts[placement++ % hosts.length]!;
    const appPart = svc.app.id.replace(/^application_/, '');
    const id = `container_${appPart}_01_${String(++svc.containerSeq).padStart(6, '0')}`;
    let markExited!: () => void;
    const exited = new Promise<void>((r) => { markExited = r; });
    const c: Container = {
      id, instance: inst, host, dir: join(workDir, svc.app.id, id), state: 'RUNNING_BUT_UNREADY',
      launchTime: Date.now(), alive: false, stopRequested: false, exited, markExited,
    };
    inst.container = c;
    allContainers.push(c);
    runContainer(c).catch((err: unknown) => {
      c.markExited();
      if (!c.stopRequested && !closed) containerEnded(c, 'FAILED', -1, err instanceof Error ? err.message : String(err));
    });
  };

  /** A container's process ended by itself (or never started): record it, restart or fail per policy. */
  const containerEnded = (c: Container, state: 'SUCCEEDED' | 'FAILED', exitStatus: number, diagnostics: string | undefined) => {
    c.state = state;
    c.exitStatus = exitStatus;
    if (diagnostics !== undefined) c.diagnostics = diagnostics;
    const inst = c.instance;
    const comp = inst.component;
    const svc = comp.service;
    if (!isActive(svc) || inst.removing || inst.container !== c) return;
    const policy = comp.plan.restartPolicy;
    const wantsRestart = policy === 'ALWAYS' || (policy === 'ON_FAILURE' && state === 'FAILED');
    const what = state === 'FAILED' ? `failed with exit status ${exitStatus}` : 'exited with status 0';
    if (wantsRestart && inst.restarts < maxRestarts) {
      inst.restarts++;
      inst.restartTimer = setTimeout(() => {
        inst.restartTimer = undefined;
        if (closed || !isActive(svc) || inst.removing) return;
        launch(inst);
        reconcile(svc);
      }, restartDelayMs);
    } else if (wantsRestart) {
      failComponent(comp, `Component ${comp.plan.name} failed: container ${c.id} (instance ${inst.name}) on ${c.host.address} ${what} after ${inst.restarts} restarts${diagnostics ? `: ${diagnostics}` : ''}`);
    } else {
      inst.finished = true;
      if (state === 'FAILED') {
        failComponent(comp, `Component ${comp.plan.name} failed: container ${c.id} (instance ${inst.name}) on ${c.host.address} ${what} (restart_policy ${policy})${diagnostics ? `: ${diagnostics}` : ''}`);
      }
    }
    reconcile(svc);
  };

  const failComponent = (comp: Component, diagnostics: string) => {
    comp.failure = diagnostics;
    const svc = comp.service;
    svc.state = 'FAILED';
    svc.diagnostics = diagnostics;
    endApp(svc.app, 'FINISHED', 'FAILED', diagnostics);
    clearServiceTimers(svc);
    for (const c of liveContainers(svc)) void stopContainer(c);
  };

  const endApp = (app: App, state: string, finalStatus: string, diagnostics: string) => {
    app.state = state;
    app.finalStatus = finalStatus;
    app.diagnostics = diagnostics;
    app.finishedTime = Date.now();
  };

  const clearServiceTimers = (svc: Service) => {
    clearTimeout(svc.lifetimeTimer);
    clearTimeout(svc.acceptTimer);
    for (const comp of svc.components) for (const inst of comp.instances) { clearTimeout(inst.restartTimer); inst.restartTimer = undefined; }
  };

  const liveContainers = (svc: Service): Container[] =>
    svc.components.flatMap((comp) => comp.instances.flatMap((inst) => (inst.container && !inst.container.stopping && (inst.container.state === 'RUNNING_BUT_UNREADY' || inst.container.state === 'READY') ? [inst.container] : [])));

  /** Stops every container of a service and waits (bounded) until their process groups are gone. */
  const stopAllContainers = async (svc: Service) => {
    clearServiceTimers(svc);
    const all = svc.components.flatMap((comp) => comp.instances.flatMap((inst) => (inst.container ? [inst.container] : [])));
    await Promise.all(all.map(stopContainer));
  };

  const componentState = (comp: Component): string => {
    if (comp.failure) return 'FAILED';
    if (!comp.launched || !isActive(comp.service)) return 'INIT';
    const current = comp.instances.filter((i) => !i.removing);
    const removing = comp.instances.length - current.length;
    if (comp.desired > 0 && current.length === comp.desired && current.every((i) => i.finished && i.container?.state === 'SUCCEEDED')) return 'SUCCEEDED';
    const ready = current.filter((i) => i.container?.state === 'READY' || (i.finished && i.container?.state === 'SUCCEEDED'));
    if (removing === 0 && current.length === comp.desired && ready.length === comp.desired) return 'STABLE';
    return 'FLEXING';
  };

  /** Launches what the spec wants and is allowed to run, and derives the service's state. */
  const reconcile = (svc: Service) => {
    if (closed || !isActive(svc) || svc.acceptTimer) return;
    for (const comp of svc.components) {
      if (comp.failure) continue;
      if (!comp.launched) {
        const dependenciesReady = comp.plan.dependencies.every((dep) => {
          const k = svc.components.find((x) => x.plan.name === dep);
          return k !== undefined && ['STABLE', 'SUCCEEDED'].includes(componentState(k));
        });
        if (!dependenciesReady) continue;
        comp.launched = true;
      }
      const current = comp.instances.filter((i) => !i.removing).sort((a, b) => a.index - b.index);
      for (const inst of current.slice(comp.desired)) removeInstance(inst);
      for (let n = current.length; n < comp.desired; n++) {
        let index = 0;
        while (comp.instances.some((i) => i.index === index)) index++;
        comp.instances.push({ component: comp, index, name: `${comp.plan.name}-${index}`, restarts: 0, finished: false, removing: false });
      }
      comp.instances.sort((a, b) => a.index - b.index);
      for (const inst of comp.instances) {
        if (!inst.removing && !inst.container && !inst.finished && !inst.restartTimer) launch(inst);
      }
    }
    if (svc.state === 'FAILED') return;
    const states = svc.components.map(componentState);
    if (states.every((s) => s === 'SUCCEEDED')) {
      svc.state = 'SUCCEEDED';
      endApp(svc.app, 'FINISHED', 'SUCCEEDED', 'Service completed: every container exited with status 0.');
      clearServiceTimers(svc);
    } else if (states.every((s) => s === 'STABLE' || s === 'SUCCEEDED')) {
      svc.state = 'STABLE';
      svc.flexing = false;
    } else {
      svc.state = svc.flexing ? 'FLEX' : 'STARTED';
    }
    if (svc.app.state === 'ACCEPTED') svc.app.state = 'RUNNING';
  };

  const removeInstance = (inst: Instance) => {
    inst.removing = true;
    clearTimeout(inst.restartTimer);
    inst.restartTimer = undefined;
    const comp = inst.component;
    const drop = () => {
      comp.instances = comp.instances.filter((i) => i !== inst);
      reconcile(comp.service);
    };
    if (inst.container) void stopContainer(inst.container).then(drop);
    else drop();
  };

  /** A new RM application (type yarn-service) for one run of a service. */
  const newServiceApp = (name: string, queue: unknown, user: string | undefined): App => {
    const app: App = {
      id: newAppId(), name, user: user ?? 'dr.who', queue: typeof queue === 'string' ? queue : 'default',
      applicationType: 'yarn-service', state: 'ACCEPTED', finalStatus: 'UNDEFINED', startedTime: Date.now(), finishedTime: 0, diagnostics: '',
    };
    apps.set(app.id, app);
    return app;
  };

  /** Runs a service (again) under `app`: resets its components and lets the emulated AM launch them. */
  const runService = (svc: Service, app: App) => {
    app.service = svc;
    svc.app = app;
    svc.state = 'ACCEPTED';
    delete svc.diagnostics;
    svc.flexing = false;
    svc.containerSeq = 1; // container 000001 would be the service AM's
    for (const comp of svc.components) {
      comp.instances = [];
      comp.launched = false;
      delete comp.failure;
    }
    svc.acceptTimer = setTimeout(() => {
      svc.acceptTimer = undefined;
      reconcile(svc);
    }, acceptDelayMs);
    const lifetime = svc.submitted.lifetime;
    if (typeof lifetime === 'number' && lifetime > 0) {
      svc.lifetimeTimer = setTimeout(() => {
        if (!isActive(svc)) return;
        svc.state = 'STOPPED';
        endApp(app, 'KILLED', 'KILLED', 'Application is killed by ResourceManager as it has exceeded the lifetime period.');
        void stopAllContainers(svc);
      }, lifetime * 1000);
      svc.lifetimeTimer.unref();
    }
  };

  // ---------- validation ----------

  const validateService = (body: unknown): { name: string; plans: ComponentPlan[] } => {
    if (!isRecord(body)) throw new HttpError(400, 'Service definition is not a JSON object');
    const name = body.name;
    if (typeof name !== 'string' || name === '') throw new HttpError(400, 'Service name is not provided');
    if (!DNS_LABEL.test(name)) {
      throw new HttpError(400, `Invalid service name "${name}": it must be a valid DNS label (lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 63 characters)`);
    }
    if (typeof body.version !== 'string' || body.version.trim() === '') throw new HttpError(400, `Version of service ${name} is not provided`);
    if (body.lifetime !== undefined && typeof body.lifetime !== 'number') throw new HttpError(400, `Lifetime of service ${name} must be a number of seconds`);
    if (body.queue !== undefined && typeof body.queue !== 'string') throw new HttpError(400, `Queue of service ${name} must be a string`);
    if (!Array.isArray(body.components) || body.components.length === 0) throw new HttpError(400, `No component specified for service ${name}`);
    const serviceConfig = isRecord(body.configuration) ? body.configuration : {};
    const plans: ComponentPlan[] = [];
    for (const raw of body.components as unknown[]) {
      if (!isRecord(raw)) throw new HttpError(400, `A component of service ${name} is not a JSON object`);
      const cname = raw.name;
      if (typeof cname !== 'string' || !DNS_LABEL.test(cname)) throw new HttpError(400, `Invalid component name ${JSON.stringify(cname)} in service ${name}: it must be a valid DNS label`);
      if (plans.some((p) => p.name === cname)) throw new HttpError(400, `Component name ${cname} is used twice in service ${name}`);
      const count = raw.number_of_containers;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new HttpError(400, `Invalid number_of_containers ${JSON.stringify(count)} for component ${cname}: a whole number ≥ 0`);
      if (typeof raw.launch_command !== 'string' || raw.launch_command.trim() === '') throw new HttpError(400, `launch_command is required for component ${cname} (the emulator runs no artifacts)`);
      const resource = isRecord(raw.resource) ? raw.resource : isRecord(body.resource) ? body.resource : undefined;
      if (!resource) throw new HttpError(400, `Resource is not provided for component ${cname}`);
      const memoryMb = typeof resource.memory === 'number' ? resource.memory : typeof resource.memory === 'string' && /^\d+$/.test(resource.memory.trim()) ? Number(resource.memory) : Number.NaN;
      if (!Number.isInteger(memoryMb) || memoryMb <= 0) throw new HttpError(400, `Invalid resource memory ${JSON.stringify(resource.memory)} for component ${cname}: a string of MB such as "1024"`);
      const cpus = resource.cpus;
      if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus <= 0) throw new HttpError(400, `Invalid resource cpus ${JSON.stringify(cpus)} for component ${cname}: a whole number > 0`);
      if (memoryMb > maximum.memory) throw new HttpError(400, `Component ${cname} asks for ${memoryMb} MB of memory, more than the maximum allocation of ${maximum.memory} MB`);
      if (cpus > maximum.vCores) throw new HttpError(400, `Component ${cname} asks for ${cpus} vcores, more than the maximum allocation of ${maximum.vCores} vcores`);
      const policy = raw.restart_policy ?? 'ALWAYS';
      if (typeof policy !== 'string' || !RESTART_POLICIES.includes(policy)) throw new HttpError(400, `Invalid restart_policy ${JSON.stringify(raw.restart_policy)} for component ${cname}: ALWAYS, ON_FAILURE or NEVER`);
      const dependencies = raw.dependencies ?? [];
      if (!Array.isArray(dependencies) || dependencies.some((d) => typeof d !== 'string')) throw new HttpError(400, `dependencies of component ${cname} must be a list of component names`);
      const config = isRecord(raw.configuration) ? raw.configuration : {};
      const env = { ...stringMap(serviceConfig.env, `configuration.env of service ${name}`), ...stringMap(config.env, `configuration.env of component ${cname}`) };
      const files = [...configFiles(serviceConfig.files, `service ${name}`), ...configFiles(config.files, `component ${cname}`)];
      plans.push({ name: cname, launchCommand: raw.launch_command, memoryMb, cpus, restartPolicy: policy as RestartPolicy, dependencies: dependencies as string[], env, files, submitted: structuredClone(raw) });
    }
    for (const p of plans) {
      for (const d of p.dependencies) {
        if (d === p.name || !plans.some((q) => q.name === d)) throw new HttpError(400, `Dependency ${d} of component ${p.name} is not another component of service ${name}`);
      }
    }
    // Kahn's algorithm: whatever cannot be ordered is on a cycle.
    const left = new Set(plans.map((p) => p.name));
    let progressed = true;
    while (left.size > 0 && progressed) {
      progressed = false;
      for (const p of plans) {
        if (left.has(p.name) && p.dependencies.every((d) => !left.has(d))) { left.delete(p.name); progressed = true; }
      }
    }
    if (left.size > 0) throw new HttpError(400, `Invalid dependencies, a cycle may exist among components ${[...left].join(', ')} of service ${name}`);
    return { name, plans };
  };

  // ---------- JSON views ----------

  const containerJson = (c: Container) => ({
    id: c.id,
    component_instance_name: c.instance.name,
    state: c.state,
    bare_host: c.host.address,
    hostname: c.host.address,
    ip: c.host.address,
    launch_time: c.launchTime,
    ...(c.exitStatus !== undefined ? { exit_status: c.exitStatus } : {}),
    ...(c.diagnostics !== undefined ? { diagnostics: c.diagnostics } : {}),
  });

  const serviceJson = (svc: Service): Record<string, unknown> => {
    const running = allContainers.filter((c) => c.instance.component.service === svc && c.alive && !c.stopRequested).length;
    return {
      ...structuredClone(svc.submitted),
      id: svc.app.id,
      state: svc.state,
      launch_time: svc.app.startedTime,
      number_of_running_containers: running,
      components: svc.components.map((comp) => ({
        ...structuredClone(comp.plan.submitted),
        number_of_containers: comp.desired,
        state: componentState(comp),
        containers: comp.instances.flatMap((inst) => (inst.container ? [containerJson(inst.container)] : [])),
      })),
      ...(svc.diagnostics !== undefined ? { diagnostics: svc.diagnostics } : {}),
    };
  };

  const appJson = (app: App) => {
    const svc = app.service;
    const live = svc ? allContainers.filter((c) => c.instance.component.service === svc && svc.app === app && c.alive && !c.stopRequested) : [];
    const running = app.state === 'RUNNING';
    const finished = app.finishedTime > 0;
    return {
      id: app.id,
      user: app.user,
      name: app.name,
      queue: app.queue,
      state: app.state,
      finalStatus: app.finalStatus,
      progress: finished ? 100 : running ? 50 : 0,
      trackingUI: finished ? 'History' : running ? 'ApplicationMaster' : 'UNASSIGNED',
      trackingUrl: `${emulator.url}/proxy/${app.id}/`,
      diagnostics: app.diagnostics,
      clusterId: clusterTimestamp,
      applicationType: app.applicationType,
      applicationTags: '',
      priority: 0,
      startedTime: app.startedTime,
      launchTime: app.startedTime,
      finishedTime: app.finishedTime,
      elapsedTime: (finished ? app.finishedTime : Date.now()) - app.startedTime,
      allocatedMB: running ? live.reduce((sum, c) => sum + c.instance.component.plan.memoryMb, 0) : -1,
      allocatedVCores: running ? live.reduce((sum, c) => sum + c.instance.component.plan.cpus, 0) : -1,
      runningContainers: running ? live.length : -1,
      unmanagedApplication: false,
    };
  };

  // ---------- HTTP ----------

  const serviceOr404 = (name: string) => {
    const svc = services.get(name);
    if (!svc) throw new HttpError(404, `Service ${name} not found`);
    return svc;
  };

  const flex = (svc: Service, componentName: string, count: unknown): string => {
    const comp = svc.components.find((k) => k.plan.name === componentName);
    if (!comp) throw new HttpError(404, `Component ${componentName} does not exist in service ${svc.name}`);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new HttpError(400, `Invalid number_of_containers ${JSON.stringify(count)} for component ${componentName}: a whole number ≥ 0`);
    if (!isActive(svc)) throw new HttpError(400, `Service ${svc.name} is ${svc.state}: only a running service can be flexed`);
    const before = comp.desired;
    comp.desired = count;
    if (before !== count) svc.flexing = true;
    reconcile(svc);
    return `Updating component (${componentName}) size from ${before} to ${count}`;
  };

  type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

  const handleServices = async (method: string, parts: string[], body: unknown, user: string | undefined): Promise<Reply> => {
    // parts: ['app','v1','services', name?, 'components'?, comp?]
    const name = parts[3];
    if (name === undefined) {
      if (method !== 'POST') throw new HttpError(405, `${method} is not supported on /app/v1/services`);
      const { name: svcName, plans } = validateService(body);
      if (services.has(svcName)) throw new HttpError(409, `Service name ${svcName} is already taken.`);
      const submitted = structuredClone(body) as Record<string, unknown>;
      const svc: Service = {
        name: svcName, submitted, state: 'ACCEPTED', components: [], flexing: false, containerSeq: 1,
        app: newServiceApp(svcName, submitted.queue, user),
        ...(user !== undefined ? { user } : {}),
      };
      svc.components = plans.map((plan) => ({ service: svc, plan, desired: plan.submitted.number_of_containers as number, instances: [], launched: false }));
      services.set(svcName, svc);
      runService(svc, svc.app);
      return { status: 202, body: { uri: `/app/v1/services/${svcName}`, diagnostics: `Application ID: ${svc.app.id}`, state: 'ACCEPTED' } };
    }
    if (parts[4] === 'components' && parts[5] !== undefined && parts.length === 6) {
      if (method !== 'PUT') throw new HttpError(405, `${method} is not supported on a component`);
      const svc = serviceOr404(name);
      if (!isRecord(body)) throw new HttpError(400, 'Component definition is not a JSON object');
      if (body.name !== undefined && body.name !== parts[5]) throw new HttpError(400, `Component name in the body (${String(body.name)}) differs from the path (${parts[5]})`);
      return { status: 200, body: { diagnostics: flex(svc, parts[5], body.number_of_containers) } };
    }
    if (parts.length !== 4) throw new HttpError(404, `No such resource: /${parts.join('/')}`);
    switch (method) {
      case 'GET':
        return { status: 200, body: serviceJson(serviceOr404(name)) };
      case 'PUT': {
        const svc = serviceOr404(name);
        if (!isRecord(body)) throw new HttpError(400, 'Service definition is not a JSON object');
        if (body.state === 'STOPPED') {
          if (!isActive(svc)) return { status: 200, body: { diagnostics: `Service ${name} is already stopped.` } };
          svc.state = 'STOPPED';
          endApp(svc.app, 'FINISHED', 'ENDED', 'Service stopped by the user.');
          await stopAllContainers(svc);
          return { status: 200, body: { diagnostics: `Service ${name} is successfully stopped.` } };
        }
        if (body.state === 'STARTED') {
          if (isActive(svc)) throw new HttpError(400, `Failed to start service ${name}, because it is already running.`);
          await stopAllContainers(svc);
          runService(svc, newServiceApp(svc.name, svc.submitted.queue, user ?? svc.user));
          return { status: 200, body: { diagnostics: `Service ${name} is successfully started.`, uri: `/app/v1/services/${name}` } };
        }
        if (Array.isArray(body.components)) {
          const lines = body.components.map((c: unknown) => {
            if (!isRecord(c) || typeof c.name !== 'string') throw new HttpError(400, 'Each component to flex needs a name');
            return flex(svc, c.name, c.number_of_containers);
          });
          return { status: 200, body: { diagnostics: lines.join('; ') } };
        }
        throw new HttpError(400, `Unsupported update of service ${name}: the emulator takes {"state":"STOPPED"}, {"state":"STARTED"} or {"components":[{name, number_of_containers}]}`);
      }
      case 'DELETE': {
        const svc = serviceOr404(name);
        if (isActive(svc)) {
          svc.state = 'STOPPED';
          endApp(svc.app, 'FINISHED', 'ENDED', 'Service destroyed by the user.');
        }
        await stopAllContainers(svc);
        services.delete(name);
        return { status: 200, body: { diagnostics: `Successfully destroyed service ${name}` } };
      }
      default:
        throw new HttpError(405, `${method} is not supported on a service`);
    }
  };

  const handleCluster = async (method: string, parts: string[], url: URL, body: unknown, user: string | undefined): Promise<Reply> => {
    // parts: ['ws','v1','cluster', ...]
    const rest = parts.slice(3);
    if (rest.length === 0 || (rest.length === 1 && rest[0] === 'info')) {
      return {
        status: 200,
        body: { clusterInfo: { id: clusterTimestamp, startedOn: clusterTimestamp, state: 'STARTED', haState: 'ACTIVE', resourceManagerVersion: '3.3.6 (emulated)', hadoopVersion: '3.3.6 (emulated)' } },
      };
    }
    if (rest[0] !== 'apps') throw new HttpError(404, `No such resource: /${parts.join('/')}`, 'NotFoundException');
    if (rest.length === 2 && rest[1] === 'new-application') {
      if (method !== 'POST') throw new HttpError(405, 'new-application takes POST', 'WebApplicationException');
      const id = newAppId();
      reservedAppIds.add(id);
      return { status: 200, body: { 'application-id': id, 'maximum-resource-capability': { memory: maximum.memory, vCores: maximum.vCores } } };
    }
    if (rest.length === 1) {
      if (method === 'GET') {
        const states = url.searchParams.get('states')?.toUpperCase().split(',').filter(Boolean);
        const types = url.searchParams.get('applicationTypes')?.toLowerCase().split(',').filter(Boolean);
        const byUser = url.searchParams.get('user');
        const limit = Number(url.searchParams.get('limit') ?? Infinity);
        const list = [...apps.values()]
          .filter((a) => !states || states.includes(a.state))
          .filter((a) => !types || types.includes(a.applicationType.toLowerCase()))
          .filter((a) => !byUser || a.user === byUser)
          .slice(0, limit)
          .map(appJson);
        return { status: 200, body: { apps: { app: list } } };
      }
      if (method === 'POST') {
        if (!isRecord(body)) throw new HttpError(400, 'The application submission context is not a JSON object', 'BadRequestException');
        const id = body['application-id'];
        if (typeof id !== 'string' || !reservedAppIds.has(id)) {
          throw new HttpError(400, `application-id ${JSON.stringify(id)} was not obtained from /ws/v1/cluster/apps/new-application`, 'BadRequestException');
        }
        reservedAppIds.delete(id);
        const app: App = {
          id,
          name: typeof body['application-name'] === 'string' ? body['application-name'] : 'N/A',
          user: user ?? 'dr.who',
          queue: typeof body.queue === 'string' ? body.queue : 'default',
          applicationType: typeof body['application-type'] === 'string' ? body['application-type'] : 'YARN',
          state: 'RUNNING', finalStatus: 'UNDEFINED', startedTime: Date.now(), finishedTime: 0, diagnostics: '',
          submission: structuredClone(body),
        };
        apps.set(id, app);
        return { status: 202, headers: { location: `${emulator.url}/ws/v1/cluster/apps/${id}` } };
      }
      throw new HttpError(405, `${method} is not supported on /ws/v1/cluster/apps`, 'WebApplicationException');
    }
    const app = apps.get(rest[1]!);
    if (!app) throw new HttpError(404, `app with id: ${rest[1]} not found`, 'NotFoundException');
    if (rest.length === 2) {
      if (method !== 'GET') throw new HttpError(405, `${method} is not supported on an app`, 'WebApplicationException');
      return { status: 200, body: { app: appJson(app) } };
    }
    if (rest.length === 3 && rest[2] === 'state') {
      if (method === 'GET') return { status: 200, body: { state: app.state } };
      if (method !== 'PUT') throw new HttpError(405, `${method} is not supported on an app's state`, 'WebApplicationException');
      if (!isRecord(body) || body.state !== 'KILLED') throw new HttpError(400, 'Only the state KILLED can be requested', 'BadRequestException');
      if (app.finishedTime === 0) {
        endApp(app, 'KILLED', 'KILLED', `Application killed by user${user ? ` ${user}` : ''}.`);
        const svc = app.service;
        if (svc && svc.app === app && isActive(svc)) {
          svc.state = 'STOPPED';
          await stopAllContainers(svc);
        }
      }
      return { status: 200, body: { state: app.state } };
    }
    throw new HttpError(404, `No such resource: /${parts.join('/')}`, 'NotFoundException');
  };

  const send = (res: ServerResponse, reply: Reply) => {
    if (reply.body === undefined) {
      res.writeHead(reply.status, { 'content-length': 0, ...reply.headers }).end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...reply.headers }).end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    const user = url.searchParams.get('user.name') ?? undefined;
    const isServicesApi = parts[0] === 'app' && parts[1] === 'v1' && parts[2] === 'services';
    try {
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'The request body is not JSON', 'BadRequestException');
        }
      }
      if (isServicesApi) send(res, await handleServices(method, parts, body, user));
      else if (parts[0] === 'ws' && parts[1] === 'v1' && parts[2] === 'cluster') send(res, await handleCluster(method, parts, url, body, user));
      else throw new HttpError(404, `No such resource: ${url.pathname}`, 'NotFoundException');
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, err instanceof Error ? err.message : String(err), 'WebApplicationException');
      if (isServicesApi) send(res, { status: e.status, body: { diagnostics: e.message } });
      else send(res, { status: e.status, body: { RemoteException: { exception: e.exception ?? 'WebApplicationException', message: e.message, javaClassName: `org.apache.hadoop.yarn.webapp.${e.exception ?? 'WebApplicationException'}` } } });
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { void handle(req, res, Buffer.concat(chunks)); });
  });
  const bind = opts.bind ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, bind, () => { server.off('error', fail); ok(); });
  });
  const port = (server.address() as AddressInfo).port;

  const emulator: YarnEmulator = {
    url: `http://${bind.includes(':') ? `[${bind}]` : bind}:${port}`,
    workDir,
    services: () => [...services.values()].map(serviceJson),
    containerProcesses: () =>
      allContainers.flatMap((c) => (c.pid === undefined ? [] : [{
        service: c.instance.component.service.name, component: c.instance.component.plan.name, id: c.id, pid: c.pid, host: c.host.address, alive: c.alive,
      }])),
    containerDir: (id) => allContainers.find((c) => c.id === id)?.dir,
    async close() {
      if (closed) return;
      closed = true;
      for (const svc of services.values()) clearServiceTimers(svc);
      await new Promise<void>((ok) => { server.close(() => ok()); server.closeAllConnections(); });
      await Promise.all(allContainers.map(stopContainer));
      await Promise.all([...pendingStops]);
      if (ownWorkDir) await rm(workDir, { recursive: true, force: true });
    },
  };
  return emulator;
}

/** Waits (bounded) until no live process is left in process group `pgid` (zombies do not count). */
async function groupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupHasLiveMembers(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function groupHasLiveMembers(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new HttpError(400, `${what} must map names to strings`);
  return v as Record<string, string>;
}

function configFiles(v: unknown, owner: string): StaticFile[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new HttpError(400, `configuration.files of ${owner} must be a list`);
  return v.map((f: unknown) => {
    if (!isRecord(f) || typeof f.type !== 'string' || !CONFIG_FILE_TYPES.includes(f.type)) {
      throw new HttpError(400, `A config file of ${owner} has no valid type (one of ${CONFIG_FILE_TYPES.join(', ')})`);
    }
    if (f.type !== 'STATIC') throw new HttpError(400, `Config file type ${f.type} of ${owner} is not supported by the emulator (only STATIC)`);
    if (typeof f.src_file !== 'string' || f.src_file === '') throw new HttpError(400, `A STATIC config file of ${owner} has no src_file`);
    if (f.dest_file !== undefined && typeof f.dest_file !== 'string') throw new HttpError(400, `dest_file of ${f.src_file} in ${owner} must be a string`);
    return { src_file: f.src_file, ...(typeof f.dest_file === 'string' && f.dest_file !== '' ? { dest_file: f.dest_file } : {}) };
  });
}
