/** build() busy for buildMs on the job manager (its graph-builder worker), quick in the slots. */
import { workerData } from 'node:worker_threads';
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'slow-build',
  build(env, props) {
    if ((workerData as { role?: string } | null)?.role !== 'slot') {
      const end = Date.now() + props.getNumber('buildMs');
      while (Date.now() < end) { /* a hostile or slow build */ }
    }
    env.fromSource(sources.collection([1, 2, 3])).sinkTo(sinks.print());
  },
});
