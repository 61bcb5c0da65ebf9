/** The dashboard's pure parts, in Node: the DAG layout and the number formats. */
import { describe, it, expect } from 'vitest';
import { layoutDag, GAP_X, NODE_H, NODE_W, PAD, type LayoutVertex } from '../../dashboard/layout';
import { bytes, duration, human, level, percent, rate, truncate, watermark } from '../../dashboard/format';

const v = (id: string, ...inputs: Array<[string, string?]>): LayoutVertex => ({ id, inputs: inputs.map(([sourceVertex, partitioning]) => ({ sourceVertex, partitioning: partitioning ?? 'forward' })) });

describe('layoutDag', () => {
  it('puts each vertex in the column of its longest path from a source, left to right', () => {
    // src ─▶ a ─▶ b ─▶ sink, and src ─▶ sink directly: the sink still goes after b.
    const l = layoutDag([v('src'), v('a', ['src', 'hash']), v('b', ['a']), v('sink', ['b'], ['src', 'rebalance'])]);
    expect(['src', 'a', 'b', 'sink'].map((id) => l.nodes.get(id)!.column)).toEqual([0, 1, 2, 3]);
    expect(l.nodes.get('a')!.x).toBe(PAD + NODE_W + GAP_X);
    expect(l.width).toBe(PAD * 2 + 4 * NODE_W + 3 * GAP_X);
    expect(l.height).toBe(PAD * 2 + NODE_H);
    expect(l.edges).toHaveLength(4);
    const e = l.edges.find((x) => x.from === 'src' && x.to === 'a')!;
    expect(e.partitioning).toBe('hash');
    // From the right middle of the source box to the left middle of the target box.
    expect(e.d.startsWith(`M${PAD + NODE_W},${PAD + NODE_H / 2} C`)).toBe(true);
    expect(e.d.endsWith(` ${PAD + NODE_W + GAP_X},${PAD + NODE_H / 2}`)).toBe(true);
  });

  it('orders a column by the rows of its inputs, so that branches do not cross', () => {
    // Two sources; the second's consumer is listed first but must go below the first's.
    const l = layoutDag([v('s1'), v('s2'), v('fromS2', ['s2']), v('fromS1', ['s1']), v('join', ['fromS1'], ['fromS2'])]);
    expect(l.nodes.get('s1')!.row).toBe(0);
    expect(l.nodes.get('s2')!.row).toBe(1);
    expect(l.nodes.get('fromS1')!.row).toBe(0);
    expect(l.nodes.get('fromS2')!.row).toBe(1);
    // A column with fewer boxes is centred.
    expect(l.nodes.get('join')!.y).toBe(PAD + (NODE_H + 26) / 2);
  });

  it('lays out 50 vertices in one pass, ignores edges from unknown vertices, survives a cycle', () => {
    const chain = [v('v0'), ...Array.from({ length: 49 }, (_, i) => v(`v${i + 1}`, [`v${i}`, 'hash']))];
    const l = layoutDag(chain);
    expect(l.nodes.size).toBe(50);
    expect(l.nodes.get('v49')!.column).toBe(49);
    expect(l.edges).toHaveLength(49);
    expect(layoutDag([v('a', ['ghost'])]).edges).toEqual([]);
    const cyclic = layoutDag([v('a', ['b']), v('b', ['a'])]);
    expect(cyclic.nodes.size).toBe(2);
  });
});

describe('formats', () => {
  it('writes numbers, rates, sizes and durations compactly', () => {
    expect([human(0), human(7.25), human(999), human(1234), human(12_345), human(2_500_000), human(3e9)]).toEqual(['0', '7.3', '999', '1.23k', '12.3k', '2.50M', '3.00G']);
    expect([rate(null), rate(undefined), rate(2000)]).toEqual(['—', '—', '2.00k/s']);
    expect([bytes(512), bytes(4608), bytes(3.5 * 1024 ** 3), bytes(null)]).toEqual(['512 B', '4.5 KiB', '3.5 GiB', '—']);
    expect([duration(850), duration(12_345), duration(245_000), duration(7_380_000), duration(-1), duration(null)]).toEqual(['850 ms', '12.3 s', '4m 05s', '2h 03m', '—', '—']);
    expect(truncate('BackpressureMap → Sink: discard', 16)).toBe('BackpressureMap…');
  });

  it('shows time gauges as percentages and back pressure at Flink\'s levels', () => {
    expect([percent(734), percent(null), percent(1000)]).toEqual(['73%', '—', '100%']);
    expect([level(0), level(100), level(101), level(500), level(501), level(null)]).toEqual(['ok', 'ok', 'low', 'low', 'high', null]);
  });

  it('shows a watermark with its lag', () => {
    const wm = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
    expect(watermark(wm, wm + 1500)).toBe('03:04:05.067 (lag 1.5 s)');
    expect(watermark(null, 0)).toBe('none');
  });
});
