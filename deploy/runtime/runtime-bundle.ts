/**
 * Builds the rlink runtime bundle that deploys ship to hosts: `dist/runtime/rlink.mjs`, one file
 * with every dependency inlined (Flink ships a distribution directory and rlink-rs a binary; one
 * ESM file is Node's equivalent). Its version is the SHA-256 of its bytes, so a host that already
 * has the same bundle is skipped.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, mkdirSync, renameSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tarGz } from './tarball';
import { packageRoot } from '../../core/app/worker-scripts';

export interface RuntimeBundle {
  /** The bundle file (dist/runtime/rlink.mjs). */
  path: string;
  /** SHA-256 of the bundle and the scripts (hex): equal versions need no upload. */
  version: string;
  /** The scripts that go with it (scripts/*.sh). */
  scripts: string[];
  /** lib/rlink.mjs, lib/VERSION and scripts/*.sh as one .tar.gz, laid out as on a host's work dir. */
  archive(): Buffer;
}

const SOURCE_DIRS = ['core', 'connectors', 'jobmanager', 'taskmanager', 'cli', 'deploy', 'dashboard'];

function newestSource(root: string): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  return Math.max(newest, statSync(join(root, 'index.ts')).mtimeMs);
}

/** The runtime bundle, rebuilt when any source is newer than it. */
export async function ensureRuntimeBundle(): Promise<RuntimeBundle> {
  const root = packageRoot();
  const out = join(root, 'dist', 'runtime', 'rlink.mjs');
  if (!existsSync(out) || statSync(out).mtimeMs < newestSource(root)) await buildRuntimeBundle(root, out);
  const scriptsDir = join(root, 'scripts');
  const scripts = readdirSync(scriptsDir).filter((f) => f.endsWith('.sh')).sort().map((f) => join(scriptsDir, f));
  const hash = createHash('sha256').update(readFileSync(out));
  for (const s of scripts) hash.update(basename(s)).update(readFileSync(s));
  const version = hash.digest('hex');
  let archive: Buffer | undefined;
  return {
    path: out, version, scripts,
    archive: () => (archive ??= tarGz([
      { name: 'lib/rlink.mjs', data: readFileSync(out), mode: 0o644 },
      ...scripts.map((s) => ({ name: `scripts/${basename(s)}`, data: readFileSync(s), mode: 0o755 })),
      // VERSION last: an interrupted extraction is redone next time.
      { name: 'lib/VERSION', data: Buffer.from(`${version}\n`), mode: 0o644 },
    ])),
  };
}

async function buildRuntimeBundle(root: string, out: string): Promise<void> {
  const { build } = await import('esbuild');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(join(root, 'dist', 'runtime'), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  // The job manager's web dashboard, built for the browser and embedded (served at GET /).
  const { buildDashboard } = await import(pathToFileURL(join(root, 'dashboard', 'build.mjs')).href) as { buildDashboard(): Promise<Record<string, string>> };
  await build({
    entryPoints: [join(root, 'deploy', 'runtime', 'main.ts')],
    outfile: tmp, bundle: true, format: 'esm', platform: 'node', target: 'node20', minify: true,
    legalComments: 'none', logLevel: 'warning', write: true, tsconfig: join(root, 'tsconfig.json'),
    // esbuild (app bundling) is a client-side concern; oclif only probes for typescript.
    external: ['esbuild', 'typescript'],
    define: { RLINK_RUNTIME_VERSION: JSON.stringify(pkg.version), RLINK_DASHBOARD_ASSETS: JSON.stringify(await buildDashboard()) },
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __rlinkRequire } from 'node:module'; const require = __rlinkRequire(import.meta.url);" },
  });
  renameSync(tmp, out);
}
