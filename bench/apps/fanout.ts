/**
 * The job of bench/fanout-copy.ts: Nexmark events into two branches, persons and auctions, each
 * projected and counted. `mode=filters`: the stream has two consumers (two filters), so the chain
 * hands the first a deep copy of every batch (core/runtime/copy-batch.ts); `mode=split`: one process
 * function with a side output, no copy — the baseline.
 */
import { defineApp, OutputTag, type Collector, type ProcessContext } from 'rlink';
import { countingSink, nexmarkEvents } from '../nexmark/queries/common';
import type { NexmarkEvent } from '../nexmark/generator';

const AUCTIONS = new OutputTag<{ seller: number }>('fanout-auctions');

function split(e: NexmarkEvent, ctx: ProcessContext, out: Collector<{ id: number; name: string }>): void {
  if (e.type === 'person') out.collect({ id: e.id, name: e.name });
  else if (e.type === 'auction') ctx.output(AUCTIONS, { seller: e.seller });
}

export default defineApp({
  name: 'fanout',
  build(env, props) {
    const events = nexmarkEvents(env, props);
    if (props.get('mode') === 'filters') {
      events.filter((e) => e.type === 'person').map((e) => ({ id: (e as { id: number }).id, name: (e as { name: string }).name })).sinkTo(countingSink());
      events.filter((e) => e.type === 'auction').map((e) => ({ seller: (e as { seller: number }).seller })).sinkTo(countingSink());
    } else {
      const people = events.process(split, { name: 'split' });
      people.sinkTo(countingSink());
      people.getSideOutput(AUCTIONS).sinkTo(countingSink());
    }
  },
});
