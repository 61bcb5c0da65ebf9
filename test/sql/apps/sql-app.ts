/**
 * A SQL job for the property tests, configured from the command line:
 *
 *   rlink run test/sql/apps/sql-app.ts input=in.jsonl output=out query="SELECT …" \
 *     bound=2000 parallelism=2 sourceParallelism=1 source=file|collection mode=query|insert
 *
 * Records are { k, region, v, ts } (ts in epoch ms). The table `t` has the schema
 * { k: string, region: bigint, v: bigint, ts: timestamp } with a watermark on ts, `bound` ms out of order:
 * - `source=file`: sources.file with the schema (watermarks made in the source; parallelism 1);
 * - `source=collection`: sources.collection at `sourceParallelism`, the view's schema declaring the
 *   watermark (assigned right after the source, per subtask).
 * `mode=query` writes env.sqlQuery(query) to the file sink; `mode=insert` runs INSERT INTO a sink table.
 */
import { readFileSync } from 'node:fs';
import { defineApp, sources, sinks } from 'rlink';

export default defineApp({
  name: 'sql-semantics-app',
  build(env, props) {
    const bound = props.getNumber('bound', 0);
    const columns = { k: 'string', region: 'bigint', v: 'bigint', ts: 'timestamp' };
    const watermark = { field: 'ts', delay: bound };
    const path = props.get('input');
    if (props.getOr('source', 'file') === 'file') {
      env.createTemporaryView('t', env.fromSource(sources.file({ path, format: 'jsonl', schema: { ...columns, watermark } }), { parallelism: 1 }));
    } else {
      const records = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      env.createTemporaryView('t', env.fromSource(sources.collection(records), { parallelism: props.getNumber('sourceParallelism', 1) }), { ...columns, watermark });
    }
    const out = sinks.file({ path: props.get('output') });
    const options = { parallelism: props.getNumber('parallelism', 1), uid: 'q' };
    if (props.getOr('mode', 'query') === 'insert') {
      env.createTemporarySinkTable('out', out);
      env.executeSql(`INSERT INTO out ${props.get('query')}`, options);
    } else {
      env.sqlQuery(props.get('query'), options).sinkTo(out);
    }
  },
});
