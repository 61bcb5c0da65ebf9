/**
 * docs/configuration.md lists every system property declared in core/config/system-properties.ts, in
 * its "System properties" table, and nothing that is not declared there.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_PROPERTIES } from '../../core/config/system-properties';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'configuration.md');

/** The first column of the table under "## System properties" (up to the next heading or prose). */
function documentedKeys(): string[] {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('## System properties'));
  const table = section.slice(section.indexOf('| key |'));
  const rows = table.split('\n').filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((x) => x.startsWith('|')));
  return rows.slice(2).map((r) => /^\| `([^`]+)` \|/.exec(r)?.[1]).filter((k): k is string => k !== undefined);
}

describe('docs/configuration.md and SYSTEM_PROPERTIES', () => {
  it('documents every declared system property, with its default, and no other', () => {
    const keys = documentedKeys();
    expect(keys.length).toBeGreaterThan(5);
    expect([...keys].sort()).toEqual(Object.keys(SYSTEM_PROPERTIES).sort());
    const text = readFileSync(DOC, 'utf8');
    for (const [key, p] of Object.entries(SYSTEM_PROPERTIES)) {
      if (p.default === undefined) continue;
      const row = text.split('\n').find((l) => l.startsWith(`| \`${key}\` |`))!;
      expect(row.split(/(?<!\\)\|/)[3], `default of ${key}`).toContain(String(p.default));
    }
  });
});
