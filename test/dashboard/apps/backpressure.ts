/**
 * Flink's operations playground BackpressureMap in rlink: a keyed map that sleeps during part of
 * every period (the playground: every even minute), so that while it sleeps its input backs up and
 * the source upstream is backpressured.
 *
 *   backpressure.period   the period (default 2m)
 *   backpressure.slow     how long of each period the map is slow (default 1m: the first minute)
 *   backpressure.sleep    ms slept every backpressure.every records while slow (default 1 every 10)
 *
 * The sleep blocks the subtask's thread (Atomics.wait, as Thread.sleep does in Flink): the map is busy.
 * The map runs at parallelism 2 (`parallelism=`) by default: the subtasks of a slot share its thread,
 * so a source can only wait for credit from a map that runs in another slot (map[1]); with both in
 * one thread they would simply take turns.
 */
import { defineApp, sources, type Sink } from 'rlink';

const discard: Sink = {
  kind: 'discard',
  describe: () => ({ kind: 'discard' }),
  createWriter: () => ({ open() {}, write() {}, prepareCommit: () => null, commit() {}, close() {} }),
};

export default defineApp({
  name: 'backpressure',
  build(env, props) {
    const period = props.getDuration('backpressure.period', 120_000);
    const slow = props.getDuration('backpressure.slow', 60_000);
    const sleepMs = props.getNumber('backpressure.sleep', 1);
    const every = props.getNumber('backpressure.every', 10);
    const cell = new Int32Array(new SharedArrayBuffer(4));
    let n = 0;
    const causeBackpressure = () => Date.now() % period < slow;
    env.fromSource(sources.generator({ generate: (i: number) => ({ page: `p${i % 50}`, i }) }), { parallelism: 1 })
      .keyBy('page')
      .map((e: { page: string; i: number }) => {
        if (causeBackpressure() && ++n % every === 0) Atomics.wait(cell, 0, 0, sleepMs);
        return e;
      }, { parallelism: props.getNumber('parallelism', 2), name: 'BackpressureMap' })
      .sinkTo(discard, { name: 'Sink: discard' });
  },
});
