/**
 * A small fetch-based client for the Apache Hadoop YARN Services REST API (`/app/v1/services`, see
 * YarnServiceAPI.html) and the ResourceManager REST API (`/ws/v1/cluster`, see ResourceManagerRest.html).
 * It speaks "simple" authentication (`user.name` query parameter). Every failure is an
 * `RlinkError('RLINK_YARN', …)` that names the request and YARN's own diagnostics.
 */
import { RlinkError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { poll } from '../../core/util/retry';

export interface YarnClientOptions {
  /** The ResourceManager's web address, e.g. http://rm:8088 (the Services API is served by the RM too). */
  resourceManager: string;
  /** Sent as the `user.name` query parameter (Hadoop's simple authentication). */
  user?: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  logger?: Logger;
}

export type YarnRestartPolicy = 'ALWAYS' | 'ON_FAILURE' | 'NEVER';

export interface YarnConfigFile { type: 'STATIC'; src_file: string; dest_file: string }

export interface YarnComponentSpec {
  name: string;
  number_of_containers: number;
  launch_command: string;
  /** `memory` is a string of MB, as the API defines it. */
  resource: { cpus: number; memory: string };
  restart_policy?: YarnRestartPolicy;
  dependencies?: string[];
  configuration?: { env?: Record<string, string>; files?: YarnConfigFile[]; properties?: Record<string, string> };
}

export interface YarnServiceSpec {
  name: string;
  version: string;
  queue?: string;
  /** Seconds; the service is killed once it has lived this long. */
  lifetime?: number;
  components: YarnComponentSpec[];
}

export interface YarnContainerStatus {
  id: string;
  state: string;
  bare_host?: string;
  ip?: string;
  diagnostics?: string;
  exit_status?: number;
}

export interface YarnComponentStatus {
  name: string;
  state: string;
  number_of_containers: number;
  containers: YarnContainerStatus[];
}

export interface YarnServiceStatus {
  name: string;
  /** The YARN application id of the service's current run. */
  id?: string;
  /** ACCEPTED | STARTED | STABLE | FLEX | STOPPED | FAILED | SUCCEEDED | UPGRADING … */
  state: string;
  components: YarnComponentStatus[];
  diagnostics?: string;
}

export interface YarnClusterApp {
  id: string;
  name: string;
  state: string;
  finalStatus: string;
  applicationType: string;
}

/** Service states after which nothing changes without a new request. */
const TERMINAL_SERVICE_STATES = new Set(['FAILED', 'STOPPED', 'SUCCEEDED']);

export class YarnClient {
  private readonly base: string;
  private readonly user: string | undefined;
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;

  constructor(opts: YarnClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.resourceManager);
    } catch {
      throw new RlinkError('RLINK_YARN', `YARN ResourceManager address "${opts.resourceManager}" is not a URL (expected http://host:8088)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RlinkError('RLINK_YARN', `YARN ResourceManager address "${opts.resourceManager}" must be http:// or https://`);
    }
    this.base = opts.resourceManager.replace(/\/+$/, '');
    this.user = opts.user;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.logger = opts.logger;
  }

  /** Submits a service (YARN answers 202 Accepted and launches it asynchronously). */
  async createService(spec: YarnServiceSpec): Promise<void> {
    await this.request('POST', '/app/v1/services', spec);
  }

  /** The service's spec and live status; null when YARN knows no service of that name. */
  async getService(name: string): Promise<YarnServiceStatus | null> {
    const res = await this.request('GET', `/app/v1/services/${encodeURIComponent(name)}`, undefined, { notFoundIsNull: true });
    return res === null ? null : toServiceStatus(res);
  }

  /** Sets a component's container count. */
  async flexComponent(service: string, component: string, containers: number): Promise<void> {
    if (!Number.isInteger(containers) || containers < 0) {
      throw new RlinkError('RLINK_YARN', `cannot flex ${service}/${component} to ${containers} containers: expected a whole number ≥ 0`);
    }
    await this.request('PUT', `/app/v1/services/${encodeURIComponent(service)}/components/${encodeURIComponent(component)}`, { number_of_containers: containers });
  }

  /** Stops every container of the service; its definition stays and can be started again. */
  async stopService(name: string): Promise<void> {
    await this.request('PUT', `/app/v1/services/${encodeURIComponent(name)}`, { state: 'STOPPED' });
  }

  /** Starts a stopped service again (as a new YARN application). */
  async startService(name: string): Promise<void> {
    await this.request('PUT', `/app/v1/services/${encodeURIComponent(name)}`, { state: 'STARTED' });
  }

  /** Stops the service and removes its definition; a service that does not exist is fine. */
  async destroyService(name: string): Promise<void> {
    await this.request('DELETE', `/app/v1/services/${encodeURIComponent(name)}`, undefined, { notFoundIsNull: true });
  }

  /** The ResourceManager's applications (services appear with applicationType `yarn-service`). */
  async clusterApps(filter: { states?: string[]; applicationTypes?: string[] } = {}): Promise<YarnClusterApp[]> {
    const query = new URLSearchParams();
    if (filter.states?.length) query.set('states', filter.states.join(','));
    if (filter.applicationTypes?.length) query.set('applicationTypes', filter.applicationTypes.join(','));
    const res = (await this.request('GET', '/ws/v1/cluster/apps', undefined, { query })) as { apps?: { app?: unknown[] } | null } | null;
    const apps = res?.apps?.app ?? [];
    return apps.map((raw) => {
      const a = (raw ?? {}) as Record<string, unknown>;
      return {
        id: String(a.id ?? ''),
        name: String(a.name ?? ''),
        state: String(a.state ?? ''),
        finalStatus: String(a.finalStatus ?? ''),
        applicationType: String(a.applicationType ?? ''),
      };
    });
  }

  /**
   * Polls the service until `until` holds, and returns that status. Throws RLINK_YARN when the
   * service FAILED (with the diagnostics of its failed containers), when it reached another state
   * it will not leave by itself (STOPPED, SUCCEEDED) without `until` holding, or at the deadline.
   */
  async waitForService(
    name: string,
    until: (s: YarnServiceStatus) => boolean,
    opts: { timeoutMs: number; pollMs?: number },
  ): Promise<YarnServiceStatus> {
    let last: YarnServiceStatus | null = null;
    return poll(async () => {
      last = await this.getService(name);
      if (!last) return undefined;
      if (until(last)) return last;
      if (last.state === 'FAILED') throw new RlinkError('RLINK_YARN', `YARN service ${name} FAILED: ${failureDiagnostics(last)}`, { context: { job: name } });
      if (TERMINAL_SERVICE_STATES.has(last.state)) {
        throw new RlinkError('RLINK_YARN', `YARN service ${name} is ${last.state}, not in the awaited state (${describeStatus(last)})`, { context: { job: name } });
      }
      return undefined;
    }, {
      timeoutMs: opts.timeoutMs, intervalMs: opts.pollMs ?? 500,
      fail: () => {
        const seen = last ? `last state ${last.state}: ${describeStatus(last)}` : 'YARN does not know the service';
        return new RlinkError('RLINK_YARN', `YARN service ${name} did not reach the awaited state within ${formatMs(opts.timeoutMs)} (${seen})`, { retriable: true, context: { job: name } });
      },
    });
  }

  /**
   * One request. 2xx → the parsed JSON body (or null when empty); 404 with `notFoundIsNull` → null;
   * anything else → RLINK_YARN naming the method, path, status and YARN's diagnostics.
   */
  private async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    opts: { notFoundIsNull?: boolean; query?: URLSearchParams } = {},
  ): Promise<unknown> {
    const query = new URLSearchParams(opts.query);
    if (this.user !== undefined) query.set('user.name', this.user);
    const qs = query.toString();
    const url = `${this.base}${path}${qs ? `?${qs}` : ''}`;
    this.logger?.debug({ method, url }, 'YARN request');
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const why = timedOut ? `no answer within ${this.timeoutMs} ms` : errorMessage(causeOf(err));
      throw new RlinkError('RLINK_YARN', `YARN ${method} ${path}: ResourceManager ${this.base} is unreachable (${why})`, { retriable: true, cause: err });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new RlinkError('RLINK_YARN', `YARN ${method} ${path}: the answer from ${this.base} broke off (${errorMessage(err)})`, { retriable: true, cause: err });
    }
    if (res.status === 404 && opts.notFoundIsNull) return null;
    if (!res.ok) {
      throw new RlinkError('RLINK_YARN', `YARN ${method} ${path}: ${res.status} ${errorDetail(text, res.statusText)}`, { retriable: res.status >= 500 });
    }
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new RlinkError('RLINK_YARN', `YARN ${method} ${path}: ${res.status} with a body that is not JSON: ${oneLine(text).slice(0, 200)}`);
    }
  }
}

/** YARN's explanation in an error body: the Services API's `diagnostics`, the RM's RemoteException message, or the text. */
function errorDetail(text: string, statusText: string): string {
  try {
    const body = JSON.parse(text) as { diagnostics?: unknown; RemoteException?: { message?: unknown; exception?: unknown } };
    if (typeof body.diagnostics === 'string' && body.diagnostics) return oneLine(body.diagnostics);
    const remote = body.RemoteException;
    if (remote && typeof remote.message === 'string') {
      return oneLine(typeof remote.exception === 'string' ? `${remote.exception}: ${remote.message}` : remote.message);
    }
  } catch {
    // not JSON: fall through to the text
  }
  const plain = oneLine(text.replace(/<[^>]*>/g, ' '));
  return plain ? plain.slice(0, 300) : statusText;
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** fetch wraps socket errors (ECONNREFUSED, ENOTFOUND) in a TypeError('fetch failed') with the real one as cause. */
function causeOf(err: unknown): unknown {
  return err instanceof Error && err.cause !== undefined ? err.cause : err;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The status part of a Services API GET answer (which is the full spec plus live fields). */
function toServiceStatus(raw: unknown): YarnServiceStatus {
  const s = asRecord(raw);
  const components = Array.isArray(s.components) ? s.components : [];
  const status: YarnServiceStatus = {
    name: String(s.name ?? ''),
    state: String(s.state ?? 'UNKNOWN'),
    components: components.map((rawComponent) => {
      const c = asRecord(rawComponent);
      const containers = Array.isArray(c.containers) ? c.containers : [];
      return {
        name: String(c.name ?? ''),
        state: String(c.state ?? 'UNKNOWN'),
        number_of_containers: Number(c.number_of_containers ?? 0),
        containers: containers.map((rawContainer) => {
          const k = asRecord(rawContainer);
          const container: YarnContainerStatus = { id: String(k.id ?? ''), state: String(k.state ?? 'UNKNOWN') };
          const bareHost = optionalString(k.bare_host);
          const ip = optionalString(k.ip);
          const diagnostics = optionalString(k.diagnostics);
          if (bareHost !== undefined) container.bare_host = bareHost;
          if (ip !== undefined) container.ip = ip;
          if (diagnostics !== undefined) container.diagnostics = diagnostics;
          if (typeof k.exit_status === 'number') container.exit_status = k.exit_status;
          return container;
        }),
      };
    }),
  };
  const id = optionalString(s.id);
  const diagnostics = optionalString(s.diagnostics);
  if (id !== undefined) status.id = id;
  if (diagnostics !== undefined) status.diagnostics = diagnostics;
  return status;
}

/** "a 1/1 STABLE, b 2/3 FLEXING": containers READY of those wanted, per component. */
function describeStatus(s: YarnServiceStatus): string {
  if (s.components.length === 0) return 'no components';
  return s.components
    .map((c) => `${c.name} ${c.containers.filter((k) => k.state === 'READY').length}/${c.number_of_containers} ${c.state}`)
    .join(', ');
}

/** The service's own diagnostics, then each failed container's exit status and diagnostics. */
function failureDiagnostics(s: YarnServiceStatus): string {
  const parts: string[] = [];
  if (s.diagnostics) parts.push(oneLine(s.diagnostics));
  for (const c of s.components) {
    for (const k of c.containers) {
      if (k.state !== 'FAILED') continue;
      const exit = k.exit_status === undefined ? '' : ` exit status ${k.exit_status}`;
      const why = k.diagnostics ? `: ${oneLine(k.diagnostics)}` : '';
      const line = `container ${k.id} of ${c.name}${exit}${why}`;
      if (!parts.some((p) => p.includes(k.id))) parts.push(line);
    }
  }
  return parts.length > 0 ? parts.join('; ') : `no diagnostics (${describeStatus(s)})`;
}
