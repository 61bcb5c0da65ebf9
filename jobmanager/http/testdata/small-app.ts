/**
 * Test app for the REST API: 100 records keyed into a running count, written to `output`.
 *
 *   POST /job/application/:id  { "args": { "output": "/tmp/out.jsonl" } }
 */
import { defineApp, sources, sinks } from 'rlink';

interface Row { k: number; n: number }

export default defineApp({
  name: 'http-small',
  build(env, props) {
    const rows: Row[] = Array.from({ length: 100 }, (_, i) => ({ k: i % 5, n: 1 }));
    env.fromSource(sources.collection(rows), { parallelism: 1, name: 'Source: rows' })
      .map((r: Row) => ({ k: r.k, n: r.n * Number(props.getOr('factor', '1')) }), { name: 'Scale' })
      .keyBy('k')
      .reduce((a: Row, b: Row) => ({ k: a.k, n: a.n + b.n }), { parallelism: 2, name: 'Count' })
      .sinkTo(sinks.file({ path: props.get('output') }), { parallelism: 1 });
  },
});
