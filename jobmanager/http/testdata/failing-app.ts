/** Test app for the REST API: a map that always throws, so every attempt fails (exception history). */
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'http-failing',
  build(env, props) {
    env.fromSource(sources.collection([{ i: 1 }, { i: 2 }]), { parallelism: 1 })
      .map((r: { i: number }) => { if (r.i === 2) throw new Error('record 2 is poison'); return r; }, { name: 'Poison' })
      .sinkTo(sinks.file({ path: props.get('output') }));
  },
});
