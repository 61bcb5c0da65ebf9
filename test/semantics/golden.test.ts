/**
 * Golden cases for event-time windows and watermarks, through `rlink run` as a user calls it.
 * Every expected output below is worked out by hand in the comment above it; each case checks the
 * hand-worked answer against both the reference (test/reference/windows.ts) and the real CLI.
 *
 * Notation: W = the watermark a record is processed against = max(ts before it) − bound − 1
 * (−∞ for the first record). A window [s, e) fires once W >= e − 1; a record is dropped from a window
 * when e − 1 + L <= W.
 */
import { describe, it, expect } from 'vitest';
import { rmSync } from 'node:fs';
import { canonical } from '../helpers/cli';
import type { Rec } from '../reference/windows';
import { runWindowJob, referenceFor, expectRunMatches, type JobParams, type Expected } from './harness';

/** An input record of key `key`. */
const r = (key: string, ts: number, v: number): Rec => ({ key, ts, v });
/** A result record of key `key` for window [start, end). */
const w = (key: string, start: number, end: number, fields: Rec): Rec => ({ key, windowStart: start, windowEnd: end, ...fields });

async function check(input: Rec[], params: JobParams, expected: Expected): Promise<void> {
  // The reference agrees with the hand-worked answer…
  const ref = referenceFor(input, params);
  expect(canonical(ref.output), 'reference: main output').toEqual(canonical(expected.output));
  expect(canonical(ref.late), 'reference: late records').toEqual(canonical(expected.late));
  expect(ref.lateCount, 'reference: late count').toBe(expected.lateCount);
  // …and so does rlink run.
  const run = await runWindowJob(input, params);
  expectRunMatches(run, expected, params, JSON.stringify(params));
}

describe('tumbling event-time windows', () => {
  it('in order: one result per window', async () => {
    // size 10, bound 0. W: −∞, 0, 4, 11, 18 — every record is ahead of its window's end.
    // [0,10): ts 1, 5 → sum 1+2 = 3, count 2; [10,20): ts 12, 19 → 3+4 = 7, 2; [20,30): ts 25 → 5, 1.
    await check(
      [r('a', 1, 1), r('a', 5, 2), r('a', 12, 3), r('a', 19, 4), r('a', 25, 5)],
      { window: { kind: 'tumbling', size: 10 }, bound: 0 },
      { output: [w('a', 0, 10, { sum: 3, count: 2 }), w('a', 10, 20, { sum: 7, count: 2 }), w('a', 20, 30, { sum: 5, count: 1 })], late: [], lateCount: 0 },
    );
  });

  it('out of order within the bound: nothing is late, including a record exactly `bound` behind', async () => {
    // size 10, bound 5 (W = max − 6).
    //   ts  2 v1  W −∞          ts 12 v2  W −4         ts  8 v3  W 6 (9 > 6: in time)
    //   ts 14 v4  W 6           ts  9 v5  W 8: 5 behind max 14; [0,10) has e−1 = 9 > 8: in time
    //   ts 17 v6  W 8           ts 13 v7  W 11          ts 21 v8  W 11          ts 16 v9  W 15 (5 behind 21)
    // [0,10): v 1+3+5 = 9 (3); [10,20): v 2+4+6+7+9 = 28 (5); [20,30): v 8 (1).
    await check(
      [r('a', 2, 1), r('a', 12, 2), r('a', 8, 3), r('a', 14, 4), r('a', 9, 5), r('a', 17, 6), r('a', 13, 7), r('a', 21, 8), r('a', 16, 9)],
      { window: { kind: 'tumbling', size: 10 }, bound: 5 },
      { output: [w('a', 0, 10, { sum: 9, count: 3 }), w('a', 10, 20, { sum: 28, count: 5 }), w('a', 20, 30, { sum: 8, count: 1 })], late: [], lateCount: 0 },
    );
  });

  // size 10, bound 0, lateness 0:
  //   ts  1 v1  W −∞         ts 10 v2  W 0
  //   ts  9 v3  W 9: [0,10) has e−1 = 9 <= 9 → late (the boundary case)
  //   ts 25 v4  W 9          ts 19 v5  W 24: [10,20) has 19 <= 24 → late
  //   ts 20 v6  W 24: [20,30) has 29 > 24: in time
  // [0,10): v1 (1); [10,20): v2 (1); [20,30): v 4+6 = 10 (2). Late: ts 9 and ts 19.
  const lateInput = [r('a', 1, 1), r('a', 10, 2), r('a', 9, 3), r('a', 25, 4), r('a', 19, 5), r('a', 20, 6)];
  const lateOutput = [w('a', 0, 10, { sum: 1, count: 1 }), w('a', 10, 20, { sum: 2, count: 1 }), w('a', 20, 30, { sum: 10, count: 2 })];

  for (const wm of ['source', 'assign'] as const) {
    it(`a late record is dropped and counted (watermarks ${wm === 'source' ? 'in fromSource' : 'by assignTimestampsAndWatermarks'})`, async () => {
      await check(lateInput, { window: { kind: 'tumbling', size: 10 }, bound: 0, wm },
        { output: lateOutput, late: [lateInput[2]!, lateInput[4]!], lateCount: 2 });
    });
  }

  for (const parallelism of [1, 3]) {
    it(`a late record goes to the side output (window parallelism ${parallelism})`, async () => {
      // Same input: with sideOutputLateData the two late records are in the side output, none dropped.
      await check(lateInput, { window: { kind: 'tumbling', size: 10 }, bound: 0, side: true, parallelism },
        { output: lateOutput, late: [lateInput[2]!, lateInput[4]!], lateCount: 2 });
    });
  }

  it('the CLI summary line reports the late records dropped', async () => {
    // The input of the cases above, without --json: the final line names the 2 late records.
    const run = await runWindowJob(lateInput, { window: { kind: 'tumbling', size: 10 }, bound: 0 }, { json: false });
    expect(run.stdout).toMatch(/^FINISHED semantics-window-app in [\d.]+s: 6 records in, .*\(.*\b2 late records dropped\b.*\)$/m);
    expect(canonical(run.output)).toEqual(canonical(lateOutput));
    rmSync(run.dir, { recursive: true, force: true });
  });

  for (const parallelism of [1, 3]) {
    it(`allowed lateness fires a window again with the updated result (window parallelism ${parallelism})`, async () => {
      // size 10, bound 0, lateness 10 (a record is dropped from [s,e) when e − 1 + 10 <= W).
      //   a ts  1 v1  W −∞
      //   a ts 15 v2  W 0
      //   a ts  3 v3  W 14: [0,10) fired (9 <= 14) with {1, 1}; 9+10 = 19 > 14 → kept, fires again {4, 2}
      //   a ts 20 v4  W 14
      //   a ts  4 v5  W 19: [10,20) fires {2, 1}; [0,10): 19 <= 19 → late (boundary), its state is gone
      //   a ts 12 v6  W 19: [10,20): 29 > 19 → kept, fires again {2+6 = 8, 2}
      //   b ts 11 v7  W 19: b's [10,20) is first seen after its end: kept (29 > 19), fires at once {7, 1}
      //   end: [20,30) fires {4, 1}.
      const input = [r('a', 1, 1), r('a', 15, 2), r('a', 3, 3), r('a', 20, 4), r('a', 4, 5), r('a', 12, 6), r('b', 11, 7)];
      await check(input, { window: { kind: 'tumbling', size: 10 }, bound: 0, lateness: 10, parallelism }, {
        output: [
          w('a', 0, 10, { sum: 1, count: 1 }), w('a', 0, 10, { sum: 4, count: 2 }),
          w('a', 10, 20, { sum: 2, count: 1 }), w('a', 10, 20, { sum: 8, count: 2 }),
          w('b', 10, 20, { sum: 7, count: 1 }), w('a', 20, 30, { sum: 4, count: 1 }),
        ],
        late: [input[4]!], lateCount: 1,
      });
    });
  }

  for (const offset of [3, 13]) {
    it(`offset windows (offset ${offset}, size 10: windows [−7,3), [3,13), [13,23))`, async () => {
      // Offset 13 ≡ 3 (mod 10). start = ts − ((ts − 3) mod 10): ts 2 → 2 − 9 = −7; ts 3 → 3; ts 12 → 3;
      // ts 13 → 13; ts −7 → −7 − 0 = −7. Bound 100: nothing is late.
      // [−7,3): v 1+16 = 17 (2); [3,13): v 2+4 = 6 (2); [13,23): v 8 (1).
      await check(
        [r('a', 2, 1), r('a', 3, 2), r('a', 12, 4), r('a', 13, 8), r('a', -7, 16)],
        { window: { kind: 'tumbling', size: 10, offset }, bound: 100 },
        { output: [w('a', -7, 3, { sum: 17, count: 2 }), w('a', 3, 13, { sum: 6, count: 2 }), w('a', 13, 23, { sum: 8, count: 1 })], late: [], lateCount: 0 },
      );
    });
  }

  it('negative timestamps: windows align below zero, and lateness works there too', async () => {
    // size 10, bound 0. ts −25 → [−30,−20); −11 → [−20,−10); −10 and −1 → [−10,0); 0 → [0,10).
    // W before the last record (ts −15) is 0 − 1 = −1: [−20,−10) has e−1 = −11 <= −1 → late.
    const input = [r('a', -25, 1), r('a', -11, 2), r('a', -10, 4), r('a', -1, 8), r('a', 0, 16), r('a', -15, 32)];
    await check(input, { window: { kind: 'tumbling', size: 10 }, bound: 0 }, {
      output: [
        w('a', -30, -20, { sum: 1, count: 1 }), w('a', -20, -10, { sum: 2, count: 1 }),
        w('a', -10, 0, { sum: 12, count: 2 }), w('a', 0, 10, { sum: 16, count: 1 }),
      ],
      late: [input[5]!], lateCount: 1,
    });
  });

  for (const parallelism of [1, 3]) {
    it(`several keys share the watermark (window parallelism ${parallelism})`, async () => {
      // size 10, bound 2 (W = max − 3).
      //   a 1 v1 (W −∞)  b 2 v2 (−2)  c 3 v4 (−1)  a 11 v8 (0)  b 9 v16 (8: 9 > 8, in time)
      //   c 12 v32 (8)   b 13 v64 (9)  a 8 v128 (W 10: [0,10) 9 <= 10 → late, although a's own max is 11)
      // [0,10): a 1 (1), b 2+16 = 18 (2), c 4 (1); [10,20): a 8 (1), c 32 (1), b 64 (1).
      const input = [r('a', 1, 1), r('b', 2, 2), r('c', 3, 4), r('a', 11, 8), r('b', 9, 16), r('c', 12, 32), r('b', 13, 64), r('a', 8, 128)];
      await check(input, { window: { kind: 'tumbling', size: 10 }, bound: 2, parallelism }, {
        output: [
          w('a', 0, 10, { sum: 1, count: 1 }), w('b', 0, 10, { sum: 18, count: 2 }), w('c', 0, 10, { sum: 4, count: 1 }),
          w('a', 10, 20, { sum: 8, count: 1 }), w('c', 10, 20, { sum: 32, count: 1 }), w('b', 10, 20, { sum: 64, count: 1 }),
        ],
        late: [input[7]!], lateCount: 1,
      });
    });
  }

  it('keyBy two fields: the output has both key fields, with their types', async () => {
    // size 10, bound 0; key (user, shard) with a numeric shard.
    // [0,10): (u1,1) ts 1, 4 → v 1+8 = 9 (2); (u1,2) ts 2 → 2 (1); (u2,1) ts 3 → 4 (1). [10,20): (u1,1) ts 12 → 16 (1).
    const k = (user: string, shard: number, ts: number, v: number): Rec => ({ user, shard, ts, v });
    const o = (user: string, shard: number, start: number, end: number, fields: Rec): Rec => ({ user, shard, windowStart: start, windowEnd: end, ...fields });
    await check(
      [k('u1', 1, 1, 1), k('u1', 2, 2, 2), k('u2', 1, 3, 4), k('u1', 1, 4, 8), k('u1', 1, 12, 16)],
      { window: { kind: 'tumbling', size: 10 }, bound: 0, keys: ['user', 'shard'], parallelism: 2 },
      {
        output: [o('u1', 1, 0, 10, { sum: 9, count: 2 }), o('u1', 2, 0, 10, { sum: 2, count: 1 }), o('u2', 1, 0, 10, { sum: 4, count: 1 }), o('u1', 1, 10, 20, { sum: 16, count: 1 })],
        late: [], lateCount: 0,
      },
    );
  });

  it('avg, min, max and user-defined accumulators { createAccumulator, add, merge, getResult } in the named map', async () => {
    // size 10, bound 0. [0,10): v 3, 4, 4, −2 → avg 9/4 = 2.25, min −2, max 4, count 4,
    //   spread (user: max − min) = 6, values (user: sorted distinct) = [−2, 3, 4]. [10,20): v 7 → 7, 7, 7, 1, 0, [7].
    await check(
      [r('a', 1, 3), r('a', 2, 4), r('a', 3, 4), r('a', 5, -2), r('a', 11, 7)],
      { window: { kind: 'tumbling', size: 10 }, bound: 0, aggs: ['avg', 'min', 'max', 'count', 'spread', 'values'] },
      {
        output: [
          w('a', 0, 10, { avg: 2.25, min: -2, max: 4, count: 4, spread: 6, values: [-2, 3, 4] }),
          w('a', 10, 20, { avg: 7, min: 7, max: 7, count: 1, spread: 0, values: [7] }),
        ],
        late: [], lateCount: 0,
      },
    );
  });
});

describe('sliding event-time windows', () => {
  for (const parallelism of [1, 3]) {
    it(`each record is in size/slide windows (size 10, slide 5; window parallelism ${parallelism})`, async () => {
      // Bound 100: nothing late. Windows of ts: lastStart = ts − (ts mod 5), then back by 5 while start > ts − 10.
      //   ts 7 v1 → [5,15), [0,10)    ts 12 v2 → [10,20), [5,15)    ts 4 v4 → [0,10), [−5,5)    ts 15 v8 → [15,25), [10,20)
      // [−5,5): 4 (1); [0,10): 1+4 = 5 (2); [5,15): 1+2 = 3 (2); [10,20): 2+8 = 10 (2); [15,25): 8 (1).
      await check(
        [r('a', 7, 1), r('a', 12, 2), r('a', 4, 4), r('a', 15, 8)],
        { window: { kind: 'sliding', size: 10, slide: 5 }, bound: 100, parallelism },
        {
          output: [
            w('a', -5, 5, { sum: 4, count: 1 }), w('a', 0, 10, { sum: 5, count: 2 }), w('a', 5, 15, { sum: 3, count: 2 }),
            w('a', 10, 20, { sum: 10, count: 2 }), w('a', 15, 25, { sum: 8, count: 1 }),
          ],
          late: [], lateCount: 0,
        },
      );
    });
  }

  it('a slide that does not divide the size, with an offset (size 10, slide 4, offset 1)', async () => {
    // lastStart = ts − ((ts − 1) mod 4), then back by 4 while start > ts − 10. Bound 0, in order.
    //   ts  0 v1 → −3 − ... : (0−1) mod 4 = 3 → [−3,7), [−7,3)      (−11 > −10? no)
    //   ts  7 v2 → (6 mod 4 = 2) → [5,15), [1,11)                    (−3 > −3? no)
    //   ts 14 v4 → (13 mod 4 = 1) → [13,23), [9,19), [5,15)          (1 > 4? no)
    // [−7,3): 1; [−3,7): 1; [1,11): 2; [5,15): 2+4 = 6 (2); [9,19): 4; [13,23): 4.
    await check(
      [r('a', 0, 1), r('a', 7, 2), r('a', 14, 4)],
      { window: { kind: 'sliding', size: 10, slide: 4, offset: 1 }, bound: 0 },
      {
        output: [
          w('a', -7, 3, { sum: 1, count: 1 }), w('a', -3, 7, { sum: 1, count: 1 }), w('a', 1, 11, { sum: 2, count: 1 }),
          w('a', 5, 15, { sum: 6, count: 2 }), w('a', 9, 19, { sum: 4, count: 1 }), w('a', 13, 23, { sum: 4, count: 1 }),
        ],
        late: [], lateCount: 0,
      },
    );
  });

  it('slide > size: a record in a gap between windows is in no window, and late only when behind the watermark', async () => {
    // size 5, slide 10, bound 0: windows [0,5), [10,15), …; [5,10) is a gap.
    //   ts  3 v1 (W −∞) → [0,5)
    //   ts  7 v2 (W 2)  → no window. Not late: the watermark (2) has not passed it, no window of it fired
    //                     (CONTRACT: late = for a window already fired); Flink: isElementLate = 7 <= 2 false.
    //   ts 12 v4 (W 6)  → [10,15)
    //   ts  8 v8 (W 11) → no window, and 8 + 0 <= 11: late (Flink's isElementLate), to the side output.
    // Output [0,5) {1, 1}, [10,15) {4, 1}; late: ts 8 only.
    const input = [r('a', 3, 1), r('a', 7, 2), r('a', 12, 4), r('a', 8, 8)];
    await check(input, { window: { kind: 'sliding', size: 5, slide: 10 }, bound: 0, side: true }, {
      output: [w('a', 0, 5, { sum: 1, count: 1 }), w('a', 10, 15, { sum: 4, count: 1 })],
      late: [input[3]!], lateCount: 1,
    });
  });

  it('a record late for some of its windows still counts in the others and is not late', async () => {
    // size 10, slide 5, bound 0. ts 0 v1, ts 12 v2 (W −1), then ts 9 v4 with W = 11:
    //   windows of 9: [5,15) (14 > 11: kept) and [0,10) (9 <= 11: dropped) → not late.
    //   ts 3 v8 with W 11: [0,10) dropped, [−5,5) dropped → late.
    // [−5,5): 1 (ts 0); [0,10): 1 (ts 0; fired at W 11); [5,15): 2+4 = 6 (2); [10,20): 2 (1).
    const input = [r('a', 0, 1), r('a', 12, 2), r('a', 9, 4), r('a', 3, 8)];
    await check(input, { window: { kind: 'sliding', size: 10, slide: 5 }, bound: 0, side: true }, {
      output: [
        w('a', -5, 5, { sum: 1, count: 1 }), w('a', 0, 10, { sum: 1, count: 1 }),
        w('a', 5, 15, { sum: 6, count: 2 }), w('a', 10, 20, { sum: 2, count: 1 }),
      ],
      late: [input[3]!], lateCount: 1,
    });
  });
});

describe('event-time session windows', () => {
  it('sessions merge when they overlap or touch, and a record can bridge two sessions', async () => {
    // gap 5, bound 100 (nothing late). Windows [ts, ts+5); merge when a.start <= b.end && a.end >= b.start.
    //   a 0 v1 → [0,5)
    //   a 5 v2 → [5,10) touches [0,5) (5 >= 5) → [0,10)
    //   a 20 v4 → [20,25)
    //   a 14 v8 → [14,19): [0,10) ends at 10 < 14, [20,25) starts at 20 > 19 → separate
    //   a 17 v16 → [17,22) touches [14,19) and [20,25) → [14,25)
    //   b 0 v32 → [0,5);  b 6 v64 → [6,11): 5 < 6, does not touch → separate
    // a [0,10): 1+2 = 3 (2), values [1,2]; a [14,25): 4+8+16 = 28 (3), values [4,8,16];
    // b [0,5): 32 (1); b [6,11): 64 (1).
    await check(
      [r('a', 0, 1), r('a', 5, 2), r('a', 20, 4), r('a', 14, 8), r('a', 17, 16), r('b', 0, 32), r('b', 6, 64)],
      { window: { kind: 'session', gap: 5 }, bound: 100, aggs: ['sum', 'count', 'values'], parallelism: 2 },
      {
        output: [
          w('a', 0, 10, { sum: 3, count: 2, values: [1, 2] }), w('a', 14, 25, { sum: 28, count: 3, values: [4, 8, 16] }),
          w('b', 0, 5, { sum: 32, count: 1, values: [32] }), w('b', 6, 11, { sum: 64, count: 1, values: [64] }),
        ],
        late: [], lateCount: 0,
      },
    );
  });

  for (const lateness of [0, 1]) {
    it(`a record exactly \`bound\` behind touches the end of a session that already fired (lateness ${lateness})`, async () => {
      // gap 1, bound 0.  a 0 v1 (W −∞) → [0,1);  c 1 v2 (W −1) → [1,2);
      //   a 1 v4 (W 0): a's [0,1) fires {1, 1} (0 <= 0). [1,2) is not late (1 > 0) and touches [0,1) (1 >= 1):
      //   lateness 1: [0,1) is still kept (0+1 > 0) → merged [0,2), fires at the end {1+4 = 5, 2};
      //   lateness 0: [0,1) is gone (0+0 <= 0) → [1,2) alone {4, 1}.
      const input = [r('a', 0, 1), r('c', 1, 2), r('a', 1, 4)];
      await check(input, { window: { kind: 'session', gap: 1 }, bound: 0, lateness }, {
        output: [
          w('a', 0, 1, { sum: 1, count: 1 }), w('c', 1, 2, { sum: 2, count: 1 }),
          lateness === 1 ? w('a', 0, 2, { sum: 5, count: 2 }) : w('a', 1, 2, { sum: 4, count: 1 }),
        ],
        late: [], lateCount: 0,
      });
    });
  }

  it('sessions with allowed lateness: a fired session grows and fires again, merges, and late records', async () => {
    // gap 5, bound 0, lateness 6 (a session's state is gone once W >= end − 1 + 6).
    //   a 0 v1   W −∞ → [0,5)
    //   a 10 v2  W −1 → [10,15)
    //   a 2 v3   W 9: [0,5) fired (4 <= 9) with {1, 1}, kept (4+6 = 10 > 9). [2,7) touches it → [0,7);
    //            6+6 = 12 > 9: kept; 6 <= 9 → fires again at once: {1+3 = 4, 2}
    //   a 5 v4   W 9: [5,10) touches [0,7) and [10,15) (10 <= 10) → [0,15): 14 > 9, fires later
    //   b 3 v5   W 9: [3,8): 7+6 = 13 > 9 kept; 7 <= 9 → fires at once {5, 1}
    //   b 30 v6  W 9 → [30,35)
    //   b 4 v7   W 29: a [0,15) fires {1+3+4+2 = 10, 4}; [4,9): 8+6 = 14 <= 29 → late
    //   end: b [30,35) fires {6, 1}.
    // (With lateness 5 instead, [0,5) would be gone at W 9 — 4+5 <= 9 — and ts 2 would open [2,7) alone.)
    const input = [r('a', 0, 1), r('a', 10, 2), r('a', 2, 3), r('a', 5, 4), r('b', 3, 5), r('b', 30, 6), r('b', 4, 7)];
    await check(input, { window: { kind: 'session', gap: 5 }, bound: 0, lateness: 6, side: true }, {
      output: [
        w('a', 0, 5, { sum: 1, count: 1 }), w('a', 0, 7, { sum: 4, count: 2 }), w('b', 3, 8, { sum: 5, count: 1 }),
        w('a', 0, 15, { sum: 10, count: 4 }), w('b', 30, 35, { sum: 6, count: 1 }),
      ],
      late: [input[6]!], lateCount: 1,
    });
  });

  it('sessions with allowed lateness at the boundary: state is gone exactly when W = end − 1 + lateness', async () => {
    // The input of the previous case with lateness 5: at W 9, [0,5) has 4+5 = 9 <= 9 → fired and gone.
    //   a 2 v3   W 9: [2,7) alone: 6+5 = 11 > 9 kept; 6 <= 9 → fires at once {3, 1}
    //   a 5 v4   W 9: [5,10) touches [2,7) and [10,15) → [2,15) {3+4+2 = 9, 3}, fires at W 29
    //   b as before: [3,8) {5, 1} at once, ts 4 late (8+5 = 13 <= 29), [30,35) {6, 1}.
    const input = [r('a', 0, 1), r('a', 10, 2), r('a', 2, 3), r('a', 5, 4), r('b', 3, 5), r('b', 30, 6), r('b', 4, 7)];
    await check(input, { window: { kind: 'session', gap: 5 }, bound: 0, lateness: 5, parallelism: 3 }, {
      output: [
        w('a', 0, 5, { sum: 1, count: 1 }), w('a', 2, 7, { sum: 3, count: 1 }), w('b', 3, 8, { sum: 5, count: 1 }),
        w('a', 2, 15, { sum: 9, count: 3 }), w('b', 30, 35, { sum: 6, count: 1 }),
      ],
      late: [input[6]!], lateCount: 1,
    });
  });

  it('a session whose state is gone (fired, past its lateness) does not merge with a record touching it', async () => {
    // gap 10, bound 0, lateness 0.
    //   a 0 v1   W −∞ → [0,10)
    //   a 20 v2  W −1 → [20,30)
    //   a 10 v4  W 19: [0,10) fired (9 <= 19) and is gone. [10,20) touches both where [0,10) was and
    //            [20,30) (20 <= 20) → merges with [20,30) only: [10,30), 29 > 19 in time
    //   a 45 v8  W 19 → [45,55)
    //   a 36 v16 W 44: [10,30) fires {2+4 = 6, 2} and is gone; [36,46) touches [45,55) → [36,55)
    //   a 25 v32 W 44: [25,35) touches nothing left (36 > 35) → alone, 34 <= 44 → late
    // Output: [0,10) {1, 1}, [10,30) {6, 2}, [36,55) {8+16 = 24, 2}. Late: ts 25.
    const input = [r('a', 0, 1), r('a', 20, 2), r('a', 10, 4), r('a', 45, 8), r('a', 36, 16), r('a', 25, 32)];
    await check(input, { window: { kind: 'session', gap: 10 }, bound: 0 }, {
      output: [w('a', 0, 10, { sum: 1, count: 1 }), w('a', 10, 30, { sum: 6, count: 2 }), w('a', 36, 55, { sum: 24, count: 2 })],
      late: [input[5]!], lateCount: 1,
    });
  });
});
