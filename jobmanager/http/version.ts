import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** rlink's package version, read from the package.json above this module (source tree or dist/). */
export function rlinkVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        const pkg = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'rlink' && typeof pkg.version === 'string') { cached = pkg.version; break; }
      } catch { /* keep looking */ }
    }
    dir = dirname(dir);
  }
  return cached;
}
