/**
 * The job graph as SVG: one box per vertex (a chain of operators) with its parallelism, records in
 * and out per second, watermark, and busy / backpressured / idle time as a bar, the box's border
 * coloured by its back-pressure level; edges labelled with their partitioning. The structure is
 * drawn once per graph; each poll only updates texts, bars and data attributes, so the view does
 * not flicker and keeps its scroll position.
 *
 * Data attributes (for tests and user styles): every vertex box is `g.vertex[data-vertex-id]` with
 * `data-in-rate`, `data-out-rate`, `data-busy`, `data-backpressured`, `data-idle` (ms per second,
 * empty when unknown) and `data-level` (ok | low | high | unknown).
 */
import type { JobGraphVertex, Vertex } from './api';
import { s, setText } from './dom';
import { level, percent, rate, truncate, watermark } from './format';
import { layoutDag, NODE_H, NODE_W } from './layout';

interface NodeParts {
  g: SVGGElement;
  status: SVGTextElement;
  rates: SVGTextElement;
  wm: SVGTextElement;
  times: SVGTextElement;
  busy: SVGRectElement;
  bp: SVGRectElement;
  idle: SVGRectElement;
  title: SVGTitleElement;
}

const BAR_W = NODE_W - 24;

export class DagView {
  readonly element: SVGSVGElement;
  private readonly nodes = new Map<string, NodeParts>();
  private selected: string | undefined;

  constructor(graph: readonly JobGraphVertex[], private readonly onSelect: (vertexId: string) => void) {
    const layout = layoutDag(graph);
    this.element = s('svg', {
      class: 'dag', width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'group', 'aria-label': `Job graph: ${graph.length} vertices`, 'data-testid': 'dag',
    });
    const defs = s('defs', null,
      s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' })));
    this.element.appendChild(defs);
    const edges = s('g', { class: 'edges' });
    for (const e of layout.edges) {
      edges.appendChild(s('path', { d: e.d, class: `edge ${e.partitioning}`, 'marker-end': 'url(#arrow)' }));
      edges.appendChild(s('text', { x: e.labelX, y: e.labelY, class: 'edge-label', 'text-anchor': 'middle' }, e.partitioning.toUpperCase()));
    }
    this.element.appendChild(edges);
    for (const v of graph) {
      const box = layout.nodes.get(v.id)!;
      const title = s('title', null, v.name);
      const status = s('text', { x: 12, y: 42, class: 'line' });
      const rates = s('text', { x: 12, y: 62, class: 'line' });
      const wm = s('text', { x: 12, y: 80, class: 'line small' });
      const times = s('text', { x: 12, y: 98, class: 'line small' });
      const busy = s('rect', { x: 12, y: 105, height: 6, width: 0, class: 'bar busy' });
      const bp = s('rect', { x: 12, y: 105, height: 6, width: 0, class: 'bar backpressured' });
      const idle = s('rect', { x: 12, y: 105, height: 6, width: 0, class: 'bar idle' });
      const g = s('g', {
        class: 'vertex', transform: `translate(${box.x},${box.y})`, tabindex: 0, role: 'button',
        'data-vertex-id': v.id, 'aria-label': v.name,
      },
      title,
      s('rect', { width: NODE_W, height: NODE_H, rx: 6, class: 'box' }),
      s('text', { x: 12, y: 22, class: 'name' }, truncate(v.name, 31)),
      status, rates, wm, times,
      s('rect', { x: 12, y: 105, height: 6, width: BAR_W, class: 'bar track' }),
      busy, bp, idle);
      const select = () => this.onSelect(v.id);
      g.addEventListener('click', select);
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(); } });
      this.element.appendChild(g);
      this.nodes.set(v.id, { g, status, rates, wm, times, busy, bp, idle, title });
    }
  }

  /** Updates every box from `GET /jobs/:id`'s vertices (`now`: the job manager's clock). */
  update(vertices: readonly Vertex[], now: number): void {
    for (const v of vertices) {
      const n = this.nodes.get(v.id);
      if (!n) continue;
      const m = v.metrics;
      const busy = m.busyTimeMsPerSecond ?? null;
      const bpMs = m.backPressuredTimeMsPerSecond ?? null;
      const idle = m.idleTimeMsPerSecond ?? null;
      const lvl = level(bpMs);
      const inRate = m.numRecordsInPerSecond ?? null;
      // What leaves the vertex: records sent downstream plus records handed to its sinks.
      const outRate = m.numRecordsOutPerSecond === null || m.numRecordsOutPerSecond === undefined ? null : m.numRecordsOutPerSecond + (m.numRecordsWrittenPerSecond ?? 0);
      setText(n.status, `Parallelism ${v.parallelism} · ${v.status}`);
      setText(n.rates, `in ${rate(inRate)} · out ${rate(outRate)}`);
      setText(n.wm, `watermark ${watermark(m.watermark, now)}`);
      setText(n.times, `busy ${percent(busy)} · backpressured ${percent(bpMs)} · idle ${percent(idle)}`);
      setText(n.title, `${v.name}\nbusy ${percent(busy)}, backpressured ${percent(bpMs)} (${lvl ?? 'unknown'}), idle ${percent(idle)}`);
      // A vertex shows the highest of each gauge among its subtasks: scale the bar when they add up to more than a second.
      const scale = 1000 / Math.max(1000, (busy ?? 0) + (bpMs ?? 0) + (idle ?? 0));
      const w = (x: number | null) => String(x === null ? 0 : Math.max(0, Math.min(BAR_W, (BAR_W * x * scale) / 1000)));
      n.busy.setAttribute('width', w(busy));
      n.bp.setAttribute('x', String(12 + Number(w(busy))));
      n.bp.setAttribute('width', w(bpMs));
      n.idle.setAttribute('x', String(12 + Number(w(busy)) + Number(w(bpMs))));
      n.idle.setAttribute('width', w(idle));
      const attrs: Record<string, string> = {
        'data-in-rate': inRate === null ? '' : String(inRate), 'data-out-rate': outRate === null ? '' : String(outRate),
        'data-busy': busy === null ? '' : String(busy), 'data-backpressured': bpMs === null ? '' : String(bpMs),
        'data-idle': idle === null ? '' : String(idle), 'data-level': lvl ?? 'unknown', 'data-status': v.status,
      };
      for (const [k, val] of Object.entries(attrs)) if (n.g.getAttribute(k) !== val) n.g.setAttribute(k, val);
      n.g.setAttribute('class', `vertex level-${lvl ?? 'unknown'} state-${v.status}${this.selected === v.id ? ' selected' : ''}`);
    }
  }

  select(vertexId: string | undefined): void {
    this.selected = vertexId;
    for (const [id, n] of this.nodes) n.g.classList.toggle('selected', id === vertexId);
  }
}
