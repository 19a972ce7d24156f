/**
 * The docs page (runs in the browser; bundled by site.ts into index.html).
 *
 * Reads the embedded DocsData (`<script id="tsdbt-data" type="application/json">`),
 * draws the precomputed layout with sigma.js (WebGL) from a graphology graph,
 * and shows one node's page at a time in the side panel. State lives in the URL
 * fragment:
 *   #!/overview                         the project overview
 *   #!/model/<unique_id>                a node's page (also seed/source/snapshot/analysis)
 *   #!/model/<unique_id>?up=2&down=all  …and only its lineage (+node+), with depths
 *
 * A test hook, `window.tsdbtDocs`, exposes counts, timings and node positions.
 */
import { DirectedGraph } from 'graphology';
import Sigma from 'sigma';
import { marked } from 'marked';
import DOMPurify from 'dompurify';
import type { DocsData, DocsNode, DocsTest } from '../docs-data.ts';
import { STATUS_COLORS, TYPE_COLORS, TYPE_LABELS, TYPE_ORDER } from '../palette.ts';
import { drawHoverBelow, drawLabelBelow, labelSpace } from './labels.ts';
import { layeredSpacing } from '../spacing.ts';

interface NodeAttrs {
  x: number;
  y: number;
  size: number;
  color: string;
  label: string;
  i: number;
  zIndex?: number;
}

const DIM_NODE = '#d9dee6';
const DIM_EDGE = '#eef1f5';
const EDGE = '#aab3c0';
const EDGE_HI = '#4a5568';

// ---------------------------------------------------------------- data

const data: DocsData = JSON.parse(document.getElementById('tsdbt-data')!.textContent!);
const dataParsedAt = performance.now();
const nodes = data.nodes;
const byId = new Map(nodes.map((n, i) => [n.id, i] as const));
const parents: number[][] = nodes.map(() => []);
const children: number[][] = nodes.map(() => []);
for (const [a, b] of data.edges) {
  parents[b]!.push(a);
  children[a]!.push(b);
}

function testSummary(n: DocsNode): { pass: number; warn: number; fail: number; error: number; skipped: number; none: number } {
  const s = { pass: 0, warn: 0, fail: 0, error: 0, skipped: 0, none: 0 };
  for (const ti of n.tests) {
    const st = data.tests[ti]!.status;
    if (st === 'pass' || st === 'warn' || st === 'fail' || st === 'error' || st === 'skipped') s[st]++;
    else s.none++;
  }
  return s;
}

/** `fact_sessions ✓5`, `dim_user ✗1 ✓7`, `stg_sessions (3 tests)`. */
function graphLabel(n: DocsNode): string {
  if (!n.tests.length) return n.name;
  const s = testSummary(n);
  if (s.none === n.tests.length) return `${n.name} (${n.tests.length} test${n.tests.length === 1 ? '' : 's'})`;
  const parts: string[] = [];
  if (s.fail + s.error) parts.push(`✗${s.fail + s.error}`);
  if (s.warn) parts.push(`⚠${s.warn}`);
  if (s.pass) parts.push(`✓${s.pass}`);
  if (s.skipped + s.none) parts.push(`·${s.skipped + s.none}`);
  return `${n.name} ${parts.join(' ')}`;
}

function nodeSize(n: DocsNode): number {
  const base = nodes.length > 2000 ? 3.5 : nodes.length > 300 ? 5 : 8;
  return n.resourceType === 'model' ? base : base * 1.15;
}

function buildGraph(indices: Iterable<number>, position?: (i: number) => { x: number; y: number }): DirectedGraph<NodeAttrs> {
  const g = new DirectedGraph<NodeAttrs>();
  const keep = new Set<number>();
  for (const i of indices) {
    const n = nodes[i]!;
    keep.add(i);
    const p = position ? position(i) : n;
    g.addNode(n.id, { x: p.x, y: p.y, size: nodeSize(n), color: TYPE_COLORS[n.resourceType], label: graphLabel(n), i });
  }
  for (const [a, b] of data.edges) {
    if (keep.has(a) && keep.has(b)) g.addDirectedEdge(nodes[a]!.id, nodes[b]!.id, { size: nodes.length > 2000 ? 0.6 : 1, color: EDGE });
  }
  return g;
}

const fullGraph = buildGraph(nodes.keys());
const graphBuiltAt = performance.now();

// ---------------------------------------------------------------- state

interface Focus {
  anchor: number;
  up: number; // Infinity = all
  down: number;
  members: Set<number>;
}

const state: {
  open: number | null;
  hovered: number | null;
  focus: Focus | null;
  search: Set<number> | null;
} = { open: null, hovered: null, focus: null, search: null };

// ---------------------------------------------------------------- DOM helpers

type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...kids: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'style') el.setAttribute('style', String(v));
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(typeof kid === 'string' ? document.createTextNode(kid) : kid);
  }
  return el;
}

function markdown(text: string, inline = false): HTMLElement {
  const el = h(inline ? 'span' : 'div', { class: inline ? 'md md-inline' : 'md' });
  if (!text.trim()) return el;
  const html = inline ? (marked.parseInline(text, { async: false }) as string) : (marked.parse(text, { async: false }) as string);
  el.innerHTML = DOMPurify.sanitize(html);
  for (const a of el.querySelectorAll('a[href]')) {
    if (!a.getAttribute('href')!.startsWith('#')) {
      a.setAttribute('target', '_blank');
      a.setAttribute('rel', 'noopener noreferrer');
    }
  }
  return el;
}

function hashFor(i: number, focus?: { up: number; down: number } | null): string {
  const n = nodes[i]!;
  let s = `#!/${n.resourceType}/${encodeURIComponent(n.id)}`;
  if (focus) s += `?up=${depthText(focus.up)}&down=${depthText(focus.down)}`;
  return s;
}

function depthText(d: number): string {
  return d === Infinity ? 'all' : String(d);
}

function parseDepth(v: string | null): number {
  if (v === null || v === '' || v === 'all') return Infinity;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : Infinity;
}

function nodeLink(i: number): HTMLElement {
  const n = nodes[i]!;
  return h(
    'a',
    { href: hashFor(i, state.focus ? { up: state.focus.up, down: state.focus.down } : null), class: 'node-link', 'data-id': n.id },
    h('span', { class: 'dot', style: `background:${TYPE_COLORS[n.resourceType]}` }),
    n.name,
    h('span', { class: 'muted' }, ` ${n.resourceType}`),
  );
}

function statusBadge(status: string | undefined, text?: string): HTMLElement {
  const st = status ?? 'not run';
  return h('span', { class: `badge status-${st.replace(/\s+/g, '-')}`, style: `background:${STATUS_COLORS[st] ?? '#9aa4b2'}` }, text ?? st);
}

function formatNumber(v: unknown, id: string): string {
  if (typeof v !== 'number') return String(v);
  if (id === 'num_bytes') {
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let x = v;
    let u = 0;
    while (x >= 1024 && u < units.length - 1) {
      x /= 1024;
      u++;
    }
    return `${x < 10 && u ? x.toFixed(1) : Math.round(x)} ${units[u]}`;
  }
  return v.toLocaleString('en-US');
}

// ---------------------------------------------------------------- layout of the page

const app = document.getElementById('app')!;
const searchInput = h('input', { id: 'search', type: 'search', placeholder: 'Search name, tag:…, path:…  (press /)', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Search nodes' });
const searchResults = h('ul', { id: 'search-results', role: 'listbox', hidden: true });
const upSelect = h('select', { id: 'focus-up', 'aria-label': 'Upstream depth' });
const downSelect = h('select', { id: 'focus-down', 'aria-label': 'Downstream depth' });
for (const sel of [upSelect, downSelect]) {
  sel.append(h('option', { value: 'all' }, 'all'));
  for (let d = 0; d <= Math.max(1, data.layout.maxDepth); d++) sel.append(h('option', { value: String(d) }, String(d)));
}
const focusLabel = h('span', { id: 'focus-label' });
const focusBar = h(
  'div',
  { id: 'focus-bar', hidden: true },
  h('span', {}, 'Lineage of '),
  focusLabel,
  h('label', {}, ' upstream ', upSelect),
  h('label', {}, ' downstream ', downSelect),
  h('button', { id: 'focus-exit', type: 'button' }, 'Show whole project'),
);
const legend = h('div', { id: 'legend' });
const counts = new Map<string, number>();
for (const n of nodes) counts.set(n.resourceType, (counts.get(n.resourceType) ?? 0) + 1);
for (const t of TYPE_ORDER) {
  if (!counts.get(t)) continue;
  legend.append(h('span', { class: 'legend-item' }, h('span', { class: 'dot', style: `background:${TYPE_COLORS[t]}` }), `${TYPE_LABELS[t]} ${counts.get(t)}`));
}
legend.append(h('span', { class: 'legend-item muted' }, `${data.tests.length} tests on their nodes`));

const graphEl = h('div', { id: 'graph', 'aria-label': 'Lineage graph' });
const captions = h('div', { id: 'columns', 'aria-hidden': 'true' }, ...data.layout.columns.map((c) => h('span', { class: 'column-caption' }, c)));
const panel = h('aside', { id: 'panel' });
app.append(
  h(
    'header',
    {},
    h('a', { class: 'brand', href: '#!/overview' }, h('strong', {}, data.project), h('span', { class: 'muted' }, ' · tsdbt docs')),
    h('div', { class: 'search-wrap' }, searchInput, searchResults),
    legend,
  ),
  focusBar,
  h('main', {}, graphEl, panel),
);

// ---------------------------------------------------------------- sigma

let emphasis: Set<string> | null = null;
function computeEmphasis(): void {
  const g = renderer.getGraph();
  let centre: number | null = null;
  if (state.hovered !== null) centre = state.hovered;
  else if (state.open !== null && !state.search && !state.focus) centre = state.open; // a lineage view shows its whole lineage
  if (state.search) {
    emphasis = new Set([...state.search].map((i) => nodes[i]!.id));
  } else if (centre !== null && g.hasNode(nodes[centre]!.id)) {
    const id = nodes[centre]!.id;
    emphasis = new Set([id, ...g.neighbors(id)]);
  } else emphasis = null;
}

/**
 * Two sigma instances: the whole project (kept alive, so going back to it is
 * instant) and the lineage view (created on first use). `renderer` is the one shown.
 */
const fullLayer = h('div', { class: 'sigma-layer', id: 'graph-full' });
const lineageLayer = h('div', { class: 'sigma-layer', id: 'graph-lineage', hidden: true });
graphEl.append(fullLayer, lineageLayer);

function makeRenderer(graph: DirectedGraph<NodeAttrs>, container: HTMLElement): Sigma<NodeAttrs> {
  let self: Sigma<NodeAttrs> | undefined;
  const r: Sigma<NodeAttrs> = new Sigma<NodeAttrs>(graph, container, {
    defaultEdgeType: 'arrow',
    labelFont: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
    labelSize: 13,
    labelWeight: '500',
    labelColor: { color: '#1f2937' },
    labelDensity: 1,
    labelGridCellSize: 60,
    defaultDrawNodeLabel: drawLabelBelow,
    defaultDrawNodeHover: drawHoverBelow,
    labelRenderedSizeThreshold: graph.order > 2000 ? 4 : 2,
    // Big graphs: draw edges only when the camera rests (panning and zooming stay smooth).
    hideEdgesOnMove: graph.order > 2000,
    stagePadding: 40,
    // The hidden one of the two layers has no size; it is resized when shown again.
    allowInvalidContainer: true,
    zIndex: true,
    minCameraRatio: 0.02,
    maxCameraRatio: 4,
    nodeReducer: (node, attrs) => {
      const out: Record<string, unknown> = { ...attrs };
      const i = attrs.i;
      if (emphasis && !emphasis.has(node)) {
        out.color = DIM_NODE;
        out.label = '';
        out.zIndex = 0;
      } else if (emphasis) {
        out.zIndex = 1;
        if (state.search && emphasis.size <= 300) out.forceLabel = true;
      }
      if (i === state.open) {
        out.highlighted = true;
        out.size = attrs.size * 1.5;
        out.forceLabel = true;
        out.zIndex = 2;
      }
      if (i === state.hovered) out.forceLabel = true;
      return out;
    },
    edgeReducer: (edge, attrs) => {
      if (!emphasis) return attrs;
      const g = self?.getGraph() ?? graph; // `self` is unset while the constructor runs the reducers
      const a = g.source(edge);
      const b = g.target(edge);
      if (emphasis.has(a) && emphasis.has(b) && (state.search || isCentre(a) || isCentre(b))) return { ...attrs, color: EDGE_HI, zIndex: 1 };
      return { ...attrs, color: DIM_EDGE, zIndex: 0 };
    },
  });
  self = r;
  r.on('beforeRender', () => {
    const a = r.graphToViewport({ x: 0, y: 0 });
    const b = r.graphToViewport({ x: view.columnWidth, y: 0 });
    labelSpace.width = Math.abs(b.x - a.x);
  });
  r.on('afterRender', () => placeCaptions(r));
  r.on('clickNode', ({ node }) => go(byId.get(node)!));
  // Hovering dims everything but the node's neighbours — a full refresh, so only on graphs that redraw fast.
  const hoverDims = graph.order <= 2000;
  r.on('enterNode', ({ node }) => {
    graphEl.style.cursor = 'pointer';
    if (!hoverDims) return;
    state.hovered = byId.get(node) ?? null;
    refresh();
  });
  r.on('leaveNode', () => {
    graphEl.style.cursor = '';
    if (!hoverDims) return;
    state.hovered = null;
    refresh();
  });
  return r;
}

function isCentre(id: string): boolean {
  const c = state.hovered ?? state.open;
  return c !== null && nodes[c]!.id === id;
}

/** Graph x of each column shown (depth → x) and the spacing of the current view (whole project or lineage). */
const fullColumnX = new Map(data.layout.columns.map((_, d) => [d, d * data.layout.columnWidth] as const));
let columnX: Map<number, number> = fullColumnX;
let view = { columnWidth: data.layout.columnWidth, rowHeight: data.layout.rowHeight };

/** Frames graph `g` with room for labels: half a column left and right, a row above and below. */
function frame(r: Sigma<NodeAttrs>, g: DirectedGraph<NodeAttrs>): void {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  g.forEachNode((_, a) => {
    minX = Math.min(minX, a.x);
    maxX = Math.max(maxX, a.x);
    minY = Math.min(minY, a.y);
    maxY = Math.max(maxY, a.y);
  });
  if (minX === Infinity) return;
  const cw = view.columnWidth / 2;
  const rh = view.rowHeight * 1.5;
  r.setCustomBBox({ x: [minX - cw, maxX + cw], y: [minY - rh, maxY + rh] });
}

/** Puts the column captions over the columns `r` shows. */
function placeCaptions(r: Sigma<NodeAttrs>): void {
  if (r !== renderer) return;
  const width = labelSpace.width;
  captions.childNodes.forEach((el, d) => {
    const span = el as HTMLElement;
    const gx = columnX.get(d);
    if (gx === undefined || width < 30) {
      span.hidden = true;
      return;
    }
    const x = r.graphToViewport({ x: gx, y: 0 }).x;
    span.hidden = false;
    span.style.left = `${x - width / 2}px`;
    span.style.width = `${width}px`;
  });
}

graphEl.append(captions);

let renderedAt: number | null = null;
const fullRenderer = makeRenderer(fullGraph, fullLayer);
let lineageRenderer: Sigma<NodeAttrs> | null = null;
let renderer: Sigma<NodeAttrs> = fullRenderer;
frame(fullRenderer, fullGraph);
fullRenderer.once('afterRender', () => {
  renderedAt = performance.now();
});
placeCaptions(fullRenderer);

function refresh(): void {
  computeEmphasis();
  renderer.refresh({ skipIndexation: true });
}

/** Moves the camera to a node when it is outside the visible area. */
function reveal(i: number): void {
  const id = nodes[i]!.id;
  const d = renderer.getNodeDisplayData(id);
  if (!d) return;
  const vp = renderer.framedGraphToViewport(d);
  const { width, height } = renderer.getDimensions();
  if (vp.x > 30 && vp.y > 30 && vp.x < width - 30 && vp.y < height - 30) return;
  const camera = renderer.getCamera();
  camera.animate({ x: d.x, y: d.y, ratio: Math.min(camera.ratio, 0.6) }, { duration: 300 });
}

// ---------------------------------------------------------------- focus (+node+)

function lineageOf(anchor: number, up: number, down: number): Set<number> {
  const out = new Set<number>([anchor]);
  const walk = (start: number, next: number[][], limit: number) => {
    let frontier = [start];
    for (let d = 0; d < limit && frontier.length; d++) {
      const nextFrontier: number[] = [];
      for (const i of frontier) {
        for (const j of next[i]!) {
          if (!out.has(j)) {
            out.add(j);
            nextFrontier.push(j);
          }
        }
      }
      frontier = nextFrontier;
    }
  };
  walk(anchor, parents, up);
  walk(anchor, children, down);
  return out;
}

function setFocus(focus: { anchor: number; up: number; down: number } | null): void {
  const same =
    (focus === null && state.focus === null) ||
    (focus && state.focus && focus.anchor === state.focus.anchor && focus.up === state.focus.up && focus.down === state.focus.down);
  if (same) return;
  if (!focus) {
    state.focus = null;
    lineageLayer.hidden = true;
    fullLayer.hidden = false;
    renderer = fullRenderer;
    renderer.resize();
    columnX = fullColumnX;
    view = { columnWidth: data.layout.columnWidth, rowHeight: data.layout.rowHeight };
    focusBar.hidden = true;
    refresh();
    return;
  }
  const members = lineageOf(focus.anchor, focus.up, focus.down);
  state.focus = { ...focus, members };
  // The whole project's columns and order, packed: empty columns dropped, each column closed up.
  const cols = new Map<number, number[]>();
  for (const i of members) {
    const d = nodes[i]!.depth;
    if (!cols.has(d)) cols.set(d, []);
    cols.get(d)!.push(i);
  }
  const depths = [...cols.keys()].sort((a, b) => a - b);
  const spacing = layeredSpacing(depths.length, Math.max(...[...cols.values()].map((c) => c.length)));
  const pos = new Map<number, { x: number; y: number }>();
  columnX = new Map();
  depths.forEach((d, k) => {
    const ids = cols.get(d)!.sort((a, b) => nodes[b]!.y - nodes[a]!.y);
    const mid = (ids.length - 1) / 2;
    columnX.set(d, k * spacing.columnWidth);
    ids.forEach((i, r) => pos.set(i, { x: k * spacing.columnWidth, y: (mid - r) * spacing.rowHeight }));
  });
  view = spacing;
  const sub = buildGraph(members, (i) => pos.get(i)!);
  focusBar.hidden = false;
  fullLayer.hidden = true;
  lineageLayer.hidden = false;
  if (lineageRenderer) lineageRenderer.setGraph(sub);
  else lineageRenderer = makeRenderer(sub, lineageLayer);
  renderer = lineageRenderer;
  renderer.resize();
  frame(renderer, sub);
  focusLabel.textContent = nodes[focus.anchor]!.name;
  upSelect.value = depthText(focus.up);
  downSelect.value = depthText(focus.down);
  renderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 });
  refresh();
}

function changeDepth(): void {
  if (!state.focus) return;
  location.hash = hashFor(state.focus.anchor, { up: parseDepth(upSelect.value), down: parseDepth(downSelect.value) });
}
upSelect.addEventListener('change', changeDepth);
downSelect.addEventListener('change', changeDepth);
document.getElementById('focus-exit')!.addEventListener('click', () => {
  location.hash = state.open !== null ? hashFor(state.open) : '#!/overview';
});

// ---------------------------------------------------------------- routing

/** Opens node `i` (keeping the lineage view on it when one is shown). */
function go(i: number): void {
  location.hash = hashFor(i, state.focus ? { up: state.focus.up, down: state.focus.down } : null);
}

function route(): void {
  const m = /^#!\/([a-z_]+)\/([^?]+)(?:\?(.*))?$/.exec(location.hash);
  let open: number | null = null;
  if (m) {
    const id = decodeURIComponent(m[2]!);
    open = byId.get(id) ?? null;
    if (open === null) {
      showMissing(id);
      setFocus(null);
      state.open = null;
      refresh();
      return;
    }
    const q = new URLSearchParams(m[3] ?? '');
    if (q.has('up') || q.has('down')) setFocus({ anchor: open, up: parseDepth(q.get('up')), down: parseDepth(q.get('down')) });
    else setFocus(null);
  } else setFocus(null);
  state.open = open;
  if (open === null) showOverview();
  else {
    showNode(open);
    reveal(open);
  }
  refresh();
}
window.addEventListener('hashchange', route);

// ---------------------------------------------------------------- panel: overview

function showMissing(id: string): void {
  panel.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, `No node ${id} in this project. `, h('a', { href: '#!/overview' }, 'Back to the overview')));
}

function showOverview(): void {
  const byFolder = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    const folder = n.path.includes('/') ? n.path.slice(0, n.path.lastIndexOf('/')) : '.';
    if (!byFolder.has(folder)) byFolder.set(folder, []);
    byFolder.get(folder)!.push(i);
  });
  const folders = [...byFolder.keys()].sort();
  const list = h('div', { class: 'folders' });
  for (const f of folders) {
    const ids = byFolder.get(f)!.sort((a, b) => (nodes[a]!.name < nodes[b]!.name ? -1 : 1));
    const ul = h('ul', { class: 'node-list' });
    const details = h('details', { open: nodes.length <= 300 ? true : undefined }, h('summary', {}, `${f}/ `, h('span', { class: 'muted' }, String(ids.length))), ul);
    const fill = () => {
      if (!ul.childElementCount) ul.append(...ids.map((i) => h('li', {}, nodeLink(i))));
    };
    if (details.open) fill();
    details.addEventListener('toggle', fill);
    list.append(details);
  }
  const run = data.runResults;
  panel.replaceChildren(
    h('h1', {}, data.project),
    h(
      'p',
      { class: 'muted' },
      `${nodes.length} nodes, ${data.edges.length} edges, ${data.tests.length} tests · generated ${data.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
      run ? ` · last run: ${run.command ?? 'run'} at ${(run.generatedAt ?? '').replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : ' · no run_results.json',
    ),
    h(
      'p',
      {},
      'Click a node to open its page; scroll to zoom, drag to pan. Search finds nodes by name, ',
      h('code', {}, 'tag:x'),
      ' or ',
      h('code', {}, 'path:models/mart'),
      '. On a node’s page, “Show lineage only” keeps just its ancestors and descendants.',
    ),
    data.catalogErrors.length ? h('p', { class: 'warning' }, `Catalog errors: ${data.catalogErrors.join('; ')}`) : '',
    list,
  );
  panel.scrollTop = 0;
}

// ---------------------------------------------------------------- panel: a node's page

function codeBlock(code: string): HTMLElement {
  return h('pre', { class: 'code' }, h('code', {}, code));
}

function showNode(i: number): void {
  const n = nodes[i]!;
  const relation = n.identifier ? [n.schema, n.identifier].filter(Boolean).join('.') : null;
  const facts: [string, Child | Child[]][] = [
    ['type', n.resourceType + (n.relationType ? ` · ${n.relationType.toLowerCase()}` : '')],
    ['materialized', n.materialized],
    ['relation', relation ? h('code', {}, relation) : n.resourceType === 'model' ? 'none (ephemeral: inlined as a CTE)' : null],
    ['database', n.database],
    ['source', n.sourceName ?? null],
    ['loader', n.loader || null],
    ['owner', n.owner ?? null],
    ['path', h('code', {}, n.path)],
    ['package', n.packageName],
    ['tags', n.tags.length ? n.tags.map((t) => h('a', { class: 'tag', href: '#', 'data-tag': t }, t)) : null],
  ];
  for (const s of n.stats) facts.push([s.label, h('span', { title: s.description ?? '' }, formatNumber(s.value, s.id))]);

  const sections: HTMLElement[] = [];
  sections.push(
    h('div', { class: 'title' }, h('span', { class: 'dot big', style: `background:${TYPE_COLORS[n.resourceType]}` }), h('h1', {}, n.name)),
    h('p', { class: 'muted uid' }, n.id),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: 'show-lineage', onclick: () => (location.hash = hashFor(i, { up: Infinity, down: Infinity })) }, 'Show lineage only (+' + n.name + '+)'),
    ),
  );

  // Last run and tests.
  const sum = testSummary(n);
  if (n.result || data.runResults) {
    const run = h('div', { class: 'run' });
    if (n.result) {
      run.append(
        h('span', {}, 'Last run: '),
        statusBadge(n.result.status),
        ` in ${n.result.executionTime.toFixed(2)} s`,
        n.result.completedAt ? h('span', { class: 'muted' }, ` · ${n.result.completedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`) : '',
      );
      if (n.result.message) run.append(h('div', { class: 'muted small' }, n.result.message));
    } else run.append(h('span', { class: 'muted' }, 'Not in the last run.'));
    if (n.tests.length) {
      run.append(
        h(
          'div',
          { class: 'test-counts' },
          'Tests: ',
          statusBadge('pass', `${sum.pass} pass`),
          ' ',
          statusBadge('warn', `${sum.warn} warn`),
          ' ',
          statusBadge('fail', `${sum.fail + sum.error} fail`),
          sum.skipped + sum.none ? h('span', { class: 'muted' }, ` · ${sum.skipped + sum.none} not run`) : null,
        ),
      );
    }
    sections.push(run);
  }

  sections.push(
    h('table', { class: 'facts' }, h('tbody', {}, ...facts.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, ...(Array.isArray(v) ? v : [v])))))),
  );

  sections.push(h('h2', {}, 'Description'), n.description.trim() ? markdown(n.description) : h('p', { class: 'muted' }, 'No description.'));
  if (n.sourceDescription) sections.push(h('h3', {}, `Source ${n.sourceName}`), markdown(n.sourceDescription));

  // Columns.
  sections.push(h('h2', {}, `Columns (${n.columns.length})`));
  if (n.columns.length) {
    sections.push(
      h(
        'table',
        { class: 'columns' },
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'column · type'), h('th', {}, 'description · tests'))),
        h(
          'tbody',
          {},
          ...n.columns.map((c) =>
            h(
              'tr',
              { 'data-column': c.name },
              h('td', { class: 'muted' }, c.index === null ? '–' : String(c.index)),
              h('td', {}, h('code', { class: 'colname' }, c.name), h('div', { class: 'type' }, c.type ?? (c.index === null ? h('span', { class: 'muted' }, 'not in database') : ''))),
              h('td', {}, markdown(c.description, true), c.tests.length ? h('div', { class: 'chips' }, ...c.tests.map((ti) => testChip(data.tests[ti]!))) : ''),
            ),
          ),
        ),
      ),
    );
  } else sections.push(h('p', { class: 'muted' }, data.catalog ? 'No columns known (the relation is not in the database, or it has none).' : 'No columns documented (generated with --empty-catalog).'));

  // Tests not on a column.
  const other = n.tests.map((ti) => data.tests[ti]!).filter((t) => !t.column || !n.columns.some((c) => c.name === t.column));
  if (n.tests.length) {
    sections.push(
      h('h2', {}, `Tests (${n.tests.length})`),
      h(
        'table',
        { class: 'tests' },
        h('tbody', {}, ...n.tests.map((ti) => data.tests[ti]!).map((t) => h('tr', {}, h('td', {}, statusBadge(t.status)), h('td', {}, h('code', {}, t.kind)), h('td', {}, t.column ?? h('span', { class: 'muted' }, other.includes(t) ? 'table' : '')), h('td', { class: 'small' }, t.name, t.failures ? h('span', { class: 'muted' }, ` · ${t.failures} failing rows`) : null, t.severity === 'warn' ? h('span', { class: 'muted' }, ' · severity warn') : null)))),
      ),
    );
  }

  // Lineage links.
  sections.push(
    h('div', { class: 'lineage-links' }, h('div', {}, h('h2', {}, `Depends on (${parents[i]!.length})`), listOf(parents[i]!)), h('div', {}, h('h2', {}, `Referenced by (${children[i]!.length})`), listOf(children[i]!))),
  );

  // Code.
  if (n.rawCode !== undefined) {
    const tabs = h('div', { class: 'tabs' });
    const body = h('div', { class: 'code-body' });
    const show = (which: 'compiled' | 'source') => {
      body.replaceChildren(
        which === 'compiled'
          ? n.compiledCode !== undefined
            ? codeBlock(n.compiledCode)
            : h('p', { class: 'muted' }, data.compiled ? 'Not compiled.' : 'Not compiled: the docs were generated with --no-compile.')
          : codeBlock(n.rawCode!),
      );
      for (const b of tabs.querySelectorAll('button')) b.classList.toggle('active', b.getAttribute('data-tab') === which);
    };
    tabs.append(
      h('button', { type: 'button', 'data-tab': 'compiled', onclick: () => show('compiled') }, 'Compiled SQL'),
      h('button', { type: 'button', 'data-tab': 'source', onclick: () => show('source') }, 'Source'),
    );
    sections.push(h('h2', {}, 'Code'), tabs, body);
    show(n.compiledCode !== undefined ? 'compiled' : 'source');
  }

  if (n.meta) sections.push(h('h2', {}, 'Meta'), codeBlock(JSON.stringify(n.meta, null, 2)));

  panel.replaceChildren(...sections);
  panel.scrollTop = 0;
}

function listOf(ids: number[]): HTMLElement {
  if (!ids.length) return h('p', { class: 'muted' }, 'none');
  return h('ul', { class: 'node-list' }, ...[...ids].sort((a, b) => (nodes[a]!.name < nodes[b]!.name ? -1 : 1)).map((j) => h('li', {}, nodeLink(j))));
}

function testChip(t: DocsTest): HTMLElement {
  const st = t.status;
  const mark = st === 'pass' ? '✓' : st === 'fail' || st === 'error' ? '✗' : st === 'warn' ? '!' : '';
  return h('span', { class: 'chip', title: `${t.name}${st ? ': ' + st : ''}`, style: st ? `border-color:${STATUS_COLORS[st] ?? '#9aa4b2'}` : '' }, `${t.kind}${mark ? ' ' + mark : ''}`);
}

// ---------------------------------------------------------------- search

const haystack = nodes.map((n) => ({ name: n.name.toLowerCase(), tags: n.tags.map((t) => t.toLowerCase()), path: n.path.toLowerCase(), id: n.id.toLowerCase() }));

/** Nodes matching `q`: `tag:x` (exact tag), `path:x` (path contains), else name contains, a tag equals, or path contains. */
function search(q: string): number[] {
  const query = q.trim().toLowerCase();
  if (!query) return [];
  const m = /^(tag|path|name):(.*)$/.exec(query);
  const out: { i: number; rank: number }[] = [];
  haystack.forEach((x, i) => {
    let rank = -1;
    if (m) {
      const v = m[2]!.trim();
      if (m[1] === 'tag' && x.tags.some((t) => t === v || (v.endsWith('*') && t.startsWith(v.slice(0, -1))))) rank = 0;
      else if (m[1] === 'path' && x.path.includes(v)) rank = 0;
      else if (m[1] === 'name' && x.name.includes(v)) rank = x.name === v ? 0 : 1;
    } else if (x.name === query) rank = 0;
    else if (x.name.startsWith(query)) rank = 1;
    else if (x.name.includes(query)) rank = 2;
    else if (x.tags.includes(query)) rank = 3;
    else if (x.path.includes(query) || x.id.includes(query)) rank = 4;
    if (rank >= 0) out.push({ i, rank });
  });
  out.sort((a, b) => a.rank - b.rank || (nodes[a.i]!.name < nodes[b.i]!.name ? -1 : 1));
  return out.map((x) => x.i);
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
function runSearch(): void {
  const found = search(searchInput.value);
  if (!searchInput.value.trim()) {
    state.search = null;
    searchResults.hidden = true;
    refresh();
    return;
  }
  state.search = new Set(found);
  const shown = found.slice(0, 50);
  searchResults.replaceChildren(
    h('li', { class: 'muted small summary' }, `${found.length} match${found.length === 1 ? '' : 'es'}${found.length > shown.length ? ` (first ${shown.length})` : ''}`),
    ...shown.map((i) => {
      const n = nodes[i]!;
      return h(
        'li',
        { role: 'option' },
        h(
          'a',
          { href: hashFor(i), class: 'result', 'data-id': n.id },
          h('span', { class: 'dot', style: `background:${TYPE_COLORS[n.resourceType]}` }),
          h('span', { class: 'name' }, n.name),
          n.tags.length ? h('span', { class: 'tags' }, ...n.tags.map((t) => h('span', { class: 'tag' }, t))) : null,
          h('span', { class: 'muted small path' }, n.path),
        ),
      );
    }),
  );
  searchResults.hidden = false;
  refresh();
}
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, nodes.length > 1000 ? 120 : 30);
});
searchInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    const first = search(searchInput.value)[0];
    if (first !== undefined) {
      closeSearch();
      go(first);
    }
  } else if (e.key === 'Escape') closeSearch();
});
searchResults.addEventListener('click', (e) => {
  const a = (e.target as HTMLElement).closest('a.result');
  if (!a) return;
  e.preventDefault();
  closeSearch();
  go(byId.get(a.getAttribute('data-id')!)!);
});
function closeSearch(): void {
  searchInput.value = '';
  state.search = null;
  searchResults.hidden = true;
  refresh();
}
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && document.activeElement !== searchInput) {
    e.preventDefault();
    searchInput.focus();
  }
});
panel.addEventListener('click', (e) => {
  const tag = (e.target as HTMLElement).closest('a.tag[data-tag]');
  if (tag) {
    e.preventDefault();
    searchInput.value = `tag:${tag.getAttribute('data-tag')}`;
    runSearch();
    searchInput.focus();
  }
});

// ---------------------------------------------------------------- start

route();

/** The test hook (also handy from the console). */
declare global {
  interface Window {
    tsdbtDocs: unknown;
  }
}
window.tsdbtDocs = {
  data,
  renderer,
  timings: () => ({ dataParsedAt, graphBuiltAt, renderedAt }),
  /** Nodes and edges in the graph sigma draws now, and how many nodes have display data and are not hidden. */
  drawn: () => {
    const g = renderer.getGraph();
    let visible = 0;
    g.forEachNode((id) => {
      const d = renderer.getNodeDisplayData(id);
      if (d && !d.hidden) visible++;
    });
    return { nodes: g.order, edges: g.size, visibleNodes: visible };
  },
  /** Where node `id` is on screen, in CSS pixels relative to the graph container (null when not drawn). */
  viewportPosition: (id: string) => {
    const d = renderer.getNodeDisplayData(id);
    if (!d) return null;
    const p = renderer.framedGraphToViewport(d);
    const r = graphEl.getBoundingClientRect();
    return { x: p.x + r.left, y: p.y + r.top };
  },
};
