/**
 * Test app: one stream feeds two chained branches, and the first branch's map mutates its input
 * record in place (common JavaScript style). As in Flink (object reuse off by default), the other
 * branch must still see the record as it was emitted.
 */
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'fan-out-mutation',
  build(env, props) {
    const s = env.fromSource(sources.collection([{ v: 1 }, { v: 2 }]), { parallelism: 1 });
    s.map((r: { v: number }) => { r.v = r.v * 100; return r; }).sinkTo(sinks.file({ path: props.get('scaled') }));
    s.sinkTo(sinks.file({ path: props.get('original') }));
  },
});
