import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { bearer } from '../security/token';
import { RlinkError, codeOfStatus, isErrorCode, type ErrorCode } from '../errors';

/** A job as `GET /jobs/:id` describes it (the fields the CLI uses). */
export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  'end-time': number;
  duration: number;
  /** The job manager's clock when it answered (ms since the epoch). */
  now?: number;
  restarts?: number;
  /** True while the job waits for free slots. */
  'waiting-for-slots'?: boolean;
  error?: string;
  errorCode?: string;
  vertices?: Array<{ id: string; name: string; parallelism: number; status: string; metrics: Record<string, number | null> }>;
}

/**
 * The job manager's REST API as the CLI (and the deploy toolkit) call it. Every failure is an
 * RlinkError naming the job manager and what it answered, with the code the job manager sent (or
 * the one of its HTTP status).
 *
 * With several addresses (a leader and its standbys, as `application_manager_address` lists them),
 * a request goes to the job manager that answered last; when that one cannot be reached, or answers
 * that it is a standby (503 RLINK_NOT_LEADER), the next address is tried, in order, for up to
 * `failoverTimeoutMs`. Requests that change something are retried only when they cannot have
 * reached a job manager (connection refused, unknown host, a standby's refusal).
 */
export interface JobManagerClientOptions {
  /** How long a request keeps trying the addresses while no leader answers (default 0 with one address, 30 s with several). */
  failoverTimeoutMs?: number;
}

/** Connection errors after which the request surely was not processed: safe to send elsewhere. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export class JobManagerClient {
  readonly addresses: string[];
  private current = 0;
  private readonly failoverTimeoutMs: number;

  constructor(baseUrl: string | readonly string[], private readonly token: string | undefined, opts: JobManagerClientOptions = {}) {
    this.addresses = parseAddresses(baseUrl);
    if (this.addresses.length === 0) throw new RlinkError('RLINK_CONFIG', 'no job manager address given');
    this.failoverTimeoutMs = opts.failoverTimeoutMs ?? (this.addresses.length > 1 ? 30_000 : 0);
  }

  /** The address that answered last (the leader, as far as this client knows). */
  get baseUrl(): string { return this.addresses[this.current]!; }

  private async call<T>(method: string, path: string, body?: string | FormData, contentType?: string): Promise<T> {
    const deadline = Date.now() + this.failoverTimeoutMs;
    const safe = method === 'GET' || method === 'HEAD';
    for (let tries = 0; ; tries++) {
      try {
        return await this.callOnce<T>(this.baseUrl, method, path, body, contentType);
      } catch (e) {
        const err = e as RlinkError & { delivered?: boolean };
        const elsewhere = err.code === 'RLINK_NOT_LEADER' || (err.code === 'RLINK_NETWORK' && (safe || err.delivered === false));
        if (!elsewhere || (tries + 1 >= this.addresses.length && Date.now() >= deadline)) throw e;
        this.current = (this.current + 1) % this.addresses.length;
        // A full round without a leader: wait a little before the next (an election takes a moment).
        if ((tries + 1) % this.addresses.length === 0) await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      }
    }
  }

  private async callOnce<T>(baseUrl: string, method: string, path: string, body?: string | FormData, contentType?: string): Promise<T> {
    const url = new URL(path, baseUrl);
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = bearer(this.token);
    if (contentType) headers['content-type'] = contentType;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      const err = new RlinkError('RLINK_NETWORK', `job manager ${baseUrl} is unreachable (${why})`, { retriable: true, context: { host: url.host } });
      return Promise.reject(Object.assign(err, { delivered: !NOT_DELIVERED.has(cause?.code ?? '') }));
    }
    const text = await res.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : {}; } catch { json = { errors: [text.slice(0, 200)] }; }
    if (!res.ok) {
      const answer = json as { errors?: string[]; code?: string };
      const msg = answer.errors?.join('; ') ?? res.statusText;
      if (res.status === 401) {
        throw new RlinkError('RLINK_UNAUTHORIZED', `job manager ${baseUrl} refused the cluster token (401): set RLINK_TOKEN or --token-file to the cluster's token`, { context: { host: url.host } });
      }
      const code: ErrorCode = isErrorCode(answer.code) ? answer.code : codeOfStatus(res.status);
      throw new RlinkError(code, `job manager ${baseUrl} answered ${res.status} to ${method} ${path}: ${msg}`, { context: { host: url.host }, retriable: code === 'RLINK_NOT_LEADER' || code === 'RLINK_WRONG_STATE' });
    }
    return json as T;
  }

  /** Uploads a bundled job (multipart `file=@bundle`); returns the application id. */
  async uploadApplication(bundlePath: string): Promise<{ application_id: string }> {
    // A refused upload is answered before its body is read, and the client then only sees a broken
    // pipe: check the token first with a cheap authenticated request (404 = token accepted).
    await this.call('GET', '/bundles/0000000000000000').catch((e: unknown) => {
      if (e instanceof RlinkError && e.code === 'RLINK_NOT_FOUND') return;
      throw e;
    });
    const bytes = await readFile(bundlePath);
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'application/javascript' }), basename(bundlePath));
    return this.call('POST', '/job/application', form);
  }

  /** Runs an uploaded application with `key=value` arguments; returns the job id. */
  runApplication(applicationId: string, args: Record<string, string>): Promise<{ jobid: string }> {
    return this.call('POST', `/job/application/${encodeURIComponent(applicationId)}`, JSON.stringify({ args }), 'application/json');
  }

  shutdownApplication(applicationId: string): Promise<unknown> {
    return this.call('POST', `/job/application/${encodeURIComponent(applicationId)}/shutdown`);
  }

  jobs(): Promise<{ jobs: Array<Record<string, unknown>> }> { return this.call('GET', '/jobs/overview'); }
  job(id: string): Promise<JobDetails> { return this.call('GET', `/jobs/${encodeURIComponent(id)}`); }
  cancel(id: string): Promise<unknown> { return this.call('PATCH', `/jobs/${encodeURIComponent(id)}?mode=cancel`); }
  overview(): Promise<Record<string, unknown>> { return this.call('GET', '/overview'); }
  /** Stop with a savepoint; answers once the savepoint is taken. */
  stop(id: string, targetDirectory: string, drain: boolean): Promise<{ location: string }> {
    return this.call('POST', `/jobs/${encodeURIComponent(id)}/stop`, JSON.stringify({ targetDirectory, drain }), 'application/json');
  }
  savepoint(id: string, targetDirectory: string): Promise<{ location: string }> {
    return this.call('POST', `/jobs/${encodeURIComponent(id)}/savepoints`, JSON.stringify({ 'target-directory': targetDirectory }), 'application/json');
  }
  taskManagers(): Promise<{ taskmanagers: Array<Record<string, unknown>> }> { return this.call('GET', '/taskmanagers'); }

  /** Polls a job until it reaches a terminal state (or `timeoutMs`). */
  async waitForJob(id: string, opts: { intervalMs?: number; timeoutMs?: number; onUpdate?: (j: JobDetails) => void } = {}): Promise<JobDetails> {
    const end = Date.now() + (opts.timeoutMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const j = await this.job(id);
      opts.onUpdate?.(j);
      if (j.state === 'FINISHED' || j.state === 'FAILED' || j.state === 'CANCELED') return j;
      if (Date.now() > end) throw new RlinkError('RLINK_CLI', `job ${id} still ${j.state} after ${opts.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
    }
  }
}

/** Job manager addresses: one URL, several, or a comma-separated list (as `--jm a,b`). */
export function parseAddresses(v: string | readonly string[]): string[] {
  const list = typeof v === 'string' ? [v] : [...v];
  return list.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '');
}
