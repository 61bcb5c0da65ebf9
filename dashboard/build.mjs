// Builds the job manager's web dashboard (dashboard/*.ts, app.css, index.html) in memory with
// esbuild: one minified script for the browser (no CDN, no framework), its stylesheet and its page.
// tools/build.mjs embeds the result into dist/ at build time; the job manager serves it at GET /.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** @returns {Promise<{ 'index.html': string, 'app.js': string, 'app.css': string }>} */
export async function buildDashboard() {
  const r = await build({
    entryPoints: [join(here, 'app.ts')], outfile: join(here, 'app.js'), bundle: true, write: false, format: 'iife', platform: 'browser',
    target: 'es2020', minify: true, legalComments: 'none', logLevel: 'warning', tsconfig: join(here, 'tsconfig.json'),
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js'));
  if (!js) throw new Error('esbuild produced no dashboard script');
  return {
    'index.html': readFileSync(join(here, 'index.html'), 'utf8'),
    'app.js': js.text,
    'app.css': readFileSync(join(here, 'app.css'), 'utf8'),
  };
}
