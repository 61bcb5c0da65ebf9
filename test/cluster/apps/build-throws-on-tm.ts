/** Builds on the job manager (its graph-builder worker) but throws in a task manager's slot. */
import { workerData } from 'node:worker_threads';
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'throws-on-taskmanager',
  build(env) {
    if ((workerData as { role?: string } | null)?.role === 'slot') throw new Error('no such table on this host');
    env.fromSource(sources.collection([1, 2, 3])).sinkTo(sinks.print());
  },
});
