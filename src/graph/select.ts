/**
 * Node selection: evaluates `--select` / `--exclude` (dbt's node selection
 * syntax, parsed by selector-parse.ts) against a Manifest and its lineage
 * graph. Mirrors dbt-core's `NodeSelector`: each criterion collects nodes by
 * its method, adds graph neighbours (`+`, `@`), then expands to tests
 * (indirect selection); unions and intersections combine those sets; the
 * exclusion (always expanded eagerly, as in dbt) is subtracted; finally only
 * runnable nodes of the requested resource types are kept.
 */
import { TsdbtError } from '../errors.ts';
import type { Manifest, ManifestNode, SourceDefinition } from '../parse/manifest.ts';
import type { Exposure, SemanticEntry } from '../parse/exposures.ts';
import type { LineageGraph } from './build-graph.ts';
import { closestNames } from '../closest-names.ts';
import { fnmatch, hasWildcard, pathGlobMatch } from './glob.ts';
import { parseSelector, type SelectorCriterion, type SelectorIntersection, type SelectorUnion } from './selector-parse.ts';
import { StateComparison, type ModifiedAspect } from './state.ts';
import { compareVersions, isLatestVersion } from '../parse/model-versions.ts';

/** dbt's `--indirect-selection` modes. */
export type IndirectSelection = 'eager' | 'cautious' | 'buildable' | 'empty';

/** A previous run's result for `result:<status>` selection (a run_results.json entry). */
export interface PreviousResult {
  readonly unique_id: string;
  readonly status: string;
}

export interface SelectOptions {
  /** `--select` arguments; each may hold several space-separated words. Empty/absent → everything. */
  readonly select?: readonly string[];
  /** `--exclude` arguments. */
  readonly exclude?: readonly string[];
  /** Final filter on resource type (`dbt run` → ['model'], `--resource-type`); absent → all. */
  readonly resourceTypes?: readonly string[];
  /** `--exclude-resource-type`: resource types removed at the end. */
  readonly excludeResourceTypes?: readonly string[];
  /** What an absent/empty `select` means. Only 'all' (dbt's default `fqn:* source:*`) exists. */
  readonly defaultSelect?: 'all';
  /** How tests attached to selected nodes are picked up (default 'eager'). */
  readonly indirectSelection?: IndirectSelection;
  /** The `--state` manifest, needed by `state:` selectors. */
  readonly state?: Manifest | null;
  /** The `--state` run results, needed by `result:` selectors. */
  readonly stateResults?: readonly PreviousResult[] | null;
  /**
   * For `source_status:fresher`: the sources.json results of `source
   * freshness` now (target/) and in the `--state` folder.
   */
  readonly sourceFreshness?: { readonly current: readonly FreshnessEntry[]; readonly previous: readonly FreshnessEntry[] } | null;
  /** Return selected sources too (`source freshness`); by default sources are selected for traversal only. */
  readonly includeSources?: boolean;
}

/** One sources.json result (runtime errors have no `max_loaded_at`). */
export interface FreshnessEntry {
  readonly unique_id: string;
  readonly max_loaded_at?: string;
}

/** A selection criterion that matched nothing: dbt warns (NoNodesForSelectionCriteria) and carries on. */
export interface SelectionWarning {
  readonly selector: string;
  readonly message: string;
  readonly hint?: string;
}

export interface SelectionResult {
  /** Selected unique_ids of `manifest.nodes` (never sources), sorted. */
  readonly selected: string[];
  readonly warnings: SelectionWarning[];
}

interface Bundle {
  direct: Set<string>;
  indirect: Set<string>;
}

type AnyNode = ManifestNode | SourceDefinition | Exposure;

/** A semantic model, metric or saved query from `manifest`, or undefined. */
function semanticOf(manifest: Manifest, id: string): SemanticEntry | undefined {
  return manifest.semantic_models?.[id] ?? manifest.metrics?.[id] ?? manifest.saved_queries?.[id];
}

class Selector {
  private readonly members: string[];
  private state: StateComparison | null = null;
  private resultsById: Map<string, string> | null = null;
  readonly warnings: SelectionWarning[] = [];

  constructor(
    private readonly manifest: Manifest,
    private readonly graph: LineageGraph,
    private readonly options: SelectOptions,
  ) {
    // dbt selects among enabled graph members: nodes and sources.
    this.members = graph.nodes().filter((id) => {
      const n = this.get(id);
      return n !== undefined && n.config?.enabled !== false;
    });
  }

  get(id: string): AnyNode | undefined {
    return this.manifest.nodes[id] ?? this.manifest.sources[id] ?? this.manifest.exposures?.[id] ?? (this.manifest.unit_tests?.[id] as unknown as ManifestNode | undefined) ?? (semanticOf(this.manifest, id) as unknown as Exposure | undefined);
  }

  // ---- graph traversal ----

  private walk(start: Iterable<string>, depth: number | null, up: boolean): Set<string> {
    const out = new Set<string>();
    let frontier = [...start];
    let level = 0;
    while (frontier.length > 0 && (depth === null || level < depth)) {
      const next: string[] = [];
      const visit = (n: string) => {
        if (!out.has(n)) {
          out.add(n);
          next.push(n);
        }
      };
      for (const id of frontier) {
        if (up) this.graph.forEachInNeighbor(id, visit);
        else this.graph.forEachOutNeighbor(id, visit);
      }
      frontier = next;
      level++;
    }
    return out;
  }

  ancestors(ids: Iterable<string>, depth: number | null = null): Set<string> {
    return this.walk(ids, depth, true);
  }

  descendants(ids: Iterable<string>, depth: number | null = null): Set<string> {
    return this.walk(ids, depth, false);
  }

  // ---- evaluation ----

  evaluateUnion(union: SelectorUnion, mode: IndirectSelection, expectExists: boolean): Bundle {
    const bundles = union.items.map((i) => this.evaluateIntersection(i, mode, expectExists));
    const direct = new Set<string>();
    const indirect = new Set<string>();
    for (const b of bundles) {
      for (const id of b.direct) direct.add(id);
      for (const id of b.direct) indirect.add(id);
      for (const id of b.indirect) indirect.add(id);
    }
    return { direct: this.incorporate(direct, indirect, mode), indirect };
  }

  private evaluateIntersection(inter: SelectorIntersection, mode: IndirectSelection, expectExists: boolean): Bundle {
    const bundles = inter.items.map((c) => this.evaluateCriterion(c, mode));
    const direct = intersect(bundles.map((b) => b.direct));
    const indirect = intersect(bundles.map((b) => new Set([...b.direct, ...b.indirect])));
    const result = this.incorporate(direct, indirect, mode);
    if (expectExists && result.size === 0) this.warnNoMatch(inter);
    return { direct: result, indirect };
  }

  private evaluateCriterion(c: SelectorCriterion, mode: IndirectSelection): Bundle {
    const collected = this.search(c);
    const selected = new Set(collected);
    if (c.childrensParents) {
      const down = this.descendants(collected);
      for (const id of collected) down.add(id);
      for (const id of down) selected.add(id);
      for (const id of this.ancestors(down)) selected.add(id);
    }
    if (c.parents) for (const id of this.ancestors(collected, c.parentsDepth)) selected.add(id);
    if (c.children) for (const id of this.descendants(collected, c.childrenDepth)) selected.add(id);
    return this.expandTests(selected, mode);
  }

  /** dbt's `expand_selection`: tests whose parents are selected. */
  private expandTests(selected: Set<string>, mode: IndirectSelection): Bundle {
    const direct = new Set(selected);
    const indirect = new Set<string>();
    if (mode === 'empty') return { direct, indirect };
    let buildable: Set<string> | null = null;
    const candidates = new Set<string>();
    for (const id of selected) this.graph.forEachOutNeighbor(id, (child) => candidates.add(child));
    for (const id of candidates) {
      if (direct.has(id)) continue;
      const node = this.manifest.nodes[id] ?? this.manifest.unit_tests?.[id];
      // dbt's can_select_indirectly: data tests and unit tests.
      if (!node || (node.resource_type !== 'test' && node.resource_type !== 'unit_test') || node.config?.enabled === false) continue;
      const parents = node.depends_on.nodes;
      if (mode === 'eager' || parents.every((p) => selected.has(p))) direct.add(id);
      else if (mode === 'buildable') {
        buildable ??= this.selectedAndParents(selected);
        if (parents.every((p) => buildable!.has(p))) direct.add(id);
        else indirect.add(id);
      } else indirect.add(id);
    }
    return { direct, indirect };
  }

  private selectedAndParents(selected: Set<string>): Set<string> {
    const s = new Set(selected);
    for (const id of this.ancestors(selected)) s.add(id);
    for (const id in this.manifest.sources) s.add(id);
    return s;
  }

  /** dbt's `incorporate_indirect_nodes`: add held-back tests whose parents all turned up. */
  private incorporate(direct: Set<string>, indirect: Set<string>, mode: IndirectSelection): Set<string> {
    if (mode !== 'cautious' && mode !== 'buildable') return direct;
    const out = new Set(direct);
    const pool = mode === 'buildable' ? this.selectedAndParents(direct) : direct;
    for (const id of indirect) {
      if (out.has(id)) continue;
      const node = this.manifest.nodes[id] ?? this.manifest.unit_tests?.[id];
      if (node && node.depends_on.nodes.every((p) => pool.has(p))) out.add(id);
    }
    return out;
  }

  private warnNoMatch(inter: SelectorIntersection): void {
    let hint: string | undefined;
    const only = inter.items.length === 1 ? inter.items[0]! : null;
    if (only && only.method === 'fqn' && !hasWildcard(only.value)) {
      const names = new Set<string>();
      for (const id in this.manifest.nodes) names.add(this.manifest.nodes[id]!.name);
      const near = closestNames(only.value, names);
      if (near.length) hint = `did you mean ${near.map((n) => `"${n}"`).join(', ')}?`;
    }
    if (!hint) hint = 'check the spelling, or list what a selector matches with `tsdbt ls --select ...`';
    this.warnings.push({
      selector: inter.raw,
      message: `The selection criterion '${inter.raw}' does not match any enabled nodes`,
      hint,
    });
  }

  // ---- methods ----

  private search(c: SelectorCriterion): Set<string> {
    const out = new Set<string>();
    const test = this.matcher(c);
    for (const id of this.members) {
      const node = this.get(id)!;
      if (test(id, node)) out.add(id);
    }
    return out;
  }

  private matcher(c: SelectorCriterion): (id: string, node: AnyNode) => boolean {
    const v = c.value;
    const isNode = (n: AnyNode): n is ManifestNode => n.resource_type !== 'source' && n.resource_type !== 'exposure';
    switch (c.method) {
      case 'fqn':
        return (_id, n) => n.resource_type !== 'source' && fqnMatches(n.fqn, v, n.name, isNode(n) && n.version !== undefined && n.version !== null);
      case 'tag':
        return (_id, n) => tagsOf(n).some((t) => fnmatch(t, v));
      case 'path': {
        const wanted = normalisePath(v);
        return (_id, n) => pathMatches(n.original_file_path, wanted);
      }
      case 'file':
        return (_id, n) => {
          const base = n.original_file_path.split('/').pop() ?? '';
          const stem = base.replace(/\.[^.]*$/, '');
          return fnmatch(base, v) || fnmatch(stem, v);
        };
      case 'source': {
        const parts = v.split('.');
        const [pkg, src, table] =
          parts.length === 3 ? parts : parts.length === 2 ? ['*', parts[0]!, parts[1]!] : ['*', parts[0]!, '*'];
        return (_id, n) =>
          n.resource_type === 'source' &&
          fnmatch(n.package_name, pkg!) &&
          fnmatch(n.source_name, src!) &&
          fnmatch(n.name, table!);
      }
      case 'package': {
        const pkg = v === 'this' ? this.manifest.metadata.project_name : v;
        return (_id, n) => fnmatch(n.package_name, pkg);
      }
      case 'config':
        return (_id, n) => configMatches(n.config as Record<string, unknown>, c.methodArgs, v);
      case 'resource_type':
        return (_id, n) => n.resource_type === v;
      case 'test_name':
        return (_id, n) => {
          if (!isNode(n) || n.resource_type !== 'test' || !n.test_metadata) return false;
          const md = n.test_metadata;
          return fnmatch(md.name, v) || (md.namespace !== null && fnmatch(`${md.namespace}.${md.name}`, v));
        };
      case 'test_type':
        return (_id, n) => {
          if ((n.resource_type as string) === 'unit_test') return v === 'unit';
          if (!isNode(n) || n.resource_type !== 'test') return false;
          const generic = n.test_metadata !== undefined && n.test_metadata !== null;
          if (v === 'generic' || v === 'schema') return generic;
          if (v === 'singular') return !generic;
          if (v === 'data') return true;
          return false;
        };
      case 'state': {
        const state = this.stateComparison(c);
        const [head, sub] = v.split('.') as [string, ModifiedAspect | undefined];
        if (head === 'new') return (id) => state.isNew(id);
        if (head === 'old') return (id) => !state.isNew(id);
        if (head === 'unmodified') return (id) => !state.isModified(id);
        return (id) => state.isModified(id, sub);
      }
      case 'result': {
        const results = this.previousResults(c);
        return (id) => results.get(id) === v;
      }
      case 'source_status': {
        const fresher = this.fresherSources(c);
        return (id) => v === 'fresher' && fresher.has(id);
      }
      case 'group':
        return (_id, n) => {
          const group = (n.config as { group?: unknown } | undefined)?.group;
          return typeof group === 'string' && fnmatch(group, v);
        };
      case 'access':
        return (_id, n) =>
          isNode(n) && n.resource_type === 'model' && String((n.config?.access as string | undefined) ?? 'protected') === v;
      case 'version': {
        // dbt's VersionSelectorMethod: latest, prerelease (newer than latest_version), old, none.
        if (!['latest', 'prerelease', 'old', 'none'].includes(v)) {
          throw new TsdbtError('bad-selector', `Invalid version type selector ${v}: expected one of: "latest", "prerelease", "old", or "none"`, {
            hint: 'e.g. --select version:latest',
          });
        }
        return (_id, n) => {
          if (!isNode(n) || n.resource_type !== 'model') return false;
          const version = n.version ?? null;
          const latest = n.latest_version ?? null;
          if (v === 'none') return version === null;
          if (v === 'latest') return isLatestVersion(n);
          if (!version || !latest) return false;
          const cmp = compareVersions(version, latest);
          return v === 'prerelease' ? cmp > 0 : cmp < 0;
        };
      }
      case 'exposure':
        // dbt's ExposureSelectorMethod: `exposure:name` or `exposure:pkg.name`.
        return (_id, n) => {
          if (n.resource_type !== 'exposure') return false;
          const parts = v.split('.');
          return parts.length === 2 ? fnmatch(n.package_name, parts[0]!) && fnmatch(n.name, parts[1]!) : fnmatch(n.name, v);
        };
      case 'metric':
      case 'semantic_model':
      case 'saved_query':
        // dbt's MetricSelectorMethod / SemanticModelSelectorMethod / SavedQuerySelectorMethod: `name` or `pkg.name`.
        return (_id, n) => {
          if ((n.resource_type as string) !== c.method) return false;
          const parts = v.split('.');
          return parts.length === 2 ? fnmatch(n.package_name, parts[0]!) && fnmatch(n.name, parts[1]!) : fnmatch(n.name, v);
        };
      case 'unit_test':
        // dbt's UnitTestSelectorMethod: by name, `package.name` (what `ls` prints), or fqn (package.folders.model.name), with wildcards.
        return (_id, n) =>
          (n.resource_type as string) === 'unit_test' && isNode(n) && (fnmatch(n.name, v) || fnmatch(`${n.package_name}.${n.name}`, v) || fqnMatches(n.fqn, v, n.name));
    }
  }

  private stateComparison(c: SelectorCriterion): StateComparison {
    if (this.state) return this.state;
    if (!this.options.state) {
      throw new TsdbtError('state-required', `The selector "${c.raw}" compares with a previous run, but no state was given`, {
        hint: 'pass --state <folder holding the manifest.json of the run to compare with> (e.g. a copy of a production target/)',
      });
    }
    this.state = new StateComparison(this.manifest, this.options.state);
    return this.state;
  }

  /**
   * Sources whose newest row is newer now than in the state's sources.json
   * (or new since), the current check not having failed — dbt's
   * SourceStatusSelectorMethod `fresher`.
   */
  private fresherSources(c: SelectorCriterion): Set<string> {
    const f = this.options.sourceFreshness;
    if (!f) {
      throw new TsdbtError('state-required', `The selector "${c.raw}" compares source freshness results, but there are none to compare`, {
        hint: 'run `tsdbt source freshness` (it writes target/sources.json) and pass --state <folder holding the sources.json of the previous check>',
      });
    }
    const at = (list: readonly FreshnessEntry[]) => new Map(list.filter((r) => r.max_loaded_at).map((r) => [r.unique_id, Date.parse(r.max_loaded_at!)]));
    // dbt drops the sources whose current check failed (its "previous" error set is read from the current results too).
    const failed = new Set(f.current.filter((r) => !r.max_loaded_at).map((r) => r.unique_id));
    const now = at(f.current);
    const before = at(f.previous);
    const out = new Set<string>();
    for (const [id, t] of now) if (!failed.has(id) && (!before.has(id) || t > before.get(id)!)) out.add(id);
    return out;
  }

  private previousResults(c: SelectorCriterion): Map<string, string> {
    if (this.resultsById) return this.resultsById;
    if (!this.options.stateResults) {
      throw new TsdbtError('state-required', `The selector "${c.raw}" uses the results of a previous run, but no state was given`, {
        hint: 'pass --state <folder holding the run_results.json of the run to compare with>',
      });
    }
    this.resultsById = new Map(this.options.stateResults.map((r) => [r.unique_id, r.status]));
    return this.resultsById;
  }
}

function intersect(sets: Set<string>[]): Set<string> {
  if (sets.length === 0) return new Set();
  const [first, ...rest] = [...sets].sort((a, b) => a.size - b.size);
  const out = new Set<string>();
  for (const id of first!) if (rest.every((s) => s.has(id))) out.add(id);
  return out;
}

function tagsOf(n: AnyNode): string[] {
  const cfgTags = n.config?.tags;
  if (!cfgTags || cfgTags.length === 0) return n.tags ?? [];
  return [...(n.tags ?? []), ...cfgTags];
}

/**
 * dbt's `is_selected_node`, applied to the fqn with and without the package:
 * exact node name; else the selector's dotted parts match a prefix of the
 * fqn (`staging` → everything under models/staging, `staging.stg_x`), and
 * from the first part holding a wildcard on, the rest of the fqn must match
 * by fnmatch (`staging.*`, `marts.core.fct_*`).
 *
 * Addition to dbt: a wildcard without dots (`stg_*`) also matches the node
 * name, so `--select "stg_*"` finds models in sub-folders too.
 */
export function fqnMatches(fqn: readonly string[], selector: string, name?: string, versioned = false): boolean {
  if (selector.indexOf('.') === -1 && hasWildcard(selector) && name !== undefined && fnmatch(name, selector)) return true;
  // A versioned model (fqn ends `m`, `v1`) is selected by `m`, `m.v1` and `m_v1`, as dbt's is_selected_node.
  if (versioned && fqn.length >= 2) {
    const [model, v] = fqn.slice(-2);
    if (model === selector || `${model}_${v}` === selector.split('.').slice(-2).join('_')) return true;
  }
  return fqnPrefixMatches(fqn, selector) || (fqn.length > 1 && fqnPrefixMatches(fqn.slice(1), selector));
}

function fqnPrefixMatches(fqn: readonly string[], selector: string): boolean {
  if (fqn.length > 0 && fqn[fqn.length - 1] === selector) return true;
  const flat = fqn.flatMap((s) => s.split('.'));
  const parts = selector.split('.');
  if (flat.length < parts.length) return false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (hasWildcard(part)) return fnmatch(flat.slice(i).join('.'), parts.slice(i).join('.'));
    if (flat[i] !== part) return false;
  }
  return true;
}

function normalisePath(p: string): string {
  let s = p.replace(/\\/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  s = s.replace(/\/+/g, '/');
  if (s.length > 1) s = s.replace(/\/$/, '');
  return s;
}

/** The file itself, or any folder above it, equals (or glob-matches) `wanted`. */
function pathMatches(file: string, wanted: string): boolean {
  if (wanted === '.' || wanted === '') return true;
  if (!hasWildcard(wanted)) return file === wanted || file.startsWith(wanted + '/');
  if (pathGlobMatch(file, wanted)) return true;
  let i = file.lastIndexOf('/');
  while (i > 0) {
    if (pathGlobMatch(file.slice(0, i), wanted)) return true;
    i = file.lastIndexOf('/', i - 1);
  }
  return false;
}

/** dbt's `ConfigSelectorMethod`: descend into config by the dotted keys, then compare. */
function configMatches(config: Record<string, unknown> | undefined, keys: readonly string[], wanted: string): boolean {
  let value: unknown = config;
  for (const k of keys) {
    if (value === null || typeof value !== 'object') return false;
    // dbt spells hooks `pre-hook`/`post-hook` in selectors; tsdbt keeps them with underscores.
    const obj = value as Record<string, unknown>;
    value = k in obj ? obj[k] : obj[k.replace(/-/g, '_')];
    if (value === undefined) return false;
  }
  const caseInsensitive = keys.length === 1 && keys[0] === 'severity';
  const same = (x: unknown): boolean => {
    if (typeof x === 'boolean') return wanted.toLowerCase() === String(x);
    if (typeof x === 'number') return wanted === String(x);
    if (typeof x === 'string') return caseInsensitive ? x.toLowerCase() === wanted.toLowerCase() : x === wanted;
    return false;
  };
  if (Array.isArray(value)) return value.some(same);
  return same(value);
}

/**
 * Evaluates `--select` / `--exclude` and returns the selected nodes with
 * any "matches nothing" warnings. See {@link selectNodes}.
 */
export function selectNodesDetailed(manifest: Manifest, graph: LineageGraph, options: SelectOptions = {}): SelectionResult {
  const includeAst: SelectorUnion | null = options.select && options.select.some((s) => s.trim() !== '') ? parseSelector(options.select) : null;
  const excludeAst: SelectorUnion | null = options.exclude && options.exclude.some((s) => s.trim() !== '') ? parseSelector(options.exclude) : null;
  return evaluateSelection(manifest, graph, includeAst, excludeAst, options);
}

/**
 * Evaluates already-parsed selectors (`parseSelector`). `include === null`
 * means the default selection (everything).
 */
export function evaluateSelection(
  manifest: Manifest,
  graph: LineageGraph,
  include: SelectorUnion | null,
  exclude: SelectorUnion | null,
  options: SelectOptions = {},
): SelectionResult {
  const mode = options.indirectSelection ?? 'eager';
  const sel = new Selector(manifest, graph, options);

  let included: Bundle;
  if (include === null) {
    const all = new Set<string>();
    graph.forEachNode((id) => {
      const n = sel.get(id);
      if (n && n.config?.enabled !== false) all.add(id);
    });
    included = { direct: all, indirect: new Set() };
  } else {
    included = sel.evaluateUnion(include, mode, true);
  }
  // dbt expands exclusions eagerly whatever the mode: excluding a model excludes its tests.
  const excluded = exclude ? sel.evaluateUnion(exclude, 'eager', true) : { direct: new Set<string>(), indirect: new Set<string>() };

  const types = options.resourceTypes && options.resourceTypes.length > 0 ? new Set(options.resourceTypes) : null;
  const dropTypes = new Set(options.excludeResourceTypes ?? []);
  const selected: string[] = [];
  for (const id of included.direct) {
    if (excluded.direct.has(id)) continue;
    // Exposures are listed (ls) when their type is asked for; never run.
    const semantic = semanticOf(manifest, id);
    const node = manifest.nodes[id] ?? manifest.unit_tests?.[id] ?? (types?.has('exposure') ? manifest.exposures?.[id] : undefined) ?? (semantic && types?.has(semantic.resource_type) ? semantic : undefined);
    if (!node) {
      // sources are selected for graph traversal only, unless asked for (source freshness)
      if (options.includeSources && manifest.sources[id] && (!types || types.has('source')) && !dropTypes.has('source')) selected.push(id);
      continue;
    }
    if (types && !types.has(node.resource_type)) continue;
    if (dropTypes.has(node.resource_type)) continue;
    selected.push(id);
  }
  selected.sort();
  return { selected, warnings: sel.warnings };
}

/**
 * Selects nodes as dbt's `--select` / `--exclude` / `--resource-type` do.
 *
 * - `select`: space-separated words are a union, `a,b` an intersection;
 *   each word is `[@][N+][method:]value[+N]` with methods fqn (default for
 *   bare names: node name, fqn path `staging.stg_x`, folder prefix,
 *   wildcards; a versioned model by `m` (every version), `m.v1` or `m_v1`), path (project-relative file or folder, globs), file, tag,
 *   config.<key>, resource_type, source, package, test_name, test_type,
 *   state (needs `options.state`), result (needs `options.stateResults`),
 *   group, access, version (`latest`, `prerelease`, `old`, `none`, as dbt's
 *   VersionSelectorMethod). Absent or empty → every node.
 * - `exclude`: same syntax, subtracted; tests of excluded nodes are
 *   excluded too (eager).
 * - Tests are added by indirect selection (default eager: a test is
 *   selected when any of its parents is).
 * - Sources can be selected (`source:raw+`) but are never returned.
 *
 * Returns the selected unique_ids of `manifest.nodes`, sorted. A selector
 * that matches nothing is not an error (as in dbt): its warning is pushed
 * to `warnings` when given. Throws TsdbtError `bad-selector` for malformed
 * selectors and `state-required` for `state:`/`result:` without state.
 *
 * @example selectNodes(manifest, graph, { select: ['+orders', 'tag:nightly,config.materialized:table'], exclude: ['stg_legacy'] })
 */
export function selectNodes(
  manifest: Manifest,
  graph: LineageGraph,
  options: SelectOptions = {},
  warnings?: SelectionWarning[],
): string[] {
  const r = selectNodesDetailed(manifest, graph, options);
  if (warnings) warnings.push(...r.warnings);
  return r.selected;
}
