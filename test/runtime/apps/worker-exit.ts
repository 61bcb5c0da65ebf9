/** A job whose user code ends its worker thread (process.exit in a worker ends the thread only). */
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'worker-exit',
  build(env) {
    env.fromSource(sources.collection([1, 2, 3]))
      .map((x: number) => { if (x === 2) process.exit(7); return x; })
      .sinkTo(sinks.print());
  },
});
