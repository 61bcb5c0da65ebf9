/** The WebHDFS emulator speaks the documented REST API: raw HTTP, status codes, RemoteException shape, redirects. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { startWebHdfsEmulator, type WebHdfsEmulator } from './webhdfs';

interface Raw { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A raw request: node:http sends the path as written (no URL normalisation of `..`). */
function raw(base: string, method: string, path: string, body?: string): Promise<Raw> {
  const u = new URL(base);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('WebHDFS emulator', () => {
  let hdfs: WebHdfsEmulator;
  beforeEach(async () => { hdfs = await startWebHdfsEmulator(); });
  afterEach(async () => { await hdfs.close(); });

  it('CREATE: 307 to a datanode URL with no body, then 201 with a Location once the bytes arrive', async () => {
    const step1 = await raw(hdfs.url, 'PUT', '/webhdfs/v1/a/b.txt?op=CREATE&user.name=alice&overwrite=false');
    expect(step1.status).toBe(307);
    expect(step1.body).toBe('');
    const location = String(step1.headers.location);
    expect(location.startsWith(`${hdfs.url}/webhdfs/v1/a/b.txt?`)).toBe(true);
    expect(new URL(location).searchParams.get('datanode')).toBe('true');
    expect(existsSync(hdfs.localPath('/a/b.txt'))).toBe(false);
    const loc = new URL(location);
    const step2 = await raw(hdfs.url, 'PUT', loc.pathname + loc.search, 'hello');
    expect(step2.status).toBe(201);
    expect(String(step2.headers.location)).toMatch(/\/a\/b\.txt$/);
    expect(readFileSync(hdfs.localPath('/a/b.txt'), 'utf8')).toBe('hello');
    const again = await raw(hdfs.url, 'PUT', loc.pathname + loc.search, 'x');
    expect(again.status).toBe(403);
    expect(JSON.parse(again.body).RemoteException).toMatchObject({ exception: 'FileAlreadyExistsException', javaClassName: 'org.apache.hadoop.fs.FileAlreadyExistsException' });
  });

  it('OPEN of a missing file: 404 FileNotFoundException in the documented shape', async () => {
    const r = await raw(hdfs.url, 'GET', '/webhdfs/v1/nope?op=OPEN');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toEqual({ RemoteException: { exception: 'FileNotFoundException', javaClassName: 'java.io.FileNotFoundException', message: 'File does not exist: /nope' } });
  });

  it('unknown op and an op with the wrong method: 400 IllegalArgumentException', async () => {
    const unknown = await raw(hdfs.url, 'GET', '/webhdfs/v1/x?op=FROBNICATE');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).RemoteException.exception).toBe('IllegalArgumentException');
    expect(JSON.parse(unknown.body).RemoteException.message).toContain('FROBNICATE');
    const wrongMethod = await raw(hdfs.url, 'GET', '/webhdfs/v1/x?op=MKDIRS');
    expect(wrongMethod.status).toBe(400);
  });

  it('paths never leave the backing directory', async () => {
    for (const p of ['/webhdfs/v1/../../etc/passwd?op=OPEN', '/webhdfs/v1/a/%2E%2E/%2E%2E/x?op=MKDIRS']) {
      const r = await raw(hdfs.url, p.includes('MKDIRS') ? 'PUT' : 'GET', p);
      expect(r.status, p).toBe(400);
      expect(JSON.parse(r.body).RemoteException.exception).toBe('InvalidPathException');
    }
    const root = await raw(hdfs.url, 'PUT', '/webhdfs/v1/?op=MKDIRS');
    expect(root.status).toBe(200);
    const escape = await raw(hdfs.url, 'PUT', '/webhdfs/v1/?op=RENAME&destination=/../outside');
    expect(escape.status).toBe(400);
    expect(() => hdfs.localPath('/../x')).toThrow();
  });

  it('MKDIRS, GETFILESTATUS, LISTSTATUS, SETPERMISSION, DELETE answer the documented JSON', async () => {
    expect(JSON.parse((await raw(hdfs.url, 'PUT', '/webhdfs/v1/d/e?op=MKDIRS&user.name=bob&permission=750')).body)).toEqual({ boolean: true });
    const st = JSON.parse((await raw(hdfs.url, 'GET', '/webhdfs/v1/d/e?op=GETFILESTATUS')).body).FileStatus;
    expect(st).toMatchObject({ type: 'DIRECTORY', owner: 'bob', group: 'supergroup', permission: '750', pathSuffix: '', length: 0 });
    expect((await raw(hdfs.url, 'PUT', '/webhdfs/v1/d/e?op=SETPERMISSION&permission=700')).status).toBe(200);
    const list = JSON.parse((await raw(hdfs.url, 'GET', '/webhdfs/v1/d?op=LISTSTATUS')).body);
    expect(list.FileStatuses.FileStatus).toEqual([expect.objectContaining({ pathSuffix: 'e', permission: '700' })]);
    const notEmpty = await raw(hdfs.url, 'DELETE', '/webhdfs/v1/d?op=DELETE&recursive=false');
    expect(notEmpty.status).toBe(403);
    expect(JSON.parse(notEmpty.body).RemoteException.exception).toBe('PathIsNotEmptyDirectoryException');
    expect(JSON.parse((await raw(hdfs.url, 'DELETE', '/webhdfs/v1/d?op=DELETE&recursive=true')).body)).toEqual({ boolean: true });
    expect(JSON.parse((await raw(hdfs.url, 'DELETE', '/webhdfs/v1/d?op=DELETE')).body)).toEqual({ boolean: false });
    expect((await raw(hdfs.url, 'PUT', '/webhdfs/v1/d?op=MKDIRS&permission=999')).status).toBe(400);
  });

  it('concurrent CREATEs into one new directory all succeed', async () => {
    const create = async (name: string) => {
      const step1 = await raw(hdfs.url, 'PUT', `/webhdfs/v1/new/dir/${name}?op=CREATE`);
      const loc = new URL(String(step1.headers.location));
      return (await raw(hdfs.url, 'PUT', loc.pathname + loc.search, name)).status;
    };
    expect(await Promise.all(Array.from({ length: 8 }, (_, i) => create(`f${i}`)))).toEqual(Array(8).fill(201));
  });

  it('failNext makes the next request of that op fail once, with the given exception and status', async () => {
    hdfs.faults.failNext('mkdirs', 'SafeModeException', 'Cannot create directory /x. Name node is in safe mode.');
    const r = await raw(hdfs.url, 'PUT', '/webhdfs/v1/x?op=MKDIRS');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).RemoteException).toMatchObject({ exception: 'SafeModeException', message: 'Cannot create directory /x. Name node is in safe mode.' });
    expect((await raw(hdfs.url, 'PUT', '/webhdfs/v1/x?op=MKDIRS')).status).toBe(200);
    hdfs.faults.failNext('GETFILESTATUS', 'IOException', 'boom', 500);
    expect((await raw(hdfs.url, 'GET', '/webhdfs/v1/x?op=GETFILESTATUS')).status).toBe(500);
  });
});
