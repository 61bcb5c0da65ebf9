import { RlinkError, errorMessage } from '../errors';

/**
 * A small WebHDFS client on Node's fetch (hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html):
 * the file operations rlink needs (checkpoints, YARN uploads), nothing more.
 *
 * Why not the `webhdfs` npm package: it is unmaintained (its last release is years old), its
 * callback/stream API is built on the deprecated `request` library, and it has no delegation-token
 * support. This client is ~200 lines with no dependency beyond Node.
 *
 * Errors are RlinkError('RLINK_HDFS'): a RemoteException answer reads
 * `WebHDFS CREATE /user/x/app: AccessControlException: Permission denied: …`; a namenode that cannot
 * be reached reads `WebHDFS http://namenode:9870 unreachable: ECONNREFUSED`. Every request is bounded
 * by `timeoutMs`.
 */
export interface WebHdfsOptions {
  /** The namenode's HTTP address, e.g. http://namenode:9870; the client appends /webhdfs/v1. */
  baseUrl: string;
  /** Sent as `user.name` (simple authentication) when there is no delegation token. */
  user?: string;
  /** Sent as `delegation=` (secure clusters); `user.name` is then left out, as Hadoop expects. */
  delegationToken?: string;
  /** Bound on every request (default 60 s). */
  timeoutMs?: number;
}

export interface HdfsFileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY';
  length: number;
  modificationTime: number;
  permission: string;
  owner: string;
  group: string;
  replication: number;
  blockSize: number;
}

/** A RemoteException answered by WebHDFS: `exception` is its short Java name (FileNotFoundException, …). */
export class WebHdfsRemoteError extends RlinkError {
  constructor(message: string, readonly exception: string, readonly httpStatus: number) {
    super('RLINK_HDFS', message, { retriable: exception === 'RetriableException' || exception === 'StandbyException' });
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

export class WebHdfsClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: WebHdfsOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/i.test(this.base)) {
      throw new RlinkError('RLINK_CONFIG', `WebHDFS address '${opts.baseUrl}' must be http(s)://host:port`);
    }
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async mkdirs(path: string, permission?: string): Promise<void> {
    const ok = await this.json<{ boolean: boolean }>('PUT', 'MKDIRS', path, permission ? { permission } : {});
    if (!ok.boolean) throw new RlinkError('RLINK_HDFS', `WebHDFS MKDIRS ${path}: the namenode answered false`);
  }

  /** Namenode first (307 to a datanode, nothing written yet), then the bytes to the datanode (201). */
  async create(path: string, data: Buffer | string, opts: { overwrite?: boolean; permission?: string } = {}): Promise<void> {
    const params: Record<string, string> = { overwrite: String(opts.overwrite ?? false) };
    if (opts.permission) params.permission = opts.permission;
    const step1 = await this.request('PUT', 'CREATE', path, params, { redirect: 'manual' });
    const location = step1.headers.get('location');
    await step1.arrayBuffer().catch(() => undefined);
    if (step1.status !== 307 || !location) {
      throw new RlinkError('RLINK_HDFS', `WebHDFS CREATE ${path}: expected a 307 redirect to a datanode, got HTTP ${step1.status}${location ? '' : ' without a Location'}`);
    }
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const step2 = await this.send('CREATE', path, location, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    await step2.arrayBuffer().catch(() => undefined);
    if (step2.status !== 201) throw new RlinkError('RLINK_HDFS', `WebHDFS CREATE ${path}: the datanode answered HTTP ${step2.status}, expected 201`);
  }

  /** The whole file (the namenode redirects to a datanode; fetch follows). */
  async open(path: string): Promise<Buffer> {
    const res = await this.request('GET', 'OPEN', path);
    return Buffer.from(await res.arrayBuffer());
  }

  async tryOpen(path: string): Promise<Buffer | null> {
    try { return await this.open(path); } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async getFileStatus(path: string): Promise<HdfsFileStatus | null> {
    try { return (await this.json<{ FileStatus: HdfsFileStatus }>('GET', 'GETFILESTATUS', path)).FileStatus; } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async listStatus(path: string): Promise<HdfsFileStatus[]> {
    return (await this.json<{ FileStatuses: { FileStatus: HdfsFileStatus[] } }>('GET', 'LISTSTATUS', path)).FileStatuses.FileStatus;
  }

  /** False when there was nothing to delete. */
  async delete(path: string, recursive = false): Promise<boolean> {
    return (await this.json<{ boolean: boolean }>('DELETE', 'DELETE', path, { recursive: String(recursive) })).boolean;
  }

  /** False when HDFS refused (source absent, destination exists, its parent absent). */
  async rename(from: string, to: string): Promise<boolean> {
    return (await this.json<{ boolean: boolean }>('PUT', 'RENAME', from, { destination: hdfsPathOf('RENAME', to) })).boolean;
  }

  async setPermission(path: string, permission: string): Promise<void> {
    const res = await this.request('PUT', 'SETPERMISSION', path, { permission });
    await res.arrayBuffer().catch(() => undefined);
  }

  private async json<T>(method: string, op: string, path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await this.request(method, op, path, params);
    const text = await res.text();
    try { return JSON.parse(text) as T; } catch {
      throw new RlinkError('RLINK_HDFS', `WebHDFS ${op} ${path}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** One request to the namenode; any answer but 2xx (and the 307 of a manual redirect) throws. */
  private async request(method: string, op: string, path: string, params: Record<string, string> = {}, init: { redirect?: 'follow' | 'manual' } = {}): Promise<Response> {
    const query = new URLSearchParams({ op, ...params });
    if (this.opts.delegationToken) query.set('delegation', this.opts.delegationToken);
    else if (this.opts.user) query.set('user.name', this.opts.user);
    const url = `${this.base}/webhdfs/v1${encodePath(hdfsPathOf(op, path))}?${query}`;
    return this.send(op, path, url, { method, redirect: init.redirect ?? 'follow' });
  }

  private async send(op: string, path: string, url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const target = url.startsWith(`${this.base}/`) ? this.base : new URL(url).origin;
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : causeCode(e);
      throw new RlinkError('RLINK_HDFS', `WebHDFS ${target} unreachable: ${reason} (${op} ${path})`, { retriable: true, cause: e });
    }
    if (res.ok || (init.redirect === 'manual' && res.status === 307)) return res;
    const text = await res.text().catch(() => '');
    const remote = remoteException(text);
    if (remote) throw new WebHdfsRemoteError(`WebHDFS ${op} ${path}: ${remote.exception}: ${remote.message}`, remote.exception, res.status);
    throw new WebHdfsRemoteError(`WebHDFS ${op} ${path}: HTTP ${res.status} ${res.statusText}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`, `HTTP${res.status}`, res.status);
  }
}

/** hdfs://namenode:8020/path → { path: '/path', authority: 'namenode:8020' }. */
export function parseHdfsUrl(url: string): { authority: string; path: string } {
  const m = /^hdfs:\/\/([^/?#]*)([^?#]*)$/i.exec(url);
  if (!m) throw new RlinkError('RLINK_CONFIG', `'${url}' is not an hdfs:// URL (hdfs://namenode:8020/path)`);
  const path = ('/' + m[2]!).replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  return { authority: m[1]!, path };
}

/** The absolute HDFS path of a path or hdfs:// URL; `.` and `..` segments are refused (HDFS refuses them too). */
function hdfsPathOf(op: string, path: string): string {
  const p = /^hdfs:\/\//i.test(path) ? parseHdfsUrl(path).path : path;
  if (!p.startsWith('/')) throw new RlinkError('RLINK_HDFS', `WebHDFS ${op} ${path}: the path must be absolute`);
  if (p.split('/').some((s) => s === '.' || s === '..')) throw new RlinkError('RLINK_HDFS', `WebHDFS ${op} ${path}: invalid path ('.' and '..' are not HDFS names)`);
  return p;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function remoteException(text: string): { exception: string; message: string } | undefined {
  try {
    const r = (JSON.parse(text) as { RemoteException?: { exception?: unknown; message?: unknown } }).RemoteException;
    if (r && typeof r.exception === 'string') return { exception: r.exception, message: typeof r.message === 'string' ? r.message : '' };
  } catch { /* not JSON */ }
  return undefined;
}

/** ECONNREFUSED, ENOTFOUND, … from fetch's "fetch failed" (the code sits in its cause). */
function causeCode(e: unknown): string {
  let innermost = e;
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (c instanceof AggregateError && c.errors[0]) return causeCode(c.errors[0]);
    innermost = c;
  }
  return errorMessage(innermost); // e.g. "bad port"
}

function isNotFound(e: unknown): boolean {
  return e instanceof WebHdfsRemoteError && (e.exception === 'FileNotFoundException' || e.httpStatus === 404);
}
