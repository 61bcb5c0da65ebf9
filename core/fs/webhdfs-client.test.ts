/** The WebHDFS client against the WebHDFS emulator: every operation, the two-step CREATE, errors, timeouts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { startWebHdfsEmulator, type WebHdfsEmulator } from '../../test/emulators/webhdfs';
import { WebHdfsClient, WebHdfsRemoteError, parseHdfsUrl } from './webhdfs-client';
import { RlinkError } from '../errors';

describe('WebHdfsClient', () => {
  let hdfs: WebHdfsEmulator;
  let client: WebHdfsClient;
  beforeAll(async () => {
    hdfs = await startWebHdfsEmulator();
    client = new WebHdfsClient({ baseUrl: hdfs.url, user: 'alice', timeoutMs: 5000 });
  });
  afterAll(async () => { await hdfs.close(); });

  it('create follows the namenode 307 to the datanode itself, and open reads the bytes back', async () => {
    const before = hdfs.requests.length;
    await client.create('/user/alice/app/job.js', 'export default 1;\n');
    const calls = hdfs.requests.slice(before);
    expect(calls.map((r) => [r.method, r.op, r.datanode])).toEqual([['PUT', 'CREATE', false], ['PUT', 'CREATE', true]]);
    expect(readFileSync(hdfs.localPath('/user/alice/app/job.js'), 'utf8')).toBe('export default 1;\n');

    const mark = hdfs.requests.length;
    expect((await client.open('/user/alice/app/job.js')).toString()).toBe('export default 1;\n');
    expect(hdfs.requests.slice(mark).map((r) => [r.op, r.datanode])).toEqual([['OPEN', false], ['OPEN', true]]);
  });

  it('binary data and paths with spaces and unicode survive the round trip', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    await client.create('/data/a file/ü.bin', bytes);
    expect(Buffer.compare(await client.open('/data/a file/ü.bin'), bytes)).toBe(0);
    expect((await client.listStatus('/data/a file')).map((s) => s.pathSuffix)).toEqual(['ü.bin']);
  });

  it('create refuses to overwrite unless asked; a parent that is a file is an error', async () => {
    await client.create('/o/x', 'one');
    await expect(client.create('/o/x', 'two')).rejects.toThrow(/^WebHDFS CREATE \/o\/x: FileAlreadyExistsException: /);
    await client.create('/o/x', 'two', { overwrite: true });
    expect((await client.open('/o/x')).toString()).toBe('two');
    await expect(client.create('/o/x/y', 'z')).rejects.toThrow(/ParentNotDirectoryException/);
  });

  it('mkdirs, getFileStatus, listStatus, setPermission: user.name is the owner, permissions are kept', async () => {
    await client.mkdirs('/m/n', '750');
    await client.create('/m/n/f', 'abc', { permission: '600' });
    const dir = await client.getFileStatus('/m/n');
    expect(dir).toMatchObject({ type: 'DIRECTORY', owner: 'alice', permission: '750' });
    const file = await client.getFileStatus('/m/n/f');
    expect(file).toMatchObject({ type: 'FILE', length: 3, owner: 'alice', group: 'supergroup', permission: '600', replication: 1, pathSuffix: '' });
    expect(file!.blockSize).toBeGreaterThan(0);
    expect(file!.modificationTime).toBeGreaterThan(0);
    await client.setPermission('/m/n/f', '640');
    const [listed] = await client.listStatus('/m/n');
    expect(listed).toMatchObject({ pathSuffix: 'f', permission: '640', type: 'FILE' });
    expect(await client.getFileStatus('/m/absent')).toBeNull();
    await expect(client.listStatus('/m/absent')).rejects.toThrow(/FileNotFoundException/);
    await expect(client.setPermission('/m/absent', '600')).rejects.toThrow(/FileNotFoundException/);
  });

  it('delete: false when absent, refuses a non-empty directory without recursive', async () => {
    await client.create('/del/a/b', 'x');
    expect(await client.delete('/del/none')).toBe(false);
    await expect(client.delete('/del/a')).rejects.toThrow(/PathIsNotEmptyDirectoryException/);
    expect(await client.delete('/del/a', true)).toBe(true);
    expect(await client.getFileStatus('/del/a')).toBeNull();
  });

  it('rename: true when moved (permissions follow), false when the source is absent', async () => {
    await client.create('/r/src', 'moved', { permission: '600' });
    expect(await client.rename('/r/src', '/r/dst')).toBe(true);
    expect(await client.tryOpen('/r/src')).toBeNull();
    expect((await client.open('/r/dst')).toString()).toBe('moved');
    expect((await client.getFileStatus('/r/dst'))!.permission).toBe('600');
    expect(await client.rename('/r/src', '/r/other')).toBe(false);
  });

  it('tryOpen: null for a missing file; open: an RLINK_HDFS error naming the exception', async () => {
    expect(await client.tryOpen('/no/such')).toBeNull();
    const err = await client.open('/no/such').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RlinkError);
    expect(err).toBeInstanceOf(WebHdfsRemoteError);
    expect((err as RlinkError).code).toBe('RLINK_HDFS');
    expect((err as Error).message).toBe('WebHDFS OPEN /no/such: FileNotFoundException: File does not exist: /no/such');
  });

  it('a RemoteException is surfaced with its exception name and message', async () => {
    const message = 'Permission denied: user=bob, access=WRITE, inode="/user/x":alice:supergroup:drwxr-xr-x';
    hdfs.faults.failNext('CREATE', 'AccessControlException', message);
    const err = await client.create('/user/x/app', 'x').catch((e: unknown) => e) as WebHdfsRemoteError;
    expect(err.message).toBe(`WebHDFS CREATE /user/x/app: AccessControlException: ${message}`);
    expect(err.exception).toBe('AccessControlException');
    expect(err.httpStatus).toBe(403);
    expect(err.retriable).toBe(false);
  });

  it('a delegation token is sent instead of user.name; hdfs:// URLs are accepted as paths', async () => {
    let seen = '';
    const server = createServer((req, res) => { seen = req.url ?? ''; res.writeHead(200, { 'content-type': 'application/json' }).end('{"boolean":true}'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new WebHdfsClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, user: 'alice', delegationToken: 'TOKEN123' });
      await c.mkdirs('hdfs://nn:8020/tok/dir');
      const u = new URL(seen, 'http://x');
      expect(u.pathname).toBe('/webhdfs/v1/tok/dir');
      expect(u.searchParams.get('op')).toBe('MKDIRS');
      expect(u.searchParams.get('delegation')).toBe('TOKEN123');
      expect(u.searchParams.has('user.name')).toBe(false);
    } finally { server.close(); }
  });

  it('refuses relative paths and . / .. segments before sending anything', async () => {
    const before = hdfs.requests.length;
    await expect(client.open('relative/x')).rejects.toThrow(/must be absolute/);
    await expect(client.open('/a/../../etc/passwd')).rejects.toThrow(/invalid path/);
    expect(hdfs.requests.length).toBe(before);
  });
});

describe('WebHdfsClient failures of the connection', () => {
  it('an unreachable namenode is an RLINK_HDFS error naming the base URL and the cause', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r())); // nothing listens there now
    const c = new WebHdfsClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    const err = await c.getFileStatus('/x').catch((e: unknown) => e) as RlinkError;
    expect(err).toBeInstanceOf(RlinkError);
    expect(err.code).toBe('RLINK_HDFS');
    expect(err.message).toMatch(new RegExp(`^WebHDFS http://127\\.0\\.0\\.1:${port} unreachable: ECONNREFUSED`));
    expect(err.retriable).toBe(true);
  });

  it('a namenode that never answers is bounded by timeoutMs', async () => {
    const server: Server = createServer(() => { /* never answers */ });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new WebHdfsClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 300 });
      const t0 = Date.now();
      await expect(c.listStatus('/x')).rejects.toThrow(/unreachable: no answer within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally { server.closeAllConnections(); server.close(); }
  });

  it('a bad base URL is a configuration error', () => {
    expect(() => new WebHdfsClient({ baseUrl: 'namenode:9870' })).toThrow(/must be http\(s\):\/\/host:port/);
  });
});

describe('parseHdfsUrl', () => {
  it('splits authority and path', () => {
    expect(parseHdfsUrl('hdfs://namenode:8020/path')).toEqual({ authority: 'namenode:8020', path: '/path' });
    expect(parseHdfsUrl('hdfs://nn/a//b/')).toEqual({ authority: 'nn', path: '/a/b' });
    expect(parseHdfsUrl('hdfs:///rlink/checkpoints')).toEqual({ authority: '', path: '/rlink/checkpoints' });
    expect(parseHdfsUrl('hdfs://nn:8020')).toEqual({ authority: 'nn:8020', path: '/' });
  });
  it('refuses anything else', () => {
    expect(() => parseHdfsUrl('/local/path')).toThrow(/not an hdfs:\/\/ URL/);
    expect(() => parseHdfsUrl('s3://bucket/x')).toThrow(RlinkError);
  });
});
