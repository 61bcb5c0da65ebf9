/** Builds on the job manager (main thread) but throws in a task manager's slot (a worker thread). */
import { isMainThread } from 'node:worker_threads';
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'throws-on-taskmanager',
  build(env) {
    if (!isMainThread) throw new Error('no such table on this host');
    env.fromSource(sources.collection([1, 2, 3])).sinkTo(sinks.print());
  },
});
