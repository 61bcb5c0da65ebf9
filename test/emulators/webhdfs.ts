/**
 * Emulates the documented WebHDFS REST API (hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html)
 * for tests; not HDFS, never part of the product.
 *
 * One node:http server plays the namenode and the "datanode": CREATE and OPEN answer 307 with a
 * Location back to the same host:port carrying `datanode=true`, as a namenode redirects to a datanode.
 * Files live in a local directory (`root`); owners, groups and permissions in a sidecar map. Errors
 * are RemoteException JSON with Hadoop's status codes (FileNotFoundException 404, IllegalArgument 400,
 * other IOExceptions 403). `faults.failNext(op, …)` makes the next request of an op fail; `requests`
 * records every request (method, op, path, datanode) so tests can see the redirects happen.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, resolve, sep } from 'node:path';

export interface WebHdfsRequestRecord { method: string; op: string; path: string; datanode: boolean }

export interface WebHdfsEmulator {
  /** http://host:port, the namenode address a client is given. */
  url: string;
  /** The local directory backing hdfs:/ . */
  root: string;
  /** Where an HDFS path lives on the local disk. */
  localPath(hdfsPath: string): string;
  faults: { failNext(op: string, exception: string, message: string, status?: number): void };
  /** Every request served, in order. */
  requests: WebHdfsRequestRecord[];
  close(): Promise<void>;
}

interface Meta { owner: string; group: string; permission: string }

/** Short Java name → fully qualified name and HTTP status, as WebHDFS's ExceptionHandler maps them. */
const EXCEPTIONS: Record<string, { javaClassName: string; status: number }> = {
  FileNotFoundException: { javaClassName: 'java.io.FileNotFoundException', status: 404 },
  IllegalArgumentException: { javaClassName: 'java.lang.IllegalArgumentException', status: 400 },
  InvalidPathException: { javaClassName: 'org.apache.hadoop.fs.InvalidPathException', status: 400 },
  UnsupportedOperationException: { javaClassName: 'java.lang.UnsupportedOperationException', status: 400 },
  SecurityException: { javaClassName: 'java.lang.SecurityException', status: 401 },
  AccessControlException: { javaClassName: 'org.apache.hadoop.security.AccessControlException', status: 403 },
  FileAlreadyExistsException: { javaClassName: 'org.apache.hadoop.fs.FileAlreadyExistsException', status: 403 },
  ParentNotDirectoryException: { javaClassName: 'org.apache.hadoop.fs.ParentNotDirectoryException', status: 403 },
  PathIsNotEmptyDirectoryException: { javaClassName: 'org.apache.hadoop.fs.PathIsNotEmptyDirectoryException', status: 403 },
  SafeModeException: { javaClassName: 'org.apache.hadoop.hdfs.server.namenode.SafeModeException', status: 403 },
  StandbyException: { javaClassName: 'org.apache.hadoop.ipc.StandbyException', status: 403 },
  RetriableException: { javaClassName: 'org.apache.hadoop.ipc.RetriableException', status: 403 },
  IOException: { javaClassName: 'java.io.IOException', status: 403 },
};

class RemoteError extends Error {
  constructor(readonly exception: string, message: string, readonly status = EXCEPTIONS[exception]?.status ?? 403) { super(message); }
}

const OPS_BY_METHOD: Record<string, string[]> = {
  GET: ['OPEN', 'GETFILESTATUS', 'LISTSTATUS'],
  PUT: ['CREATE', 'MKDIRS', 'RENAME', 'SETPERMISSION'],
  DELETE: ['DELETE'],
  POST: [],
};
const OP_ENUM: Record<string, string> = { GET: 'GetOpParam', PUT: 'PutOpParam', DELETE: 'DeleteOpParam', POST: 'PostOpParam' };

export async function startWebHdfsEmulator(opts: { dir?: string; bind?: string; port?: number } = {}): Promise<WebHdfsEmulator> {
  const ownDir = opts.dir === undefined;
  const root = resolve(opts.dir ?? mkdtempSync(join(tmpdir(), 'rlink-webhdfs-')));
  await mkdir(root, { recursive: true });
  const meta = new Map<string, Meta>([['/', { owner: 'hdfs', group: 'supergroup', permission: '755' }]]);
  const faults = new Map<string, Array<{ exception: string; message: string; status?: number }>>();
  const requests: WebHdfsRequestRecord[] = [];
  let fileIds = 16386;
  const ids = new Map<string, number>();

  /** The local path of an HDFS path; `..` (or anything leaving root) is an InvalidPathException. */
  const localPath = (hdfsPath: string): string => {
    if (!hdfsPath.startsWith('/') || hdfsPath.split('/').some((s) => s === '..' || s === '.')) {
      throw new RemoteError('InvalidPathException', `Invalid path name Invalid file name: ${hdfsPath}`);
    }
    const local = resolve(root, '.' + posix.normalize(hdfsPath));
    if (local !== root && !local.startsWith(root + sep)) throw new RemoteError('InvalidPathException', `Invalid path name Invalid file name: ${hdfsPath}`);
    return local;
  };
  const normalize = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p) || '/';
  const statOf = async (p: string) => stat(localPath(p)).catch(() => undefined);

  const fileStatus = async (hdfsPath: string, pathSuffix: string) => {
    const s = await stat(localPath(hdfsPath));
    const dir = s.isDirectory();
    const m = meta.get(hdfsPath) ?? { owner: 'hdfs', group: 'supergroup', permission: dir ? '755' : '644' };
    let id = ids.get(hdfsPath);
    if (id === undefined) { id = ++fileIds; ids.set(hdfsPath, id); }
    return {
      accessTime: dir ? 0 : Math.floor(s.atimeMs), blockSize: dir ? 0 : 134217728, childrenNum: dir ? (await readdir(localPath(hdfsPath))).length : 0,
      fileId: id, group: m.group, length: dir ? 0 : s.size, modificationTime: Math.floor(s.mtimeMs), owner: m.owner,
      pathSuffix, permission: m.permission, replication: dir ? 0 : 1, storagePolicy: 0, type: dir ? 'DIRECTORY' : 'FILE',
    };
  };

  /** Creates the missing directories of `hdfsPath` (owned by `user`); a file on the way is a ParentNotDirectoryException (`forChild`: `hdfsPath` is the parent of a file to create). */
  const mkdirs = async (hdfsPath: string, user: string, permission: string, forChild = false) => {
    const parts = hdfsPath.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      cur += '/' + parts[i];
      const s = await statOf(cur);
      if (s?.isDirectory()) continue;
      if (s) {
        if (i === parts.length - 1 && !forChild) throw new RemoteError('FileAlreadyExistsException', `Path is not a directory: ${hdfsPath}`);
        throw new RemoteError('ParentNotDirectoryException', `Parent path is not a directory: ${cur}`);
      }
      try {
        await mkdir(localPath(cur));
        meta.set(cur, { owner: user, group: 'supergroup', permission });
      } catch (e) {
        // another request created it meanwhile (concurrent CREATEs into one new directory)
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !(await statOf(cur))?.isDirectory()) throw e;
      }
    }
  };

  const checkPermission = (p: string | null, fallback: string): string => {
    if (p === null) return fallback;
    if (!/^[01]?[0-7]{3}$/.test(p)) throw new RemoteError('IllegalArgumentException', `Invalid value for webhdfs parameter "permission": Invalid value: "${p}" does not belong to the domain ^[0-1]?[0-7][0-7][0-7]$`);
    return p.length === 4 ? p.slice(1) : p;
  };

  const dropMeta = (prefix: string) => {
    for (const k of [...meta.keys()]) if (k === prefix || k.startsWith(prefix + '/')) meta.delete(k);
    for (const k of [...ids.keys()]) if (k === prefix || k.startsWith(prefix + '/')) ids.delete(k);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const op = (url.searchParams.get('op') ?? '').toUpperCase();
    const datanode = url.searchParams.get('datanode') === 'true';
    if (!rawPath.startsWith('/webhdfs/v1')) { res.writeHead(404).end(); return; }
    let hdfsPath: string;
    try {
      hdfsPath = normalize(rawPath.slice('/webhdfs/v1'.length).split('/').map((s) => decodeURIComponent(s)).join('/') || '/');
    } catch {
      throw new RemoteError('IllegalArgumentException', `Invalid path ${rawPath}`);
    }
    requests.push({ method, op, path: hdfsPath, datanode });
    if (!(OPS_BY_METHOD[method] ?? []).includes(op)) {
      throw new RemoteError('IllegalArgumentException', `Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.${OP_ENUM[method] ?? 'GetOpParam'}.Op.${op || 'NULL'}`);
    }
    const fault = faults.get(op)?.shift();
    if (fault) throw new RemoteError(fault.exception, fault.message, fault.status);
    localPath(hdfsPath);
    const user = url.searchParams.get('user.name') ?? 'dr.who';
    const json = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const redirectToDatanode = () => {
      const q = new URLSearchParams(url.searchParams);
      q.set('datanode', 'true');
      q.set('namenoderpcaddress', 'localhost:8020');
      const host = req.headers.host ?? new URL(emulator.url).host;
      res.writeHead(307, { location: `http://${host}/webhdfs/v1${rawPath.slice('/webhdfs/v1'.length)}?${q}`, 'content-length': 0 }).end();
    };

    switch (op) {
      case 'CREATE': {
        const permission = checkPermission(url.searchParams.get('permission'), '644');
        if (!datanode) { redirectToDatanode(); return; }
        const existing = await statOf(hdfsPath);
        if (existing?.isDirectory()) throw new RemoteError('FileAlreadyExistsException', `${hdfsPath} already exists as a directory`);
        if (existing && url.searchParams.get('overwrite') !== 'true') throw new RemoteError('FileAlreadyExistsException', `${hdfsPath} for client 127.0.0.1 already exists`);
        await mkdirs(posix.dirname(hdfsPath), user, '755', true);
        await writeFile(localPath(hdfsPath), body);
        meta.set(hdfsPath, { owner: user, group: 'supergroup', permission });
        res.writeHead(201, { location: `hdfs://localhost:8020${hdfsPath}`, 'content-length': 0 }).end();
        return;
      }
      case 'OPEN': {
        const s = await statOf(hdfsPath);
        if (!s) throw new RemoteError('FileNotFoundException', `File does not exist: ${hdfsPath}`);
        if (s.isDirectory()) throw new RemoteError('FileNotFoundException', `Path is not a file: ${hdfsPath}`);
        if (!datanode) { redirectToDatanode(); return; }
        const data = await readFile(localPath(hdfsPath));
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const length = url.searchParams.has('length') ? Number(url.searchParams.get('length')) : data.length - offset;
        const slice = data.subarray(offset, offset + length);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': slice.length }).end(slice);
        return;
      }
      case 'MKDIRS':
        await mkdirs(hdfsPath, user, checkPermission(url.searchParams.get('permission'), '755'));
        json(200, { boolean: true });
        return;
      case 'GETFILESTATUS':
        if (!(await statOf(hdfsPath))) throw new RemoteError('FileNotFoundException', `File does not exist: ${hdfsPath}`);
        json(200, { FileStatus: await fileStatus(hdfsPath, '') });
        return;
      case 'LISTSTATUS': {
        const s = await statOf(hdfsPath);
        if (!s) throw new RemoteError('FileNotFoundException', `File ${hdfsPath} does not exist.`);
        const list = s.isDirectory()
          ? await Promise.all((await readdir(localPath(hdfsPath))).sort().map((name) => fileStatus(posix.join(hdfsPath, name), name)))
          : [await fileStatus(hdfsPath, '')];
        json(200, { FileStatuses: { FileStatus: list } });
        return;
      }
      case 'DELETE': {
        const s = await statOf(hdfsPath);
        if (!s || hdfsPath === '/') { json(200, { boolean: false }); return; }
        if (s.isDirectory() && url.searchParams.get('recursive') !== 'true' && (await readdir(localPath(hdfsPath))).length > 0) {
          throw new RemoteError('PathIsNotEmptyDirectoryException', `\`${hdfsPath} is non empty': Directory is not empty`);
        }
        await rm(localPath(hdfsPath), { recursive: true, force: true });
        dropMeta(hdfsPath);
        json(200, { boolean: true });
        return;
      }
      case 'RENAME': {
        const destParam = url.searchParams.get('destination');
        if (!destParam) throw new RemoteError('IllegalArgumentException', 'Invalid value for webhdfs parameter "destination": null');
        let dest = normalize(destParam.replace(/^hdfs:\/\/[^/]*/i, ''));
        localPath(dest);
        const s = await statOf(hdfsPath);
        if (!s || hdfsPath === '/' || dest === hdfsPath || dest.startsWith(hdfsPath + '/')) { json(200, { boolean: false }); return; }
        const d = await statOf(dest);
        if (d?.isDirectory()) dest = posix.join(dest, posix.basename(hdfsPath));
        const parent = await statOf(posix.dirname(dest));
        if ((await statOf(dest)) || !parent?.isDirectory()) { json(200, { boolean: false }); return; }
        await rename(localPath(hdfsPath), localPath(dest));
        for (const [k, v] of [...meta]) {
          if (k === hdfsPath || k.startsWith(hdfsPath + '/')) { meta.delete(k); meta.set(dest + k.slice(hdfsPath.length), v); }
        }
        for (const k of [...ids.keys()]) if (k === hdfsPath || k.startsWith(hdfsPath + '/')) ids.delete(k);
        json(200, { boolean: true });
        return;
      }
      case 'SETPERMISSION': {
        if (!(await statOf(hdfsPath))) throw new RemoteError('FileNotFoundException', `File does not exist: ${hdfsPath}`);
        const dir = (await statOf(hdfsPath))!.isDirectory();
        const m = meta.get(hdfsPath) ?? { owner: 'hdfs', group: 'supergroup', permission: dir ? '755' : '644' };
        meta.set(hdfsPath, { ...m, permission: checkPermission(url.searchParams.get('permission'), dir ? '755' : '644') });
        res.writeHead(200, { 'content-length': 0 }).end();
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        const err = e instanceof RemoteError ? e : new RemoteError('IOException', e instanceof Error ? e.message : String(e), 500);
        const text = JSON.stringify({ RemoteException: { exception: err.exception, javaClassName: EXCEPTIONS[err.exception]?.javaClassName ?? `org.apache.hadoop.ipc.${err.exception}`, message: err.message } });
        if (!res.headersSent) res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        else res.end();
      });
    });
  });
  const bind = opts.bind ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, bind, () => { server.off('error', fail); ok(); });
  });
  const port = (server.address() as AddressInfo).port;
  const emulator: WebHdfsEmulator = {
    url: `http://${bind.includes(':') ? `[${bind}]` : bind}:${port}`,
    root,
    localPath: (p) => localPath(normalize(p)),
    requests,
    faults: {
      failNext(op, exception, message, status) {
        const key = op.toUpperCase();
        faults.set(key, [...(faults.get(key) ?? []), { exception, message, ...(status !== undefined ? { status } : {}) }]);
      },
    },
    async close() {
      await new Promise<void>((ok) => { server.close(() => ok()); server.closeAllConnections(); });
      if (ownDir) await rm(root, { recursive: true, force: true });
    },
  };
  return emulator;
}

