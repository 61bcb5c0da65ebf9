/** An unbounded fast source feeding a slow sink (10 ms per batch) on two subtasks: backpressure. */
import { defineApp, sources, type Sink } from 'rlink';

const slowSink: Sink = {
  kind: 'slow',
  describe: () => ({ kind: 'slow' }),
  createWriter: () => ({
    open() {},
    write: () => new Promise<void>((r) => setTimeout(r, 10)),
    prepareCommit: () => null,
    commit() {},
    close() {},
  }),
};

export default defineApp({
  name: 'slow-sink',
  build(env) {
    env.fromSource(sources.generator({ generate: (i) => ({ i, payload: 'x'.repeat(64) }) }), { parallelism: 1 })
      .map((r) => r, { parallelism: 2 })
      .sinkTo(slowSink);
  },
});
