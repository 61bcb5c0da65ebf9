/** Diagnostic job: generator → filter → counting sink, no shuffle (every subtask independent). */
import { defineApp, sources, type Sink } from 'rlink';
import { generate } from './keyed-tumbling-data';

const countingSink: Sink = {
  kind: 'count', describe: () => ({ kind: 'count' }),
  createWriter: () => ({ open() {}, write() {}, prepareCommit: () => null, commit() {}, close() {} }),
};

export default defineApp({
  name: 'bench-forward-only',
  build(env, props) {
    const p = props.getNumber('parallelism', 1);
    env.fromSource(sources.generator({ count: props.getNumber('count'), generate }), { parallelism: p })
      .filter((r) => r.value >= 0)
      .sinkTo(countingSink);
  },
});
