import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { bearer } from '../security/token';
import { RlinkError, type ErrorCode } from '../errors';

/** A job as `GET /jobs/:id` describes it (the fields the CLI uses). */
export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  'end-time': number;
  duration: number;
  restarts?: number;
  error?: string;
  errorCode?: string;
  vertices?: Array<{ id: string; name: string; parallelism: number; status: string; metrics: Record<string, number | null> }>;
}

/**
 * The job manager's REST API as the CLI (and the deploy toolkit) call it. Every failure is an
 * RlinkError naming the job manager and what it answered.
 */
export class JobManagerClient {
  constructor(readonly baseUrl: string, private readonly token: string | undefined) {}

  private async call<T>(method: string, path: string, body?: string | FormData, contentType?: string): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = bearer(this.token);
    if (contentType) headers['content-type'] = contentType;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RlinkError('RLINK_CONFIG', `job manager ${this.baseUrl} is unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`, { retriable: true, context: { host: url.host } });
    }
    const text = await res.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : {}; } catch { json = { errors: [text.slice(0, 200)] }; }
    if (!res.ok) {
      const body = json as { errors?: string[]; code?: string };
      const msg = body.errors?.join('; ') ?? res.statusText;
      if (res.status === 401) {
        throw new RlinkError('RLINK_CONFIG', `job manager ${this.baseUrl} refused the cluster token (401): set RLINK_TOKEN or --token-file to the cluster's token`, { context: { host: url.host } });
      }
      const code = (body.code?.startsWith('RLINK_') ? body.code : 'RLINK_CLI') as ErrorCode;
      throw new RlinkError(code, `job manager ${this.baseUrl} answered ${res.status} to ${method} ${path}: ${msg}`, { context: { host: url.host } });
    }
    return json as T;
  }

  /** Uploads a bundled job (multipart `file=@bundle`); returns the application id. */
  async uploadApplication(bundlePath: string): Promise<{ application_id: string }> {
    // A refused upload is answered before its body is read, and the client then only sees a broken
    // pipe: check the token first with a cheap authenticated request (404 = token accepted).
    await this.call('GET', '/bundles/0000000000000000').catch((e: unknown) => {
      if (e instanceof RlinkError && /answered 404/.test(e.message)) return;
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
