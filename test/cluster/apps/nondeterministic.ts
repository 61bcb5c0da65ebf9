/** build() makes one more operator in a task manager's slot than on the job manager: not deterministic. */
import { workerData } from 'node:worker_threads';
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'nondeterministic',
  build(env, props) {
    let s = env.fromSource(sources.generator({ count: 1000, generate: (i) => ({ i }) }), { parallelism: 2 }).map((r: { i: number }) => r);
    if ((workerData as { role?: string } | null)?.role === 'slot') s = s.filter(() => true);
    s.keyBy('i').map((r: { i: number }) => r, { parallelism: 2 }).sinkTo(sinks.file({ path: props.get('output') }));
  },
});
