/**
 * The task manager's side of the control protocol under malformed and forged messages: a real task
 * manager process connects first to a fake job manager (this test) that answers its registration and
 * then sends broken messages of every kind; afterwards the fake turns standby (503) and the task
 * manager fails over to a real job manager, where it runs a job with exact output.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { WebSocketServer, type WebSocket } from 'ws';
import fc from 'fast-check';
import { canonical, readJsonl } from '../helpers/cli';
import { readyLine, spawnDaemon, startCluster, waitFor, type ClusterProcess, type TestCluster } from './cluster';
import { reference } from './apps/chaos';
import { jobManagerSamples, mutated } from './control-fuzz';

interface FakeConnection { ws: WebSocket; closed: Promise<{ code: number; reason: string }> }

/** A job manager that registers task managers and hands each connection to the test. */
function fakeJobManager(token: string, refuse?: { code: number; reason: string }): { server: Server; url: () => string; next: () => Promise<FakeConnection>; standby: () => void } {
  const wss = new WebSocketServer({ noServer: true });
  const waiting: Array<(c: FakeConnection) => void> = [];
  const ready: FakeConnection[] = [];
  let accepting = true;
  const server = createServer((_req, res) => { res.statusCode = 404; res.end('{"errors":["no such bundle"]}'); });
  server.on('upgrade', (req, socket, head) => {
    if (!accepting || req.headers.authorization !== `Bearer ${token}`) {
      socket.write(`HTTP/1.1 ${accepting ? 401 : 503} No\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string };
        if (m.type !== 'register') return;
        if (refuse) { ws.close(refuse.code, refuse.reason); return; }
        ws.send(JSON.stringify({ type: 'registered', leaderEpoch: 0, jobManagerId: 'jm-fake' }));
        const c = { ws, closed };
        const w = waiting.shift();
        if (w) w(c); else ready.push(c);
      });
    });
  });
  return {
    server,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: () => { const c = ready.shift(); return c ? Promise.resolve(c) : new Promise((r) => waiting.push(r)); },
    /** From now on refuse (503, as a standby does) and drop whoever is connected. */
    standby: () => { accepting = false; for (const ws of wss.clients) ws.close(1001, 'standby now'); },
  };
}

describe('a task manager given malformed job manager messages (real process)', () => {
  let c: TestCluster | undefined;
  let tm: ClusterProcess | undefined;
  let fake: ReturnType<typeof fakeJobManager> | undefined;
  afterAll(async () => {
    tm?.proc.kill('SIGTERM');
    await c?.stop();
    fake?.server.close();
  });

  it('closes with 1007 naming the field, ignores forged ones, stays up, and then runs a job exactly', async () => {
    c = await startCluster({ taskManagers: 0 });
    fake = fakeJobManager(c.token);
    await new Promise<void>((r) => fake!.server.listen(0, '127.0.0.1', r));
    const log = join(c.dir, 'logs', 'taskmanager-fuzzed.log');
    tm = spawnDaemon(['taskmanager', 'start', '--jm', `${fake.url()},${c.url}`, '--slots', '2', '--work-dir', join(c.dir, 'tm-fuzzed'), '--heartbeat-interval', '200'], c.env, log);
    tm.id = (await readyLine(tm.proc, log, 30_000) as { id: string }).id;

    const samples = jobManagerSamples({ jobId: 'f'.repeat(32), attempt: 0, vertices: ['v0'] }).filter((m) => m.type !== 'registered');
    const closes = new Map<number | 'open', number>();
    await fc.assert(fc.asyncProperty(mutated(samples), async (m) => {
      const conn = await fake!.next();
      conn.ws.send(m.message === undefined ? 'undefined' : JSON.stringify(m.message));
      const closed = await Promise.race([conn.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60))]);
      closes.set(closed?.code ?? 'open', (closes.get(closed?.code ?? 'open') ?? 0) + 1);
      if (closed) {
        expect(closed.code, m.kind).toBe(1007);
        expect(closed.reason, m.kind).toMatch(/^malformed message: /);
      } else {
        conn.ws.close(1001, 'next case');
        await conn.closed;
      }
      expect(tm!.proc.exitCode, 'the task manager exited').toBeNull();
    }), { numRuns: 60, seed: 11 });
    expect(closes.get(1007)).toBeGreaterThan(10);
    expect(closes.get('open')).toBeGreaterThan(3);

    // The fake becomes a standby: the task manager goes on to the real job manager and works there.
    fake.standby();
    await c.waitForTaskManagers(1);
    const out = join(c.dir, 'out');
    const alerts = join(c.dir, 'alerts');
    const r = await c.rlink(['submit', join(import.meta.dirname, 'apps', 'chaos.ts'), '--jm', c.url, 'count=6000', 'rate=6000', `output=${out}`, `alerts=${alerts}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readJsonl(alerts)).toEqual([]);
    expect(canonical(readJsonl(out))).toEqual(canonical(reference(6000)));
    const tmLog = readFileSync(log, 'utf8');
    expect(tmLog).toMatch(/"event":"jm.bad-frame"/);
    expect(tmLog).not.toMatch(/TypeError/);
  }, 120_000);

  it.each([
    [4001, 'protocol 2 not supported (expected 1)'],
    [4002, 'refused: it offers 2 slots; a task manager offers 1 to 1'],
  ])('stops for good, in one line, when a job manager closes with %i', async (code, reason) => {
    const refusing = fakeJobManager('t'.repeat(32), { code, reason });
    await new Promise<void>((r) => refusing.server.listen(0, '127.0.0.1', r));
    try {
      const { execa } = await import('execa');
      const { BIN, tempDir } = await import('../helpers/cli');
      const r = await execa('node', [BIN, 'taskmanager', 'start', '--jm', refusing.url(), '--slots', '2', '--work-dir', tempDir()],
        { env: { RLINK_TOKEN: 't'.repeat(32), RLINK_LOG_LEVEL: 'silent' }, reject: false, timeout: 30_000, stdin: 'ignore' });
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr).trim().split('\n').at(-1)).toBe(`rlink taskmanager start: job manager ${refusing.url()} refused this task manager: ${reason}`);
    } finally { refusing.server.close(); }
  }, 60_000);
});
