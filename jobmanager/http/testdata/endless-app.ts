/** Test app for the REST API: an unbounded, slow generator (for cancel and shutdown). */
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'http-endless',
  build(env, props) {
    env.fromSource(sources.generator({ ratePerSecond: 200, generate: (i: number) => ({ i }) }), { parallelism: 1 })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
