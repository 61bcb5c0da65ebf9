/**
 * User sessions from a click stream: a session is a burst of clicks by one user that ends after
 * 30 s without a click (Flink's EventTimeSessionWindows.withGap). Per session: the number of clicks
 * and the first and last click time, computed by a custom aggregate function whose accumulators
 * merge when two sessions grow into each other. Clicks that arrive after their session was already
 * emitted are late: they go to a side output instead of being dropped silently.
 *
 *   npx rlink run examples/session-window.ts                                # 1 000 clicks, printed
 *   npx rlink run examples/session-window.ts count=100000 output=out/sessions.jsonl late.output=out/late.jsonl
 *
 * Output records:
 *   { "user": "bob", "windowStart": …, "windowEnd": …, "clicks": 34, "firstClick": …, "lastClick": …, "durationMs": … }
 * where windowStart = firstClick and windowEnd = lastClick + 30 s (a session window is [first, last + gap)).
 * Late clicks are printed as `late> {"user":…,"ts":…,"page":…}` (or written to `late.output`).
 *
 * The clicks are generated: click i happens about i seconds after the start, up to 4 s out of order
 * (the watermark allows 5 s). Every 40 s another user is the busy one; every 7th click goes to a
 * second, occasional user; so each user has short sessions separated by pauses longer than the gap.
 * Every 100th click is sent 10 minutes late.
 */
import { defineApp, WatermarkStrategy, EventTimeSessionWindows, OutputTag, sources, sinks, type AggregateFunction } from 'rlink';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const PAGES = ['/', '/search', '/product', '/cart', '/checkout'];
const START = Date.UTC(2026, 0, 1);

export interface Click { user: string; ts: number; page: string }

/** Click number i (pure and deterministic: every task manager calls it for its own indexes). */
function click(i: number): Click {
  const busy = Math.floor(i / 40) % USERS.length;
  const user = USERS[i % 7 === 3 ? (busy + 2) % USERS.length : busy]!;
  const jitter = (i * 7919) % 4000;
  const late = i % 100 === 99 ? 10 * 60_000 : 0;
  return { user, ts: START + i * 1000 - jitter - late, page: PAGES[Math.floor(i / 3) % PAGES.length]! };
}

/** The accumulator of one session; `merge` combines two sessions that an in-between click joined. */
interface SessionAcc { clicks: number; first: number; last: number }

const sessionStats: AggregateFunction<Click, SessionAcc, SessionAcc> = {
  createAccumulator: () => ({ clicks: 0, first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY }),
  add: (acc, c) => {
    acc.clicks += 1;
    if (c.ts < acc.first) acc.first = c.ts;
    if (c.ts > acc.last) acc.last = c.ts;
    return acc;
  },
  merge: (a, b) => ({ clicks: a.clicks + b.clicks, first: Math.min(a.first, b.first), last: Math.max(a.last, b.last) }),
  getResult: (acc) => ({ ...acc }),
};

export default defineApp({
  name: 'session-window',
  prepareProperties(props) {
    if (!props.has('count')) props.set('count', 1000);
  },
  build(env, props) {
    const lateClicks = new OutputTag<Click>('late-clicks');

    const clicks = env.fromSource(sources.generator({ count: props.getNumber('count'), generate: click }), {
      parallelism: 1,
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Click>('5s').withTimestampField('ts'),
    });

    const sessions = clicks
      .keyBy('user')
      .window(EventTimeSessionWindows.withGap('30s'))
      .sideOutputLateData(lateClicks)
      .aggregate({ session: sessionStats }, { parallelism: 2 })
      .uid('sessions');

    sessions
      .map((r: { user: string; windowStart: number; windowEnd: number; session: SessionAcc }) => ({
        user: r.user,
        windowStart: r.windowStart,
        windowEnd: r.windowEnd,
        clicks: r.session.clicks,
        firstClick: r.session.first,
        lastClick: r.session.last,
        durationMs: r.session.last - r.session.first,
      }), { name: 'Format' })
      .sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print(), { parallelism: 1 });

    sessions.getSideOutput(lateClicks)
      .sinkTo(props.has('late.output') ? sinks.file({ path: props.get('late.output') }) : sinks.print({ prefix: 'late' }), { parallelism: 1 });
  },
});
