/**
 * Semantic models, metrics and saved queries (dbt's semantic layer) from properties files into the
 * Manifest, in the shapes of dbt-core 1.11's `SemanticModel`, `Metric` and `SavedQuery` (manifest v12),
 * as dbt's SemanticModelParser / MetricParser / SavedQueryParser (parser/schema_yaml_readers.py) read them:
 *
 * - a semantic model's `model: ref('x')` is its dependency (resolved in exposures.ts, a missing ref is
 *   `ref-not-found`); entities, measures and dimensions are kept with dbt's keys;
 * - a metric's `type_params.measure` (simple, cumulative) and `conversion_type_params.base_measure` /
 *   `conversion_measure` depend on the semantic model defining that measure; `numerator` / `denominator`
 *   (ratio), `metrics` (derived) and `cumulative_type_params.metric` depend on those metrics — as dbt's
 *   ManifestLoader.process_metrics; a measure or metric no semantic model / metric defines is an error
 *   (`measure-not-found` / `metric-not-found`) naming the properties file and line;
 * - a saved query depends on the metrics in `query_params.metrics`, a missing one is `metric-not-found`.
 *
 * Nothing here is executed: dbt-core does not query the semantic layer either (MetricFlow does).
 */
import { TsdbtError } from '../errors.ts';
import type { ExtraEntry } from '../config/types.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { RefCall } from './manifest.ts';
import { fqnFor, type SemanticEntry } from './exposures.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keeps only `keys` of `o` (dbt's schema has additionalProperties: false everywhere here). */
function pick(o: unknown, keys: readonly string[]): Obj {
  if (!isObj(o)) return {};
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** dbt's WhereFilterIntersection from a filter written as a string or a list of strings. */
function whereFilter(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  const list = Array.isArray(v) ? v : [v];
  return { where_filters: list.map((x) => ({ where_sql_template: String(x) })) };
}

/** A measure written as `name` or `{name, filter, alias, join_to_timespine, fill_nulls_with}`. */
function measureInput(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  const o = isObj(v) ? v : { name: String(v) };
  return { name: String(o.name), filter: whereFilter(o.filter), alias: o.alias ?? null, join_to_timespine: o.join_to_timespine === true, fill_nulls_with: o.fill_nulls_with ?? null };
}

/** A metric input written as `name` or `{name, filter, alias, offset_window, offset_to_grain}`. */
function metricInput(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  const o = isObj(v) ? v : { name: String(v) };
  const win = typeof o.offset_window === 'string' ? window(o.offset_window) : (o.offset_window ?? null);
  return { name: String(o.name), filter: whereFilter(o.filter), alias: o.alias ?? null, offset_window: win, offset_to_grain: o.offset_to_grain ?? null };
}

/** dbt's MetricTimeWindow from `'7 days'` (or an object as written). */
function window(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  if (isObj(v)) return v;
  const [count, granularity] = String(v).trim().split(/\s+/);
  return { count: Number(count), granularity: String(granularity ?? '').replace(/s$/, '') };
}

function common(b: ManifestBuilder, e: ExtraEntry, type: SemanticEntry['resource_type']): SemanticEntry {
  const config = isObj(e.data.config) ? e.data.config : {};
  return {
    name: e.name,
    resource_type: type,
    package_name: b.pkg,
    path: e.file.split('/').slice(1).join('/'),
    original_file_path: e.file,
    unique_id: `${type}.${b.pkg}.${e.name}`,
    fqn: fqnFor(b.pkg, e.file, e.name),
    description: typeof e.data.description === 'string' ? e.data.description : '',
    label: typeof e.data.label === 'string' ? e.data.label : null,
    metadata: null,
    config: { enabled: true, group: null, meta: {}, ...config },
    unrendered_config: config,
    group: typeof config.group === 'string' ? config.group : null,
    depends_on: { macros: [], nodes: [] },
    refs: [],
    created_at: b.now,
  };
}

/** Builds dbt's `SemanticModel` for `model: ref(..)` already parsed into `refs`. */
export function semanticModelEntry(b: ManifestBuilder, e: ExtraEntry, refs: RefCall[]): SemanticEntry {
  const d = e.data;
  const list = (v: unknown, keys: readonly string[]) => (Array.isArray(v) ? v.map((x) => pick(x, keys)) : []);
  return {
    ...common(b, e, 'semantic_model'),
    model: String(d.model ?? ''),
    node_relation: null,
    defaults: isObj(d.defaults) ? pick(d.defaults, ['agg_time_dimension']) : null,
    entities: list(d.entities, ['name', 'type', 'description', 'label', 'role', 'expr', 'config']),
    measures: list(d.measures, ['name', 'agg', 'description', 'label', 'create_metric', 'expr', 'agg_params', 'non_additive_dimension', 'agg_time_dimension', 'config']),
    dimensions: list(d.dimensions, ['name', 'type', 'description', 'label', 'is_partition', 'type_params', 'expr', 'config']),
    primary_entity: typeof d.primary_entity === 'string' ? d.primary_entity : null,
    refs: refs.map((r) => ({ name: r.name, package: r.package ?? null, version: r.version ?? null })),
  };
}

/** What a metric or saved query names, for {@link linkSemantic}. */
interface Wanted {
  readonly uid: string;
  readonly measures: string[];
  readonly metrics: string[];
  readonly file: string;
  readonly line: number;
}
const wantedByBuilder = new WeakMap<ManifestBuilder, Wanted[]>();

/**
 * Adds the current project's metrics and saved queries to `b.semanticEntries` in dbt's shapes; a metric
 * without `label` or `type` is an error (dbt's UnparsedMetric requires both).
 */
export function parseMetricsAndSavedQueries(b: ManifestBuilder): void {
  const extras = b.properties.extras;
  if (!extras) return;
  const wanted = wantedByBuilder.get(b) ?? [];
  wantedByBuilder.set(b, wanted);
  for (const e of extras.metrics) {
    const d = e.data;
    const tp = isObj(d.type_params) ? d.type_params : {};
    const missing = ['label', 'type'].filter((k) => typeof d[k] !== 'string');
    if (missing.length) {
      b.diags.error(new TsdbtError('metric-invalid', `metric '${e.name}' has no ${missing.join(' or ')}, which dbt requires`, { file: e.file, line: e.line, hint: `write ${missing.map((k) => `${k}: …`).join(' and ')} on the metric` }));
      continue;
    }
    const conv = isObj(tp.conversion_type_params) ? tp.conversion_type_params : null;
    const cum = isObj(tp.cumulative_type_params) ? tp.cumulative_type_params : null;
    const metricsList = Array.isArray(tp.metrics) ? tp.metrics.map(metricInput) : null;
    const type_params: Obj = {
      measure: measureInput(tp.measure),
      input_measures: [],
      numerator: metricInput(tp.numerator),
      denominator: metricInput(tp.denominator),
      expr: tp.expr ?? null,
      window: window(tp.window),
      grain_to_date: tp.grain_to_date ?? null,
      metrics: metricsList,
      conversion_type_params: conv ? { ...pick(conv, ['entity', 'calculation', 'constant_properties']), base_measure: measureInput(conv.base_measure), conversion_measure: measureInput(conv.conversion_measure), window: window(conv.window) } : null,
      cumulative_type_params: cum ? { ...pick(cum, ['grain_to_date', 'period_agg']), window: window(cum.window), metric: metricInput(cum.metric) } : null,
      metric_aggregation_params: null,
    };
    const measures = [type_params.measure, conv && (type_params.conversion_type_params as Obj).base_measure, conv && (type_params.conversion_type_params as Obj).conversion_measure]
      .filter((x): x is Obj => isObj(x))
      .map((x) => String(x.name));
    type_params.input_measures = measures.map((name) => measureInput(name));
    const metrics = [type_params.numerator, type_params.denominator, ...(metricsList ?? []), cum && (type_params.cumulative_type_params as Obj).metric]
      .filter((x): x is Obj => isObj(x))
      .map((x) => String(x.name));
    const base = common(b, e, 'metric');
    const config = base.config as Obj;
    const entry: SemanticEntry = {
      ...base,
      label: String(d.label),
      type: String(d.type),
      type_params,
      filter: whereFilter(d.filter),
      time_granularity: typeof d.time_granularity === 'string' ? d.time_granularity : null,
      meta: { ...(isObj(d.meta) ? d.meta : {}), ...(isObj(config.meta) ? config.meta : {}) },
      tags: Array.isArray(d.tags) ? d.tags.map(String) : typeof d.tags === 'string' ? [d.tags] : [],
      sources: [],
      metrics: [],
    };
    b.semanticEntries.metrics[entry.unique_id] = entry;
    wanted.push({ uid: entry.unique_id, measures, metrics, file: e.file, line: e.keyLines.type_params ?? e.line });
  }
  for (const e of extras.saved_queries) {
    const d = e.data;
    const qp = isObj(d.query_params) ? d.query_params : {};
    const metrics = Array.isArray(qp.metrics) ? qp.metrics.map(String) : [];
    const exports = Array.isArray(d.exports) ? d.exports.filter(isObj) : [];
    const entry: SemanticEntry = {
      ...common(b, e, 'saved_query'),
      query_params: {
        metrics,
        group_by: Array.isArray(qp.group_by) ? qp.group_by.map(String) : [],
        where: whereFilter(qp.where),
        order_by: Array.isArray(qp.order_by) ? qp.order_by.map(String) : [],
        limit: typeof qp.limit === 'number' ? qp.limit : null,
      },
      exports: exports.map((x) => {
        const c = isObj(x.config) ? x.config : {};
        return { name: String(x.name), config: { export_as: String(c.export_as ?? 'table'), schema_name: c.schema ?? null, alias: c.alias ?? null, database: null }, unrendered_config: c };
      }),
      tags: Array.isArray(d.tags) ? d.tags.map(String) : [],
    };
    b.semanticEntries.saved_queries[entry.unique_id] = entry;
    wanted.push({ uid: entry.unique_id, measures: [], metrics, file: e.file, line: e.keyLines.query_params ?? e.line });
  }
}

/**
 * After every package is parsed: each metric's measures and metrics and each saved query's metrics become
 * its `depends_on.nodes` (the semantic model defining the measure; the metric), as dbt's
 * ManifestLoader.process_metrics / process_saved_queries; a name nothing defines is an error.
 */
export function linkSemantic(b: ManifestBuilder): void {
  const { semantic_models, metrics, saved_queries } = b.semanticEntries;
  const measureOwner = new Map<string, string>();
  for (const sm of Object.values(semantic_models)) {
    for (const m of (sm.measures as Obj[] | undefined) ?? []) measureOwner.set(String(m.name), sm.unique_id);
  }
  const metricByName = new Map(Object.values(metrics).map((m) => [m.name, m.unique_id]));
  for (const w of wantedByBuilder.get(b) ?? []) {
    const entry = metrics[w.uid] ?? saved_queries[w.uid];
    if (!entry) continue;
    const label = `${entry.resource_type === 'metric' ? 'metric' : 'saved query'} '${entry.name}'`;
    const deps: string[] = [];
    for (const name of w.measures) {
      const uid = measureOwner.get(name);
      if (uid) deps.push(uid);
      else b.diags.error(new TsdbtError('measure-not-found', `${label} uses measure '${name}', which no semantic model defines`, { file: w.file, line: w.line, hint: `check the name${b.suggest(name, [...measureOwner.keys()])}; measures are declared under measures: of a semantic model` }));
    }
    for (const name of w.metrics) {
      const uid = metricByName.get(name);
      if (uid) deps.push(uid);
      else b.diags.error(new TsdbtError('metric-not-found', `${label} uses metric '${name}', which does not exist`, { file: w.file, line: w.line, hint: `check the name${b.suggest(name, [...metricByName.keys()])}; metrics are declared under metrics: in a properties file` }));
    }
    entry.depends_on.nodes = [...new Set(deps)].sort();
    if (entry.resource_type === 'metric') entry.metrics = w.metrics.map((n) => [n]);
  }
}
