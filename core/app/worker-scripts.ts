import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The scripts rlink's worker threads run, by role:
 *
 *   'slot'           a task manager's slot (taskmanager/slot-worker.ts → dist/worker.js)
 *   'graph-builder'  the job manager's sandbox for loading a bundle and running build()
 *                    (jobmanager/build/graph-builder-worker.ts → dist/graph-builder.js)
 *
 * Workers are started with `workerData.role` set, so one self-contained file can serve every role:
 * the runtime bundle (deploy/runtime) says so with {@link useRuntimeBundle} and dispatches on it.
 */
export type WorkerRole = 'slot' | 'graph-builder';

const BUILT: Record<WorkerRole, string> = { slot: 'worker.js', 'graph-builder': 'graph-builder.js' };

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

let runtimeBundle: string | undefined;

/** The self-contained runtime bundle is the script of every role: it says so here. */
export function useRuntimeBundle(path: string): void { runtimeBundle = path; }

/** The script a worker of `role` runs. */
export function workerScript(role: WorkerRole): string {
  return runtimeBundle ?? join(packageRoot(), 'dist', BUILT[role]);
}
