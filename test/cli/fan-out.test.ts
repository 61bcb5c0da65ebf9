/** A chained fan-out: each branch gets the records as emitted, whatever the other branch does to them. */
import { expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl, rlink, tempDir } from '../helpers/cli';

it('a branch that mutates its input in place does not change what a sibling branch sees', async () => {
  const d = tempDir();
  try {
    const scaled = join(d, 'scaled.jsonl');
    const original = join(d, 'original.jsonl');
    const r = await rlink(['run', 'test/apps/fan-out-mutation.ts', `scaled=${scaled}`, `original=${original}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readJsonl(scaled)).toEqual([{ v: 100 }, { v: 200 }]);
    expect(readJsonl(original)).toEqual([{ v: 1 }, { v: 2 }]);
  } finally { rmSync(d, { recursive: true, force: true }); }
});
