/**
 * The layout of a job graph for the dashboard's DAG, left to right (as Flink's web UI draws it):
 * each vertex in the column of its longest path from a source, the vertices of a column ordered by
 * the average row of their inputs (one barycentre pass, which keeps chains straight and fans tidy),
 * each column centred vertically; edges as cubic curves from an output's right side to an input's
 * left side. Pure (no DOM): test/dashboard/layout.test.ts checks it in Node.
 *
 *   [source]──hash──▶[window]──forward──▶[sink]
 *          └─rebalance─▶[map]──────────┘
 */

export interface LayoutVertex {
  id: string;
  /** Input edges: the producing vertex and how records are partitioned. */
  inputs: ReadonlyArray<{ sourceVertex: string; partitioning: string }>;
}

export interface NodeBox { id: string; x: number; y: number; column: number; row: number }

export interface EdgePath {
  from: string;
  to: string;
  partitioning: string;
  /** The SVG path (`M … C …`). */
  d: string;
  /** Where the partitioning label goes. */
  labelX: number;
  labelY: number;
}

export interface Layout { width: number; height: number; nodes: Map<string, NodeBox>; edges: EdgePath[] }

export const NODE_W = 264;
export const NODE_H = 118;
export const GAP_X = 84;
export const GAP_Y = 26;
export const PAD = 16;

export function layoutDag(vertices: readonly LayoutVertex[]): Layout {
  const byId = new Map(vertices.map((v, i) => [v.id, { v, index: i }]));
  // Column: longest path from a source (memoised; a cycle, which a job graph never has, counts as 0).
  const column = new Map<string, number>();
  const visiting = new Set<string>();
  const columnOf = (id: string): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    const entry = byId.get(id);
    if (!entry || visiting.has(id)) return 0;
    visiting.add(id);
    let c = 0;
    for (const e of entry.v.inputs) if (byId.has(e.sourceVertex)) c = Math.max(c, columnOf(e.sourceVertex) + 1);
    visiting.delete(id);
    column.set(id, c);
    return c;
  };
  for (const v of vertices) columnOf(v.id);

  const columns: string[][] = [];
  for (const v of vertices) (columns[column.get(v.id)!] ??= []).push(v.id);
  const row = new Map<string, number>();
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c] ?? [];
    if (c > 0) {
      const centre = (id: string) => {
        const rows = byId.get(id)!.v.inputs.map((e) => row.get(e.sourceVertex)).filter((r): r is number => r !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.POSITIVE_INFINITY;
      };
      const keyed = col.map((id) => ({ id, k: centre(id), i: byId.get(id)!.index }));
      keyed.sort((a, b) => a.k - b.k || a.i - b.i);
      columns[c] = keyed.map((x) => x.id);
    }
    (columns[c] ?? []).forEach((id, r) => row.set(id, r));
  }

  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const width = PAD * 2 + Math.max(1, columns.length) * NODE_W + Math.max(0, columns.length - 1) * GAP_X;
  const nodes = new Map<string, NodeBox>();
  columns.forEach((col, c) => {
    const offset = ((tallest - (col?.length ?? 0)) * (NODE_H + GAP_Y)) / 2;
    (col ?? []).forEach((id, r) => {
      nodes.set(id, { id, column: c, row: r, x: PAD + c * (NODE_W + GAP_X), y: PAD + offset + r * (NODE_H + GAP_Y) });
    });
  });

  const edges: EdgePath[] = [];
  for (const v of vertices) {
    const to = nodes.get(v.id)!;
    for (const e of v.inputs) {
      const from = nodes.get(e.sourceVertex);
      if (!from) continue;
      const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2;
      const x2 = to.x, y2 = to.y + NODE_H / 2;
      const dx = Math.max(30, (x2 - x1) / 2);
      edges.push({
        from: from.id, to: to.id, partitioning: e.partitioning,
        d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`,
        labelX: (x1 + x2) / 2, labelY: (y1 + y2) / 2 - 6,
      });
    }
  }
  return { width, height, nodes, edges };
}
