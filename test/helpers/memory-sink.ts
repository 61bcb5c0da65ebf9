import type { Sink } from '../../index';

/**
 * A sink that collects into an array, for in-process (inline) runs: committed records only, as a
 * two-phase sink would publish them.
 */
export function memorySink<T = any>(): { sink: Sink<T>; committed: T[] } {
  const committed: T[] = [];
  const sink: Sink<T> = {
    kind: 'memory',
    describe: () => ({ kind: 'memory' }),
    createWriter: () => {
      let pending: T[] = [];
      return {
        open() {},
        write(values) { pending.push(...values); },
        prepareCommit() { const p = pending; pending = []; return p; },
        commit(cs) { for (const c of cs) committed.push(...(c as T[])); },
        close() {},
      };
    },
  };
  return { sink, committed };
}
