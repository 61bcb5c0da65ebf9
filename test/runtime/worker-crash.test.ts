import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { rlink } from '../helpers/cli';

describe('a slot worker that dies', () => {
  it('fails the job with the reason instead of hanging', async () => {
    const r = await rlink(['run', join(import.meta.dirname, 'apps', 'worker-exit.ts')], { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^rlink run: job worker-exit FAILED: .*worker exited with code 7/);
  });
});
