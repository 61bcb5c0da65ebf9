/**
 * Process groups for the emulators' containers (test code, never part of the product): a container
 * is spawned detached, so it leads its own group and everything it starts is in it; stopping it
 * signals the whole group, and waits (bounded) until no live member is left.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Signals a process group; a group that is gone already is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}

/** Whether a live process (not a zombie) is in process group `pgid`. */
export function groupHasLiveMembers(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}

/** Waits (bounded) until no live process is left in process group `pgid`. */
export async function groupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupHasLiveMembers(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Resolves true when `p` settles within `ms`, false otherwise. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((done) => {
    const timer = setTimeout(() => done(false), ms);
    void p.then(() => { clearTimeout(timer); done(true); }, () => { clearTimeout(timer); done(true); });
  });
}
