/**
 * `rlink run` on a terminal keeps one progress line redrawn in place (records in/out per second, the
 * watermark) and clears it before the summary; piped, it writes no terminal control codes. script(1)
 * gives the command a pseudo-terminal.
 */
import { describe, it, expect } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, rlink, tempDir } from '../helpers/cli';

const APP = join(ROOT, 'test', 'cluster', 'apps', 'paced-windows.ts');
const SCRIPT = '/usr/bin/script';

describe.skipIf(!existsSync(SCRIPT))('rlink run progress', () => {
  it('redraws one line in place on a terminal and clears it before the summary', async () => {
    const out = join(tempDir(), 'out');
    const r = await execa(SCRIPT, ['-qec', `node ${BIN} run ${APP} output=${out} count=24000 rate=8000`, '/dev/null'], { cwd: ROOT, reject: false, timeout: 90_000 });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const text = String(r.stdout);
    const redraws = text.split('\r\x1b[2K').slice(1);
    // At least a few redraws of the RUNNING line (every 500 ms for about 3 s), then the summary on a cleared line.
    const running = redraws.filter((l) => l.startsWith('RUNNING '));
    expect(running.length).toBeGreaterThanOrEqual(3);
    for (const l of running) expect(l).toMatch(/^RUNNING \d+\.\ds {2}in \S+ \(\S+\/s\) {2}out \S+ \(\S+\/s\) {2}watermark (—|\d{4}-\d\d-\d\dT[\d:.]+Z)$/);
    expect(running.some((l) => /in \S+ \([1-9][\d.]*k?\/s\)/.test(l))).toBe(true);
    expect(redraws.at(-1)).toMatch(/^FINISHED paced-windows in [\d.]+s: 24000 records in, \d+ out\r?\n?$/);
    // No newline between redraws: the line stays in place.
    for (const l of running) expect(l).not.toContain('\n');
  }, 120_000);

  it('writes no terminal control codes when piped', async () => {
    const out = join(tempDir(), 'out');
    const r = await rlink(['run', APP, `output=${out}`, 'count=4000', 'rate=8000']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/^FINISHED paced-windows in [\d.]+s: 4000 records in, \d+ out$/m);
  }, 120_000);
});
