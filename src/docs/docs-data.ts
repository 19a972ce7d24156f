/**
 * The data the docs page embeds: one plain, JSON-serialisable value built
 * from the Manifest, the Catalog and (when present) run_results.json, with
 * the lineage layout already computed. The page only draws it.
 */
import type { Manifest, ManifestNode, SourceDefinition } from '../parse/manifest.ts';
import type { Exposure, SemanticEntry } from '../parse/exposures.ts';
import type { LineageGraph } from '../graph/index.ts';
import type { RunResults } from '../artifacts/index.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import { docsLineageGraph, layoutLineage } from './lineage.ts';
import type { LineageResourceType } from './palette.ts';
import type { ColumnLineage, ProjectLineage } from '../sql/index.ts';

/** Bump when the shape changes in a way old pages cannot read. */
export const DOCS_DATA_VERSION = 1;

/** A column of a node: catalog order and type first, then columns only the properties file names. */
export interface DocsColumn {
  name: string;
  /** Type from the catalog, else the declared `data_type`, else null. */
  type: string | null;
  /** 1-based position in the relation (catalog), null when the column is not in the database. */
  index: number | null;
  description: string;
  /** Indexes into {@link DocsData.tests}. */
  tests: number[];
  /** Column-level lineage (src/sql/lineage.ts), when the node's compiled SQL was analysed. */
  lineage?: DocsColumnLineage;
}

/**
 * Where a column comes from: its strongest transformation and its upstream
 * columns (`node` an index into {@link DocsData.nodes}; upstream nodes not
 * drawn on the site are left out).
 */
export interface DocsColumnLineage {
  kind: 'direct' | 'derived' | 'aggregated';
  upstream: { node: number; column: string; kind: 'direct' | 'derived' | 'aggregated' | 'filter/join key' }[];
}

/** A data test, attached to the node(s) it tests. */
export interface DocsTest {
  id: string;
  name: string;
  /** Generic test name (`unique`, `not_null`, `relationships`, …) or `singular`. */
  kind: string;
  column: string | null;
  severity: string;
  /** Last result when run_results.json has one: pass | fail | warn | error | skipped. */
  status?: string;
  failures?: number | null;
  message?: string | null;
  /** Indexes into {@link DocsData.nodes}. */
  nodes: number[];
}

/** A node of the lineage with everything its page shows. */
export interface DocsNode {
  id: string;
  name: string;
  resourceType: LineageResourceType;
  /** Column in the layout (0 = no parents). */
  depth: number;
  x: number;
  y: number;
  packageName: string;
  path: string;
  fqn: string[];
  tags: string[];
  /** Markdown (doc() blocks already resolved). */
  description: string;
  materialized: string | null;
  database: string | null;
  schema: string | null;
  /** The relation's name: alias (nodes) or identifier (sources); null for ephemeral models and analyses. */
  identifier: string | null;
  sourceName?: string;
  sourceDescription?: string;
  loader?: string;
  rawCode?: string;
  compiledCode?: string;
  columns: DocsColumn[];
  /** From the catalog: relation type (`BASE TABLE`, `VIEW`, …), owner and stats with include: true. */
  relationType?: string;
  owner?: string | null;
  stats: { id: string; label: string; value: string | number | boolean | null; description: string | null }[];
  /** Indexes into {@link DocsData.tests}. */
  tests: number[];
  /** The node's own last result (run_results.json). */
  result?: { status: string; executionTime: number; message: string | null; completedAt: string | null };
  meta?: Record<string, unknown>;
  /**
   * Extra `[label, text]` rows of the page's facts table: for the semantic layer, a metric's label and
   * type, a semantic model's entities / measures / dimensions, a saved query's metrics and group_by.
   */
  facts?: [string, string][];
}

/** Everything the page needs; embedded as JSON in index.html. */
export interface DocsData {
  version: number;
  project: string;
  generatedAt: string;
  invocationId: string | null;
  adapterType: string;
  /** False when generated with --no-compile (no compiled SQL in the page). */
  compiled: boolean;
  /** False when generated with --empty-catalog. */
  catalog: boolean;
  catalogErrors: string[];
  runResults: { generatedAt: string | null; elapsedTime: number; command: string | null } | null;
  /** `columns[d]`: caption of column d, the folder(s) most of its nodes live in (`seeds`, `staging`, `dwh · staging`). */
  layout: { maxDepth: number; columnWidth: number; rowHeight: number; columns: string[] };
  nodes: DocsNode[];
  /** `[parentIndex, childIndex]` pairs. */
  edges: [number, number][];
  tests: DocsTest[];
}

export interface BuildDocsDataOptions {
  readonly manifest: Manifest;
  readonly graph: LineageGraph;
  readonly catalog: Catalog;
  readonly catalogEmpty: boolean;
  readonly compiled: boolean;
  /** unique_id → compiled SQL of the nodes compiled for this site (shown on their pages). */
  readonly compiledCode?: ReadonlyMap<string, string>;
  readonly runResults: RunResults | null;
  readonly generatedAt?: string;
  /** Column-level lineage (compiledColumnLineage); each node's columns get `lineage`. */
  readonly columnLineage?: ProjectLineage | null;
}

/**
 * Builds the page's data: lays out the lineage (tests left out), attaches
 * each test to the node(s) it tests (generic tests to `attached_node`,
 * singular tests to every node they ref), merges catalog columns with the
 * properties files' descriptions, and adds the last run's results.
 * Cost: O(nodes + edges + tests) plus the layout.
 */
export function buildDocsData(o: BuildDocsDataOptions): DocsData {
  const { manifest } = o;
  const lineage = docsLineageGraph(manifest, o.graph);
  const layout = layoutLineage(manifest, lineage);
  const ids = [...layout.points.keys()].sort((a, b) => layout.points.get(a)!.depth - layout.points.get(b)!.depth || (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(ids.map((id, i) => [id, i] as const));
  const results = new Map((o.runResults?.results ?? []).map((r) => [r.unique_id, r] as const));

  const nodes: DocsNode[] = ids.map((id) => {
    const p = layout.points.get(id)!;
    const n = manifest.nodes[id];
    const exposure = n ? undefined : manifest.exposures?.[id];
    const sem = n || exposure ? undefined : (manifest.semantic_models?.[id] ?? manifest.metrics?.[id] ?? manifest.saved_queries?.[id]);
    const base = n
      ? nodeFields(n, o.compiled ? (o.compiledCode?.get(id) ?? n.compiled_code) : undefined)
      : exposure
        ? exposureFields(exposure)
        : sem
          ? semanticFields(sem)
          : sourceFields(manifest.sources[id]!);
    const table = n ? o.catalog.nodes[id] : exposure || sem ? undefined : o.catalog.sources[id];
    const declared = n ? n.columns : exposure || sem ? {} : manifest.sources[id]!.columns;
    const r = results.get(id);
    return {
      ...base,
      depth: p.depth,
      x: round(p.x),
      y: round(p.y),
      columns: mergeColumns(table, declared),
      ...(table ? { relationType: table.metadata.type, owner: table.metadata.owner } : {}),
      stats: table ? Object.values(table.stats).filter((s) => s.include).map((s) => ({ id: s.id, label: s.label, value: s.value, description: s.description })) : [],
      tests: [],
      ...(r ? { result: { status: r.status, executionTime: r.execution_time, message: r.message, completedAt: completedAt(r.timing) } } : {}),
    };
  });

  if (o.columnLineage) attachColumnLineage(nodes, index, o.columnLineage);

  const edges: [number, number][] = lineage.edges().map((e) => [index.get(lineage.source(e))!, index.get(lineage.target(e))!]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

  const tests: DocsTest[] = [];
  const testIds = Object.keys(manifest.nodes).filter((id) => manifest.nodes[id]!.resource_type === 'test').sort();
  for (const id of testIds) {
    const t = manifest.nodes[id]!;
    const on = t.attached_node && index.has(t.attached_node) ? [t.attached_node] : t.depends_on.nodes.filter((d) => index.has(d));
    if (!on.length) continue;
    const r = results.get(id);
    const ti = tests.length;
    tests.push({
      id,
      name: t.name,
      kind: t.test_metadata?.name ?? 'singular',
      column: t.column_name ?? null,
      severity: String(t.config?.severity ?? 'error').toLowerCase(),
      ...(r ? { status: r.status, failures: r.failures, message: r.message } : {}),
      nodes: [...new Set(on)].map((x) => index.get(x)!),
    });
    for (const ni of tests[ti]!.nodes) {
      const node = nodes[ni]!;
      node.tests.push(ti);
      if (t.column_name) {
        const col = node.columns.find((c) => c.name === t.column_name) ?? node.columns.find((c) => c.name.toLowerCase() === String(t.column_name).toLowerCase());
        col?.tests.push(ti);
      }
    }
  }

  const args = o.runResults?.args as { which?: unknown } | undefined;
  const data: DocsData = {
    version: DOCS_DATA_VERSION,
    project: manifest.metadata.project_name,
    generatedAt: o.generatedAt ?? new Date().toISOString(),
    invocationId: manifest.metadata.invocation_id ?? null,
    adapterType: manifest.metadata.adapter_type,
    compiled: o.compiled,
    catalog: !o.catalogEmpty,
    catalogErrors: o.catalog.errors ?? [],
    runResults: o.runResults
      ? { generatedAt: o.runResults.metadata.generated_at ?? null, elapsedTime: o.runResults.elapsed_time, command: typeof args?.which === 'string' ? args.which : null }
      : null,
    layout: { maxDepth: layout.maxDepth, columnWidth: layout.columnWidth, rowHeight: layout.rowHeight, columns: columnCaptions(nodes, layout.maxDepth) },
    nodes,
    edges,
    tests,
  };
  return data;
}

type NodeBase = Omit<DocsNode, 'depth' | 'x' | 'y' | 'columns' | 'stats' | 'tests' | 'result' | 'relationType' | 'owner'>;

function nodeFields(n: ManifestNode, compiledCode: string | undefined): NodeBase {
  const hasRelation = !!n.relation_name;
  const materialized = typeof n.config?.materialized === 'string' ? n.config.materialized : null;
  return {
    id: n.unique_id,
    name: n.name,
    resourceType: n.resource_type as LineageResourceType,
    packageName: n.package_name,
    path: n.original_file_path,
    fqn: n.fqn,
    tags: n.tags ?? [],
    description: n.description ?? '',
    materialized,
    database: n.database ?? null,
    schema: hasRelation ? n.schema : null,
    identifier: hasRelation ? n.alias : null,
    rawCode: n.resource_type === 'seed' ? undefined : n.raw_code,
    ...(typeof compiledCode === 'string' ? { compiledCode } : {}),
    ...(n.meta && Object.keys(n.meta).length ? { meta: n.meta } : {}),
  };
}

/** An exposure's page: label (or name), type, owner and URL in its meta; no relation, no columns. */
function exposureFields(e: Exposure): NodeBase {
  const owner = [e.owner.name, e.owner.email ? `<${e.owner.email}>` : null].filter(Boolean).join(' ');
  const meta = { type: e.type, ...(e.maturity ? { maturity: e.maturity } : {}), ...(owner ? { owner } : {}), ...(e.url ? { url: e.url } : {}), ...e.meta };
  return {
    id: e.unique_id,
    name: e.name,
    resourceType: 'exposure',
    packageName: e.package_name,
    path: e.original_file_path,
    fqn: e.fqn,
    tags: e.tags ?? [],
    description: e.label ? `**${e.label}**\n\n${e.description ?? ''}` : (e.description ?? ''),
    materialized: null,
    database: null,
    schema: null,
    identifier: null,
    meta,
  };
}

/** `name (type)` of each `{name, type|agg}` entry of a list, comma-separated; '' when absent. */
function namesOf(list: unknown, kindKey: string): string {
  if (!Array.isArray(list)) return '';
  return list
    .map((x) => {
      const o = (x ?? {}) as Record<string, unknown>;
      const kind = o[kindKey];
      return `${String(o.name ?? '')}${typeof kind === 'string' && kind ? ` (${kind})` : ''}`;
    })
    .join(', ');
}

/**
 * The page of a semantic model, metric or saved query (parsed into manifest.json, never executed:
 * MetricFlow's job, as in dbt-core): description, and as facts a metric's label and type, a semantic
 * model's entities / measures / dimensions, a saved query's metrics and group_by. No relation, no columns.
 */
function semanticFields(e: SemanticEntry): NodeBase {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const facts: [string, string][] = [];
  if (str(e.label)) facts.push(['label', str(e.label)]);
  if (e.resource_type === 'metric') {
    facts.push(['metric type', str(e.type)]);
    const tp = (e.type_params ?? {}) as Record<string, unknown>;
    const measure = tp.measure as { name?: unknown } | null | undefined;
    if (measure && typeof measure.name === 'string') facts.push(['measure', measure.name]);
    if (typeof tp.expr === 'string' && tp.expr) facts.push(['expression', tp.expr]);
  } else if (e.resource_type === 'semantic_model') {
    facts.push(['entities', namesOf(e.entities, 'type')], ['measures', namesOf(e.measures, 'agg')], ['dimensions', namesOf(e.dimensions, 'type')]);
  } else {
    const qp = (e.query_params ?? {}) as Record<string, unknown>;
    if (Array.isArray(qp.metrics)) facts.push(['metrics', qp.metrics.map(String).join(', ')]);
    if (Array.isArray(qp.group_by)) facts.push(['group by', qp.group_by.map(String).join(', ')]);
  }
  const meta = e.meta && typeof e.meta === 'object' && Object.keys(e.meta).length ? (e.meta as Record<string, unknown>) : undefined;
  return {
    id: e.unique_id,
    name: e.name,
    resourceType: e.resource_type,
    packageName: e.package_name,
    path: e.original_file_path,
    fqn: e.fqn,
    tags: Array.isArray(e.tags) ? e.tags.map(String) : [],
    description: str(e.description),
    materialized: null,
    database: null,
    schema: null,
    identifier: null,
    facts: facts.filter(([, v]) => v !== ''),
    ...(meta ? { meta } : {}),
  };
}

function sourceFields(s: SourceDefinition): NodeBase {
  return {
    id: s.unique_id,
    name: `${s.source_name}.${s.name}`,
    resourceType: 'source',
    packageName: s.package_name,
    path: s.original_file_path,
    fqn: s.fqn,
    tags: s.tags ?? [],
    description: s.description ?? '',
    materialized: null,
    database: s.database ?? null,
    schema: s.schema,
    identifier: s.identifier || s.name,
    sourceName: s.source_name,
    sourceDescription: s.source_description ?? '',
    loader: s.loader ?? '',
    ...(s.meta && Object.keys(s.meta).length ? { meta: s.meta } : {}),
  };
}

/** Catalog columns (database order, real types) with descriptions from the properties file, then declared columns missing from the database. */
function mergeColumns(table: CatalogTable | undefined, declared: Record<string, { name: string; description: string; data_type?: string | null }>): DocsColumn[] {
  const out: DocsColumn[] = [];
  const byLower = new Map(Object.values(declared).map((c) => [c.name.toLowerCase(), c] as const));
  const used = new Set<string>();
  if (table) {
    for (const c of Object.values(table.columns).sort((a, b) => a.index - b.index)) {
      const d = declared[c.name] ?? byLower.get(c.name.toLowerCase());
      if (d) used.add(d.name);
      out.push({ name: c.name, type: c.type, index: c.index, description: d?.description || c.comment || '', tests: [] });
    }
  }
  for (const d of Object.values(declared)) {
    if (used.has(d.name)) continue;
    out.push({ name: d.name, type: d.data_type ?? null, index: null, description: d.description ?? '', tests: [] });
  }
  return out;
}

/**
 * Gives each column of `nodes` its lineage (matched by name, then
 * case-insensitively). A node without catalog columns (ephemeral, not built,
 * `--empty-catalog`) gets the columns its SQL produces, after the documented ones.
 */
function attachColumnLineage(nodes: DocsNode[], index: ReadonlyMap<string, number>, lineage: ProjectLineage): void {
  for (const [id, l] of lineage) {
    const ni = index.get(id);
    if (ni === undefined) continue;
    const node = nodes[ni]!;
    const fromCatalog = node.columns.some((c) => c.index !== null);
    const byLower = new Map(Object.entries(l.columns).map(([k, v]) => [k.toLowerCase(), v] as const));
    const seen = new Set<string>();
    for (const c of node.columns) {
      const cl = l.columns[c.name] ?? byLower.get(c.name.toLowerCase());
      if (!cl) continue;
      seen.add(c.name.toLowerCase());
      c.lineage = docsLineage(cl, index);
    }
    if (fromCatalog) continue;
    for (const [name, cl] of Object.entries(l.columns)) {
      if (seen.has(name.toLowerCase())) continue;
      node.columns.push({ name, type: null, index: null, description: '', tests: [], lineage: docsLineage(cl, index) });
    }
  }
}

function docsLineage(cl: ColumnLineage, index: ReadonlyMap<string, number>): DocsColumnLineage {
  const upstream: DocsColumnLineage['upstream'] = [];
  for (const u of cl.upstream) {
    const ni = index.get(u.node);
    if (ni !== undefined) upstream.push({ node: ni, column: u.column, kind: u.kind });
  }
  return { kind: cl.kind, upstream };
}

function completedAt(timing: readonly { name: string; completed_at?: string | null }[] | undefined): string | null {
  const t = (timing ?? []).find((x) => x.name === 'execute') ?? timing?.[timing.length - 1];
  return t?.completed_at ?? null;
}

/** Per column, the folder most of its nodes are in (sources: `sources`); two when the runner-up has at least half as many. */
function columnCaptions(nodes: readonly DocsNode[], maxDepth: number): string[] {
  const tally: Map<string, number>[] = Array.from({ length: maxDepth + 1 }, () => new Map());
  for (const n of nodes) {
    const dir = n.path.includes('/') ? n.path.slice(0, n.path.lastIndexOf('/')) : n.path;
    const folder = n.resourceType === 'source' ? 'sources' : dir.slice(dir.lastIndexOf('/') + 1);
    const t = tally[n.depth]!;
    t.set(folder, (t.get(folder) ?? 0) + 1);
  }
  return tally.map((t) => {
    const ranked = [...t].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const top = ranked[0]?.[1] ?? 0;
    return ranked
      .filter(([, n]) => n * 2 >= top)
      .slice(0, 2)
      .map(([f]) => f)
      .join(' · ');
  });
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

