/** A job whose every attempt fails after a few hundred records (the dashboard's exceptions page). */
import { defineApp, sources, type Sink } from 'rlink';

const discard: Sink = {
  kind: 'discard',
  describe: () => ({ kind: 'discard' }),
  createWriter: () => ({ open() {}, write() {}, prepareCommit: () => null, commit() {}, close() {} }),
};

export default defineApp({
  name: 'poison-pill',
  build(env) {
    env.fromSource(sources.generator({ count: 10_000, ratePerSecond: 1000, generate: (i: number) => ({ i }) }), { parallelism: 1 })
      .map((r: { i: number }) => { if (r.i === 300) throw new Error(`record ${r.i} is a poison pill`); return r; }, { name: 'Validate' })
      .sinkTo(discard, { name: 'Sink: discard' });
  },
});
