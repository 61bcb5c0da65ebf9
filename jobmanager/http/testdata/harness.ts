/**
 * Test harness for the REST API: a real JobManager behind a real HTTP server on 127.0.0.1:0,
 * optionally with an in-process task manager (inline mode, connected in memory as the embedded
 * cluster does), and small HTTP helpers.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleApp, type Bundle } from '../../../core/app/bundle';
import { loadAppBundle } from '../../../core/app/load';
import { silentLogger } from '../../../core/logging';
import { JobManager } from '../../job-manager';
import { TaskExecutor } from '../../../taskmanager/task-executor';
import { createJobManagerServer, type JobManagerServerOptions } from '../server';

/** Response bodies in tests: checked field by field. */
export type Json = any;

export const TOKEN = 'test-token-0123456789abcdef';
export const auth = { authorization: `Bearer ${TOKEN}` };

export interface Harness {
  url: string;
  dataDir: string;
  jm: JobManager;
  tmp: string;
  close(): Promise<void>;
}

export async function startHarness(opts: { slots?: number; maxUploadBytes?: number; onUpgrade?: JobManagerServerOptions['onUpgrade'] } = {}): Promise<Harness> {
  const tmp = await mkdtemp(join(tmpdir(), 'rlink-http-'));
  const dataDir = join(tmp, 'data');
  const logger = silentLogger();
  const jm = new JobManager(logger);
  let tm: TaskExecutor | undefined;
  if (opts.slots !== undefined) {
    tm = new TaskExecutor({
      id: 'test-tm', slots: opts.slots, mode: 'inline', logger,
      resolveApp: async (ref) => {
        if (ref.kind !== 'bundle') throw new Error('the REST API submits bundles only');
        return loadAppBundle(ref.path);
      },
    });
    let toTm: (m: Parameters<ReturnType<TaskExecutor['connect']>>[0]) => void = () => {};
    const toJm = jm.connect(tm.id, (m) => queueMicrotask(() => toTm(m)));
    toTm = tm.connect((m) => queueMicrotask(() => toJm(m)));
    await new Promise((r) => setImmediate(r)); // let the registration land
  }
  const server = createJobManagerServer({
    jobManager: jm, token: TOKEN, dataDir, logger,
    ...(opts.maxUploadBytes !== undefined ? { maxUploadBytes: opts.maxUploadBytes } : {}),
    ...(opts.onUpgrade ? { onUpgrade: opts.onUpgrade } : {}),
  });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    url, dataDir, jm, tmp,
    async close() {
      for (const j of jm.jobs.values()) j.cancel();
      // Let cancelled jobs stop writing before their directory goes (bounded).
      await Promise.race([Promise.all([...jm.jobs.values()].map((j) => j.result())), new Promise((r) => setTimeout(r, 5000))]);
      await server.close();
      await tm?.shutdown();
      await rm(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
}

/** Bundles a test app (under testdata/) into `dir`. */
export function bundleTestApp(name: string, dir: string): Promise<Bundle> {
  return bundleApp(join(import.meta.dirname, name), join(dir, `${name.replace(/\.ts$/, '')}.mjs`));
}

export async function json(res: Response): Promise<Json> {
  const text = await res.text();
  try { return JSON.parse(text); } catch { throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`); }
}

export function uploadForm(content: string | Uint8Array, filename = 'app.mjs', field = 'file'): FormData {
  const form = new FormData();
  form.append(field, new Blob([content], { type: 'application/javascript' }), filename);
  return form;
}

export async function upload(h: Harness, content: string | Uint8Array, filename?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${h.url}/job/application`, { method: 'POST', headers: auth, body: uploadForm(content, filename) });
  return { status: res.status, body: await json(res) };
}

export async function run(h: Harness, appId: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${h.url}/job/application/${appId}`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

/** Polls GET /jobs/:id until `until` holds (or throws after `timeoutMs`). */
export async function pollJob(h: Harness, jobId: string, until: (j: Json) => boolean, timeoutMs = 30_000): Promise<Json> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const j = await json(await fetch(`${h.url}/jobs/${jobId}`));
    if (until(j)) return j;
    if (Date.now() > end) throw new Error(`job ${jobId} still ${j.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw request (exact path, no URL normalisation) for path-traversal and protocol tests. */
export function raw(h: Harness, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const u = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
