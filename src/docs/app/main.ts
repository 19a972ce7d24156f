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
import type { DocsColumn, DocsData, DocsNode, DocsTest } from '../docs-data.ts';
import { KIND_COLORS, KIND_LABELS, KIND_ORDER, KIND_SHAPES, STATUS_COLORS, TYPE_COLORS, type DrawnKind } from '../palette.ts';
import { drawHoverBelow, drawLabelBelow, drawnLabels, labelBox, labelSpace, resetLabels, type LabelBox } from './labels.ts';
import { layeredSpacing } from '../spacing.ts';
import { NodeShapeProgram, shapeCode, shapeIcon } from './shapes.ts';
import { allFolders, buildFolderTree, folderChain, initialExpansion, layoutItems, overviewItems } from '../aggregate.ts';
import { buildSearchIndex, columnUsage, parseLineageSelector, resolveName, searchNodes, type SearchHit } from '../search.ts';

interface NodeAttrs {
  x: number;
  y: number;
  size: number;
  color: string;
  label: string;
  /** Index into data.nodes; -1 for a folder box or a test. */
  i: number;
  kind: DrawnKind;
  /** Shader shape code (shapes.ts). */
  shape: number;
  /** Folder key of a folder / package box. */
  group?: string;
  /** Index into data.tests of a test node. */
  test?: number;
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

function nodeSize(n: DocsNode, shown = nodes.length): number {
  const base = shown > 2000 ? 3.5 : shown > 300 ? 5 : 8;
  return n.resourceType === 'model' ? base : base * 1.2;
}

function nodeAttrs(i: number, p: { x: number; y: number }, shown?: number): NodeAttrs {
  const n = nodes[i]!;
  return { x: p.x, y: p.y, size: nodeSize(n, shown), color: TYPE_COLORS[n.resourceType], label: graphLabel(n), i, kind: n.resourceType, shape: shapeCode(KIND_SHAPES[n.resourceType]) };
}

/**
 * The graph of nodes `indices` at their positions (the whole project's layout
 * by default). With `tests`, each test of a shown node is drawn too: a small
 * triangle right of the (first) node it tests, with an edge from every tested node.
 */
function buildGraph(indices: Iterable<number>, position?: (i: number) => { x: number; y: number }, tests?: { dx: number; dy: number }): DirectedGraph<NodeAttrs> {
  const g = new DirectedGraph<NodeAttrs>();
  const keep = new Set<number>(indices);
  for (const i of keep) g.addNode(nodes[i]!.id, nodeAttrs(i, position ? position(i) : nodes[i]!, keep.size));
  const size = keep.size > 2000 ? 0.6 : 1;
  for (const [a, b] of data.edges) {
    if (keep.has(a) && keep.has(b)) g.addDirectedEdge(nodes[a]!.id, nodes[b]!.id, { size, color: EDGE });
  }
  if (tests) {
    const hostOf = (t: DocsTest) => t.nodes.find((ni) => keep.has(ni));
    const perHost = new Map<number, number>();
    for (const t of data.tests) {
      const host = hostOf(t);
      if (host !== undefined) perHost.set(host, (perHost.get(host) ?? 0) + 1);
    }
    const placed = new Map<number, number>();
    data.tests.forEach((t, ti) => {
      const on = t.nodes.filter((ni) => keep.has(ni));
      if (!on.length) return;
      const host = on[0]!;
      const k = placed.get(host) ?? 0;
      placed.set(host, k + 1);
      const spread = (k - (perHost.get(host)! - 1) / 2) * tests.dy;
      const hp = g.getNodeAttributes(nodes[host]!.id);
      const id = `test:${t.id}`;
      g.addNode(id, {
        // A column of triangles right of the node, centred on it.
        x: hp.x + tests.dx,
        y: hp.y - spread,
        size: nodeSize(nodes[host]!, keep.size) * 0.6,
        color: t.status ? (STATUS_COLORS[t.status] ?? KIND_COLORS.test) : KIND_COLORS.test,
        label: t.column ? `${t.kind}(${t.column})` : t.kind === 'singular' ? t.name : t.kind,
        i: -1,
        kind: 'test',
        shape: shapeCode(KIND_SHAPES.test),
        test: ti,
      });
      for (const ni of on) g.addDirectedEdge(nodes[ni]!.id, id, { size: 0.5, color: EDGE });
    });
  }
  return g;
}

// ---------------------------------------------------------------- overview: folders as boxes

/** Projects over this many nodes open on folder boxes (expanded on click); smaller ones show every node. */
const AGGREGATE_ABOVE = 300;
const tree = buildFolderTree(nodes, data.project);
const aggregated = nodes.length > AGGREGATE_ABOVE;
let expanded: Set<string> = aggregated ? initialExpansion(tree) : allFolders(tree);

function allExpanded(): boolean {
  return expanded.size === tree.groups.size;
}

/** Whole-project view spacing; replaced by the overview layout when folders are closed. */
let overviewView = {
  columnWidth: data.layout.columnWidth,
  rowHeight: data.layout.rowHeight,
  columnX: new Map(data.layout.columns.map((_, d) => [d, d * data.layout.columnWidth] as const)),
  captions: data.layout.columns,
};

/** The layer a folder key belongs to: the folder under `models/` (`staging`), else its first segment (`sources`, `seeds`). */
function layerOf(key: string): string {
  const segs = key.split('/');
  if (segs[0]!.startsWith('package:')) return `package ${segs[0]!.slice('package:'.length)}`;
  return segs[0] === 'models' && segs.length > 1 ? segs[1]! : segs[0]!;
}

/** A box's label under a column captioned `caption`: the key without `models/` and without the caption's layer. */
function boxLabel(key: string, caption: string): string {
  const g = tree.groups.get(key)!;
  if (g.kind === 'package') return g.label;
  let segs = key.split('/');
  if (segs[0]!.startsWith('package:')) return g.label;
  if (segs[0] === 'models' && segs.length > 1) segs = segs.slice(1);
  if (segs.length > 1 && segs[0] === caption) segs = segs.slice(1);
  return segs.join('/');
}

/**
 * The graph of the whole-project view: every node at its generated position
 * when every folder is open; otherwise closed folders as boxes (size by node
 * count, label `folder (N)`), the nodes of open folders, edges aggregated
 * between them (width by count), laid out again in columns.
 */
function buildOverview(): DirectedGraph<NodeAttrs> {
  if (allExpanded()) {
    overviewView = {
      columnWidth: data.layout.columnWidth,
      rowHeight: data.layout.rowHeight,
      columnX: new Map(data.layout.columns.map((_, d) => [d, d * data.layout.columnWidth] as const)),
      captions: data.layout.columns,
    };
    return buildGraph(nodes.keys());
  }
  const ov = overviewItems(tree, expanded, data.edges);
  const lay = layoutItems(ov.items, ov.edges, {
    sortKey: (id) => (id.startsWith('g:') ? id.slice(2) : nodes[Number(id.slice(2))]!.path),
    spacing: (c, t) => layeredSpacing(c, t, { rowHeight: 1.8 }),
  });
  // Caption of each column: the layer most of its nodes are in (`sources`, `staging`, `marts`, …).
  const tally: Map<string, number>[] = Array.from({ length: lay.columns }, () => new Map());
  for (const item of ov.items) {
    const layer = layerOf(item.startsWith('g:') ? item.slice(2) : tree.nodeFolder[Number(item.slice(2))]!);
    const t = tally[lay.points.get(item)!.rank]!;
    t.set(layer, (t.get(layer) ?? 0) + (item.startsWith('g:') ? tree.groups.get(item.slice(2))!.total : 1));
  }
  const captionsOf = tally.map((t) => [...t].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '');
  overviewView = {
    columnWidth: lay.columnWidth,
    rowHeight: lay.rowHeight,
    columnX: new Map(captionsOf.map((_, d) => [d, d * lay.columnWidth] as const)),
    captions: captionsOf,
  };
  const g = new DirectedGraph<NodeAttrs>();
  const sigmaId = (item: string) => (item.startsWith('g:') ? item : nodes[Number(item.slice(2))]!.id);
  for (const item of ov.items) {
    const p = lay.points.get(item)!;
    if (item.startsWith('g:')) {
      const grp = tree.groups.get(item.slice(2))!;
      g.addNode(item, {
        x: p.x,
        y: p.y,
        size: boxSize(grp.total),
        color: KIND_COLORS[grp.kind],
        label: `${boxLabel(grp.key, captionsOf[p.rank]!)} (${grp.total})`,
        i: -1,
        kind: grp.kind,
        shape: shapeCode(KIND_SHAPES[grp.kind]),
        group: grp.key,
      });
    } else g.addNode(sigmaId(item), nodeAttrs(Number(item.slice(2)), p, ov.items.length));
  }
  for (const [a, b, count] of ov.edges) g.addDirectedEdge(sigmaId(a), sigmaId(b), { size: Math.min(5, 0.8 + Math.log2(count)), color: EDGE, count });
  return g;
}

/** A folder box's size (pixels at the first zoom): grows with the log of its node count, scaled by fitBoxes. */
function boxSize(total: number): number {
  return Math.min(20, 7 + 2 * Math.log2(1 + total)) * boxScale;
}
let boxScale = 1;

let fullGraph = buildOverview();
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
  /** Sigma key of the hovered node or box. */
  hovered: string | null;
  focus: Focus | null;
  search: Set<number> | null;
  /** Highlight depths around the open node in the whole-project view (Infinity = all). */
  hl: { up: number; down: number };
  /** The column opened with `?column=` on the open node's page: the graph highlights its upstream path. */
  column: string | null;
} = { open: null, hovered: null, focus: null, search: null, hl: { up: 1, down: 1 }, column: null };

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
    kindIcon(n.resourceType),
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
const searchInput = h('input', { id: 'search', type: 'search', placeholder: 'Search name, column, description, tag:…, +model+  (press /)', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Search nodes' });
const searchResults = h('ul', { id: 'search-results', role: 'listbox', hidden: true });
const upSelect = h('select', { id: 'focus-up', 'aria-label': 'Upstream depth' });
const downSelect = h('select', { id: 'focus-down', 'aria-label': 'Downstream depth' });
for (const sel of [upSelect, downSelect]) {
  sel.append(h('option', { value: 'all' }, 'all'));
  for (let d = 0; d <= Math.max(1, data.layout.maxDepth); d++) sel.append(h('option', { value: String(d) }, String(d)));
}
const showTests = h('input', { type: 'checkbox', id: 'focus-tests' });
const focusLabel = h('span', { id: 'focus-label' });
const focusBar = h(
  'div',
  { id: 'focus-bar', hidden: true },
  h('span', {}, 'Lineage of '),
  focusLabel,
  h('label', {}, ' upstream ', upSelect),
  h('label', {}, ' downstream ', downSelect),
  h('label', {}, ' ', showTests, ' tests'),
  h('button', { id: 'focus-exit', type: 'button' }, 'Show whole project'),
);
/** A shape icon (the graph's shape and colour of that kind). */
function kindIcon(kind: DrawnKind, px = 12): SVGSVGElement {
  return shapeIcon(KIND_SHAPES[kind], KIND_COLORS[kind], px);
}

const legend = h('div', { id: 'legend', 'aria-label': 'Legend' });
const counts = new Map<DrawnKind, number>();
for (const n of nodes) counts.set(n.resourceType, (counts.get(n.resourceType) ?? 0) + 1);
counts.set('test', data.tests.length);
const packages = [...tree.groups.values()].filter((g) => g.kind === 'package').length;
if (packages) counts.set('package', packages);
if (aggregated) counts.set('folder', [...tree.groups.values()].filter((g) => g.kind === 'folder').length);
for (const k of KIND_ORDER) {
  const c = counts.get(k);
  if (!c) continue;
  const title = k === 'test' ? 'tests: on their nodes’ pages, and drawn beside them in a lineage view' : k === 'folder' ? 'a closed folder: click it to open' : '';
  legend.append(h('span', { class: 'legend-item', 'data-kind': k, title }, kindIcon(k), `${KIND_LABELS[k]} ${c}`));
}

const graphEl = h('div', { id: 'graph', 'aria-label': 'Lineage graph' });
const captions = h('div', { id: 'columns', 'aria-hidden': 'true' });
const hlUp = h('select', { id: 'hl-up', 'aria-label': 'Highlight upstream depth' });
const hlDown = h('select', { id: 'hl-down', 'aria-label': 'Highlight downstream depth' });
for (const sel of [hlUp, hlDown]) {
  for (let d = 0; d <= Math.max(1, data.layout.maxDepth); d++) sel.append(h('option', { value: String(d) }, String(d)));
  sel.append(h('option', { value: 'all' }, 'all'));
  sel.value = '1';
}
const highlightBar = h('div', { id: 'highlight-bar', class: 'graph-toolbar', hidden: true }, h('span', {}, 'Highlight '), h('label', {}, '↑ upstream ', hlUp), h('label', {}, ' ↓ downstream ', hlDown));
const folderBar = h(
  'div',
  { id: 'folder-bar', class: 'graph-toolbar', hidden: !aggregated },
  h('button', { type: 'button', id: 'collapse-all' }, 'Folders'),
  h('button', { type: 'button', id: 'expand-all' }, `All ${nodes.length} nodes`),
);
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
/** Edges drawn highlighted (the open node's lineage to the chosen depths). */
let hiEdges: Set<string> | null = null;

/**
 * What stands out: search matches; else the hovered node with its neighbours;
 * else the open node with its ancestors up to `state.hl.up` levels and its
 * descendants up to `state.hl.down` levels, and the edges between those levels;
 * with a column open (`?column=`), the nodes and edges its upstream columns pass through.
 */
function computeEmphasis(): void {
  const g = renderer.getGraph();
  hiEdges = null;
  if (state.search) {
    emphasis = new Set([...state.search].map((i) => drawnKey(g, i)));
    return;
  }
  let centre: string | null = null;
  let up = 1;
  let down = 1;
  if (state.hovered !== null && g.hasNode(state.hovered)) centre = state.hovered;
  else if (state.open !== null && !state.focus && state.column !== null) {
    const path = columnPath(state.open, state.column);
    emphasis = new Set([...path.nodes].map((i) => drawnKey(g, i)));
    hiEdges = new Set();
    for (const [a, b] of path.edges) {
      const ka = drawnKey(g, a);
      const kb = drawnKey(g, b);
      if (ka !== kb && g.hasEdge(ka, kb)) hiEdges.add(g.edge(ka, kb)!);
    }
    return;
  } else if (state.open !== null && !state.focus) {
    centre = nodes[state.open]!.id;
    up = state.hl.up;
    down = state.hl.down;
  }
  if (centre === null || !g.hasNode(centre)) {
    emphasis = null;
    return;
  }
  emphasis = new Set([centre]);
  hiEdges = new Set();
  const walk = (limit: number, edgesOf: 'forEachInEdge' | 'forEachOutEdge') => {
    let frontier = [centre!];
    const seen = new Set(frontier);
    for (let d = 0; d < limit && frontier.length; d++) {
      const next: string[] = [];
      for (const id of frontier) {
        g[edgesOf](id, (edge, _a, src, dst) => {
          const other = edgesOf === 'forEachInEdge' ? src : dst;
          hiEdges!.add(edge);
          emphasis!.add(other);
          if (!seen.has(other)) {
            seen.add(other);
            next.push(other);
          }
        });
      }
      frontier = next;
    }
  };
  walk(up, 'forEachInEdge');
  walk(down, 'forEachOutEdge');
}

/** The key that stands for node `i` in graph `g`: the node, or the box of its closed folder. */
function drawnKey(g: DirectedGraph<NodeAttrs>, i: number): string {
  const id = nodes[i]!.id;
  if (g.hasNode(id) || g !== fullGraph || allExpanded()) return id;
  for (const k of folderChain(tree, tree.nodeFolder[i]!)) if (!expanded.has(k)) return `g:${k}`;
  return id;
}

/**
 * Two sigma instances: the whole project (kept alive, so going back to it is
 * instant) and the lineage view (created on first use). `renderer` is the one shown.
 */
const fullLayer = h('div', { class: 'sigma-layer', id: 'graph-full' });
const lineageLayer = h('div', { class: 'sigma-layer', id: 'graph-lineage', hidden: true });
graphEl.append(fullLayer, lineageLayer, folderBar, highlightBar);

/** Render times of the last frames (ms, from sigma's beforeRender to afterRender), for the test hook. */
const frameTimes: number[] = [];

/** Settings that depend on the graph's size: big graphs hide edges while the camera moves. */
function tune(r: Sigma<NodeAttrs>, g: DirectedGraph<NodeAttrs>): void {
  r.setSetting('hideEdgesOnMove', g.order > 2000);
  r.setSetting('labelRenderedSizeThreshold', g.order > 2000 ? 4 : 2);
  // Small graphs: every label is a candidate (the drawer drops those that would overlap); big ones: sigma's grid thins them first.
  r.setSetting('labelDensity', g.order > 500 ? 1 : 100);
}

function makeRenderer(graph: DirectedGraph<NodeAttrs>, container: HTMLElement): Sigma<NodeAttrs> {
  let self: Sigma<NodeAttrs> | undefined;
  const r: Sigma<NodeAttrs> = new Sigma<NodeAttrs>(graph, container, {
    defaultEdgeType: 'arrow',
    defaultNodeType: 'shape',
    nodeProgramClasses: { shape: NodeShapeProgram },
    labelFont: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
    labelSize: 13,
    labelWeight: '500',
    labelColor: { color: '#1f2937' },
    labelDensity: graph.order > 500 ? 1 : 100,
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
        if (emphasis.size <= 300) out.forceLabel = true;
      }
      if (i >= 0 && i === state.open) {
        out.highlighted = true;
        out.size = attrs.size * 1.5;
        out.forceLabel = true;
        out.zIndex = 2;
      }
      // Tests' labels (`unique(id)`) only on hover: their models' labels matter more.
      if (attrs.kind === 'test' && node !== state.hovered) {
        out.label = '';
        out.forceLabel = false;
      }
      if (node === state.hovered) out.forceLabel = true;
      return out;
    },
    edgeReducer: (edge, attrs) => {
      if (!emphasis) return attrs;
      if (hiEdges) return hiEdges.has(edge) ? { ...attrs, color: EDGE_HI, zIndex: 1 } : { ...attrs, color: DIM_EDGE, zIndex: 0 };
      const g = self?.getGraph() ?? graph; // `self` is unset while the constructor runs the reducers
      if (emphasis.has(g.source(edge)) && emphasis.has(g.target(edge))) return { ...attrs, color: EDGE_HI, zIndex: 1 };
      return { ...attrs, color: DIM_EDGE, zIndex: 0 };
    },
  });
  self = r;
  let frameStart = 0;
  r.on('beforeRender', () => {
    frameStart = performance.now();
    // Run when the frame draws its first label: the frame's camera matrix is set by then.
    resetLabels(() => {
      labelSpace.width = columnPixels(r);
      return reservedLabels(r);
    });
  });
  r.on('afterRender', () => {
    frameTimes.push(performance.now() - frameStart);
    if (frameTimes.length > 200) frameTimes.shift();
    placeCaptions(r);
  });
  r.on('clickNode', ({ node }) => {
    const a = r.getGraph().getNodeAttributes(node);
    if (a.group !== undefined) toggleFolder(a.group, true);
    else if (a.test !== undefined) {
      const host = data.tests[a.test]!.nodes[0];
      if (host !== undefined) go(host);
    } else go(a.i);
  });
  r.on('enterNode', ({ node }) => {
    graphEl.style.cursor = 'pointer';
    // Hovering dims everything but the node's neighbours — a full refresh, so only on graphs that redraw fast.
    if (r.getGraph().order > 2000) return;
    state.hovered = node;
    refresh();
  });
  r.on('leaveNode', () => {
    graphEl.style.cursor = '';
    if (state.hovered === null) return;
    state.hovered = null;
    refresh();
  });
  return r;
}

/**
 * Label boxes reserved before a frame, so that they win over every other
 * label: the open node's, then folder boxes' from the biggest folder down
 * (each only where it overlaps none reserved before it).
 */
function reservedLabels(r: Sigma<NodeAttrs>): LabelBox[] {
  const g = r.getGraph();
  const keys: string[] = [];
  if (state.open !== null && g.hasNode(nodes[state.open]!.id)) keys.push(nodes[state.open]!.id);
  if (r === fullRenderer && !allExpanded()) {
    const boxes: [string, number][] = [];
    g.forEachNode((id, a) => {
      if (a.group !== undefined) boxes.push([id, tree.groups.get(a.group)!.total]);
    });
    boxes.sort((a, b) => b[1] - a[1]);
    keys.push(...boxes.map((b) => b[0]));
  }
  const ctx = measureContext();
  const settings = r.getSettings();
  const out: LabelBox[] = [];
  for (const id of keys) {
    const d = r.getNodeDisplayData(id);
    if (!d || d.hidden || !d.label) continue;
    const p = r.framedGraphToViewport(d);
    const box = labelBox(ctx, id, d.label, p.x, p.y, r.scaleSize(d.size), settings, g.getNodeAttribute(id, 'group') !== undefined ? 1.8 : 1);
    if (box && !out.some((o) => intersects(o, box))) out.push(box);
  }
  return out;
}

function intersects(a: LabelBox, b: LabelBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

let measureCtx: CanvasRenderingContext2D | null = null;
function measureContext(): CanvasRenderingContext2D {
  measureCtx ??= document.createElement('canvas').getContext('2d')!;
  return measureCtx;
}

/** Graph x of each column shown (depth → x) and the spacing of the current view (whole project or lineage). */
let columnX: Map<number, number> = overviewView.columnX;
/** Caption per column (depth, or rank of the folder overview). */
let captionTexts: readonly string[] = overviewView.captions;
let view = { columnWidth: overviewView.columnWidth, rowHeight: overviewView.rowHeight };

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

/** The distance between two columns on screen now (CSS pixels). */
function columnPixels(r: Sigma<NodeAttrs>): number {
  return Math.abs(r.graphToViewport({ x: view.columnWidth, y: 0 }).x - r.graphToViewport({ x: 0, y: 0 }).x);
}

/**
 * Puts the column captions over the columns `r` shows: one caption per run of
 * neighbouring columns with the same folder (never the same header twice in a
 * row), spanning those columns.
 */
function placeCaptions(r: Sigma<NodeAttrs>): void {
  if (r !== renderer) return;
  const width = columnPixels(r);
  const shown = [...columnX].sort((a, b) => a[1] - b[1]);
  const runs: { text: string; from: number; to: number }[] = [];
  for (const [d, gx] of shown) {
    const text = captionTexts[d] ?? '';
    const last = runs[runs.length - 1];
    if (last && last.text === text) last.to = gx;
    else runs.push({ text, from: gx, to: gx });
  }
  while (captions.childElementCount < runs.length) captions.append(h('span', { class: 'column-caption' }));
  captions.childNodes.forEach((el, k) => {
    const span = el as HTMLElement;
    const run = runs[k];
    if (!run || !run.text || width < 30) {
      span.hidden = true;
      return;
    }
    const left = r.graphToViewport({ x: run.from, y: 0 }).x - width / 2;
    const right = r.graphToViewport({ x: run.to, y: 0 }).x + width / 2;
    span.hidden = false;
    span.textContent = run.text;
    span.style.left = `${left + 2}px`;
    span.style.width = `${right - left - 4}px`;
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
fullRenderer.once('afterRender', fitBoxes);

function refresh(): void {
  computeEmphasis();
  highlightBar.hidden = state.open === null || state.focus !== null || renderer !== fullRenderer;
  folderBar.hidden = !aggregated || state.focus !== null;
  renderer.refresh({ skipIndexation: true });
}

/** Replaces the whole-project graph after folders were opened or closed (keeps the camera unless `reframe`). */
function rebuildOverview(reframe: boolean): void {
  fullGraph = buildOverview();
  fullRenderer.setGraph(fullGraph);
  tune(fullRenderer, fullGraph);
  if (renderer === fullRenderer) {
    columnX = overviewView.columnX;
    captionTexts = overviewView.captions;
    view = { columnWidth: overviewView.columnWidth, rowHeight: overviewView.rowHeight };
  }
  frame(fullRenderer, fullGraph);
  if (reframe) fullRenderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 });
  folderBar.hidden = !aggregated;
  fullRenderer.once('afterRender', fitBoxes);
  refresh();
}

/**
 * Shrinks folder boxes so that a box and its label fit in a row of the
 * overview at the framing zoom (boxes never cover each other), once the
 * framing is known (after a render).
 */
function fitBoxes(): void {
  let biggest = 0;
  fullGraph.forEachNode((_id, a) => {
    if (a.group !== undefined) biggest = Math.max(biggest, a.size / boxScale);
  });
  if (!biggest) return;
  const still = { cameraState: { x: 0.5, y: 0.5, ratio: 1, angle: 0 } };
  const a = fullRenderer.graphToViewport({ x: 0, y: 0 }, still);
  const b = fullRenderer.graphToViewport({ x: 0, y: view.rowHeight }, still);
  const rowPx = Math.abs(b.y - a.y);
  // A box (2 × size) and its label (~19 px) with a little air.
  const scale = Math.max(0.3, Math.min(1, (rowPx - 24) / (2 * biggest)));
  if (Math.abs(scale - boxScale) < 0.02) return;
  boxScale = scale;
  fullGraph.forEachNode((id, at) => {
    if (at.group !== undefined) fullGraph.setNodeAttribute(id, 'size', boxSize(tree.groups.get(at.group)!.total));
  });
  refresh();
}

/** Opens (or, when open, closes) folder `key`; shows its page. */
function toggleFolder(key: string, show: boolean): void {
  if (expanded.has(key)) {
    // Close it and everything below.
    for (const k of [...expanded]) if (k === key || k.startsWith(`${key}/`)) expanded.delete(k);
  } else {
    for (const k of folderChain(tree, key)) expanded.add(k);
    // A folder that holds only one folder opens that one too.
    for (let g = tree.groups.get(key)!; g.children.length === 1 && !g.members.length; g = tree.groups.get(g.children[0]!)!) expanded.add(g.children[0]!);
  }
  rebuildOverview(false);
  if (show) showFolder(key);
}

/** Opens the folders around node `i` so that it is drawn itself. Returns whether anything changed. */
function exposeNode(i: number): boolean {
  let changed = false;
  for (const k of folderChain(tree, tree.nodeFolder[i]!)) {
    if (!expanded.has(k)) {
      expanded.add(k);
      changed = true;
    }
  }
  if (changed) rebuildOverview(false);
  return changed;
}

document.getElementById('collapse-all')!.addEventListener('click', () => {
  expanded = initialExpansion(tree);
  if (state.open !== null) exposeNode(state.open);
  rebuildOverview(true);
});
document.getElementById('expand-all')!.addEventListener('click', () => {
  expanded = allFolders(tree);
  rebuildOverview(true);
});
const hlChange = () => {
  state.hl = { up: parseDepth(hlUp.value), down: parseDepth(hlDown.value) };
  refresh();
};
hlUp.addEventListener('change', hlChange);
hlDown.addEventListener('change', hlChange);

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

/** Whether the lineage view draws tests: the checkbox, ticked by default when a lineage has at most 150 tests. */
let testsChoice: boolean | null = null;

function setFocus(focus: { anchor: number; up: number; down: number } | null, force = false): void {
  const same =
    (focus === null && state.focus === null) ||
    (focus && state.focus && focus.anchor === state.focus.anchor && focus.up === state.focus.up && focus.down === state.focus.down);
  if (same && !force) return;
  state.hovered = null;
  if (!focus) {
    state.focus = null;
    lineageLayer.hidden = true;
    fullLayer.hidden = false;
    renderer = fullRenderer;
    renderer.resize();
    columnX = overviewView.columnX;
    captionTexts = overviewView.captions;
    view = { columnWidth: overviewView.columnWidth, rowHeight: overviewView.rowHeight };
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
  captionTexts = data.layout.columns;
  depths.forEach((d, k) => {
    const ids = cols.get(d)!.sort((a, b) => nodes[b]!.y - nodes[a]!.y);
    const mid = (ids.length - 1) / 2;
    columnX.set(d, k * spacing.columnWidth);
    ids.forEach((i, r) => pos.set(i, { x: k * spacing.columnWidth, y: (mid - r) * spacing.rowHeight }));
  });
  view = spacing;
  let testCount = 0;
  for (const t of data.tests) if (t.nodes.some((ni) => members.has(ni))) testCount++;
  showTests.checked = testsChoice ?? testCount <= 150;
  const sub = buildGraph(members, (i) => pos.get(i)!, showTests.checked ? { dx: spacing.columnWidth * 0.3, dy: spacing.rowHeight * 0.22 } : undefined);
  focusBar.hidden = false;
  fullLayer.hidden = true;
  lineageLayer.hidden = false;
  if (lineageRenderer) lineageRenderer.setGraph(sub);
  else lineageRenderer = makeRenderer(sub, lineageLayer);
  tune(lineageRenderer, sub);
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
showTests.addEventListener('change', () => {
  testsChoice = showTests.checked;
  if (state.focus) setFocus(state.focus, true);
});
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
  let column: string | null = null;
  if (m && m[1] === 'column') {
    setFocus(null);
    state.open = null;
    showColumn(decodeURIComponent(m[2]!));
    refresh();
    return;
  }
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
    column = q.get('column');
    if (q.has('up') || q.has('down')) setFocus({ anchor: open, up: parseDepth(q.get('up')), down: parseDepth(q.get('down')) });
    else setFocus(null);
  } else setFocus(null);
  state.open = open;
  state.column = open === null ? null : column;
  if (open === null) showOverview();
  else {
    if (!state.focus) exposeNode(open);
    showNode(open);
    if (column !== null) focusColumn(column);
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
  const list = h('div', { class: 'folders' });
  /** A folder in the panel: its subfolders and nodes, filled when first opened. */
  const folderDetails = (key: string): HTMLElement => {
    const g = tree.groups.get(key)!;
    const body = h('div', {});
    const details = h('details', { open: nodes.length <= AGGREGATE_ABOVE ? true : undefined, 'data-folder': key }, h('summary', {}, kindIcon(g.kind), ` ${g.label}/ `, h('span', { class: 'muted' }, String(g.total))), body);
    const fill = () => {
      if (body.childElementCount) return;
      body.append(...g.children.map(folderDetails));
      const ids = [...g.members].sort((a, b) => (nodes[a]!.name < nodes[b]!.name ? -1 : 1));
      if (ids.length) body.append(h('ul', { class: 'node-list' }, ...ids.map((i) => h('li', {}, nodeLink(i)))));
    };
    if (details.open) fill();
    details.addEventListener('toggle', fill);
    return details;
  };
  list.append(...tree.roots.map(folderDetails));
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
      aggregated ? 'Folders are drawn as one box each with their node count: click a box to open it. ' : '',
      'Click a node to open its page; scroll to zoom, drag to pan. Search finds nodes by name, column name or description, ',
      h('code', {}, 'tag:x'),
      ', ',
      h('code', {}, 'column:user_id'),
      ' or ',
      h('code', {}, 'path:models/mart'),
      '; ',
      h('code', {}, '+model+'),
      ' or ',
      h('code', {}, '2+model+1'),
      ' (dbt’s graph operators) shows only that lineage. On a node’s page, “Show lineage only” keeps just its ancestors and descendants.',
    ),
    data.catalogErrors.length ? h('p', { class: 'warning' }, `Catalog errors: ${data.catalogErrors.join('; ')}`) : '',
    list,
  );
  panel.scrollTop = 0;
}

/** A folder's page: its node count, subfolders and nodes, and a button that closes it on the graph. */
function showFolder(key: string): void {
  const g = tree.groups.get(key);
  if (!g) return;
  const below = nodes.map((_, i) => i).filter((i) => {
    const f = tree.nodeFolder[i]!;
    return f === key || f.startsWith(`${key}/`);
  });
  below.sort((a, b) => (nodes[a]!.name < nodes[b]!.name ? -1 : 1));
  const open = expanded.has(key);
  panel.replaceChildren(
    h('div', { class: 'title' }, kindIcon(g.kind, 16), h('h1', {}, g.label)),
    h('p', { class: 'muted uid' }, `${g.kind} ${key}`),
    h('p', {}, `${g.total} node${g.total === 1 ? '' : 's'}`, g.children.length ? ` in ${g.children.length} subfolder${g.children.length === 1 ? '' : 's'} and here` : ''),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'folder-toggle', onclick: () => toggleFolder(key, true) }, open ? 'Close this folder on the graph' : 'Open this folder on the graph')),
    g.children.length ? h('h2', {}, 'Folders') : '',
    g.children.length ? h('ul', { class: 'node-list' }, ...g.children.map((c) => h('li', {}, h('a', { href: '#', class: 'folder-link', 'data-folder': c }, kindIcon(tree.groups.get(c)!.kind), ` ${tree.groups.get(c)!.label} `, h('span', { class: 'muted' }, String(tree.groups.get(c)!.total)))))) : '',
    h('h2', {}, `Nodes (${below.length})`),
    h('ul', { class: 'node-list' }, ...below.slice(0, 500).map((i) => h('li', {}, nodeLink(i)))),
    below.length > 500 ? h('p', { class: 'muted' }, `… and ${below.length - 500} more`) : '',
  );
  panel.scrollTop = 0;
}

/** A column name's page: every node with a column of that name (type, description, tests) — where it is used. */
function showColumn(name: string): void {
  const uses = columnUsage(nodes, name);
  const testIds = new Set<number>();
  for (const u of uses) for (const ti of nodes[u.node]!.columns[u.column]!.tests) testIds.add(ti);
  const shown = uses.length ? nodes[uses[0]!.node]!.columns[uses[0]!.column]!.name : name;
  panel.replaceChildren(
    h('div', { class: 'title' }, h('h1', {}, 'Column ', h('code', {}, shown))),
    h('p', { class: 'muted' }, `In ${uses.length} node${uses.length === 1 ? '' : 's'}, tested by ${testIds.size} test${testIds.size === 1 ? '' : 's'}.`),
    h('h2', {}, `Where it is used (${uses.length})`),
    uses.length
      ? h(
          'table',
          { class: 'columns column-uses' },
          h('thead', {}, h('tr', {}, h('th', {}, 'node'), h('th', {}, 'type'), h('th', {}, 'description · tests'))),
          h(
            'tbody',
            {},
            ...uses
              .sort((a, b) => nodes[a.node]!.depth - nodes[b.node]!.depth || (nodes[a.node]!.name < nodes[b.node]!.name ? -1 : 1))
              .map((u) => {
                const c = nodes[u.node]!.columns[u.column]!;
                return h(
                  'tr',
                  { 'data-node': nodes[u.node]!.id },
                  h('td', {}, nodeLink(u.node)),
                  h('td', { class: 'type' }, c.type ?? ''),
                  h('td', {}, markdown(c.description, true), c.tests.length ? h('div', { class: 'chips' }, ...c.tests.map((ti) => testChip(data.tests[ti]!))) : ''),
                );
              }),
          ),
        )
      : h('p', { class: 'muted' }, 'No node has a column of that name.'),
    testIds.size ? h('h2', {}, `Tests on it (${testIds.size})`) : '',
    testIds.size ? testsTable([...testIds].sort((a, b) => a - b).map((ti) => data.tests[ti]!), true) : '',
  );
  panel.scrollTop = 0;
}

panel.addEventListener('click', (e) => {
  const f = (e.target as HTMLElement).closest('a.folder-link[data-folder]');
  if (!f) return;
  e.preventDefault();
  const key = f.getAttribute('data-folder')!;
  if (!expanded.has(key)) toggleFolder(key, true);
  else showFolder(key);
});

// ---------------------------------------------------------------- panel: a node's page

function columnHref(name: string): string {
  return `#!/column/${encodeURIComponent(name)}`;
}

/**
 * One row of a node's columns table: position, name (a link to the column's
 * page: where else it is used) and type, description, its upstream columns
 * (column-level lineage, links) and test chips. The one place a column row is drawn.
 */
function columnRow(n: DocsNode, c: DocsColumn): HTMLElement {
  const elsewhere = columnUseCount(c.name) - 1;
  return h(
    'tr',
    { 'data-column': c.name, 'data-node': n.id },
    h('td', { class: 'muted' }, c.index === null ? '–' : String(c.index)),
    h(
      'td',
      {},
      h('a', { class: 'column-link', href: columnHref(c.name), title: `Where ${c.name} is used` }, h('code', { class: 'colname' }, c.name)),
      h('div', { class: 'type' }, c.type ?? (c.index === null ? h('span', { class: 'muted' }, 'not in database') : '')),
    ),
    h(
      'td',
      {},
      markdown(c.description, true),
      upstreamCell(c),
      c.tests.length ? h('div', { class: 'chips' }, ...c.tests.map((ti) => testChip(data.tests[ti]!))) : '',
      elsewhere > 0 ? h('div', { class: 'muted small uses' }, h('a', { href: columnHref(c.name) }, `in ${elsewhere} other node${elsewhere === 1 ? '' : 's'}`)) : '',
    ),
  );
}

/** `#!/<type>/<id>?column=<name>` (keeping the lineage view's depths when one is shown): node `i`'s page at one column. */
function columnOfNodeHref(i: number, column: string): string {
  const base = hashFor(i, state.focus ? { up: state.focus.up, down: state.focus.down } : null);
  return `${base}${base.includes('?') ? '&' : '?'}column=${encodeURIComponent(column)}`;
}

/**
 * The column's upstream columns (column-level lineage from the compiled SQL)
 * as links `node.column` with their kind; each opens that node's page at
 * that column, so a column can be followed across the DAG.
 */
function upstreamCell(c: DocsColumn): HTMLElement | string {
  const l = c.lineage;
  if (!l) return '';
  if (!l.upstream.length) return h('div', { class: 'muted small upstream' }, `${l.kind}: from no upstream column`);
  return h(
    'div',
    { class: 'small upstream', title: `${c.name} is ${l.kind} from these upstream columns` },
    h('span', { class: 'muted' }, '← '),
    ...l.upstream.flatMap((u, k) => [
      k ? h('span', { class: 'muted' }, ', ') : '',
      h(
        'a',
        { class: 'column-upstream', href: columnOfNodeHref(u.node, u.column), 'data-node': nodes[u.node]!.id, 'data-column': u.column, 'data-kind': u.kind },
        h('code', {}, `${nodes[u.node]!.name}.${u.column}`),
      ),
      h('span', { class: `muted lineage-kind kind-${u.kind.replace(/\W+/g, '-')}` }, ` ${u.kind}`),
    ]),
  );
}

/** Nodes a column's upstream columns pass through (itself included) and the `[parent, child]` steps between them. */
function columnPath(start: number, column: string): { nodes: Set<number>; edges: [number, number][] } {
  const out = { nodes: new Set([start]), edges: [] as [number, number][] };
  const seen = new Set<string>();
  const walk = (i: number, col: string) => {
    const key = `${i}\u0000${col.toLowerCase()}`;
    if (seen.has(key)) return;
    seen.add(key);
    const cols = nodes[i]!.columns;
    const c = cols.find((x) => x.name === col) ?? cols.find((x) => x.name.toLowerCase() === col.toLowerCase());
    for (const u of c?.lineage?.upstream ?? []) {
      out.nodes.add(u.node);
      out.edges.push([u.node, i]);
      walk(u.node, u.column);
    }
  };
  walk(start, column);
  return out;
}

/** Scrolls the open node's page to the row of `name` and marks it (`tr.column-focus`). */
function focusColumn(name: string): void {
  const rows = [...panel.querySelectorAll<HTMLTableRowElement>('table.columns tbody tr')];
  const row = rows.find((r) => r.dataset.column === name) ?? rows.find((r) => r.dataset.column?.toLowerCase() === name.toLowerCase());
  if (!row) return;
  row.classList.add('column-focus');
  row.scrollIntoView({ block: 'center' });
}

let columnCounts: Map<string, number> | null = null;
function columnUseCount(name: string): number {
  if (!columnCounts) {
    columnCounts = new Map();
    for (const n of nodes) for (const c of new Set(n.columns.map((c) => c.name.toLowerCase()))) columnCounts.set(c, (columnCounts.get(c) ?? 0) + 1);
  }
  return columnCounts.get(name.toLowerCase()) ?? 0;
}

function testsTable(tests: DocsTest[], withNodes = false, tableLevel: Set<DocsTest> = new Set()): HTMLElement {
  return h(
    'table',
    { class: 'tests' },
    h(
      'tbody',
      {},
      ...tests.map((t) =>
        h(
          'tr',
          {},
          h('td', {}, statusBadge(t.status)),
          h('td', {}, h('code', {}, t.kind)),
          h('td', {}, withNodes ? t.nodes.map((ni) => nodeLink(ni)) : (t.column ?? h('span', { class: 'muted' }, tableLevel.has(t) ? 'table' : ''))),
          h('td', { class: 'small' }, t.name, t.failures ? h('span', { class: 'muted' }, ` · ${t.failures} failing rows`) : null, t.severity === 'warn' ? h('span', { class: 'muted' }, ' · severity warn') : null),
        ),
      ),
    ),
  );
}

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
  for (const [k, v] of n.facts ?? []) facts.push([k, v]);
  for (const s of n.stats) facts.push([s.label, h('span', { title: s.description ?? '' }, formatNumber(s.value, s.id))]);

  const sections: HTMLElement[] = [];
  sections.push(
    h('div', { class: 'title' }, kindIcon(n.resourceType, 16), h('h1', {}, n.name)),
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

  // Columns (the semantic layer has none: its entities, measures and dimensions are in the facts above).
  const semantic = n.resourceType === 'semantic_model' || n.resourceType === 'metric' || n.resourceType === 'saved_query';
  if (!semantic) {
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
            ...n.columns.map((c) => columnRow(n, c)),
          ),
        ),
      );
    } else sections.push(h('p', { class: 'muted' }, data.catalog ? 'No columns known (the relation is not in the database, or it has none).' : 'No columns documented (generated with --empty-catalog).'));
  }

  // Tests not on a column.
  const other = n.tests.map((ti) => data.tests[ti]!).filter((t) => !t.column || !n.columns.some((c) => c.name === t.column));
  if (n.tests.length) {
    sections.push(
      h('h2', {}, `Tests (${n.tests.length})`),
      testsTable(n.tests.map((ti) => data.tests[ti]!), false, new Set(other)),
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

const searchIndex = buildSearchIndex(nodes);

/** Node indexes matching `q` (see searchNodes in ../search.ts), best first. */
function search(q: string): SearchHit[] {
  return searchNodes(searchIndex, q, (i) => nodes[i]!.name);
}

/** `+model+`, `2+model+1`, … typed in the box: the node and depths, or null. */
function selectorIn(q: string): { i: number; up: number; down: number } | null {
  const sel = parseLineageSelector(q);
  if (!sel) return null;
  const i = resolveName(searchIndex, sel.name);
  return i === undefined ? null : { i, up: sel.up, down: sel.down };
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
function runSearch(): void {
  const q = searchInput.value;
  if (!q.trim()) {
    state.search = null;
    searchResults.hidden = true;
    refresh();
    return;
  }
  const sel = selectorIn(q);
  if (sel) {
    state.search = null;
    const members = lineageOf(sel.i, sel.up, sel.down);
    searchResults.replaceChildren(
      h('li', { class: 'muted small summary' }, `dbt selector: ${members.size} node${members.size === 1 ? '' : 's'} — Enter shows this lineage only`),
      h(
        'li',
        { role: 'option' },
        h(
          'a',
          { href: hashFor(sel.i, { up: sel.up, down: sel.down }), class: 'result selector', 'data-id': nodes[sel.i]!.id, 'data-up': depthText(sel.up), 'data-down': depthText(sel.down) },
          kindIcon(nodes[sel.i]!.resourceType),
          h('span', { class: 'name' }, nodes[sel.i]!.name),
          h('span', { class: 'muted small path' }, `${depthText(sel.up)} up · ${depthText(sel.down)} down`),
        ),
      ),
    );
    searchResults.hidden = false;
    refresh();
    return;
  }
  const found = search(q);
  state.search = new Set(found.map((f) => f.i));
  const shown = found.slice(0, 50);
  // A column name typed as such (or `column:x`): offer its page first.
  const colName = q.trim().replace(/^(column|col):/i, '');
  const colUses = columnUseCount(colName);
  searchResults.replaceChildren(
    h('li', { class: 'muted small summary' }, `${found.length} match${found.length === 1 ? '' : 'es'}${found.length > shown.length ? ` (first ${shown.length})` : ''}`),
    ...(colUses ? [h('li', { role: 'option' }, h('a', { href: columnHref(colName), class: 'result column-result', 'data-column': colName }, h('span', { class: 'name' }, 'column ', h('code', {}, colName)), h('span', { class: 'muted small path' }, `in ${colUses} node${colUses === 1 ? '' : 's'}`)))] : []),
    ...shown.map(({ i, why }) => {
      const n = nodes[i]!;
      return h(
        'li',
        { role: 'option' },
        h(
          'a',
          { href: hashFor(i), class: 'result', 'data-id': n.id },
          kindIcon(n.resourceType),
          h('span', { class: 'name' }, n.name),
          why ? h('span', { class: 'why small' }, why) : null,
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
    const sel = selectorIn(searchInput.value);
    if (sel) {
      closeSearch();
      location.hash = hashFor(sel.i, { up: sel.up, down: sel.down });
      return;
    }
    const first = search(searchInput.value)[0];
    if (first !== undefined) {
      closeSearch();
      go(first.i);
    }
  } else if (e.key === 'Escape') closeSearch();
});
searchResults.addEventListener('click', (e) => {
  const a = (e.target as HTMLElement).closest('a.result');
  if (!a) return;
  e.preventDefault();
  const href = a.getAttribute('href')!;
  closeSearch();
  if (a.classList.contains('selector') || a.classList.contains('column-result')) location.hash = href;
  else go(byId.get(a.getAttribute('data-id')!)!);
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
  get renderer() {
    return renderer;
  },
  timings: () => ({ dataParsedAt, graphBuiltAt, renderedAt }),
  /**
   * What sigma draws now: lineage nodes (not tests, not folder boxes), edges between them, how many of those
   * nodes have display data and are not hidden; folder / package boxes and tests drawn.
   */
  drawn: () => {
    const g = renderer.getGraph();
    let visible = 0;
    let n = 0;
    let folders = 0;
    let tests = 0;
    g.forEachNode((id, a) => {
      if (a.kind === 'test') tests++;
      else if (a.group !== undefined) folders++;
      else {
        n++;
        const d = renderer.getNodeDisplayData(id);
        if (d && !d.hidden) visible++;
      }
    });
    let edges = 0;
    g.forEachEdge((_e, _a, src, dst, sa, da) => {
      if (sa.i >= 0 && da.i >= 0) edges++;
    });
    return { nodes: n, edges, visibleNodes: visible, folders, tests };
  },
  /** Folder and package boxes drawn now: key, label, kind, node count, shape code. */
  boxes: () => {
    const out: { key: string; label: string; kind: string; total: number; shape: number }[] = [];
    renderer.getGraph().forEachNode((_id, a) => {
      if (a.group !== undefined) out.push({ key: a.group, label: a.label, kind: a.kind, total: tree.groups.get(a.group)!.total, shape: a.shape });
    });
    return out;
  },
  /** Kind and shape code of every drawn node key. */
  shapes: () => {
    const out: Record<string, { kind: string; shape: number; color: string }> = {};
    renderer.getGraph().forEachNode((id, a) => {
      out[id] = { kind: a.kind, shape: a.shape, color: a.color };
    });
    return out;
  },
  /** The labels of the last frame, as drawn (CSS pixels, relative to the graph). */
  labelBoxes: () => drawnLabels.boxes.map((b) => ({ ...b })),
  /** Keys of the nodes highlighted now (emphasis) and how many edges are highlighted. */
  highlighted: () => ({ nodes: emphasis ? [...emphasis] : [], edges: hiEdges ? hiEdges.size : null }),
  /** Sigma's render time of the last frames (ms). */
  frameTimes: () => [...frameTimes],
  /** Opens a folder box as a click would. */
  openFolder: (key: string) => toggleFolder(key, true),
  /** Where graph key `id` is on screen (page CSS pixels), also for boxes and tests; null when not drawn. */
  keyPosition: (id: string) => {
    const d = renderer.getNodeDisplayData(id);
    if (!d) return null;
    const p = renderer.framedGraphToViewport(d);
    const r = graphEl.getBoundingClientRect();
    return { x: p.x + r.left, y: p.y + r.top };
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
