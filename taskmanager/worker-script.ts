import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The rlink package's root directory, found from this module's location (source tree or dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try { if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'rlink') return dir; } catch { /* keep looking */ }
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the rlink package root');
}

let override: string | undefined;

/** The self-contained runtime bundle (deploy/runtime) is its own worker script: it says so here. */
export function setWorkerScript(path: string): void { override = path; }

/** The built slot-worker script (dist/worker.js), or the runtime bundle when running from one. */
export function workerScript(): string { return override ?? join(packageRoot(), 'dist', 'worker.js'); }
