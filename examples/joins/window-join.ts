/**
 * A window join (Flink's `a.join(b).where(…).equalTo(…).window(…).apply(…)`): ad impressions and ad
 * clicks meet when they are for the same ad in the same 10 s tumbling event-time window; every such
 * (impression, click) pair gives one record. An inner join: impressions without a click in their
 * window, and clicks without an impression, give nothing.
 *
 *   npx rlink run examples/joins/window-join.ts                                # 2 000 impressions, printed
 *   npx rlink run examples/joins/window-join.ts count=100000 output=out/pairs.jsonl
 *
 * Output records: { "ad": "ad-3", "impression": 17, "click": 4, "impressionTs": …, "clickTs": … }
 *
 * Impression i is shown about i × 100 ms after the start, click j about j × 300 ms after it, each up
 * to 1.5 s out of order (the watermarks allow 2 s, so nothing is late).
 */
import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, sources, sinks } from 'rlink';

const START = Date.UTC(2026, 0, 1);
const ADS = 20;

export interface Impression { ad: string; id: number; ts: number }
export interface Click { ad: string; id: number; ts: number }

export function impression(i: number): Impression {
  return { ad: `ad-${i % ADS}`, id: i, ts: START + i * 100 - ((i * 7919) % 1500) };
}

export function click(j: number): Click {
  return { ad: `ad-${(j * 7) % ADS}`, id: j, ts: START + j * 300 - ((j * 104_729) % 1500) };
}

export default defineApp({
  name: 'window-join',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 2000);
  },
  build(env, props) {
    const count = props.getNumber('count');
    const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<{ ts: number }>('2s').withTimestampField('ts');
    const impressions = env.fromSource(sources.generator({ count, generate: impression }), { watermarks, name: 'impressions' });
    const clicks = env.fromSource(sources.generator({ count: Math.floor(count / 3), generate: click }), { watermarks, name: 'clicks' });

    impressions.join(clicks)
      .where('ad').equalTo('ad')
      .window(TumblingEventTimeWindows.of('10s'))
      .apply((imp, c) => ({ ad: imp.ad, impression: imp.id, click: c.id, impressionTs: imp.ts, clickTs: c.ts }), { parallelism: 2 })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
