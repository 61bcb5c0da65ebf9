import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleCache } from './bundle-cache';

const code = Buffer.from('export default { name: "x" };\n');
const hash = createHash('sha256').update(code).digest('hex');
let server: Server;
let url: string;
const seen: Array<string | undefined> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.url === `/bundles/${hash}`) res.end(code);
    else if (req.url?.startsWith('/bundles/')) res.end('tampered');
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the task manager bundle cache', () => {
  it('fetches a bundle once with the token, keeps it private (dir 0700, file 0600), and tightens an open directory', async () => {
    const work = mkdtempSync(join(tmpdir(), 'rlink-bundles-'));
    mkdirSync(join(work, 'bundles'), { mode: 0o755 });
    chmodSync(join(work, 'bundles'), 0o755);
    const cache = new BundleCache(work, () => url, 't'.repeat(32));
    const ref = await cache.localize({ kind: 'bundle', path: '/elsewhere/app.mjs', hash });
    expect(ref).toEqual({ kind: 'bundle', hash, path: join(work, 'bundles', `${hash}.mjs`) });
    expect(readFileSync(join(work, 'bundles', `${hash}.mjs`))).toEqual(code);
    expect((statSync(join(work, 'bundles')).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(work, 'bundles', `${hash}.mjs`)).mode & 0o777).toString(8)).toBe('600');
    expect(seen.at(-1)).toBe(`Bearer ${'t'.repeat(32)}`);
    const before = seen.length;
    await cache.localize({ kind: 'bundle', path: '/x', hash });
    expect(seen.length).toBe(before); // cached
  });

  it('refuses a bundle whose content does not match its hash, and a malformed hash', async () => {
    const cache = new BundleCache(mkdtempSync(join(tmpdir(), 'rlink-bundles-')), () => url, 't'.repeat(32));
    await expect(cache.localize({ kind: 'bundle', path: '/x', hash: 'ab'.repeat(32) })).rejects.toThrow(/arrived corrupted/);
    await expect(cache.localize({ kind: 'bundle', path: '/x', hash: '../../etc' })).rejects.toThrow(/invalid bundle hash/);
  });
});
