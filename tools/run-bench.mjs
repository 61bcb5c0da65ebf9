// Runs a benchmark of bench/<name>.ts: bundles it (TypeScript, imports of the sources) and runs it.
import { build } from 'esbuild';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name) { process.stderr.write('usage: npm run bench -- <name>   (a file bench/<name>.ts)\n'); process.exit(2); }
await ensureBuilt(); // the embedded cluster's worker threads run dist/worker.js
const out = join(root, 'dist', 'bench', `${name}.js`);
await build({
  entryPoints: [join(root, 'bench', `${name}.ts`)], outfile: out, bundle: true, format: 'esm', platform: 'node',
  target: 'node20', packages: 'external', logLevel: 'warning',
  // The bench's own directory for import.meta.dirname-relative files (apps/).
  define: { 'import.meta.dirname': JSON.stringify(join(root, 'bench')) },
});
await import(pathToFileURL(out).href);
