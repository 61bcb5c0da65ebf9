/** Keys end to end: one key, one result per window, at any parallelism. */
import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, rlink, tempDir } from '../helpers/cli';

describe('keys', () => {
  for (const p of [1, 2]) {
    it(`a key function returning 0 and -0 gives one window result for key 0 (parallelism ${p})`, async () => {
      const d = tempDir();
      try {
        const out = join(d, 'out.jsonl');
        const r = await rlink(['run', 'test/apps/rounded-key.ts', `output=${out}`, `parallelism=${p}`]);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(canonical(readJsonl(out))).toEqual(canonical([
          { key: 0, windowStart: 0, windowEnd: 10_000, n: 4 },
          { key: 1, windowStart: 0, windowEnd: 10_000, n: 1 },
        ]));
      } finally { rmSync(d, { recursive: true, force: true }); }
    });
  }
});
