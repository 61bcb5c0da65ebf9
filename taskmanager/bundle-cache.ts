import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AppRef } from '../core/protocol/control-messages';
import { bearer } from '../core/security/token';
import { RlinkError } from '../core/errors';

/**
 * Job bundles on a task manager: fetched once from the job manager (`GET /bundles/<hash>` with the
 * cluster token), checked against their content hash, kept under `<workDir>/bundles/<hash>.mjs`.
 * Bundles are the user's code with whatever it embeds (credentials, say): the directory is 0700 and
 * each bundle 0600.
 */
export class BundleCache {
  private readonly inflight = new Map<string, Promise<string>>();

  /** `jobManagerUrl` gives the job manager connected now (with HA it changes on a failover). */
  constructor(private readonly workDir: string, private readonly jobManagerUrl: () => string, private readonly token: string) {}

  async localize(ref: AppRef): Promise<AppRef> {
    if (ref.kind !== 'bundle') return ref;
    if (!/^[0-9a-f]{8,64}$/.test(ref.hash)) throw new RlinkError('RLINK_CONFIG', `invalid bundle hash '${ref.hash}'`);
    let p = this.inflight.get(ref.hash);
    if (!p) {
      p = this.fetchOnce(ref.hash);
      this.inflight.set(ref.hash, p);
      p.catch(() => this.inflight.delete(ref.hash));
    }
    return { kind: 'bundle', hash: ref.hash, path: await p };
  }

  private async fetchOnce(hash: string): Promise<string> {
    const dir = join(this.workDir, 'bundles');
    const path = join(dir, `${hash}.mjs`);
    if (existsSync(path)) return path;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700); // also when an older version created it open
    const url = new URL(`/bundles/${hash}`, this.jobManagerUrl());
    const res = await fetch(url, { headers: { authorization: bearer(this.token) } });
    if (!res.ok) throw new RlinkError('RLINK_APP_BUILD', `job manager answered ${res.status} for bundle ${hash}`, { retriable: res.status >= 500 });
    const bytes = Buffer.from(await res.arrayBuffer());
    const got = createHash('sha256').update(bytes).digest('hex');
    if (!got.startsWith(hash)) throw new RlinkError('RLINK_APP_BUILD', `bundle ${hash} arrived corrupted (content hash ${got.slice(0, 16)})`);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, bytes, { mode: 0o600 });
    await rename(tmp, path);
    return path;
  }
}
