/** A map that never returns once it has seen its first record (a user function stuck in a loop). */
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'spin-forever',
  build(env, props) {
    env.fromSource(sources.generator({ ratePerSecond: 100, generate: (i) => ({ i }) }), { parallelism: 1, uid: 'gen' })
      .map((r: { i: number }) => {
        // eslint-disable-next-line no-constant-condition
        while (true) { /* stuck: ignores every cancel */ }
        return r;
      }, { uid: 'spin' })
      .sinkTo(sinks.file({ path: props.get('output') }), { uid: 'out' });
  },
});
