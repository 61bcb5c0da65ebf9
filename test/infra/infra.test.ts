// The test infrastructure itself: a loopback sshd, and namespaced hosts that look like separate
// machines to whatever runs over SSH (own address, own private dirs, optionally no node), and that
// leave nothing behind after stop().
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SshSession } from '../../deploy/ssh/ssh-session';
import { namespacesAvailable, processesInNamespace, readHostFile, startNamespacedHosts } from './netns';
import { restartWithNewHostKey, run, sshdAvailable, startLoopbackSshd, type SshFixture } from './sshd';

const sshd = sshdAvailable();
const netns = namespacesAvailable();

function connect(fx: SshFixture, i: number): Promise<SshSession> {
  const h = fx.hosts[i]!;
  return SshSession.connect({ host: h.address, port: h.port, user: fx.user, identityFile: fx.identityFile, knownHostsFile: fx.knownHostsFile, connectTimeoutMs: 5_000 });
}

describe('loopback sshd', () => {
  it.skipIf(!sshd.ok)(`starts, restarts with a new host key, stops idempotently ${sshd.reason ?? ''}`, async () => {
    const fx = await startLoopbackSshd();
    try {
      const s = await connect(fx, 0);
      expect((await s.exec('echo $USER')).stdout.trim()).toBe(fx.user);
      await s.close();
      const before = fx.hosts[0]!.hostKeyLine;
      const after = await restartWithNewHostKey(fx, 0);
      expect(after).not.toBe(before);
      expect(after.startsWith(`[127.0.0.1]:${fx.hosts[0]!.port} ssh-ed25519 `)).toBe(true);
    } finally {
      await fx.stop();
      await fx.stop();
    }
    expect(existsSync(fx.dir)).toBe(false);
  });
});

describe('namespaced hosts', () => {
  it.skipIf(!netns.ok)(`two hosts: own addresses, private dirs, a host without node; nothing left after stop() ${netns.reason ?? ''}`, async () => {
    const priv = `/tmp/rlink-infra-private-${process.pid}`;
    const fx = await startNamespacedHosts(2, { privateDirs: [priv], withoutNode: [1] });
    const namespaces = fx.hosts.map((h) => h.namespace!);
    try {
      expect(fx.hosts.map((h) => h.address)).toEqual([fx.rootAddress.replace(/254$/, '1'), fx.rootAddress.replace(/254$/, '2')]);
      const [s0, s1] = await Promise.all([connect(fx, 0), connect(fx, 1)]);
      try {
        const addr0 = (await s0.exec('ip -4 -o addr show')).stdout;
        const addr1 = (await s1.exec('ip -4 -o addr show')).stdout;
        expect(addr0).toContain(`inet ${fx.hosts[0]!.address}/24`);
        expect(addr0).not.toContain(fx.hosts[1]!.address);
        expect(addr1).toContain(`inet ${fx.hosts[1]!.address}/24`);
        expect((await s1.exec('hostname')).stdout.trim()).toBe('host1');

        // private dirs: a file written on host 0 is absent on host 1 and in the real filesystem
        await s0.writeFile(`${priv}/marker`, 'from host0');
        expect((await s1.exec(`cat ${priv}/marker`)).code).not.toBe(0);
        expect(await s1.readFile(`${priv}/marker`)).toBeNull();
        expect(existsSync(`${priv}/marker`)).toBe(false);
        expect(await readHostFile(fx, 0, `${priv}/marker`)).toBe('from host0');

        // node: present on host 0, "not found" on host 1
        expect((await s0.exec('node --version')).stdout.trim()).toBe(process.version);
        const noNode = await s1.exec('node --version');
        expect(noNode.code).toBe(127);
        expect(noNode.stderr).toContain('node: command not found');

        // hosts reach each other and the root namespace's address (where a job manager would listen)
        expect((await s0.exec(`exec 3<>/dev/tcp/${fx.hosts[1]!.address}/22 && head -c 4 <&3`, { timeoutMs: 5_000 })).stdout).toBe('SSH-');
        const srv = createServer((c) => c.end('root-ns\n'));
        await new Promise<void>((r) => srv.listen(0, fx.rootAddress, () => r()));
        try {
          const port = (srv.address() as { port: number }).port;
          expect((await s1.exec(`exec 3<>/dev/tcp/${fx.rootAddress}/${port} && cat <&3`, { timeoutMs: 5_000 })).stdout).toBe('root-ns\n');
        } finally {
          await new Promise<void>((r) => srv.close(() => r()));
        }

        // something left running in the background is found, and killed by stop()
        await s1.exec('nohup sleep 600 >/dev/null 2>&1 &');
        expect((await processesInNamespace(namespaces[1]!)).some((p) => p.cmd === 'sleep 600')).toBe(true);
      } finally {
        await Promise.all([s0.close(), s1.close()]);
      }
    } finally {
      await fx.stop();
    }
    const left = await run('ip', ['netns', 'list']);
    for (const ns of namespaces) expect(left).not.toContain(ns);
    expect(await run('ip', ['link', 'show'])).not.toContain(fx.bridge);
    expect(existsSync(priv)).toBe(false);
    expect(existsSync(fx.dir)).toBe(false);
  });

  it.skipIf(!netns.ok)('an oldNode host claims v18.19.0', async () => {
    const fx = await startNamespacedHosts(1, { oldNode: [0] });
    try {
      const s = await connect(fx, 0);
      expect((await s.exec('node --version')).stdout.trim()).toBe('v18.19.0');
      expect((await s.exec('node -p process.version')).stdout.trim()).toBe('v18.19.0');
      expect((await s.exec('node -e "1"')).code).toBe(1);
      await s.close();
    } finally {
      await fx.stop();
    }
  });

  // Measurement, off by default: RLINK_INFRA_SCALE=16 npx vitest run test/infra
  const scale = Number(process.env.RLINK_INFRA_SCALE ?? 0);
  it.skipIf(!netns.ok || !scale)(`starts and stops ${scale} hosts (timing)`, async () => {
    const t0 = Date.now();
    const fx = await startNamespacedHosts(scale, { privateDirs: ['/data/rlink-scale-test'], withoutNode: [0] });
    const started = Date.now() - t0;
    try {
      const t1 = Date.now();
      const sessions = await Promise.all(fx.hosts.map((_, i) => connect(fx, i)));
      const outs = await Promise.all(sessions.map((s) => s.exec('hostname')));
      expect(outs.map((o) => o.stdout.trim())).toEqual(fx.hosts.map((h) => h.name));
      await Promise.all(sessions.map((s) => s.close()));
      const connected = Date.now() - t1;
      const t2 = Date.now();
      await fx.stop();
      console.log(`${scale} namespaced hosts: start ${started} ms, connect+exec all ${connected} ms, stop ${Date.now() - t2} ms`);
    } finally {
      await fx.stop();
    }
  }, 120_000);
});
