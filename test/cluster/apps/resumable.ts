/**
 * A job to stop with a savepoint and resume at another parallelism: JSON-lines files (positions per
 * file, so they can be redistributed), keyed tumbling windows, a file sink; every stateful operator
 * has a uid. `slow=<ms>` stalls the source side for that long every 100 records.
 */
import { defineApp, sources, sinks, WatermarkStrategy, TumblingEventTimeWindows, count, sum } from 'rlink';

export default defineApp({
  name: 'resumable',
  build(env, props) {
    const p = props.getNumber('parallelism', 2);
    const slow = props.getNumber('slow', 0);
    env.fromSource(sources.file({ path: props.get('input'), format: 'jsonl' }), {
      parallelism: p, uid: 'source', watermarks: WatermarkStrategy.forBoundedOutOfOrderness(0).withTimestampField('ts'),
    })
      .map((r: any) => {
        if (slow > 0 && r.v === 0) { const end = Date.now() + slow; while (Date.now() < end) { /* stall */ } }
        return r;
      }).uid('stall')
      .keyBy('k').window(TumblingEventTimeWindows.of('1s')).aggregate({ n: count(), s: sum('v') }, { parallelism: p, uid: 'windows' })
      .sinkTo(sinks.file({ path: props.get('output') }), { parallelism: p, uid: 'sink' });
  },
});
