import { homedir } from 'node:os';
import { join } from 'node:path';

/** `~` and `~/x` → the home directory (another user's `~bob` and everything else unchanged). */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}
