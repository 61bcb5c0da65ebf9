/**
 * Building the page without a framework: `h('td', { class: 'num' }, text)` makes an element whose
 * children are nodes or text (always text nodes: names from user jobs never become markup), `s(…)`
 * the same for SVG. Attributes named `on…` are event listeners. Nothing here sets a `style`
 * attribute: the Content-Security-Policy forbids inline styles (sizes go through CSSOM when needed).
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
export type Attrs = Record<string, AttrValue>;

function apply(el: Element, attrs: Attrs | null | undefined, children: readonly Child[]): void {
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
}

function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c as readonly Child[]);
    else if (typeof c === 'string' || typeof c === 'number') el.appendChild(document.createTextNode(String(c)));
    else el.appendChild(c as Node);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs, children);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Sets a text node's content only when it changed (no needless layout on every poll). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A state badge: `<span class="badge state-RUNNING">RUNNING</span>`. */
export function badge(state: string, extra = ''): HTMLSpanElement {
  return h('span', { class: `badge state-${state} ${extra}`.trim() }, state);
}

/** A table with a header row; `rows` are arrays of cells (a cell: text, a node, or `[text, class]`). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly Child[]>, attrs: Attrs = {}): HTMLTableElement {
  return h('table', attrs,
    h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))));
}

/** A labelled figure: `<div class="stat"><span class="label">…</span><span class="value">…</span></div>`. */
export function stat(label: string, value: Child, testid?: string): HTMLDivElement {
  return h('div', { class: 'stat' }, h('span', { class: 'label' }, label), h('span', { class: 'value', 'data-testid': testid }, value));
}
