import { Flags } from '@oclif/core';
import type { FlagSpec, FlagTable } from '../../deploy/daemons/flags';

/** oclif flags from a daemon's flag table (deploy/daemons/), so the CLI and the runtime bundle accept the same flags. */
export function oclifFlags<F>(table: FlagTable<F>): Record<string, ReturnType<typeof Flags.string>> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(table as unknown as Record<string, FlagSpec>)) {
    const common = { description: s.description, ...(s.helpGroup ? { helpGroup: s.helpGroup } : {}), ...(s.hidden ? { hidden: true } : {}) };
    if (s.type === 'integer') {
      out[name] = Flags.integer({ ...common, ...(s.default !== undefined ? { default: s.default } : {}), ...(s.min !== undefined ? { min: s.min } : {}), ...(s.max !== undefined ? { max: s.max } : {}) });
    } else if (s.type === 'boolean') {
      out[name] = Flags.boolean({ ...common, ...(s.default !== undefined ? { default: s.default } : {}) });
    } else if (s.multiple) {
      out[name] = Flags.string({ ...common, multiple: true, ...(s.options ? { options: [...s.options] } : {}) });
    } else {
      out[name] = Flags.string({ ...common, ...(s.default !== undefined ? { default: s.default } : {}), ...(s.options ? { options: [...s.options] } : {}) });
    }
  }
  return out as Record<string, ReturnType<typeof Flags.string>>;
}
