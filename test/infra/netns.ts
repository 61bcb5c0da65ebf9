/**
 * Test infrastructure: n "machines" on one box, for deploy tests. Each host is a network namespace
 * (`rlh<pid><seq>-<i>`, address 10.200.<subnet>.<i+1>/24 on eth0, a veth into the bridge
 * `rlbr<pid><seq>` where the root namespace is 10.200.<subnet>.254) running its own sshd on :22
 * inside its own mount, UTS and PID namespaces (sshd is the host's PID 1 and reaps its orphans;
 * `ps`/`pkill` on a host see only that host): hostname `host<i>`, and each path P in `privateDirs`
 * bind-mounted from `<fixture dir>/host<i>/<P>`, so whatever runs over SSH on host i sees its own P.
 * `withoutNode` hosts have every node binary replaced by a script that exits 127 ("node: command
 * not found"); `oldNode` hosts by one that claims to be v18.19.0 (`node --version`, `-v`,
 * `-p process.version`) and fails anything else with exit 1.
 * Needs root and `ip`/`unshare`; every step is bounded in time; `stop()` kills everything left in
 * the namespaces and removes them, and runs at process exit if a test forgot.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ensurePrivsepDir, findOnPath, generateKey, ipSync, killPids, knownHostsLine, launch, pidAlive, registerFixture, run,
  sshdAvailable, sshdConfig, SSHD, unregisterFixture, waitForSsh, type FixtureState, type HostState, type SshFixture,
} from './sshd';

export interface NamespacedHostsOptions {
  /** Third octet of 10.200.x.0/24; default: the first one (from 0) no interface of this machine uses yet. */
  subnet?: number;
  /** Absolute paths each host sees privately (must not contain the fixture dir). */
  privateDirs?: string[];
  /** Host indexes where `node` is not runnable. */
  withoutNode?: number[];
  /** Host indexes where `node --version` prints v18.19.0. */
  oldNode?: number[];
  /** Fixture directory (keys, configs, per-host roots); default a new temp dir, removed by stop(). */
  dir?: string;
}

export type NamespacedFixture = SshFixture & { bridge: string; rootAddress: string };

let seq = 0;
let probed: { ok: boolean; reason?: string } | undefined;

/** Root, `ip`, `unshare`, sshd, and a network namespace can actually be created. */
export function namespacesAvailable(): { ok: boolean; reason?: string } {
  if (probed) return probed;
  const check = (): { ok: boolean; reason?: string } => {
    if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces need Linux' };
    if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root)' };
    if (!findOnPath('ip')) return { ok: false, reason: '`ip` missing: apt-get install iproute2' };
    if (!findOnPath('unshare')) return { ok: false, reason: '`unshare` missing: apt-get install util-linux' };
    const sshd = sshdAvailable();
    if (!sshd.ok) return sshd;
    const probe = `rlprobe${process.pid}`;
    try {
      execFileSync('ip', ['netns', 'add', probe], { timeout: 5_000, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      return { ok: false, reason: `cannot create a network namespace: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
    } finally {
      ipSync(['netns', 'del', probe]);
    }
    return { ok: true };
  };
  probed = check();
  return probed;
}

/** Processes running in a network namespace (`ip netns pids` + /proc/<pid>/cmdline); zombies and vanished ones are left out. */
export async function processesInNamespace(ns: string): Promise<{ pid: number; cmd: string }[]> {
  let out: string;
  try {
    out = await run('ip', ['netns', 'pids', ns], 5_000);
  } catch {
    return [];
  }
  const list: { pid: number; cmd: string }[] = [];
  for (const p of out.split(/\s+/).filter(Boolean)) {
    const pid = Number(p);
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
      if (cmd !== '') list.push({ pid, cmd });
    } catch { /* exited meanwhile */ }
  }
  return list;
}

async function namespacePids(ns: string): Promise<number[]> {
  try {
    return (await run('ip', ['netns', 'pids', ns], 5_000)).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Removes namespaces, bridges and veths of earlier runs whose process (the pid in the name) is gone. */
async function cleanupStale(): Promise<void> {
  const dead = (pid: string) => Number(pid) !== process.pid && !pidAlive(Number(pid));
  const nsList = (await run('ip', ['netns', 'list'], 5_000).catch(() => '')).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  for (const ns of nsList) {
    const m = /^rlh(\d+)[a-z]-\d+$/.exec(ns);
    if (!m || !dead(m[1]!)) continue;
    await killPids(await namespacePids(ns), 500);
    await run('ip', ['netns', 'del', ns], 5_000).catch(() => undefined);
  }
  const links = (await run('ip', ['-o', 'link', 'show'], 5_000).catch(() => '')).split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
  for (const link of links) {
    const m = /^rl(?:br|v)(\d+)[a-z]\d*$/.exec(link);
    if (m && dead(m[1]!)) await run('ip', ['link', 'del', link], 5_000).catch(() => undefined);
  }
}

async function pickSubnet(): Promise<number> {
  const used = new Set<number>();
  const addrs = await run('ip', ['-4', '-o', 'addr', 'show'], 5_000).catch(() => '');
  for (const m of addrs.matchAll(/inet 10\.200\.(\d+)\./g)) used.add(Number(m[1]));
  for (let s = 0; s < 256; s++) if (!used.has(s)) return s;
  throw new Error('no free 10.200.x.0/24 subnet');
}

/** The real files behind every `node` a login shell could find (bind-mounting over them hides node). */
function nodeBinaries(): string[] {
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const found = new Set<string>();
  for (const p of [process.execPath, ...dirs.map((d) => join(d, 'node'))]) {
    try { if (existsSync(p)) found.add(realpathSync(p)); } catch { /* dangling link */ }
  }
  return [...found];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const NODE_MISSING = '#!/bin/sh\necho "sh: 1: node: command not found" >&2\nexit 127\n';
const NODE_OLD = [
  '#!/bin/sh',
  '# rlink test fixture: a node that only tells its (old) version',
  'case "$1 $2" in',
  '  "--version "*|"-v "*) echo v18.19.0; exit 0 ;;',
  '  "-p process.version"|"-e process.version"|"-p process.versions.node") [ "$2" = process.versions.node ] && echo 18.19.0 || echo v18.19.0; exit 0 ;;',
  'esac',
  'echo "node v18.19.0 (rlink test fixture) cannot run: $*" >&2',
  'exit 1',
  '',
].join('\n');

export async function startNamespacedHosts(n: number, opts: NamespacedHostsOptions = {}): Promise<NamespacedFixture> {
  if (!Number.isInteger(n) || n < 1 || n > 253) throw new Error(`startNamespacedHosts: n must be 1..253, got ${n}`);
  const avail = namespacesAvailable();
  if (!avail.ok) throw new Error(avail.reason);
  const privateDirs = (opts.privateDirs ?? []).map((p) => p.replace(/\/+$/, ''));
  for (const p of privateDirs) if (!p.startsWith('/') || p === '') throw new Error(`privateDirs: ${p || '/'} must be an absolute path other than /`);
  for (const i of [...(opts.withoutNode ?? []), ...(opts.oldNode ?? [])]) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`host index ${i} out of range 0..${n - 1}`);
  }
  const covers = (d: string) => privateDirs.some((p) => d === p || d.startsWith(p + '/'));
  let dir = opts.dir;
  const ownsDir = dir === undefined;
  if (dir === undefined) {
    const base = [tmpdir(), '/var/tmp'].find((b) => !covers(b));
    if (!base) throw new Error('privateDirs cover both the temp dir and /var/tmp: pass opts.dir');
    dir = await mkdtemp(join(base, 'rlink-netns-'));
  }
  if (covers(dir)) throw new Error(`privateDirs must not contain the fixture dir ${dir}`);

  await ensurePrivsepDir();
  await cleanupStale();
  const tag = `${process.pid}${String.fromCharCode(97 + (seq++ % 26))}`;
  const bridge = `rlbr${tag}`;
  const subnet = opts.subnet ?? await pickSubnet();
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`subnet must be 0..255, got ${subnet}`);
  const net = `10.200.${subnet}`;

  const namespaces: string[] = [];
  const veths: string[] = [];
  const createdStubs: string[] = []; // private-dir mount points this fixture created in the real filesystem
  let bridgeCreated = false;
  const hostStates: HostState[] = [];

  const fixture: NamespacedFixture = {
    dir,
    user: userInfo().username,
    identityFile: join(dir, 'id_ed25519'),
    knownHostsFile: join(dir, 'known_hosts'),
    hosts: [],
    bridge,
    rootAddress: `${net}.254`,
    stop: async () => { await state.stop(); },
  };
  const state: FixtureState = {
    stopped: false,
    hosts: hostStates,
    stop: async () => {
      if (state.stopped) return;
      state.stopped = true;
      await Promise.all(namespaces.map(async (ns) => {
        // two rounds: a dying session may still fork
        for (let round = 0; round < 2; round++) {
          const pids = await namespacePids(ns);
          if (pids.length === 0) break;
          await killPids(pids);
        }
        for (let attempt = 0; attempt < 3; attempt++) {
          try { await run('ip', ['netns', 'del', ns], 5_000); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
        }
      }));
      for (const v of veths) await run('ip', ['link', 'del', v], 5_000).catch(() => undefined); // usually gone with its namespace
      if (bridgeCreated) await run('ip', ['link', 'del', bridge], 5_000).catch(() => undefined);
      for (const h of hostStates) if (h.proc) await Promise.race([h.proc.exited, new Promise((r) => setTimeout(r, 2_000))]);
      for (const stub of createdStubs.reverse()) await rmdir(stub).catch(() => undefined); // only when still empty
      if (ownsDir && !process.env.RLINK_KEEP_FIXTURES) await rm(dir!, { recursive: true, force: true });
      unregisterFixture(fixture);
    },
    stopSync: () => {
      for (const ns of namespaces) {
        for (const p of ipSync(['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }
        ipSync(['netns', 'del', ns]);
      }
      if (bridgeCreated) ipSync(['link', 'del', bridge]);
    },
  };
  registerFixture(fixture, state);

  try {
    for (const sub of ['keys', 'conf', 'bin']) await mkdir(join(dir, sub), { recursive: true });
    const clientPub = await generateKey(fixture.identityFile, 'rlink-test-client');
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, clientPub + '\n', { mode: 0o600 });
    const nodeMissing = join(dir, 'bin', 'node-missing');
    const nodeOld = join(dir, 'bin', 'node-v18');
    await writeFile(nodeMissing, NODE_MISSING, { mode: 0o755 });
    await writeFile(nodeOld, NODE_OLD, { mode: 0o755 });
    const nodes = nodeBinaries();

    // the mount points must exist in the shared filesystem before a host can bind over them
    for (const p of privateDirs) {
      let top: string | undefined;
      for (let d = p; d !== '/' && !existsSync(d); d = dirname(d)) top = d;
      await mkdir(p, { recursive: true });
      if (top) {
        // remember every level this fixture created, deepest last, to remove them when empty
        const levels: string[] = [];
        for (let d = p; ; d = dirname(d)) { levels.unshift(d); if (d === top) break; }
        createdStubs.push(...levels);
      }
    }

    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    bridgeCreated = true;
    await run('ip', ['addr', 'add', `${fixture.rootAddress}/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);

    const setUpHost = async (i: number): Promise<void> => {
      const name = `host${i}`;
      const ns = `rlh${tag}-${i}`;
      const veth = `rlv${tag}${i}`;
      const address = `${net}.${i + 1}`;
      const rootDir = join(dir!, name);
      await run('ip', ['netns', 'add', ns]);
      namespaces.push(ns);
      await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      veths.push(veth);
      await run('ip', ['link', 'set', veth, 'master', bridge, 'up']);
      await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      for (const p of privateDirs) await mkdir(join(rootDir, p), { recursive: true });
      await mkdir(rootDir, { recursive: true });

      const hs: HostState = {
        keyDir: join(dir!, 'keys'),
        hostKeyFile: join(dir!, 'keys', `${name}_host_ed25519`),
        generation: 0,
        start: async () => {
          const conf = join(dir!, 'conf', `${name}.${hs.generation}.sshd_config`);
          await writeFile(conf, sshdConfig({ hostKey: hs.hostKeyFile, pidFile: join(dir!, 'conf', `${name}.sshd.pid`), authorizedKeys }) + `ListenAddress ${address}:22\n`);
          const fake = opts.withoutNode?.includes(i) ? nodeMissing : opts.oldNode?.includes(i) ? nodeOld : undefined;
          const script = [
            'set -e',
            `hostname ${name}`,
            ...privateDirs.map((p) => `mount --bind ${q(join(rootDir, p))} ${q(p)}`),
            ...(fake ? nodes.map((b) => `mount --bind ${q(fake)} ${q(b)}`) : []),
            `exec ${SSHD} -D -e -f ${q(conf)}`,
            '',
          ].join('\n');
          const scriptFile = join(dir!, 'conf', `${name}.start.sh`);
          await writeFile(scriptFile, script, { mode: 0o755 });
          // ip netns exec exec()s unshare, which forks sh → sshd as PID 1 of the host's own PID namespace:
          // sshd then reaps the host's orphans (nohup'd daemons) as an init would, `ps`/`pkill` on a
          // host see only that host, and killing sshd (or unshare, by --kill-child) ends the whole host.
          const hp = launch('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', '/bin/sh', scriptFile]);
          hs.proc = hp;
          await waitForSsh(address, 22, hp);
          return hp;
        },
      };
      hostStates[i] = hs;
      const hostPub = await generateKey(hs.hostKeyFile, `${name}-host`);
      hs.proc = await hs.start();
      fixture.hosts[i] = { name, address, port: 22, hostKeyLine: knownHostsLine(address, 22, hostPub), namespace: ns, rootDir };
    };

    // a few hosts at a time: each step is quick, but 2 cores and many sshd starts at once slow everything
    let next = 0;
    const worker = async () => { while (next < n) await setUpHost(next++); };
    await Promise.all(Array.from({ length: Math.min(4, n) }, worker));

    await writeFile(fixture.knownHostsFile, fixture.hosts.map((h) => h.hostKeyLine).join('\n') + '\n', { mode: 0o600 });
    return fixture;
  } catch (err) {
    await fixture.stop();
    throw err;
  }
}

/** Reads a file a host wrote in one of its private dirs, from outside (null when absent). */
export async function readHostFile(fixture: SshFixture, hostIndex: number, path: string): Promise<string | null> {
  const root = fixture.hosts[hostIndex]?.rootDir;
  if (!root) throw new Error(`host ${hostIndex} has no private root`);
  try {
    return await readFile(join(root, path), 'utf8');
  } catch {
    return null;
  }
}
