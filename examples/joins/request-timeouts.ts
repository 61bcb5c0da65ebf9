/**
 * Connected streams with keyed state and timers (Flink's `a.connect(b).keyBy(k1, k2).process(…)` with
 * a KeyedCoProcessFunction): requests and responses of a service, matched by request id. A request
 * answered within 5 s of event time gives its latency; one answered later, or never, gives a timeout,
 * emitted by an event-time timer as soon as the watermarks of both streams pass its deadline.
 *
 *   npx rlink run examples/joins/request-timeouts.ts                          # 1 000 requests, printed
 *   npx rlink run examples/joins/request-timeouts.ts count=100000 output=out/latency.jsonl
 *
 * Output records: { "request": 7, "status": "ok", "latencyMs": 1820 } or { "request": 8, "status": "timeout" }
 *
 * Either stream may deliver first for a request (they are separate sources): the function keeps
 * whichever side came first in keyed state, so the result depends only on the event times, not on
 * the order of arrival. Request i is sent i × 50 ms after the start; every 4th is never answered; the
 * others are answered after (i × 1 237) mod 8 000 ms.
 */
import { defineApp, WatermarkStrategy, sources, sinks, type KeyedCoProcessFunction } from 'rlink';

const START = Date.UTC(2026, 0, 1);
const TIMEOUT_MS = 5000;

export interface Request { request: number; ts: number }
export interface Response { request: number; ts: number }
export type Outcome = { request: number; status: 'ok'; latencyMs: number } | { request: number; status: 'timeout' };

export function request(i: number): Request { return { request: i, ts: START + i * 50 }; }
/** The answer to request i (every 4th request gets none: the job drops those). */
export function response(i: number): Response { return { request: i, ts: START + i * 50 + ((i * 1237) % 8000) }; }

const match: KeyedCoProcessFunction<Request, Response, Outcome> = {
  processElement1(req, ctx, out) {
    const answer = ctx.state<Response>('response');
    const res = answer.value();
    if (res) { out.collect(outcome(req, res)); answer.clear(); return; }
    ctx.state<Request>('request').update(req);
    ctx.timerService().registerEventTimeTimer(req.ts + TIMEOUT_MS);
  },
  processElement2(res, ctx, out) {
    const pending = ctx.state<Request>('request');
    const req = pending.value();
    if (req) {
      out.collect(outcome(req, res));
      pending.clear();
      ctx.timerService().deleteEventTimeTimer(req.ts + TIMEOUT_MS);
      return;
    }
    // The answer came first (or after its request timed out): keep it until a timer says no request can come.
    ctx.state<Response>('response').update(res);
    ctx.timerService().registerEventTimeTimer(res.ts + TIMEOUT_MS);
  },
  onTimer(_t, ctx, out) {
    const pending = ctx.state<Request>('request');
    const req = pending.value();
    if (req) { out.collect({ request: req.request, status: 'timeout' }); pending.clear(); }
    ctx.state<Response>('response').clear(); // a late answer to a request that timed out already
  },
};

function outcome(req: Request, res: Response): Outcome {
  const latencyMs = res.ts - req.ts;
  return latencyMs <= TIMEOUT_MS ? { request: req.request, status: 'ok', latencyMs } : { request: req.request, status: 'timeout' };
}

export default defineApp({
  name: 'request-timeouts',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 1000);
  },
  build(env, props) {
    const count = props.getNumber('count');
    const requests = env.fromSource(sources.generator({ count, generate: request }), {
      name: 'requests', watermarks: WatermarkStrategy.forMonotonousTimestamps<Request>().withTimestampField('ts'),
    });
    const responses = env.fromSource(sources.generator({ count, generate: response }), {
      name: 'responses', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Response>('8s').withTimestampField('ts'),
    }).filter((r) => r.request % 4 !== 0);

    requests.connect(responses)
      .keyBy('request', 'request')
      .process(match, { parallelism: 2 })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print());
  },
});
