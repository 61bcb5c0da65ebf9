/**
 * The join and count-window examples (examples/joins/*.ts, examples/count-window.ts), run as a user
 * runs them (`rlink run … output=…` through the real CLI), each output checked against a brute-force
 * result computed here from the examples' own generate functions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, rlink, tempDir as newTempDir } from '../helpers/cli';
import { impression, click } from '../../examples/joins/window-join';
import { order, shipment } from '../../examples/joins/interval-join';
import { request, response } from '../../examples/joins/request-timeouts';
import { payment, rule, ruleAt, type Rule } from '../../examples/joins/broadcast-rules';
import { purchase, BUDGET } from '../../examples/count-window';

const dirs: string[] = [];
function tempDir(): string { const d = newTempDir('rlink-join-examples-'); dirs.push(d); return d; }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function run(example: string, name: string, args: string[]): Promise<unknown[]> {
  const out = join(tempDir(), 'out');
  const r = await rlink(['run', `examples/${example}.ts`, ...args, `output=${out}`]);
  if (r.exitCode !== 0) throw new Error(`rlink run ${example} exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  expect(r.stdout).toMatch(new RegExp(`FINISHED ${name} in [\\d.]+s`));
  return readJsonl(out);
}

describe('join examples', () => {
  it('window-join: every (impression, click) pair of the same ad and 10 s window, nothing else', async () => {
    const COUNT = 6000;
    const got = await run('joins/window-join', 'window-join', [`count=${COUNT}`]);
    const groups = new Map<string, { imps: ReturnType<typeof impression>[]; clicks: ReturnType<typeof click>[] }>();
    const group = (ad: string, ts: number) => {
      const k = `${ad}@${Math.floor(ts / 10_000)}`;
      let g = groups.get(k);
      if (!g) groups.set(k, g = { imps: [], clicks: [] });
      return g;
    };
    for (let i = 0; i < COUNT; i++) { const x = impression(i); group(x.ad, x.ts).imps.push(x); }
    for (let j = 0; j < Math.floor(COUNT / 3); j++) { const c = click(j); group(c.ad, c.ts).clicks.push(c); }
    const want = [...groups.values()].flatMap((g) => g.imps.flatMap((x) => g.clicks.map((c) => ({ ad: x.ad, impression: x.id, click: c.id, impressionTs: x.ts, clickTs: c.ts }))));
    expect(want.length).toBeGreaterThan(1000);
    expect(got.length).toBe(want.length);
    expect(canonical(got)).toEqual(canonical(want));
  });

  it('interval-join: each shipped order with its shipment within [0, 2 h] (the bound inclusive), no other', async () => {
    const COUNT = 3000;
    const got = await run('joins/interval-join', 'interval-join', [`count=${COUNT}`]);
    const want: unknown[] = [];
    for (let i = 0; i < COUNT; i++) {
      const o = order(i), s = shipment(i);
      const after = (s.ts - o.ts) / 60_000;
      if (i % 7 !== 0 && after >= 0 && after <= 120) want.push({ order: i, amount: o.amount, shippedAfterMin: after });
    }
    expect(want.some((w) => (w as { shippedAfterMin: number }).shippedAfterMin === 120)).toBe(true);
    expect(got.length).toBe(want.length);
    expect(canonical(got)).toEqual(canonical(want));
  });

  it('request-timeouts: one outcome per request, by latency alone (whichever stream delivered first)', async () => {
    const COUNT = 4000;
    const got = await run('joins/request-timeouts', 'request-timeouts', [`count=${COUNT}`]);
    const want = Array.from({ length: COUNT }, (_, i) => {
      if (i % 4 === 0) return { request: i, status: 'timeout' };
      const latencyMs = response(i).ts - request(i).ts;
      return latencyMs <= 5000 ? { request: i, status: 'ok', latencyMs } : { request: i, status: 'timeout' };
    });
    expect(new Set(want.map((w) => w.status))).toEqual(new Set(['ok', 'timeout']));
    expect(got.length).toBe(COUNT);
    expect(canonical(got)).toEqual(canonical(want));
  });

  it('broadcast-rules: each payment judged by the rule in force at its own event time', async () => {
    const COUNT = 6000;
    const got = await run('joins/broadcast-rules', 'broadcast-rules', [`count=${COUNT}`]);
    const rules: Array<[number, Rule]> = Array.from({ length: Math.floor(COUNT / 240) + 1 }, (_, r) => [r, rule(r)]);
    const want: unknown[] = [];
    const used = new Set<number>();
    for (let i = 0; i < COUNT; i++) {
      const p = payment(i);
      const r = ruleAt(rules, p.ts)!;
      // The brute force's own lookup, not the example's: the latest rule at or before the payment.
      expect(r.rule).toBe(Math.floor((p.ts - payment(0).ts) / 60_000));
      if (p.amount > r.limit) { want.push({ card: p.card, payment: i, amount: p.amount, limit: r.limit, rule: r.rule }); used.add(r.limit); }
    }
    expect(used.size).toBe(5); // every limit the rules cycle through was in force at some point
    expect(got.length).toBe(want.length);
    expect(canonical(got)).toEqual(canonical(want));
  });
});

describe('count-window example', () => {
  function expected(count: number, mode: 'count' | 'budget'): unknown[] {
    const open = new Map<string, { purchases: number; spent: number }>();
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const p = purchase(i);
      const w = open.get(p.user) ?? { purchases: 0, spent: 0 };
      w.purchases++; w.spent += p.amount;
      open.set(p.user, w);
      if (mode === 'count' ? w.purchases === 5 : w.spent >= BUDGET) { out.push({ user: p.user, ...w }); open.delete(p.user); }
    }
    return out; // unfilled windows are not emitted at the end
  }

  it('mode=count: one record per user for every 5 purchases', async () => {
    const got = await run('count-window', 'count-window', ['count=3000']);
    const want = expected(3000, 'count');
    expect(got.length).toBe(want.length);
    expect(canonical(got)).toEqual(canonical(want));
  });

  it('mode=budget: the custom trigger fires whenever a user has spent 100 since the last record', async () => {
    const got = await run('count-window', 'count-window', ['mode=budget', 'count=3000']);
    const want = expected(3000, 'budget');
    expect(new Set(want.map((w) => (w as { purchases: number }).purchases)).size).toBeGreaterThan(2);
    expect(got.length).toBe(want.length);
    expect(canonical(got)).toEqual(canonical(want));
  });
});
