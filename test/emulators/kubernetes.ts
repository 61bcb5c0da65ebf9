/**
 * Emulates the documented Kubernetes REST API (kubernetes.io/docs/reference/kubernetes-api/) for
 * tests, with one node whose containers are real local processes; not Kubernetes, never part of the
 * product (nothing outside test/ imports it).
 *
 * One node:http server plays the API server, the controllers and the kubelet of a one-node cluster:
 *
 * - Resources: namespaces; core/v1 pods (+ `log`), services (+ `proxy`), endpoints (read only,
 *   maintained by the emulated endpoints controller), secrets, configmaps; apps/v1 deployments and
 *   replicasets. Verbs: create (POST), get, list (labelSelector: `=`, `==`, `!=`, `in`, `notin`,
 *   `key`, `!key`; fieldSelector: metadata.name, metadata.namespace, status.phase), replace (PUT) of
 *   secrets, configmaps, services and deployments (a deployment's replicas only: no rollouts),
 *   delete (with gracePeriodSeconds and propagationPolicy Background | Orphan; Foreground deletes
 *   as Background does, the owner first). No
 *   watch, PATCH, subresources other than those named, RBAC or admission.
 * - Objects get uid, resourceVersion, creationTimestamp, generation (deployments, replicasets) and
 *   the API server's defaults (restartPolicy Always, terminationGracePeriodSeconds 30,
 *   terminationMessagePolicy File, imagePullPolicy, Service type ClusterIP and targetPort, Secret type
 *   Opaque, Deployment replicas 1). Invalid objects are refused with 422 and a Status naming the field
 *   as the API server words it (names, labels, selectors matching the template, restartPolicy of a
 *   Deployment's pods, container names and images, resource quantities and requests ≤ limits,
 *   volume mounts of undeclared volumes, Secret/ConfigMap keys, base64 and the 1 MiB limit, Service
 *   ports); an existing name is 409 AlreadyExists, a missing object or namespace 404 NotFound, a bad
 *   token 401. Errors are `Status` objects, as the API server sends them.
 * - Controllers: a Deployment owns one ReplicaSet `<deployment>-<pod-template-hash>` (the hash
 *   computed as Kubernetes does: FNV-32a of the template, its decimal digits safe-encoded), which
 *   keeps `replicas` pods `<replicaset>-<5 chars>` that are not terminating: a deleted pod is
 *   replaced at once. Deployment and ReplicaSet status (replicas, ready, available, updated,
 *   conditions) follow the pods. Garbage collection deletes the dependents (ownerReferences) of a
 *   deleted object. Endpoints list the ready pods a Service selects (terminating pods excluded).
 * - Kubelet: a pod is scheduled when the node's allocatable CPU and memory cover its requests (else
 *   Pending, PodScheduled False, Unschedulable: `0/1 nodes are available: 1 Insufficient cpu.`);
 *   its configMap, secret and emptyDir volumes are materialized (a missing ConfigMap or Secret keeps
 *   it ContainerCreating); env `value`, `valueFrom` (secretKeyRef, configMapKeyRef — missing ones are
 *   CreateContainerConfigError — and fieldRef: metadata.name, metadata.namespace, metadata.uid,
 *   spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP), the Service variables
 *   (`<SVC>_SERVICE_HOST`, `_SERVICE_PORT`, `_SERVICE_PORT_<NAME>`, `<SVC>_PORT…`) of every Service of
 *   the namespace that exists when the container starts (unless enableServiceLinks: false),
 *   KUBERNETES_SERVICE_HOST/PORT (this API server) and HOSTNAME (the pod's name); `$(VAR)` expansion
 *   in command, args and env values (`$$` escapes). The command is the container's `command` or the
 *   image's entrypoint, the arguments its `args` or (without `command`) the image's cmd, as Kubernetes
 *   combines them. The container runs as a process in its own process group, stdout and stderr into
 *   its log. Readiness probes (httpGet, tcpSocket) run with their initialDelay/period/failureThreshold;
 *   liveness and startup probes are stored, not run. An exited container is restarted per
 *   restartPolicy, the first time at once and then after a CrashLoopBackOff that doubles from
 *   `crashLoopBackoffMs` up to `maxCrashLoopBackoffMs` (the kubelet: 10 s … 5 min); its last state
 *   keeps exitCode, signal, reason (Completed | Error) and, with terminationMessagePolicy
 *   FallbackToLogsOnError, the log's tail as message. Deleting a pod sends SIGTERM to each
 *   container's process group and SIGKILL after the grace period; the pod object goes once they are
 *   gone.
 * - Networking, on loopback: each pod gets its own address in 127.<a>.<b>.x (its podIP: a pod binds
 *   there, so pods may use the same ports, as in their own network namespaces); each Service with a
 *   selector gets a ClusterIP in another 127.x.y.0/24 range where the emulated kube-proxy accepts TCP on
 *   every service port and forwards each connection to a ready endpoint (none: the connection is
 *   reset, as a REJECT rule does). `…/services/<name>[:<port>]/proxy/<path>` forwards an HTTP request
 *   to a ready endpoint, without the Authorization header (the API server removes it once it has
 *   authenticated the request); no endpoint: 503 `no endpoints available for service "<name>"`.
 *
 * Emulation choices where a real cluster has parts the emulator does not:
 * - Images are a catalogue given to the emulator (`images`: entrypoint, cmd, workingDir, env per
 *   image name); an image not in it fails to pull (ErrImagePull, then ImagePullBackOff).
 * - There is no container filesystem: a container runs in a directory of its pod that stands for its
 *   working directory (`workingDir`, else the image's), and volumes are visible at their mountPath only
 *   when it lies below that working directory (at the same relative path); a mount elsewhere fails the
 *   container with CreateContainerError saying so. Processes see the host's other files.
 * - The API server speaks plain HTTP; {@link KubernetesEmulator.writeKubeconfig} writes a kubeconfig
 *   for it with `insecure-skip-tls-verify` and the bearer token. There is no `kubernetes` Service:
 *   KUBERNETES_SERVICE_HOST/PORT name the emulator's own address.
 * - CPU and memory limits are checked against the node and reported, not enforced (no cgroups).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { groupGone, signalGroup, within } from './process-group';

// ------------------------------------------------------------------------------------------------
// Options and the emulator's own API
// ------------------------------------------------------------------------------------------------

/** What an image's configuration says (the emulator runs it as a local process). */
export interface EmulatedImage {
  /** ENTRYPOINT: the command when the container has no `command`. */
  entrypoint?: string[];
  /** CMD: the arguments when the container has neither `command` nor `args`. */
  cmd?: string[];
  /** WORKDIR (default /). */
  workingDir?: string;
  /** ENV (below the container's env). */
  env?: Record<string, string>;
}

export interface KubernetesEmulatorOptions {
  /** The images the node can run, by name as pods spell them (e.g. `rlink:test`). */
  images: Record<string, EmulatedImage>;
  /** The bearer token the API requires (default: a random one). */
  token?: string;
  bind?: string;
  port?: number;
  /** Where pods' directories go; a temporary directory (removed by close) by default. */
  workDir?: string;
  /** Namespaces that exist from the start (default: default, kube-system). */
  namespaces?: string[];
  /** The node's allocatable CPU (cores) and memory (a quantity); default 16 and 64Gi. */
  allocatable?: { cpu: number | string; memory: string };
  /** The first CrashLoopBackOff (default 500 ms; the kubelet's is 10 s); it doubles up to the maximum. */
  crashLoopBackoffMs?: number;
  /** The largest CrashLoopBackOff (default 5 s; the kubelet's is 5 min). */
  maxCrashLoopBackoffMs?: number;
  /** A container that ran this long without exiting starts its back-off afresh (default 10 s; the kubelet: 10 min). */
  backoffResetMs?: number;
  /** Scales probe timings (initialDelaySeconds, periodSeconds) and grace periods: 1 = real time (default 1). */
  timeScale?: number;
}

export interface EmulatedContainerProcess {
  namespace: string;
  pod: string;
  container: string;
  pid: number;
  alive: boolean;
  restartCount: number;
}

export interface KubernetesEmulator {
  /** http://host:port of the API server. */
  url: string;
  token: string;
  workDir: string;
  /** Writes a kubeconfig for this API server (context `emulator`, optionally with a namespace). */
  writeKubeconfig(path: string, opts?: { namespace?: string }): string;
  /** The stored objects of a resource (`pods`, `deployments`, …), optionally of one namespace. */
  objects(resource: string, namespace?: string): Array<Record<string, any>>;
  /** Every container process ever started (restarted ones too), and whether it still runs. */
  containerProcesses(): EmulatedContainerProcess[];
  /** The directory of a pod (its containers' working directories are below it). */
  podDir(namespace: string, pod: string): string | undefined;
  /** Kills every container (whole process groups) and stops the servers. */
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// Resource kinds
// ------------------------------------------------------------------------------------------------

type Obj = Record<string, any>;

interface Kind {
  resource: string;
  kind: string;
  group: '' | 'apps';
  apiVersion: string;
  namespaced: boolean;
  /** Service names are DNS-1035 labels; the others DNS-1123 subdomains (namespaces: labels). */
  nameRule: 'subdomain' | 'label1123' | 'label1035';
  /** The resource as Status messages name it (`deployments.apps`). */
  qualified: string;
  writable: boolean;
  replaceable: boolean;
}

const KINDS: Kind[] = [
  { resource: 'namespaces', kind: 'Namespace', group: '', apiVersion: 'v1', namespaced: false, nameRule: 'label1123', qualified: 'namespaces', writable: true, replaceable: false },
  { resource: 'pods', kind: 'Pod', group: '', apiVersion: 'v1', namespaced: true, nameRule: 'subdomain', qualified: 'pods', writable: true, replaceable: false },
  { resource: 'services', kind: 'Service', group: '', apiVersion: 'v1', namespaced: true, nameRule: 'label1035', qualified: 'services', writable: true, replaceable: true },
  { resource: 'endpoints', kind: 'Endpoints', group: '', apiVersion: 'v1', namespaced: true, nameRule: 'subdomain', qualified: 'endpoints', writable: false, replaceable: false },
  { resource: 'secrets', kind: 'Secret', group: '', apiVersion: 'v1', namespaced: true, nameRule: 'subdomain', qualified: 'secrets', writable: true, replaceable: true },
  { resource: 'configmaps', kind: 'ConfigMap', group: '', apiVersion: 'v1', namespaced: true, nameRule: 'subdomain', qualified: 'configmaps', writable: true, replaceable: true },
  { resource: 'deployments', kind: 'Deployment', group: 'apps', apiVersion: 'apps/v1', namespaced: true, nameRule: 'subdomain', qualified: 'deployments.apps', writable: true, replaceable: true },
  { resource: 'replicasets', kind: 'ReplicaSet', group: 'apps', apiVersion: 'apps/v1', namespaced: true, nameRule: 'subdomain', qualified: 'replicasets.apps', writable: true, replaceable: false },
];

const kindOf = (group: '' | 'apps', resource: string): Kind | undefined => KINDS.find((k) => k.group === group && k.resource === resource);

// ------------------------------------------------------------------------------------------------
// Errors as the API server sends them
// ------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Obj) { super(message); }

  status(): Obj {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

interface Cause { field: string; message: string; reason: string }

/** 422: `<Kind>[.group] "<name>" is invalid: <field>: <what>, <field>: <what>`. */
function invalid(kind: Kind, name: string, causes: Cause[]): ApiError {
  const what = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const text = list.length === 1 ? list[0]! : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${text}`, {
    name, ...(kind.group ? { group: kind.group } : {}), kind: kind.resource.replace(/s$/, ''),
    causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  });
}

const notFound = (kind: Kind, name: string) => new ApiError(404, 'NotFound', `${kind.qualified} "${name}" not found`, { name, ...(kind.group ? { group: kind.group } : {}), kind: kind.resource });

// ------------------------------------------------------------------------------------------------
// Validation helpers (the API server's wording)
// ------------------------------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

function nameProblem(name: string, rule: Kind['nameRule']): string | undefined {
  if (rule === 'label1035') {
    if (name.length > 63) return 'must be no more than 63 characters';
    if (!DNS1035_LABEL.test(name)) return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    return undefined;
  }
  if (rule === 'label1123') {
    if (name.length > 63) return 'must be no more than 63 characters';
    if (!DNS1123_LABEL.test(name)) return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    return undefined;
  }
  if (name.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(name)) return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  return undefined;
}

function labelProblems(labels: unknown, field: string, causes: Cause[]): void {
  if (labels === undefined || labels === null) return;
  if (!isRecord(labels)) { causes.push({ field, message: 'Invalid value: must be a map of strings', reason: 'FieldValueInvalid' }); return; }
  for (const [k, v] of Object.entries(labels)) {
    const key = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k;
    if (!/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(key) || key.length > 63) causes.push({ field, message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, reason: 'FieldValueInvalid' });
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) causes.push({ field: `${field}`, message: `Invalid value: "${String(v)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, reason: 'FieldValueInvalid' });
  }
}

/** A quantity (`500m`, `2`, `1Gi`, `1e3`) as a number of units (cores, bytes); undefined when malformed. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(?:([eE][+-]?[0-9]+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : 1);
  const suffix: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  return base * (m[3] ? suffix[m[3]]! : 1);
}

/** FNV-32a, as Kubernetes hashes a pod template. */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text)) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels and look-alikes. */
function safeEncode(text: string): string {
  return [...text].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join('');
}

function randomSuffix(n: number): string {
  return [...randomBytes(n)].map((b) => SAFE_ALPHANUMS[b % SAFE_ALPHANUMS.length]).join('');
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

// ------------------------------------------------------------------------------------------------
// Label and field selectors
// ------------------------------------------------------------------------------------------------

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

function parseLabelSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  // Split at commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s*(notin|in)\s*\(([^)]*)\)$/.exec(p))) out.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) });
    else if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(p))) out.push({ key: m[1]!, op: 'notin', values: [m[2]!] });
    else if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(p))) out.push({ key: m[1]!, op: 'in', values: [m[2]!] });
    else if ((m = /^!\s*(\S+)$/.exec(p))) out.push({ key: m[1]!, op: '!exists', values: [] });
    else if ((m = /^(\S+)$/.exec(p))) out.push({ key: m[1]!, op: 'exists', values: [] });
    else throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${p}`);
  }
  return out;
}

function labelsMatch(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case 'in': return has && r.values.includes(l[r.key]!);
      case 'notin': return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** A `matchLabels` selector (Services, and Deployments without matchExpressions) as requirements. */
function selectorOf(sel: Obj | undefined): Requirement[] {
  const reqs: Requirement[] = Object.entries((sel?.matchLabels ?? {}) as Record<string, string>).map(([key, v]) => ({ key, op: 'in' as const, values: [v] }));
  for (const e of (sel?.matchExpressions ?? []) as Obj[]) {
    const op = String(e.operator).toLowerCase();
    reqs.push({ key: String(e.key), op: op === 'in' ? 'in' : op === 'notin' ? 'notin' : op === 'exists' ? 'exists' : '!exists', values: (e.values ?? []) as string[] });
  }
  return reqs;
}

// ------------------------------------------------------------------------------------------------
// The kubelet's view of a pod
// ------------------------------------------------------------------------------------------------

interface ContainerRun {
  name: string;
  spec: Obj;
  /** The current state as the pod status shows it. */
  state: Obj;
  lastState: Obj;
  restartCount: number;
  ready: boolean;
  started: boolean;
  pid?: number;
  alive: boolean;
  exited?: Promise<void>;
  startedAt?: number;
  /** When the next start may happen (CrashLoopBackOff, ImagePullBackOff). */
  notBefore: number;
  backoffMs: number;
  /** The log of the current (or last) run, and of the one before. */
  log?: string;
  previousLog?: string;
  probe?: { timer?: NodeJS.Timeout; failures: number; successes: number };
}

interface PodRun {
  namespace: string;
  name: string;
  uid: string;
  dir: string;
  ip?: string;
  scheduled: boolean;
  volumesReady: boolean;
  containers: ContainerRun[];
  terminating?: { deadline: number; done: Promise<void> };
}

interface ProxyServer { server: NetServer; port: number }

// ------------------------------------------------------------------------------------------------
// The emulator
// ------------------------------------------------------------------------------------------------

export async function startKubernetesEmulator(opts: KubernetesEmulatorOptions): Promise<KubernetesEmulator> {
  const ownWorkDir = opts.workDir === undefined;
  const workDir = resolve(opts.workDir ?? mkdtempSync(join(tmpdir(), 'rlink-k8s-')));
  mkdirSync(workDir, { recursive: true });
  const token = opts.token ?? randomBytes(24).toString('hex');
  const bind = opts.bind ?? '127.0.0.1';
  const nodeName = 'emulated-node';
  const allocatable = { cpu: parseQuantity(opts.allocatable?.cpu ?? 16)!, memory: parseQuantity(opts.allocatable?.memory ?? '64Gi')! };
  const crashLoopBackoffMs = opts.crashLoopBackoffMs ?? 500;
  const maxCrashLoopBackoffMs = opts.maxCrashLoopBackoffMs ?? 5_000;
  const backoffResetMs = opts.backoffResetMs ?? 10_000;
  const timeScale = opts.timeScale ?? 1;
  const images = opts.images;
  // Pod and service addresses: two /16 and /24 ranges of 127/8 picked at random, so that two
  // emulators (or anything else on loopback) rarely meet.
  const podNet = `127.${64 + (randomBytes(1)[0]! % 64)}.${randomBytes(1)[0]! % 250}`;
  const serviceNet = `127.${128 + (randomBytes(1)[0]! % 64)}.${randomBytes(1)[0]! % 250}`;
  let podIpSeq = 0;
  let serviceIpSeq = 0;

  const store = new Map<string, Obj>(); // `${resource}/${namespace}/${name}`
  let resourceVersion = 1000;
  const pods = new Map<string, PodRun>(); // by uid
  const proxies = new Map<string, ProxyServer[]>(); // service uid → listeners
  const rrCursor = new Map<string, number>();
  const allRuns: Array<{ pod: PodRun; c: ContainerRun; pid: number; restart: number; alive: () => boolean }> = [];
  const pendingStops = new Set<Promise<void>>();
  let closed = false;

  const key = (resource: string, ns: string | undefined, name: string) => `${resource}/${ns ?? ''}/${name}`;
  const getObj = (resource: string, ns: string | undefined, name: string) => store.get(key(resource, ns, name));
  const listObjs = (resource: string, ns?: string) => [...store.entries()].filter(([k]) => k.startsWith(`${resource}/${ns === undefined ? '' : `${ns}/`}`)).map(([, v]) => v);
  const bump = (o: Obj) => { o.metadata.resourceVersion = String(++resourceVersion); };
  const put = (resource: string, o: Obj) => { bump(o); store.set(key(resource, o.metadata.namespace, o.metadata.name), o); };
  const drop = (resource: string, o: Obj) => { store.delete(key(resource, o.metadata.namespace, o.metadata.name)); };

  for (const ns of opts.namespaces ?? ['default', 'kube-system']) {
    put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: randomUUID(), creationTimestamp: now(), labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }

  // ---------- defaults and validation ----------

  const defaultPodSpec = (spec: Obj) => {
    spec.restartPolicy ??= 'Always';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    spec.securityContext ??= {};
    spec.enableServiceLinks ??= true;
    spec.serviceAccountName ??= 'default';
    for (const c of (spec.containers ?? []) as Obj[]) {
      if (!isRecord(c)) continue;
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.imagePullPolicy ??= typeof c.image === 'string' && (!/:[^/]+$/.test(c.image) || c.image.endsWith(':latest')) ? 'Always' : 'IfNotPresent';
      c.resources ??= {};
      for (const p of (c.ports ?? []) as Obj[]) p.protocol ??= 'TCP';
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        if (!isRecord(probe)) continue;
        probe.timeoutSeconds ??= 1;
        probe.periodSeconds ??= 10;
        probe.successThreshold ??= 1;
        probe.failureThreshold ??= 3;
        if (isRecord(probe.httpGet)) { probe.httpGet.path ??= '/'; probe.httpGet.scheme ??= 'HTTP'; }
      }
    }
    for (const v of (spec.volumes ?? []) as Obj[]) {
      if (isRecord(v?.configMap)) v.configMap.defaultMode ??= 0o644;
      if (isRecord(v?.secret)) v.secret.defaultMode ??= 0o644;
    }
  };

  const validatePodSpec = (spec: unknown, field: string, causes: Cause[]) => {
    if (!isRecord(spec)) { causes.push({ field, message: 'Required value', reason: 'FieldValueRequired' }); return; }
    const containers = spec.containers;
    if (!Array.isArray(containers) || containers.length === 0) { causes.push({ field: `${field}.containers`, message: 'Required value', reason: 'FieldValueRequired' }); return; }
    const volumeNames = new Set<string>();
    ((spec.volumes ?? []) as unknown[]).forEach((v, i) => {
      if (!isRecord(v) || typeof v.name !== 'string' || !DNS1123_LABEL.test(v.name)) { causes.push({ field: `${field}.volumes[${i}].name`, message: `Invalid value: ${JSON.stringify(isRecord(v) ? v.name : v)}: must be a DNS label`, reason: 'FieldValueInvalid' }); return; }
      if (volumeNames.has(v.name)) causes.push({ field: `${field}.volumes[${i}].name`, message: `Duplicate value: "${v.name}"`, reason: 'FieldValueDuplicate' });
      volumeNames.add(v.name);
      const sources = ['configMap', 'secret', 'emptyDir', 'hostPath', 'persistentVolumeClaim', 'downwardAPI', 'projected'].filter((s) => v[s] !== undefined);
      if (sources.length !== 1) causes.push({ field: `${field}.volumes[${i}]`, message: 'Required value: must specify exactly one volume type', reason: 'FieldValueRequired' });
      else if (!['configMap', 'secret', 'emptyDir'].includes(sources[0]!)) causes.push({ field: `${field}.volumes[${i}].${sources[0]}`, message: 'Unsupported value: the emulator mounts configMap, secret and emptyDir volumes', reason: 'FieldValueNotSupported' });
    });
    const policy = spec.restartPolicy;
    if (!['Always', 'OnFailure', 'Never'].includes(String(policy))) causes.push({ field: `${field}.restartPolicy`, message: `Unsupported value: "${String(policy)}": supported values: "Always", "OnFailure", "Never"`, reason: 'FieldValueNotSupported' });
    const names = new Set<string>();
    containers.forEach((c: unknown, i: number) => {
      const f = `${field}.containers[${i}]`;
      if (!isRecord(c)) { causes.push({ field: f, message: 'Invalid value: not an object', reason: 'FieldValueInvalid' }); return; }
      if (typeof c.name !== 'string' || c.name === '') causes.push({ field: `${f}.name`, message: 'Required value', reason: 'FieldValueRequired' });
      else if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) causes.push({ field: `${f}.name`, message: `Invalid value: "${c.name}": ${nameProblem(c.name, 'label1123')}`, reason: 'FieldValueInvalid' });
      else if (names.has(c.name)) causes.push({ field: `${f}.name`, message: `Duplicate value: "${c.name}"`, reason: 'FieldValueDuplicate' });
      else names.add(c.name);
      if (typeof c.image !== 'string' || c.image.trim() === '') causes.push({ field: `${f}.image`, message: 'Required value', reason: 'FieldValueRequired' });
      for (const what of ['command', 'args'] as const) {
        if (c[what] !== undefined && (!Array.isArray(c[what]) || c[what].some((a: unknown) => typeof a !== 'string'))) causes.push({ field: `${f}.${what}`, message: 'Invalid value: must be a list of strings', reason: 'FieldValueInvalid' });
      }
      const resources = isRecord(c.resources) ? c.resources : {};
      for (const kind of ['limits', 'requests'] as const) {
        for (const [r, q] of Object.entries((resources[kind] ?? {}) as Obj)) {
          if (parseQuantity(q) === undefined) causes.push({ field: `${f}.resources.${kind}[${r}]`, message: `Invalid value: "${String(q)}": must be a valid quantity`, reason: 'FieldValueInvalid' });
        }
      }
      for (const [r, q] of Object.entries((resources.requests ?? {}) as Obj)) {
        const limit = (resources.limits ?? {})[r];
        if (limit !== undefined && (parseQuantity(q) ?? 0) > (parseQuantity(limit) ?? Infinity)) {
          causes.push({ field: `${f}.resources.requests`, message: `Invalid value: "${String(q)}": must be less than or equal to ${r} limit of ${String(limit)}`, reason: 'FieldValueInvalid' });
        }
      }
      ((c.env ?? []) as unknown[]).forEach((e, j) => {
        if (!isRecord(e) || typeof e.name !== 'string' || !ENV_NAME.test(e.name)) causes.push({ field: `${f}.env[${j}].name`, message: `Invalid value: ${JSON.stringify(isRecord(e) ? e.name : e)}: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`, reason: 'FieldValueInvalid' });
        else if (e.value !== undefined && e.valueFrom !== undefined) causes.push({ field: `${f}.env[${j}].valueFrom`, message: 'Invalid value: "": may not be specified when `value` is not empty', reason: 'FieldValueInvalid' });
      });
      ((c.volumeMounts ?? []) as unknown[]).forEach((m, j) => {
        if (!isRecord(m) || typeof m.name !== 'string' || !volumeNames.has(m.name)) causes.push({ field: `${f}.volumeMounts[${j}].name`, message: `Not found: ${JSON.stringify(isRecord(m) ? m.name : m)}`, reason: 'FieldValueNotFound' });
        if (!isRecord(m) || typeof m.mountPath !== 'string' || m.mountPath === '') causes.push({ field: `${f}.volumeMounts[${j}].mountPath`, message: 'Required value', reason: 'FieldValueRequired' });
      });
      ((c.ports ?? []) as unknown[]).forEach((p, j) => {
        if (!isRecord(p) || !Number.isInteger(p.containerPort) || (p.containerPort as number) < 1 || (p.containerPort as number) > 65535) causes.push({ field: `${f}.ports[${j}].containerPort`, message: `Invalid value: ${JSON.stringify(isRecord(p) ? p.containerPort : p)}: must be between 1 and 65535, inclusive`, reason: 'FieldValueInvalid' });
      });
      const probe = c.readinessProbe;
      if (isRecord(probe) && !isRecord(probe.httpGet) && !isRecord(probe.tcpSocket)) causes.push({ field: `${f}.readinessProbe`, message: 'Unsupported value: the emulator runs httpGet and tcpSocket readiness probes', reason: 'FieldValueNotSupported' });
    });
  };

  const validateAndDefault = (kind: Kind, o: Obj, existing?: Obj): void => {
    const name = String(o.metadata?.name ?? '');
    const causes: Cause[] = [];
    labelProblems(o.metadata?.labels, 'metadata.labels', causes);
    switch (kind.resource) {
      case 'pods':
        defaultPodSpec(o.spec ?? {});
        validatePodSpec(o.spec, 'spec', causes);
        break;
      case 'deployments':
      case 'replicasets': {
        const spec = o.spec;
        if (!isRecord(spec)) { causes.push({ field: 'spec', message: 'Required value', reason: 'FieldValueRequired' }); break; }
        spec.replicas ??= 1;
        if (!Number.isInteger(spec.replicas) || spec.replicas < 0) causes.push({ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0`, reason: 'FieldValueInvalid' });
        if (kind.resource === 'deployments') {
          spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
          spec.revisionHistoryLimit ??= 10;
          spec.progressDeadlineSeconds ??= 600;
          if (!['Recreate', 'RollingUpdate'].includes(String(spec.strategy?.type))) causes.push({ field: 'spec.strategy.type', message: `Unsupported value: "${String(spec.strategy?.type)}": supported values: "Recreate", "RollingUpdate"`, reason: 'FieldValueNotSupported' });
        }
        const selector = spec.selector;
        const template = spec.template;
        if (!isRecord(selector) || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) causes.push({ field: 'spec.selector', message: 'Required value', reason: 'FieldValueRequired' });
        if (!isRecord(template)) { causes.push({ field: 'spec.template', message: 'Required value', reason: 'FieldValueRequired' }); break; }
        labelProblems(template.metadata?.labels, 'spec.template.metadata.labels', causes);
        if (isRecord(selector) && !labelsMatch(template.metadata?.labels, selectorOf(selector))) {
          causes.push({ field: 'spec.template.metadata.labels', message: `Invalid value: ${goMap(template.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``, reason: 'FieldValueInvalid' });
        }
        defaultPodSpec(template.spec ?? {});
        validatePodSpec(template.spec, 'spec.template.spec', causes);
        if (isRecord(template.spec) && template.spec.restartPolicy !== 'Always') {
          causes.push({ field: 'spec.template.spec.restartPolicy', message: `Unsupported value: "${String(template.spec.restartPolicy)}": supported values: "Always"`, reason: 'FieldValueNotSupported' });
        }
        if (existing && kind.resource === 'deployments' && JSON.stringify(existing.spec.template) !== JSON.stringify(template)) {
          causes.push({ field: 'spec.template', message: 'Forbidden: the emulator does no rollouts: only spec.replicas may change', reason: 'FieldValueForbidden' });
        }
        break;
      }
      case 'services': {
        const spec = o.spec;
        if (!isRecord(spec)) { causes.push({ field: 'spec', message: 'Required value', reason: 'FieldValueRequired' }); break; }
        spec.type ??= 'ClusterIP';
        spec.sessionAffinity ??= 'None';
        if (spec.type !== 'ClusterIP') causes.push({ field: 'spec.type', message: `Unsupported value: "${String(spec.type)}": the emulator has ClusterIP Services only`, reason: 'FieldValueNotSupported' });
        const ports = spec.ports;
        if (spec.clusterIP !== 'None' && (!Array.isArray(ports) || ports.length === 0)) causes.push({ field: 'spec.ports', message: 'Required value', reason: 'FieldValueRequired' });
        ((ports ?? []) as unknown[]).forEach((p, i) => {
          if (!isRecord(p) || !Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535) { causes.push({ field: `spec.ports[${i}].port`, message: `Invalid value: ${JSON.stringify(isRecord(p) ? p.port : p)}: must be between 1 and 65535, inclusive`, reason: 'FieldValueInvalid' }); return; }
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
          if ((ports as unknown[]).length > 1 && (typeof p.name !== 'string' || p.name === '')) causes.push({ field: `spec.ports[${i}].name`, message: 'Required value', reason: 'FieldValueRequired' });
        });
        if (existing) spec.clusterIP = existing.spec.clusterIP;
        labelProblems(spec.selector, 'spec.selector', causes);
        break;
      }
      case 'secrets':
      case 'configmaps': {
        if (kind.resource === 'secrets') o.type ??= 'Opaque';
        let size = 0;
        const seen = new Set<string>();
        const fields = kind.resource === 'secrets' ? ['data', 'stringData'] : ['data', 'binaryData'];
        for (const f of fields) {
          const m = o[f];
          if (m === undefined) continue;
          if (!isRecord(m)) { causes.push({ field: f, message: 'Invalid value: must be a map of strings', reason: 'FieldValueInvalid' }); continue; }
          for (const [k, v] of Object.entries(m)) {
            if (!CONFIG_KEY.test(k)) causes.push({ field: `${f}[${k}]`, message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`, reason: 'FieldValueInvalid' });
            if (seen.has(k)) causes.push({ field: `${f}[${k}]`, message: `Invalid value: "${k}": duplicate of key present in ${fields[0]}`, reason: 'FieldValueInvalid' });
            seen.add(k);
            if (typeof v !== 'string') { causes.push({ field: `${f}[${k}]`, message: 'Invalid value: must be a string', reason: 'FieldValueInvalid' }); continue; }
            const base64 = (kind.resource === 'secrets' && f === 'data') || f === 'binaryData';
            if (base64 && !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push({ field: `${f}[${k}]`, message: 'Invalid value: illegal base64 data', reason: 'FieldValueInvalid' });
            size += base64 ? Buffer.from(v, 'base64').length : Buffer.byteLength(v);
          }
        }
        if (size > 1024 * 1024) causes.push({ field: kind.resource === 'secrets' ? 'data' : '[]', message: 'Too long: must have at most 1048576 bytes', reason: 'FieldValueTooLong' });
        if (kind.resource === 'secrets' && isRecord(o.stringData)) {
          // The API server folds stringData into data.
          o.data = { ...(o.data ?? {}), ...Object.fromEntries(Object.entries(o.stringData).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')])) };
          delete o.stringData;
        }
        break;
      }
      default:
        break;
    }
    if (causes.length > 0) throw invalid(kind, name, causes);
  };

  // ---------- create, replace, delete (the API and the controllers use these) ----------

  const create = (kind: Kind, ns: string | undefined, body: unknown): Obj => {
    if (!isRecord(body)) throw new ApiError(400, 'BadRequest', 'the request body is not a JSON object');
    if (body.kind !== undefined && body.kind !== kind.kind) throw new ApiError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${kind.apiVersion})`);
    const o = structuredClone(body);
    o.apiVersion = kind.apiVersion;
    o.kind = kind.kind;
    o.metadata = isRecord(o.metadata) ? o.metadata : {};
    if (kind.namespaced) {
      if (o.metadata.namespace !== undefined && o.metadata.namespace !== ns) throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      if (!getObj('namespaces', undefined, ns!)) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
      o.metadata.namespace = ns;
    }
    if (!o.metadata.name && typeof o.metadata.generateName === 'string') o.metadata.name = `${o.metadata.generateName.slice(0, 58)}${randomSuffix(5)}`;
    const name = o.metadata.name;
    if (typeof name !== 'string' || name === '') throw invalid(kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
    const problem = nameProblem(name, kind.nameRule);
    if (problem) throw invalid(kind, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": ${problem}`, reason: 'FieldValueInvalid' }]);
    if (getObj(kind.resource, kind.namespaced ? ns : undefined, name)) {
      throw new ApiError(409, 'AlreadyExists', `${kind.qualified} "${name}" already exists`, { name, ...(kind.group ? { group: kind.group } : {}), kind: kind.resource });
    }
    validateAndDefault(kind, o);
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = now();
    if (kind.resource === 'deployments' || kind.resource === 'replicasets') o.metadata.generation = 1;
    delete o.metadata.deletionTimestamp;
    delete o.status;
    if (kind.resource === 'services' && o.spec.clusterIP !== 'None') o.spec.clusterIP = `${serviceNet}.${++serviceIpSeq}`;
    if (kind.resource === 'services' && o.spec.clusterIP) o.spec.clusterIPs = [o.spec.clusterIP];
    if (kind.resource === 'pods') o.status = { phase: 'Pending', conditions: [], qosClass: qosClass(o.spec) };
    if (kind.resource === 'deployments' || kind.resource === 'replicasets') o.status = { replicas: 0, observedGeneration: 0 };
    put(kind.resource, o);
    if (kind.resource === 'services') void openServiceProxy(o);
    if (kind.resource === 'pods') admitPod(o);
    scheduleReconcile();
    return o;
  };

  const replace = (kind: Kind, ns: string | undefined, name: string, body: unknown): Obj => {
    const existing = getObj(kind.resource, ns, name);
    if (!existing) throw notFound(kind, name);
    if (!isRecord(body)) throw new ApiError(400, 'BadRequest', 'the request body is not a JSON object');
    const o = structuredClone(body);
    o.apiVersion = kind.apiVersion;
    o.kind = kind.kind;
    o.metadata = { ...existing.metadata, ...(isRecord(o.metadata) ? o.metadata : {}) };
    if (o.metadata.name !== name) throw new ApiError(400, 'BadRequest', `the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${name})`);
    const rv = isRecord(body.metadata) ? body.metadata.resourceVersion : undefined;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${kind.qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: kind.resource });
    }
    for (const k of ['uid', 'creationTimestamp', 'namespace', 'ownerReferences', 'deletionTimestamp'] as const) if (existing.metadata[k] !== undefined) o.metadata[k] = existing.metadata[k];
    validateAndDefault(kind, o, existing);
    if (kind.resource === 'deployments') {
      o.metadata.generation = (existing.metadata.generation ?? 1) + (JSON.stringify(existing.spec) === JSON.stringify(o.spec) ? 0 : 1);
      o.status = existing.status;
    }
    put(kind.resource, o);
    if (kind.resource === 'services') { closeServiceProxy(existing); void openServiceProxy(o); }
    scheduleReconcile();
    return o;
  };

  /** Deletes an object (pods gracefully); dependents per the propagation policy. */
  const remove = (kind: Kind, ns: string | undefined, name: string, options: { gracePeriodSeconds?: number; propagationPolicy?: string }): Obj => {
    const o = getObj(kind.resource, ns, name);
    if (!o) throw notFound(kind, name);
    const policy = options.propagationPolicy ?? 'Background';
    if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw new ApiError(400, 'BadRequest', `propagationPolicy ${policy}: must be Orphan, Background or Foreground`);
    const dependents = [...store.entries()].filter(([, d]) => ((d.metadata.ownerReferences ?? []) as Obj[]).some((r) => r.uid === o.metadata.uid));
    if (policy === 'Orphan') {
      for (const [, d] of dependents) {
        d.metadata.ownerReferences = (d.metadata.ownerReferences as Obj[]).filter((r) => r.uid !== o.metadata.uid);
        bump(d);
      }
    } else {
      for (const [k, d] of dependents) {
        const dk = KINDS.find((x) => k.startsWith(`${x.resource}/`))!;
        if (store.has(k) && !d.metadata.deletionTimestamp) remove(dk, d.metadata.namespace, d.metadata.name, { propagationPolicy: 'Background' });
      }
    }
    if (kind.resource === 'pods') return terminatePod(o, options.gracePeriodSeconds);
    if (kind.resource === 'namespaces') throw new ApiError(405, 'MethodNotAllowed', 'the emulator does not delete namespaces');
    drop(kind.resource, o);
    if (kind.resource === 'services') closeServiceProxy(o);
    if (kind.resource === 'services') { const ep = getObj('endpoints', ns, name); if (ep) drop('endpoints', ep); }
    scheduleReconcile();
    return o;
  };

  // ---------- controllers ----------

  let reconcileQueued = false;
  const scheduleReconcile = () => {
    if (reconcileQueued || closed) return;
    reconcileQueued = true;
    setImmediate(() => { reconcileQueued = false; if (!closed) reconcile(); });
  };

  const ownedBy = (o: Obj, owner: Obj) => ((o.metadata.ownerReferences ?? []) as Obj[]).some((r) => r.uid === owner.metadata.uid);
  const ownerRef = (owner: Obj) => ({ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true });

  const podReady = (p: Obj) => ((p.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');

  const reconcile = () => {
    // Deployments → their ReplicaSet.
    for (const d of listObjs('deployments')) {
      if (d.metadata.deletionTimestamp) continue;
      const ns = d.metadata.namespace as string;
      const hash = safeEncode(String(fnv32a(JSON.stringify(d.spec.template))));
      const rsName = `${d.metadata.name}-${hash}`;
      let rs = getObj('replicasets', ns, rsName);
      if (!rs) {
        const template = structuredClone(d.spec.template);
        template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
        rs = create(kindOf('apps', 'replicasets')!, ns, {
          metadata: { name: rsName, labels: { ...(d.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash }, ownerReferences: [ownerRef(d)], annotations: { 'deployment.kubernetes.io/revision': '1' } },
          spec: { replicas: d.spec.replicas, selector: { matchLabels: { ...(d.spec.selector.matchLabels ?? {}), 'pod-template-hash': hash }, ...(d.spec.selector.matchExpressions ? { matchExpressions: d.spec.selector.matchExpressions } : {}) }, template },
        });
      } else if (rs.spec.replicas !== d.spec.replicas) {
        rs.spec.replicas = d.spec.replicas;
        rs.metadata.generation = (rs.metadata.generation ?? 1) + 1;
        bump(rs);
      }
    }
    // ReplicaSets → their pods.
    for (const rs of listObjs('replicasets')) {
      if (rs.metadata.deletionTimestamp) continue;
      const ns = rs.metadata.namespace as string;
      const owned = listObjs('pods', ns).filter((p) => ownedBy(p, rs));
      const active = owned.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
      for (let n = active.length; n < rs.spec.replicas; n++) {
        create(kindOf('', 'pods')!, ns, { metadata: { generateName: `${rs.metadata.name}-`, labels: structuredClone(rs.spec.template.metadata?.labels ?? {}), ownerReferences: [ownerRef(rs)] }, spec: structuredClone(rs.spec.template.spec) });
      }
      if (active.length > rs.spec.replicas) {
        // Not ready first, then the newest.
        const extra = [...active].sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp))).slice(0, active.length - rs.spec.replicas);
        for (const p of extra) terminatePod(p, undefined);
      }
      const current = listObjs('pods', ns).filter((p) => ownedBy(p, rs) && !p.metadata.deletionTimestamp);
      const ready = current.filter(podReady).length;
      const status = { replicas: current.length, fullyLabeledReplicas: current.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation };
      if (JSON.stringify(status) !== JSON.stringify(rs.status)) { rs.status = status; bump(rs); }
    }
    // Deployment status from its ReplicaSets.
    for (const d of listObjs('deployments')) {
      const sets = listObjs('replicasets', d.metadata.namespace).filter((rs) => ownedBy(rs, d));
      const replicas = sets.reduce((s, rs) => s + (rs.status?.replicas ?? 0), 0);
      const ready = sets.reduce((s, rs) => s + (rs.status?.readyReplicas ?? 0), 0);
      const want = d.spec.replicas as number;
      const available = ready >= want;
      const prev = (d.status?.conditions ?? []) as Obj[];
      const cond = (type: string, status: string, reason: string, message: string) => {
        const old = prev.find((c) => c.type === type);
        const t = old && old.status === status ? old.lastTransitionTime : now();
        return { type, status, lastUpdateTime: old && old.status === status && old.reason === reason ? old.lastUpdateTime : now(), lastTransitionTime: t, reason, message };
      };
      const rsName = sets[0]?.metadata.name ?? d.metadata.name;
      const status = {
        observedGeneration: d.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: ready,
        ...(replicas - ready > 0 ? { unavailableReplicas: replicas - ready } : {}),
        conditions: [
          cond('Available', available ? 'True' : 'False', available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'),
          cond('Progressing', 'True', ready >= want ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', ready >= want ? `ReplicaSet "${rsName}" has successfully progressed.` : `ReplicaSet "${rsName}" is progressing.`),
        ],
      };
      const comparable = (s: Obj) => JSON.stringify({ ...s, conditions: (s.conditions ?? []).map((c: Obj) => [c.type, c.status, c.reason]) });
      if (comparable(status) !== comparable(d.status ?? {})) { d.status = status; bump(d); }
    }
    // Endpoints of the Services with a selector.
    for (const svc of listObjs('services')) {
      if (!isRecord(svc.spec.selector)) continue;
      const ns = svc.metadata.namespace as string;
      const selected = listObjs('pods', ns).filter((p) => labelsMatch(p.metadata.labels, selectorOf({ matchLabels: svc.spec.selector })) && p.status?.podIP && !p.metadata.deletionTimestamp);
      const address = (p: Obj) => ({ ip: p.status.podIP, nodeName, targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } });
      const readyPods = selected.filter(podReady);
      const notReady = selected.filter((p) => !podReady(p));
      const ports = (svc.spec.ports as Obj[]).map((sp) => ({ ...(sp.name ? { name: sp.name } : {}), port: resolveTargetPort(readyPods[0] ?? notReady[0], sp) ?? sp.port, protocol: sp.protocol }));
      const subsets = selected.length === 0 ? [] : [{ ...(readyPods.length ? { addresses: readyPods.map(address) } : {}), ...(notReady.length ? { notReadyAddresses: notReady.map(address) } : {}), ports }];
      const existing = getObj('endpoints', ns, svc.metadata.name);
      if (!existing) put('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: ns, uid: randomUUID(), creationTimestamp: now(), labels: svc.metadata.labels ?? {} }, subsets });
      else if (JSON.stringify(existing.subsets) !== JSON.stringify(subsets)) { existing.subsets = subsets; bump(existing); }
    }
    // The kubelet: every pod it knows.
    for (const run of pods.values()) syncPod(run);
  };

  const resolveTargetPort = (pod: Obj | undefined, sp: Obj): number | undefined => {
    if (typeof sp.targetPort === 'number') return sp.targetPort;
    if (!pod) return undefined;
    for (const c of pod.spec.containers as Obj[]) for (const p of (c.ports ?? []) as Obj[]) if (p.name === sp.targetPort) return p.containerPort as number;
    return undefined;
  };

  const qosClass = (spec: Obj): string => {
    const cs = (spec?.containers ?? []) as Obj[];
    const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
    if (!any) return 'BestEffort';
    const guaranteed = cs.every((c) => ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] !== undefined && (c.resources?.requests?.[r] === undefined || parseQuantity(c.resources.requests[r]) === parseQuantity(c.resources.limits[r]))));
    return guaranteed ? 'Guaranteed' : 'Burstable';
  };

  // ---------- the kubelet ----------

  const podObj = (run: PodRun) => getObj('pods', run.namespace, run.name);

  const admitPod = (pod: Obj) => {
    const run: PodRun = {
      namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid,
      dir: join(workDir, pod.metadata.namespace, pod.metadata.name), scheduled: false, volumesReady: false,
      containers: (pod.spec.containers as Obj[]).map((spec) => ({
        name: spec.name, spec, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, restartCount: 0, ready: false, started: false, alive: false, notBefore: 0, backoffMs: 0,
      })),
    };
    pods.set(run.uid, run);
  };

  const requests = (spec: Obj) => {
    let cpu = 0;
    let memory = 0;
    for (const c of spec.containers as Obj[]) {
      const r = c.resources?.requests ?? c.resources?.limits ?? {};
      cpu += parseQuantity(r.cpu ?? 0) ?? 0;
      memory += parseQuantity(r.memory ?? 0) ?? 0;
    }
    return { cpu, memory };
  };

  const setCondition = (pod: Obj, type: string, status: 'True' | 'False', reason?: string, message?: string) => {
    const conds = (pod.status.conditions ??= []) as Obj[];
    const old = conds.find((c) => c.type === type);
    if (old && old.status === status && old.reason === reason && old.message === message) return false;
    const c = { type, status, lastProbeTime: null, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now(), ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
    if (old) conds[conds.indexOf(old)] = c; else conds.push(c);
    return true;
  };

  /** Writes the pod's status from the kubelet's view (and bumps it when something changed). */
  const publishStatus = (run: PodRun) => {
    const pod = podObj(run);
    if (!pod) return;
    const before = JSON.stringify(pod.status);
    const s = pod.status;
    const policy = pod.spec.restartPolicy as string;
    const cs = run.containers;
    if (run.scheduled) {
      s.hostIP = bind;
      s.hostIPs = [{ ip: bind }];
      s.startTime ??= now();
    }
    if (run.ip) { s.podIP = run.ip; s.podIPs = [{ ip: run.ip }]; }
    const allReady = cs.every((c) => c.ready);
    if (run.scheduled) {
      setCondition(pod, 'Initialized', 'True');
      setCondition(pod, 'ContainersReady', allReady ? 'True' : 'False', allReady ? undefined : 'ContainersNotReady', allReady ? undefined : `containers with unready status: [${cs.filter((c) => !c.ready).map((c) => c.name).join(' ')}]`);
      setCondition(pod, 'Ready', allReady ? 'True' : 'False', allReady ? undefined : 'ContainersNotReady', allReady ? undefined : `containers with unready status: [${cs.filter((c) => !c.ready).map((c) => c.name).join(' ')}]`);
    }
    const terminal = (c: ContainerRun) => c.state.terminated !== undefined && (policy === 'Never' || (policy === 'OnFailure' && c.state.terminated.exitCode === 0));
    if (!run.scheduled) s.phase = 'Pending';
    else if (cs.every(terminal)) s.phase = cs.every((c) => c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
    else if (cs.some((c) => c.state.running || c.restartCount > 0 || c.state.terminated)) s.phase = 'Running';
    else s.phase = 'Pending';
    s.containerStatuses = cs.map((c) => ({
      name: c.name, state: c.state, lastState: c.lastState, ready: c.ready, restartCount: c.restartCount,
      image: c.spec.image, imageID: images[c.spec.image] ? `emulator://${c.spec.image}` : '', started: c.started,
      ...(c.pid !== undefined ? { containerID: `emulator://${run.uid}/${c.name}/${c.restartCount}` } : {}),
    }));
    if (JSON.stringify(s) !== before) { bump(pod); scheduleReconcile(); }
  };

  /** One kubelet pass over a pod: schedule, volumes, start or restart containers. */
  const syncPod = (run: PodRun) => {
    const pod = podObj(run);
    if (!pod || run.terminating || closed) return;
    if (!run.scheduled) {
      const want = requests(pod.spec);
      const used = [...pods.values()].filter((r) => r.scheduled && !r.terminating && r !== run && podObj(r)?.status?.phase !== 'Succeeded' && podObj(r)?.status?.phase !== 'Failed')
        .map((r) => requests(podObj(r)?.spec ?? { containers: [] }))
        .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), { cpu: 0, memory: 0 });
      const short = [...(used.cpu + want.cpu > allocatable.cpu + 1e-9 ? ['cpu'] : []), ...(used.memory + want.memory > allocatable.memory ? ['memory'] : [])];
      if (short.length > 0) {
        if (setCondition(pod, 'PodScheduled', 'False', 'Unschedulable', `0/1 nodes are available: ${short.map((r) => `1 Insufficient ${r}`).join(', ')}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`)) { bump(pod); }
        return;
      }
      run.scheduled = true;
      run.ip = `${podNet}.${(++podIpSeq % 250) + 1}`;
      pod.spec.nodeName = nodeName;
      setCondition(pod, 'PodScheduled', 'True');
      mkdirSync(run.dir, { recursive: true });
    }
    if (!run.volumesReady) {
      const missing = materializeVolumes(run, pod);
      if (missing) {
        for (const c of run.containers) c.state = { waiting: { reason: 'ContainerCreating' } };
        publishStatus(run);
        return;
      }
      run.volumesReady = true;
    }
    const t = Date.now();
    for (const c of run.containers) {
      if (c.alive) continue;
      if (c.state.terminated && !shouldRestart(pod.spec.restartPolicy, c.state.terminated.exitCode)) continue;
      if (t < c.notBefore) continue;
      startContainer(run, pod, c);
    }
    publishStatus(run);
  };

  const shouldRestart = (policy: string, exitCode: number) => policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);

  /** Writes configMap/secret/emptyDir volumes under the pod's dir; the first missing source, if any. */
  const materializeVolumes = (run: PodRun, pod: Obj): string | undefined => {
    for (const v of (pod.spec.volumes ?? []) as Obj[]) {
      const dir = join(run.dir, 'volumes', v.name);
      if (v.emptyDir) { mkdirSync(dir, { recursive: true }); continue; }
      const isSecret = v.secret !== undefined;
      const srcName = isSecret ? v.secret.secretName : v.configMap.name;
      const src = getObj(isSecret ? 'secrets' : 'configmaps', run.namespace, srcName);
      const optional = (isSecret ? v.secret.optional : v.configMap.optional) === true;
      if (!src) {
        if (optional) { mkdirSync(dir, { recursive: true }); continue; }
        return `${isSecret ? 'secret' : 'configmap'} "${srcName}" not found`;
      }
      mkdirSync(dir, { recursive: true });
      const entries: Array<[string, Buffer]> = isSecret
        ? Object.entries((src.data ?? {}) as Record<string, string>).map(([k, b]) => [k, Buffer.from(b, 'base64')])
        : [...Object.entries((src.data ?? {}) as Record<string, string>).map(([k, s]) => [k, Buffer.from(s)] as [string, Buffer]),
          ...Object.entries((src.binaryData ?? {}) as Record<string, string>).map(([k, b]) => [k, Buffer.from(b, 'base64')] as [string, Buffer])];
      const items = (isSecret ? v.secret.items : v.configMap.items) as Obj[] | undefined;
      const mode = (isSecret ? v.secret.defaultMode : v.configMap.defaultMode) as number;
      for (const [k, data] of entries) {
        const item = items?.find((i) => i.key === k);
        if (items && !item) continue;
        const path = join(dir, item?.path ?? k);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, data, { mode: item?.mode ?? mode });
      }
    }
    return undefined;
  };

  /** `$(VAR)` → its value when VAR is defined; `$$(VAR)` → `$(VAR)`; anything else unchanged. */
  const expand = (text: string, env: Record<string, string>) => text.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (m, name?: string) => (m === '$$' ? '$' : name !== undefined && Object.hasOwn(env, name) ? env[name]! : m));

  const serviceEnv = (ns: string): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const svc of listObjs('services', ns)) {
      const ip = svc.spec.clusterIP;
      if (!ip || ip === 'None') continue;
      const prefix = String(svc.metadata.name).toUpperCase().replace(/-/g, '_');
      const ports = svc.spec.ports as Obj[];
      env[`${prefix}_SERVICE_HOST`] = ip;
      env[`${prefix}_SERVICE_PORT`] = String(ports[0]!.port);
      for (const p of ports) {
        if (p.name) env[`${prefix}_SERVICE_PORT_${String(p.name).toUpperCase().replace(/-/g, '_')}`] = String(p.port);
        const proto = String(p.protocol ?? 'TCP').toLowerCase();
        env[`${prefix}_PORT_${p.port}_${proto.toUpperCase()}`] = `${proto}://${ip}:${p.port}`;
        env[`${prefix}_PORT_${p.port}_${proto.toUpperCase()}_PROTO`] = proto;
        env[`${prefix}_PORT_${p.port}_${proto.toUpperCase()}_PORT`] = String(p.port);
        env[`${prefix}_PORT_${p.port}_${proto.toUpperCase()}_ADDR`] = ip;
      }
      env[`${prefix}_PORT`] = `${String(ports[0]!.protocol ?? 'TCP').toLowerCase()}://${ip}:${ports[0]!.port}`;
    }
    return env;
  };

  /** The container's environment, or why it cannot be made (CreateContainerConfigError). */
  const containerEnv = (run: PodRun, pod: Obj, c: ContainerRun): Record<string, string> | string => {
    const image = images[c.spec.image] ?? {};
    const apiUrl = new URL(emulator.url);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      ...(image.env ?? {}),
      HOSTNAME: run.name,
      ...(pod.spec.enableServiceLinks === false ? {} : serviceEnv(run.namespace)),
      KUBERNETES_SERVICE_HOST: apiUrl.hostname,
      KUBERNETES_SERVICE_PORT: apiUrl.port,
      KUBERNETES_SERVICE_PORT_HTTPS: apiUrl.port,
    };
    for (const e of (c.spec.env ?? []) as Obj[]) {
      if (e.valueFrom === undefined) { env[e.name] = expand(String(e.value ?? ''), env); continue; }
      const from = e.valueFrom as Obj;
      if (from.fieldRef) {
        const path = String(from.fieldRef.fieldPath);
        const value: Record<string, string | undefined> = {
          'metadata.name': run.name, 'metadata.namespace': run.namespace, 'metadata.uid': run.uid, 'spec.nodeName': nodeName,
          'spec.serviceAccountName': pod.spec.serviceAccountName, 'status.podIP': run.ip, 'status.hostIP': bind,
        };
        if (!(path in value)) return `unsupported fieldRef ${path}`;
        env[e.name] = value[path] ?? '';
      } else if (from.secretKeyRef || from.configMapKeyRef) {
        const isSecret = from.secretKeyRef !== undefined;
        const ref = (isSecret ? from.secretKeyRef : from.configMapKeyRef) as Obj;
        const src = getObj(isSecret ? 'secrets' : 'configmaps', run.namespace, ref.name);
        if (!src) { if (ref.optional) continue; return `${isSecret ? 'secret' : 'configmap'} "${ref.name}" not found`; }
        const raw = isSecret ? src.data?.[ref.key] : src.data?.[ref.key];
        if (raw === undefined) { if (ref.optional) continue; return `couldn't find key ${ref.key} in ${isSecret ? 'Secret' : 'ConfigMap'} ${run.namespace}/${ref.name}`; }
        env[e.name] = isSecret ? Buffer.from(String(raw), 'base64').toString('utf8') : String(raw);
      } else return `env ${e.name}: unsupported valueFrom`;
    }
    return env;
  };

  const startContainer = (run: PodRun, pod: Obj, c: ContainerRun) => {
    const image = images[c.spec.image];
    const failWaiting = (reason: string, message: string, backoff: boolean) => {
      c.state = { waiting: { reason, message } };
      if (backoff) { c.backoffMs = Math.min(maxCrashLoopBackoffMs, Math.max(crashLoopBackoffMs, c.backoffMs * 2)); c.notBefore = Date.now() + c.backoffMs; }
      else c.notBefore = Date.now() + 200;
    };
    if (!image) {
      const pulledOnce = c.state.waiting?.reason === 'ErrImagePull' || c.state.waiting?.reason === 'ImagePullBackOff';
      failWaiting(pulledOnce ? 'ImagePullBackOff' : 'ErrImagePull', pulledOnce ? `Back-off pulling image "${c.spec.image}"` : `failed to pull and unpack image "${c.spec.image}": not found in the emulator's image catalogue`, true);
      return;
    }
    const env = containerEnv(run, pod, c);
    if (typeof env === 'string') { failWaiting('CreateContainerConfigError', env, false); return; }
    // The working directory stands for the container's filesystem: volumes below it appear there.
    const workingDir = String(c.spec.workingDir ?? image.workingDir ?? '/');
    const wd = join(run.dir, 'containers', c.name, 'wd');
    mkdirSync(wd, { recursive: true });
    for (const m of (c.spec.volumeMounts ?? []) as Obj[]) {
      const mountPath = posix.normalize(String(m.mountPath));
      const rel = posix.relative(workingDir, mountPath);
      if (!posix.isAbsolute(mountPath) || rel.startsWith('..') || rel === '' || posix.isAbsolute(rel)) {
        failWaiting('CreateContainerError', `the emulator mounts volumes only below the container's working directory ${workingDir}, not at ${String(m.mountPath)}`, true);
        return;
      }
      const at = join(wd, rel);
      if (!existsSync(at)) { mkdirSync(dirname(at), { recursive: true }); symlinkSync(join(run.dir, 'volumes', m.name, m.subPath ?? ''), at); }
    }
    const command = c.spec.command ? (c.spec.command as string[]) : (image.entrypoint ?? []);
    const args = c.spec.args ? (c.spec.args as string[]) : c.spec.command ? [] : (image.cmd ?? []);
    const argv = [...command, ...args].map((a) => expand(a, env));
    if (argv.length === 0) { failWaiting('RunContainerError', 'no command specified', true); return; }
    if (c.log) c.previousLog = c.log;
    c.log = join(run.dir, 'containers', c.name, `${c.restartCount}.log`);
    const fd = openSync(c.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { cwd: wd, env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    let markExited!: () => void;
    c.exited = new Promise<void>((r) => { markExited = r; });
    c.alive = true;
    c.started = true;
    c.startedAt = Date.now();
    c.state = { running: { startedAt: now() } };
    c.ready = !isRecord(c.spec.readinessProbe);
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (ended) return;
      ended = true;
      c.alive = false;
      c.ready = false;
      stopProbe(c);
      if (c.pid !== undefined) signalGroup(c.pid, 'SIGKILL'); // what the command left behind, as a runtime does
      markExited();
      if (closed) return;
      const exitCode = error ? 128 : code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      const terminated: Obj = {
        exitCode, reason: error ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error', startedAt: c.state.running?.startedAt ?? now(), finishedAt: now(),
        ...(signal ? { signal: osConstants.signals[signal] ?? 0 } : {}),
        ...(error ? { message: error.message } : {}),
        containerID: `emulator://${run.uid}/${c.name}/${c.restartCount}`,
      };
      if (!error && exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && c.log) terminated.message = logTail(c.log, 80, 2048);
      // A container that ran long enough starts its back-off afresh.
      if (Date.now() - (c.startedAt ?? 0) >= backoffResetMs) c.backoffMs = 0;
      if (run.terminating || !shouldRestart(pod.spec.restartPolicy, exitCode)) {
        c.state = { terminated };
      } else {
        c.lastState = { terminated };
        c.restartCount++;
        if (c.backoffMs === 0) {
          // The first restart is immediate; the next ones wait, doubling from crashLoopBackoffMs.
          c.notBefore = Date.now();
          c.backoffMs = crashLoopBackoffMs / 2;
          c.state = { waiting: { reason: 'ContainerCreating' } };
        } else {
          c.backoffMs = Math.min(maxCrashLoopBackoffMs, c.backoffMs * 2);
          c.notBefore = Date.now() + c.backoffMs;
          c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatSeconds(c.backoffMs)} restarting failed container=${c.name} pod=${run.name}_${run.namespace}(${run.uid})` } };
        }
      }
      publishStatus(run);
      scheduleReconcile();
    };
    child.once('exit', (code, signal) => onEnd(code, signal));
    child.once('error', (err) => onEnd(null, null, err));
    if (child.pid === undefined) return;
    c.pid = child.pid;
    const pid = child.pid;
    allRuns.push({ pod: run, c, pid, restart: c.restartCount, alive: () => c.alive && c.pid === pid });
    if (isRecord(c.spec.readinessProbe)) startProbe(run, c);
  };

  // ---------- readiness probes ----------

  const stopProbe = (c: ContainerRun) => { if (c.probe?.timer) clearTimeout(c.probe.timer); c.probe = undefined; };

  const startProbe = (run: PodRun, c: ContainerRun) => {
    const p = c.spec.readinessProbe as Obj;
    const probe = { failures: 0, successes: 0 } as NonNullable<ContainerRun['probe']>;
    c.probe = probe;
    const tick = async () => {
      if (c.probe !== probe || !c.alive || closed) return;
      const ok = await probeOnce(run, c, p);
      if (c.probe !== probe || !c.alive || closed) return;
      if (ok) { probe.successes++; probe.failures = 0; if (probe.successes >= (p.successThreshold ?? 1) && !c.ready) { c.ready = true; publishStatus(run); } }
      else { probe.failures++; probe.successes = 0; if (probe.failures >= (p.failureThreshold ?? 3) && c.ready) { c.ready = false; publishStatus(run); } }
      probe.timer = setTimeout(() => void tick(), (p.periodSeconds ?? 10) * 1000 * timeScale);
    };
    probe.timer = setTimeout(() => void tick(), (p.initialDelaySeconds ?? 0) * 1000 * timeScale);
  };

  const containerPort = (pod: Obj | undefined, port: unknown): number | undefined => {
    if (typeof port === 'number') return port;
    for (const c of (pod?.spec.containers ?? []) as Obj[]) for (const p of (c.ports ?? []) as Obj[]) if (p.name === port) return p.containerPort;
    return undefined;
  };

  const probeOnce = (run: PodRun, c: ContainerRun, p: Obj): Promise<boolean> => {
    const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
    const pod = podObj(run);
    if (isRecord(p.tcpSocket)) {
      const port = containerPort(pod, p.tcpSocket.port);
      if (!port || !run.ip) return Promise.resolve(false);
      return new Promise((done) => {
        const s = netConnect({ host: run.ip!, port, timeout: timeoutMs });
        s.once('connect', () => { s.destroy(); done(true); });
        s.once('error', () => done(false));
        s.once('timeout', () => { s.destroy(); done(false); });
      });
    }
    const g = p.httpGet as Obj;
    const port = containerPort(pod, g.port);
    if (!port || !run.ip) return Promise.resolve(false);
    return new Promise((done) => {
      const req = httpRequest({ host: g.host ?? run.ip, port, path: g.path ?? '/', method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'kube-probe/1.30', ...Object.fromEntries(((g.httpHeaders ?? []) as Obj[]).map((h) => [h.name, h.value])) } }, (res) => {
        res.resume();
        done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
      });
      req.once('error', () => done(false));
      req.once('timeout', () => { req.destroy(); done(false); });
      req.end();
    });
  };

  // ---------- pod termination ----------

  const stopContainerProcess = (c: ContainerRun, graceMs: number): Promise<void> => {
    const pid = c.pid;
    if (pid === undefined || !c.alive || !c.exited) return Promise.resolve();
    const exited = c.exited;
    const p = (async () => {
      signalGroup(pid, 'SIGTERM');
      if (!(await within(exited, graceMs))) {
        signalGroup(pid, 'SIGKILL');
        await within(exited, 2_000);
      }
      signalGroup(pid, 'SIGKILL');
      await groupGone(pid, 2_000);
    })();
    pendingStops.add(p);
    void p.finally(() => pendingStops.delete(p));
    return p;
  };

  const terminatePod = (pod: Obj, gracePeriodSeconds: number | undefined): Obj => {
    const run = pods.get(pod.metadata.uid);
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    if (!pod.metadata.deletionTimestamp) {
      pod.metadata.deletionTimestamp = now();
      pod.metadata.deletionGracePeriodSeconds = grace;
      bump(pod);
    }
    if (run && !run.terminating) {
      const graceMs = grace * 1000 * timeScale;
      const done = Promise.all(run.containers.map((c) => { stopProbe(c); c.ready = false; return stopContainerProcess(c, graceMs); })).then(() => undefined);
      run.terminating = { deadline: Date.now() + graceMs, done };
      void done.then(() => {
        pods.delete(run.uid);
        const current = getObj('pods', run.namespace, run.name);
        if (current && current.metadata.uid === run.uid) drop('pods', current);
        scheduleReconcile();
      });
    } else if (!run) drop('pods', pod);
    scheduleReconcile();
    return pod;
  };

  // ---------- kube-proxy and the API server's service proxy ----------

  const readyEndpoints = (svc: Obj) => {
    const ep = getObj('endpoints', svc.metadata.namespace, svc.metadata.name);
    return ((ep?.subsets ?? []) as Obj[]).flatMap((s) => ((s.addresses ?? []) as Obj[]).map((a) => ({ ip: String(a.ip), pod: getObj('pods', svc.metadata.namespace, a.targetRef?.name) })));
  };

  const pickEndpoint = (svc: Obj, sp: Obj): { ip: string; port: number } | undefined => {
    const eps = readyEndpoints(svc).map((e) => ({ ip: e.ip, port: resolveTargetPort(e.pod, sp) })).filter((e): e is { ip: string; port: number } => e.port !== undefined);
    if (eps.length === 0) return undefined;
    const k = `${svc.metadata.uid}/${sp.port}`;
    const i = (rrCursor.get(k) ?? 0) % eps.length;
    rrCursor.set(k, i + 1);
    return eps[i];
  };

  const openServiceProxy = async (svc: Obj) => {
    const ip = svc.spec.clusterIP;
    if (!ip || ip === 'None') return;
    const listeners: ProxyServer[] = [];
    proxies.set(svc.metadata.uid, listeners);
    for (const sp of svc.spec.ports as Obj[]) {
      const server = createNetServer((client: Socket) => {
        const current = getObj('services', svc.metadata.namespace, svc.metadata.name);
        const target = current && current.metadata.uid === svc.metadata.uid ? pickEndpoint(current, sp) : undefined;
        if (!target) { client.resetAndDestroy(); return; }
        const upstream = netConnect({ host: target.ip, port: target.port });
        client.pipe(upstream);
        upstream.pipe(client);
        const close = () => { client.destroy(); upstream.destroy(); };
        client.on('error', close);
        upstream.on('error', () => client.resetAndDestroy());
        client.on('close', close);
        upstream.on('close', () => client.destroy());
      });
      server.on('error', () => undefined);
      await new Promise<void>((ok) => server.listen(sp.port, ip, ok).once('error', () => ok()));
      listeners.push({ server, port: sp.port });
    }
  };

  const closeServiceProxy = (svc: Obj) => {
    for (const l of proxies.get(svc.metadata.uid) ?? []) l.server.close();
    proxies.delete(svc.metadata.uid);
  };

  /** `…/services/<name>[:<port>]/proxy/<path>` → an HTTP request to a ready endpoint. */
  const serviceProxy = (ns: string, target: string, rest: string, req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    // `name`, `name:port` or `scheme:name:port` (port: a number or a port name).
    const parts = target.split(':');
    const name = parts.length === 3 ? parts[1]! : parts[0]!;
    const portSpec = parts.length === 3 ? parts[2] : parts[1];
    const svcKind = kindOf('', 'services')!;
    const svc = getObj('services', ns, name);
    if (!svc) throw notFound(svcKind, name);
    const sp = ((svc.spec.ports ?? []) as Obj[]).find((p) => portSpec === undefined || String(p.port) === portSpec || p.name === portSpec);
    if (!sp) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}:${portSpec}"`);
    const ep = pickEndpoint(svc, sp);
    if (!ep) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`);
    const headers = { ...req.headers };
    delete headers.authorization; // the API server removes the credentials it authenticated
    delete headers.host;
    delete headers.connection;
    const up = httpRequest({ host: ep.ip, port: ep.port, method: req.method, path: `/${rest}`, headers: { ...headers, 'content-length': String(body.length), host: `${ep.ip}:${ep.port}` }, timeout: 60_000 }, (r) => {
      res.writeHead(r.statusCode ?? 502, Object.fromEntries(Object.entries(r.headers).filter(([k]) => !['connection', 'transfer-encoding', 'keep-alive'].includes(k))));
      r.pipe(res);
    });
    up.on('timeout', () => up.destroy(new Error('timeout')));
    up.on('error', (e) => {
      if (res.headersSent) { res.destroy(); return; }
      send(res, 503, new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${e.message}`).status());
    });
    up.end(body);
  };

  // ---------- HTTP ----------

  const send = (res: ServerResponse, status: number, body: unknown, contentType = 'application/json') => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) }).end(text);
  };

  const listBody = (kind: Kind, items: Obj[]) => ({ kind: `${kind.kind}List`, apiVersion: kind.apiVersion, metadata: { resourceVersion: String(resourceVersion) }, items });

  const filterList = (items: Obj[], url: URL): Obj[] => {
    const ls = url.searchParams.get('labelSelector');
    const fs = url.searchParams.get('fieldSelector');
    let out = items;
    if (ls) { const reqs = parseLabelSelector(ls); out = out.filter((o) => labelsMatch(o.metadata.labels, reqs)); }
    if (fs) {
      for (const term of fs.split(',').map((t) => t.trim()).filter(Boolean)) {
        const m = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
        if (!m) throw new ApiError(400, 'BadRequest', `invalid field selector: ${term}`);
        const [, field, op, value] = m;
        const get = (o: Obj): string | undefined => field === 'metadata.name' ? o.metadata.name : field === 'metadata.namespace' ? o.metadata.namespace : field === 'status.phase' ? o.status?.phase : undefined;
        if (!['metadata.name', 'metadata.namespace', 'status.phase'].includes(field!)) throw new ApiError(400, 'BadRequest', `field label not supported: ${field}`);
        out = out.filter((o) => (op === '!=' ? get(o) !== value : get(o) === value));
      }
    }
    const limit = Number(url.searchParams.get('limit') ?? 0);
    return limit > 0 ? out.slice(0, limit) : out;
  };

  const readLog = (ns: string, name: string, url: URL): string => {
    const pod = getObj('pods', ns, name);
    if (!pod) throw notFound(kindOf('', 'pods')!, name);
    const run = pods.get(pod.metadata.uid);
    const containerName = url.searchParams.get('container') ?? (pod.spec.containers.length === 1 ? pod.spec.containers[0].name : undefined);
    if (!containerName) throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((c: Obj) => c.name).join(' ')}]`);
    const c = run?.containers.find((x) => x.name === containerName);
    if (!c) throw new ApiError(400, 'BadRequest', `container ${containerName} is not valid for pod ${name}`);
    const previous = url.searchParams.get('previous') === 'true';
    const file = previous ? c.previousLog : c.log;
    if (!file) throw new ApiError(400, 'BadRequest', previous ? `previous terminated container "${containerName}" in pod "${name}" not found` : `container "${containerName}" in pod "${name}" is waiting to start: ${c.state.waiting?.reason ?? 'ContainerCreating'}`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const tail = url.searchParams.get('tailLines');
    if (tail === null) return text;
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-Number(tail)).map((l) => `${l}\n`).join('');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    try {
      if (req.headers.authorization !== `Bearer ${token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      if (parts[0] === 'version' && parts.length === 1) { send(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0-rlink-emulator', platform: `${process.platform}/${process.arch}` }); return; }
      // /api/v1/… or /apis/apps/v1/…
      let group: '' | 'apps';
      let rest: string[];
      if (parts[0] === 'api' && parts[1] === 'v1') { group = ''; rest = parts.slice(2); }
      else if (parts[0] === 'apis' && parts[1] === 'apps' && parts[2] === 'v1') { group = 'apps'; rest = parts.slice(3); }
      else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      let ns: string | undefined;
      if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 2)) { ns = rest[1]; rest = rest.slice(2); }
      const kind = kindOf(group, rest[0] ?? '');
      if (!kind) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      const name = rest[1];
      const sub = rest[2];
      let json: unknown;
      if (body.length > 0 && !(kind.resource === 'services' && sub === 'proxy')) {
        try { json = JSON.parse(body.toString('utf8')); } catch { throw new ApiError(400, 'BadRequest', 'the request body is not valid JSON'); }
      }
      if (kind.namespaced && ns === undefined && name !== undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      if (!kind.namespaced && ns !== undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      if (ns !== undefined && !getObj('namespaces', undefined, ns) && !(method === 'GET' && name === undefined)) {
        if (method !== 'POST') throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
      }
      if (sub !== undefined) {
        if (kind.resource === 'services' && sub === 'proxy') { serviceProxy(ns!, name!, rest.slice(3).join('/') + url.search, req, res, body); return; }
        if (kind.resource === 'pods' && sub === 'log' && method === 'GET') { send(res, 200, readLog(ns!, name!, url), 'text/plain'); return; }
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
      if (name === undefined) {
        if (method === 'GET') { send(res, 200, listBody(kind, filterList(kind.namespaced ? listObjs(kind.resource, ns) : listObjs(kind.resource), url))); return; }
        if (method === 'POST') {
          if (!kind.writable) throw new ApiError(405, 'MethodNotAllowed', `the emulator maintains ${kind.resource} itself`);
          if (kind.namespaced && ns === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
          if (url.searchParams.get('dryRun') === 'All') { const o = structuredClone(json as Obj); validateAndDefault(kind, o); send(res, 201, o); return; }
          send(res, 201, create(kind, ns, json));
          return;
        }
        throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      }
      switch (method) {
        case 'GET': {
          const o = getObj(kind.resource, ns, name);
          if (!o) throw notFound(kind, name);
          send(res, 200, o);
          return;
        }
        case 'PUT':
          if (!kind.replaceable) throw new ApiError(405, 'MethodNotAllowed', `the emulator does not replace ${kind.resource}`);
          send(res, 200, replace(kind, ns, name, json));
          return;
        case 'DELETE': {
          if (!kind.writable) throw new ApiError(405, 'MethodNotAllowed', `the emulator maintains ${kind.resource} itself`);
          const o = isRecord(json) ? json : {};
          const grace = url.searchParams.get('gracePeriodSeconds') ?? o.gracePeriodSeconds;
          const policy = url.searchParams.get('propagationPolicy') ?? o.propagationPolicy;
          const deleted = remove(kind, ns, name, { ...(grace !== undefined && grace !== null ? { gracePeriodSeconds: Number(grace) } : {}), ...(policy ? { propagationPolicy: String(policy) } : {}) });
          send(res, kind.resource === 'pods' ? 200 : 200, kind.resource === 'pods' ? deleted : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(kind.group ? { group: kind.group } : {}), kind: kind.resource, uid: deleted.metadata.uid } });
          return;
        }
        default:
          throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', err instanceof Error ? err.message : String(err));
      if (res.headersSent) { res.destroy(); return; }
      send(res, e.code, e.status());
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { void handle(req, res, Buffer.concat(chunks)); });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, bind, () => { server.off('error', fail); ok(); });
  });
  const port = (server.address() as AddressInfo).port;
  // The kubelet's periodic pass: back-offs that expired, pods waiting for a Secret or for room.
  const ticker = setInterval(() => { if (!closed) reconcile(); }, 100);

  const emulator: KubernetesEmulator = {
    url: `http://${bind.includes(':') ? `[${bind}]` : bind}:${port}`,
    token,
    workDir,
    writeKubeconfig(path, o = {}) {
      const config = [
        'apiVersion: v1', 'kind: Config',
        'clusters:', '- name: emulator', '  cluster:', `    server: ${emulator.url}`, '    insecure-skip-tls-verify: true',
        'users:', '- name: emulator', '  user:', `    token: ${token}`,
        'contexts:', '- name: emulator', '  context:', '    cluster: emulator', '    user: emulator', ...(o.namespace ? [`    namespace: ${o.namespace}`] : []),
        'current-context: emulator', '',
      ].join('\n');
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, config, { mode: 0o600 });
      return path;
    },
    objects: (resource, namespace) => structuredClone(namespace === undefined ? [...store.entries()].filter(([k]) => k.startsWith(`${resource}/`)).map(([, v]) => v) : listObjs(resource, namespace)),
    containerProcesses: () => allRuns.map((r) => ({ namespace: r.pod.namespace, pod: r.pod.name, container: r.c.name, pid: r.pid, alive: r.alive(), restartCount: r.restart })),
    podDir: (namespace, pod) => [...pods.values()].find((r) => r.namespace === namespace && r.name === pod)?.dir,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      await new Promise<void>((ok) => { server.close(() => ok()); server.closeAllConnections(); });
      for (const listeners of proxies.values()) for (const l of listeners) l.server.close();
      const stops: Array<Promise<void>> = [];
      for (const run of pods.values()) for (const c of run.containers) { stopProbe(c); stops.push(stopContainerProcess(c, 2_000)); }
      await Promise.all(stops);
      await Promise.all([...pendingStops]);
      if (ownWorkDir) await rm(workDir, { recursive: true, force: true });
    },
  };
  return emulator;
}

// ------------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Go's %v of a map[string]string, as validation messages print labels. */
function goMap(m: Record<string, string>): string {
  return `map[string]string{${Object.entries(m).map(([k, v]) => `"${k}":"${v}"`).join(', ')}}`;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}

/** The last `lines` lines of a log, at most `bytes` bytes (the kubelet's FallbackToLogsOnError). */
function logTail(file: string, lines: number, bytes: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    const tail = text.split('\n').slice(-lines - 1).join('\n');
    return Buffer.from(tail).subarray(-bytes).toString('utf8');
  } catch {
    return '';
  }
}
