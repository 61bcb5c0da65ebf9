// Builds rlink's runtime into dist/ with esbuild: the CLI, the slot-worker entry, and the public API.
// bin/rlink.js calls ensureBuilt(), so a fresh checkout works right after `npm ci` and edits to the
// sources are picked up without a manual build step.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { buildDashboard } from '../dashboard/build.mjs';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.stamp');
const SOURCE_DIRS = ['core', 'connectors', 'jobmanager', 'taskmanager', 'local', 'cli', 'deploy', 'dashboard'];
// The web dashboard's page and styles count as sources too.
const SOURCE_FILE = /(?<!\.test)\.ts$|^dashboard\/.*\.(css|html|mjs)$/;
const ENTRIES = { cli: 'cli/index.ts', worker: 'taskmanager/slot-worker.ts', 'graph-builder': 'jobmanager/build/graph-builder-worker.ts', api: 'index.ts' };

function newestSource() {
  let newest = statSync(join(root, 'index.ts')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (SOURCE_FILE.test(relative(root, p).split(sep).join('/'))) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  return newest;
}

export function isStale() {
  if (!existsSync(stamp)) return true;
  return newestSource() > statSync(stamp).mtimeMs;
}

export async function buildAll() {
  // Build beside dist/ and move the files in one by one (each rename is atomic), so a process
  // starting meanwhile never sees a half-written file.
  const tmp = join(root, `.dist-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  // The dashboard (browser code) is built first and embedded: the job manager serves it from memory.
  const dashboard = await buildDashboard();
  await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([k, v]) => [k, join(root, v)])),
    outdir: tmp, bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
    packages: 'external', sourcemap: 'linked', logLevel: 'warning', chunkNames: 'chunks/[name]-[hash]',
    define: { RLINK_DASHBOARD_ASSETS: JSON.stringify(dashboard) },
  });
  mkdirSync(join(dist, 'chunks'), { recursive: true });
  const move = (rel) => {
    for (const e of readdirSync(join(tmp, rel), { withFileTypes: true })) {
      const r = join(rel, e.name);
      if (e.isDirectory()) { mkdirSync(join(dist, r), { recursive: true }); move(r); }
      else renameSync(join(tmp, r), join(dist, r));
    }
  };
  const built = new Set(readdirSync(join(tmp, 'chunks')));
  move('');
  rmSync(tmp, { recursive: true, force: true });
  pruneChunks(built);
  writeFileSync(stamp, new Date().toISOString());
}

/**
 * Chunks of earlier builds stay for a day: a process started from one may still import its chunks
 * lazily (the data plane, SQL); after that they go, so dist/ does not grow without bound.
 */
function pruneChunks(current) {
  const dir = join(dist, 'chunks');
  const cutoff = Date.now() - 24 * 3600_000;
  for (const f of readdirSync(dir)) {
    if (current.has(f)) continue;
    const p = join(dir, f);
    try { if (statSync(p).mtimeMs < cutoff) rmSync(p, { force: true }); } catch { /* removed meanwhile */ }
  }
}

export async function ensureBuilt() {
  if (isStale()) await buildAll();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildAll();
}
