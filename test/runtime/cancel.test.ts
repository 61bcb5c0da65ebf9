import { describe, it, expect } from 'vitest';
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, tempDir } from '../helpers/cli';

describe('rlink run, Ctrl-C', () => {
  it('cancels an unbounded job cleanly: exit 130, CANCELED, no committed output', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const child = execa('node', [BIN, 'run', join(import.meta.dirname, 'apps', 'endless.ts'), `output=${out}`], { reject: false, timeout: 60_000 });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Wait until it runs (progress is printed when piped every few seconds: wait for the first line).
    const started = Date.now();
    while (!/RUNNING/.test(stderr) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toMatch(/RUNNING/);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(stderr).toMatch(/CANCELED/);
    // Nothing was committed: the file sink publishes only at a completed checkpoint or the end of input.
    const committed = existsSync(out) ? readdirSync(out).filter((f) => /^part-\d+\.jsonl$/.test(f)) : [];
    expect(committed).toEqual([]);
  });
});
