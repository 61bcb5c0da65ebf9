/** Task managers reconnect (with backoff) to a job manager that restarted, and register again. */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { execa } from 'execa';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT } from '../helpers/cli';
import { startCluster, type TestCluster } from './cluster';

describe('a job manager that restarts', () => {
  let c: TestCluster;
  let second: ReturnType<typeof execa> | undefined;
  beforeAll(async () => { c = await startCluster({ taskManagers: 2, slots: 1 }); }, 60_000);
  afterAll(async () => { second?.kill('SIGKILL'); await c?.stop(); });

  it('gets its task managers back, and runs jobs again', async () => {
    const port = new URL(c.url).port;
    c.jobManager.proc.kill('SIGTERM');
    await c.jobManager.proc;
    second = execa('node', [BIN, 'jobmanager', 'start', '--port', port, '--data-dir', join(c.dir, 'jm-2'), '--json'], { env: c.env, reject: false, stdin: 'ignore', buffer: false });
    second.stderr!.pipe(createWriteStream(join(c.dir, 'logs', 'jobmanager-2.log')));
    await c.waitForTaskManagers(2, 20_000);
    const r = await c.rlink(['submit', join(ROOT, 'examples', 'rlink-simple.ts'), '--jm', c.url, 'count=20000', `output=${join(c.dir, 'after-restart')}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^FINISHED rlink-simple/m);
  }, 60_000);
});
