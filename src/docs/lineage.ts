/**
 * The lineage shown by `tsdbt docs`: every model, seed, snapshot, analysis and
 * source of a Manifest (tests are not nodes: they belong to the nodes they
 * test), and its text forms for `tsdbt docs lineage` — Mermaid, Graphviz DOT
 * and JSON. Pure: no database, no files.
 */
import { DirectedGraph } from 'graphology';
import type { Manifest } from '../parse/manifest.ts';
import { selectNodes, subsetGraph, type LineageGraph, type SelectionWarning } from '../graph/index.ts';
import { TYPE_COLORS, type LineageResourceType } from './palette.ts';
import { layoutLayered } from './layout.ts';

/** One node of the docs lineage. */
export interface LineageEntry {
  readonly uniqueId: string;
  /** `fact_sessions`; sources as `source_name.table_name`. */
  readonly name: string;
  readonly resourceType: LineageResourceType;
  readonly path: string;
}

const DRAWN: ReadonlySet<string> = new Set(['model', 'seed', 'snapshot', 'analysis', 'source']);

/** The entry for a unique_id, or undefined when it is not drawn (tests, operations, hidden or disabled nodes). */
export function lineageEntry(manifest: Manifest, uniqueId: string): LineageEntry | undefined {
  const n = manifest.nodes[uniqueId];
  if (n) {
    if (!DRAWN.has(n.resource_type) || n.docs?.show === false || n.config?.enabled === false) return undefined;
    // A versioned model's versions share its name: draw them as `m.v1`, `m.v2` (dbt's search name).
    const name = n.version !== undefined && n.version !== null ? `${n.name}.v${n.version}` : n.name;
    return { uniqueId, name, resourceType: n.resource_type as LineageResourceType, path: n.original_file_path };
  }
  const s = manifest.sources[uniqueId];
  if (s && s.config?.enabled !== false) return { uniqueId, name: `${s.source_name}.${s.name}`, resourceType: 'source', path: s.original_file_path };
  // Exposures (dashboards, notebooks, …) are drawn downstream of what they depend on, as dbt's docs site.
  const e = manifest.exposures?.[uniqueId];
  if (e) return { uniqueId, name: e.name, resourceType: 'exposure', path: e.original_file_path };
  // The semantic layer (dbt's docs site draws it too): semantic model ← its model, metric ← semantic models /
  // metrics, saved query ← metrics, from depends_on.nodes as src/parse/semantic.ts resolves them.
  const sem = manifest.semantic_models?.[uniqueId] ?? manifest.metrics?.[uniqueId] ?? manifest.saved_queries?.[uniqueId];
  if (sem && (sem.config as { enabled?: unknown } | undefined)?.enabled !== false) return { uniqueId, name: sem.name, resourceType: sem.resource_type, path: sem.original_file_path };
  return undefined;
}

/**
 * The lineage graph the docs draw: `graph` (from buildGraph) restricted to
 * drawn nodes — or to the drawn nodes among `keep` — with dependencies kept
 * through removed nodes (a → hidden → c gives a → c), as dbt's
 * `get_subset_graph`. Tests, operations and nodes with `docs: {show: false}`
 * are left out. Nodes carry no attributes; look them up with {@link lineageEntry}.
 */
export function docsLineageGraph(manifest: Manifest, graph: LineageGraph, keep?: Iterable<string>): DirectedGraph {
  const ids: string[] = [];
  for (const id of keep ?? graph.nodes()) if (lineageEntry(manifest, id)) ids.push(id);
  return subsetGraph(graph, ids);
}

/**
 * The unique_ids `--select` / `--exclude` pick for the lineage, sources
 * included (selectNodes never returns sources, so they are offered to it as
 * nodes). Absent or empty `select` means everything drawn.
 */
export function selectLineage(
  manifest: Manifest,
  graph: LineageGraph,
  select?: readonly string[],
  exclude?: readonly string[],
  warnings?: SelectionWarning[],
): string[] {
  const withSources = { ...manifest, nodes: { ...manifest.nodes, ...(manifest.sources as unknown as Manifest['nodes']) } };
  const ids = selectNodes(withSources, graph, {
    select: select ? [...select] : undefined,
    exclude: exclude ? [...exclude] : undefined,
    resourceTypes: ['model', 'seed', 'snapshot', 'analysis', 'source'],
  }, warnings);
  return ids.filter((id) => lineageEntry(manifest, id));
}

/** Nodes in column order (depth, then position), edges sorted: the stable order every text format uses. */
export interface LineageListing {
  readonly nodes: readonly (LineageEntry & { readonly depth: number })[];
  readonly edges: readonly (readonly [string, string])[];
}

/** Orders a docs lineage graph for printing: by column (the page's layout), then by name. */
export function listLineage(manifest: Manifest, lineage: DirectedGraph): LineageListing {
  const { points } = layoutLineage(manifest, lineage);
  const nodes = lineage
    .nodes()
    .map((id) => ({ ...lineageEntry(manifest, id)!, depth: points.get(id)!.depth }))
    .sort((a, b) => a.depth - b.depth || cmp(a.name, b.name) || cmp(a.uniqueId, b.uniqueId));
  const edges = lineage.edges().map((e) => [lineage.source(e), lineage.target(e)] as const);
  edges.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));
  return { nodes, edges };
}

/** Mermaid node ids: letters, digits and `_` only, made unique with a suffix. */
function mermaidIds(nodes: readonly LineageEntry[]): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const n of nodes) {
    const base = `${n.resourceType}_${n.name}`.replace(/[^A-Za-z0-9_]/g, '_');
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    used.add(id);
    out.set(n.uniqueId, id);
  }
  return out;
}

/** A label inside Mermaid's `["…"]`: quotes and angle brackets as entity codes. */
function mermaidLabel(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

const MERMAID_SHAPES: Record<LineageResourceType, [string, string]> = {
  source: ['[(', ')]'],
  seed: ['[(', ')]'],
  model: ['[', ']'],
  snapshot: ['[[', ']]'],
  analysis: ['>', ']'],
  exposure: ['{{', '}}'],
  semantic_model: ['{{', '}}'],
  metric: ['((', '))'],
  saved_query: ['([', '])'],
};

/**
 * A Mermaid flowchart (left to right), for READMEs and pull requests:
 * sources and seeds as cylinders, models as boxes, snapshots as subroutines,
 * analyses as flags; one `classDef` per resource type with the page's colours.
 *
 * @example
 * flowchart LR
 *   seed_sessions[("sessions")]:::seed
 *   model_stg_sessions["stg_sessions"]:::model
 *   seed_sessions --> model_stg_sessions
 */
export function toMermaid(listing: LineageListing): string {
  const ids = mermaidIds(listing.nodes);
  const lines = ['flowchart LR'];
  for (const n of listing.nodes) {
    const [open, close] = MERMAID_SHAPES[n.resourceType];
    lines.push(`  ${ids.get(n.uniqueId)}${open}"${mermaidLabel(n.name)}"${close}:::${n.resourceType}`);
  }
  for (const [a, b] of listing.edges) lines.push(`  ${ids.get(a)} --> ${ids.get(b)}`);
  const types = [...new Set(listing.nodes.map((n) => n.resourceType))];
  for (const t of types) lines.push(`  classDef ${t} fill:${TYPE_COLORS[t]},stroke:#333,color:#fff`);
  return lines.join('\n') + '\n';
}

/** A DOT double-quoted string. */
function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const DOT_SHAPES: Record<LineageResourceType, string> = {
  source: 'cylinder',
  seed: 'cylinder',
  model: 'box',
  snapshot: 'box3d',
  analysis: 'note',
  exposure: 'hexagon',
  semantic_model: 'hexagon',
  metric: 'octagon',
  saved_query: 'ellipse',
};

/**
 * A Graphviz digraph (`rankdir=LR`), node ids are unique_ids, labels are
 * names; render with `dot -Tsvg lineage.dot > lineage.svg`.
 */
export function toDot(listing: LineageListing, name = 'lineage'): string {
  const lines = [
    `digraph ${dotString(name)} {`,
    '  rankdir=LR;',
    '  node [style="rounded,filled", fontname="Helvetica", fontcolor="white", color="#333333"];',
  ];
  for (const n of listing.nodes) {
    lines.push(`  ${dotString(n.uniqueId)} [label=${dotString(n.name)}, shape=${DOT_SHAPES[n.resourceType]}, fillcolor=${dotString(TYPE_COLORS[n.resourceType])}];`);
  }
  for (const [a, b] of listing.edges) lines.push(`  ${dotString(a)} -> ${dotString(b)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** JSON for scripts: `{ nodes: [{unique_id, name, resource_type, depth, original_file_path}], edges: [{from, to}] }`. */
export function toLineageJson(listing: LineageListing): string {
  return (
    JSON.stringify(
      {
        nodes: listing.nodes.map((n) => ({ unique_id: n.uniqueId, name: n.name, resource_type: n.resourceType, depth: n.depth, original_file_path: n.path })),
        edges: listing.edges.map(([from, to]) => ({ from, to })),
      },
      null,
      2,
    ) + '\n'
  );
}

/**
 * The layout of a docs lineage graph: nodes of a folder start together (initial
 * order by file path); seeds and sources stay in the first column.
 */
export function layoutLineage(manifest: Manifest, lineage: DirectedGraph) {
  return layoutLayered(lineage, {
    sortKey: (id) => lineageEntry(manifest, id)?.path ?? id,
    // Raw data (seeds, sources) forms the first column; a model without parents joins its children's layer.
    keepLeft: (id) => manifest.sources[id] !== undefined || manifest.nodes[id]?.resource_type === 'seed',
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
