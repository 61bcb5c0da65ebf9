/** A job of 50 vertices (a source and 49 keyed maps, the last one chained with its sink) at a low rate: the dashboard's load-time test. */
import { defineApp, sources, type DataStream, type Sink } from 'rlink';

const discard: Sink = {
  kind: 'discard',
  describe: () => ({ kind: 'discard' }),
  createWriter: () => ({ open() {}, write() {}, prepareCommit: () => null, commit() {}, close() {} }),
};

export default defineApp({
  name: 'fifty-vertices',
  build(env, props) {
    let s: DataStream<{ k: number; step: number }> = env.fromSource(
      sources.generator({ ratePerSecond: props.getNumber('rate', 50), generate: (i: number) => ({ k: i % 7, step: 0 }) }), { parallelism: 1, uid: 'wide-source' });
    for (let step = 1; step <= 49; step++) {
      s = s.keyBy('k').map((r: { k: number; step: number }) => ({ k: r.k, step }), { name: `Step ${step}`, uid: `step-${step}` });
    }
    s.sinkTo(discard, { name: 'Sink: discard' });
  },
});
