/**
 * `state:` selection: compares the current Manifest with a previous one
 * (`--state path/to/target`), as dbt's `StateSelectorMethod` does.
 */
import type { Manifest, ManifestNode, SourceDefinition } from '../parse/manifest.ts';
import type { Exposure } from '../parse/exposures.ts';

/** Which kinds of change `state:modified.<sub>` looks at; `state:modified` is all of them. */
export type ModifiedAspect = 'body' | 'configs' | 'relation' | 'persisted_descriptions' | 'macros' | 'contract';

/** JSON with object keys sorted, so equal values give equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

const RELATION_KEYS = ['database', 'schema', 'alias'] as const;

/** Config keys dbt leaves out of `same_config` (CompareBehavior.Exclude on NodeAndTestConfig): relation keys, tags, group. */
const CONFIG_EXCLUDED = new Set<string>([...RELATION_KEYS, 'tags', 'group']);

/** The only config keys dbt's TestConfig.same_contents compares for a data test. */
const TEST_CONFIG_KEYS = ['severity', 'where', 'limit', 'fail_calc', 'warn_if', 'error_if', 'store_failures', 'store_failures_as', 'sql_header'];

/** Materializations that create constraints (dbt's `materialization_enforces_constraints`). */
const CONSTRAINT_MATERIALIZATIONS = new Set(['table', 'incremental']);

/**
 * The resolved config (hooks, tags, materialization, …). dbt compares
 * unrendered configs so that values rendered from `target` do not count as
 * changes; tsdbt's `unrendered_config` holds only the file's `config()` call,
 * so the resolved config is compared instead (a config that renders
 * differently per target shows as modified).
 */
function comparableConfig(node: { config?: unknown }): Record<string, unknown> {
  return (node.config ?? {}) as Record<string, unknown>;
}

/** dbt's `same_database_representation`: the configured database, schema and alias (not the generated names). */
function relationOf(node: ManifestNode): string {
  const cfg = comparableConfig(node);
  return stableStringify(RELATION_KEYS.map((k) => cfg[k] ?? null));
}

/** dbt's `same_config`: every config key but the excluded ones; for a data test only TestConfig's modifiers. */
function configOf(node: ManifestNode): string {
  const cfg = comparableConfig(node);
  if (node.resource_type === 'test') return stableStringify(TEST_CONFIG_KEYS.map((k) => cfg[k] ?? null));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (!CONFIG_EXCLUDED.has(k)) out[k] = v;
  return stableStringify(out);
}

/** dbt's `same_body`: the raw SQL; for a seed (`same_seeds`) the file checksum. */
function sameBody(node: ManifestNode, old: ManifestNode): boolean {
  if (node.resource_type === 'seed' || typeof node.raw_code !== 'string' || typeof old.raw_code !== 'string') return node.checksum?.checksum === old.checksum?.checksum;
  return node.raw_code === old.raw_code;
}

/**
 * dbt's `same_persisted_description`: the node's description only when
 * `persist_docs.relation` is on, its columns' descriptions only when
 * `persist_docs.columns` is on (a change of persist_docs itself is a config change).
 */
function samePersistedDescription(node: ManifestNode, old: ManifestNode): boolean {
  const persist = (comparableConfig(node).persist_docs ?? {}) as { relation?: unknown; columns?: unknown };
  if (persist.relation && node.description !== old.description) return false;
  if (persist.columns) {
    const cols = (n: ManifestNode) => stableStringify(Object.fromEntries(Object.entries(n.columns ?? {}).map(([k, c]) => [k, c.description ?? ''])));
    if (cols(node) !== cols(old)) return false;
  }
  return true;
}

function contractEnforced(node: ManifestNode): boolean {
  return (comparableConfig(node).contract as { enforced?: boolean } | undefined)?.enforced === true;
}

/**
 * dbt's contract checksum (ModelNode.build_contract_checksum): the columns
 * sorted by name with their data_type and constraints, plus the
 * materialization and model-level constraints when it enforces constraints.
 */
function contractChecksum(node: ManifestNode): string {
  const cols = Object.values(node.columns ?? {})
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((c) => [c.name, c.data_type ?? null, (c as { constraints?: unknown }).constraints ?? []]);
  const mat = String(comparableConfig(node).materialized ?? '');
  return stableStringify(CONSTRAINT_MATERIALIZATIONS.has(mat) ? [cols, mat, node.constraints ?? []] : [cols]);
}

/**
 * dbt's ModelNode.same_contract: unchanged when neither side enforces a
 * contract, or both do with the same checksum; any other difference is a
 * change. Only models have contracts (dbt's ParsedNode.same_contract is true).
 */
function sameContract(node: ManifestNode, old: ManifestNode): boolean {
  if (node.resource_type !== 'model') return true;
  const was = contractEnforced(old);
  const is = contractEnforced(node);
  if (!was && !is) return true;
  if (was !== is) return false;
  return contractChecksum(node) === contractChecksum(old);
}

/** dbt's ModelNode.same_ref_representation: latest_version, access and deprecation_date. */
function sameRefRepresentation(node: ManifestNode, old: ManifestNode): boolean {
  const access = (n: ManifestNode) => comparableConfig(n).access ?? (n as { access?: unknown }).access ?? 'protected';
  return (node.latest_version ?? null) === (old.latest_version ?? null) && access(node) === access(old) && (node.deprecation_date ?? null) === (old.deprecation_date ?? null);
}

function sameFqn(a: { fqn?: readonly string[] }, b: { fqn?: readonly string[] }): boolean {
  return stableStringify(a.fqn ?? []) === stableStringify(b.fqn ?? []);
}

/** dbt's SourceDefinition.same_config: its config, metadata (tags, meta) not counting. */
function sourceConfig(s: SourceDefinition): string {
  const { tags: _t, meta: _m, ...rest } = comparableConfig(s);
  return stableStringify(rest);
}

/** dbt's SourceDefinition.same_database_representation: database, schema and identifier. */
function sourceRelation(s: SourceDefinition): string {
  return stableStringify([s.database, s.schema, s.identifier]);
}

/**
 * dbt's SourceDefinition.same_contents: relation, fqn, config, quoting,
 * freshness (with loaded_at_field) and external; descriptions, meta and tags
 * are not changes.
 */
function sameSource(s: SourceDefinition, old: SourceDefinition): boolean {
  const extra = (x: SourceDefinition) => {
    const r = x as unknown as Record<string, unknown>;
    return stableStringify([r.quoting ?? null, x.freshness ?? null, x.loaded_at_field ?? null, r.external ?? null]);
  };
  return sourceRelation(s) === sourceRelation(old) && sameFqn(s, old) && sourceConfig(s) === sourceConfig(old) && extra(s) === extra(old);
}

/** dbt's Exposure.same_contents: fqn, type, owner, maturity, url, description, label, parents (as a set) and config. */
function sameExposure(e: Exposure, old: Exposure): boolean {
  const shape = (x: Exposure) =>
    stableStringify({
      fqn: x.fqn,
      type: x.type,
      owner: x.owner,
      maturity: x.maturity ?? null,
      url: x.url ?? null,
      description: x.description ?? '',
      label: x.label ?? null,
      nodes: [...(x.depends_on?.nodes ?? [])].sort(),
      config: x.config,
    });
  return shape(e) === shape(old);
}

/** Evaluates `state:` values against a previous manifest; computes macro changes once. */
export class StateComparison {
  private modifiedMacros: Set<string> | null = null;
  private readonly macroMemo = new Map<string, boolean>();

  constructor(
    private readonly current: Manifest,
    private readonly previous: Manifest,
  ) {}

  /** True when `uniqueId` did not exist (as a node, source, exposure or unit test) in the previous manifest. */
  isNew(uniqueId: string): boolean {
    return (
      !(uniqueId in this.previous.nodes) &&
      !(uniqueId in this.previous.sources) &&
      !(uniqueId in (this.previous.unit_tests ?? {})) &&
      !(uniqueId in (this.previous.exposures ?? {}))
    );
  }

  /**
   * dbt's StateSelectorMethod: with no `aspect`, `state:modified` — new, or
   * not `same_contents` (body, config, persisted descriptions, fqn, relation,
   * contract; for models also latest_version/access/deprecation_date), or
   * calling a modified macro (directly or through other macros), or a
   * contract change. With an aspect, `state:modified.<aspect>` — one of
   * dbt's same_* checks (new nodes count; a resource type without that
   * check is never selected, as in dbt):
   * - body: raw SQL (a seed's checksum);
   * - configs: config without database/schema/alias/tags/group (tests: severity, where, limit, …);
   * - relation: the configured database/schema/alias (sources: database, schema, identifier);
   * - persisted_descriptions: descriptions that persist_docs writes to the database;
   * - macros: a macro in `depends_on.macros`, or one they call, changed, added or removed;
   * - contract: an enforced contract's columns, types and constraints (models).
   */
  isModified(uniqueId: string, aspect?: ModifiedAspect): boolean {
    const all = aspect === undefined;
    const node = this.current.nodes[uniqueId];
    if (node) {
      const old = this.previous.nodes[uniqueId];
      if (aspect === 'macros') return this.usesModifiedMacro(node.depends_on?.macros ?? []);
      if (!old) return true;
      if (aspect === 'body') return !sameBody(node, old);
      if (aspect === 'configs') return configOf(node) !== configOf(old);
      if (aspect === 'relation') return relationOf(node) !== relationOf(old);
      if (aspect === 'persisted_descriptions') return !samePersistedDescription(node, old);
      if (aspect === 'contract') return !sameContract(node, old);
      let same: boolean;
      if (node.resource_type === 'test' && node.test_metadata) same = configOf(node) === configOf(old) && sameFqn(node, old);
      else {
        same =
          sameBody(node, old) &&
          configOf(node) === configOf(old) &&
          samePersistedDescription(node, old) &&
          sameFqn(node, old) &&
          relationOf(node) === relationOf(old) &&
          sameContract(node, old) &&
          (node.resource_type !== 'model' || sameRefRepresentation(node, old));
      }
      return !same || this.usesModifiedMacro(node.depends_on?.macros ?? []);
    }
    const unitTest = this.current.unit_tests?.[uniqueId];
    if (unitTest) {
      // dbt's UnitTestDefinition.same_contents: the checksum (given, expect, overrides); it has no same_* for the sub-selectors.
      const old = this.previous.unit_tests?.[uniqueId];
      if (all) return !old || unitTest.checksum !== old.checksum;
      return false;
    }
    const source = this.current.sources[uniqueId];
    if (source) {
      const old = this.previous.sources[uniqueId];
      // dbt's SourceDefinition.same_contents(None) is true: a new source is not `state:modified` (it is `state:new`).
      if (all) return old !== undefined && !sameSource(source, old);
      if (aspect === 'configs') return !old || sourceConfig(source) !== sourceConfig(old);
      if (aspect === 'relation') return !old || sourceRelation(source) !== sourceRelation(old);
      return false;
    }
    const exposure = this.current.exposures?.[uniqueId];
    if (exposure) {
      const old = this.previous.exposures?.[uniqueId];
      if (all) return old !== undefined && !sameExposure(exposure, old); // as sources: dbt's same_contents(None) is true
      if (aspect === 'configs') return !old || stableStringify(exposure.config) !== stableStringify(old.config);
      return false;
    }
    return false;
  }

  private macrosModified(): Set<string> {
    if (this.modifiedMacros) return this.modifiedMacros;
    const changed = new Set<string>();
    const oldMacros = this.previous.macros ?? {};
    const newMacros = this.current.macros ?? {};
    for (const [id, m] of Object.entries(newMacros)) {
      const old = oldMacros[id];
      if (!old || old.macro_sql !== m.macro_sql) changed.add(id);
    }
    for (const id of Object.keys(oldMacros)) if (!(id in newMacros)) changed.add(id);
    this.modifiedMacros = changed;
    return changed;
  }

  private usesModifiedMacro(macros: readonly string[]): boolean {
    const changed = this.macrosModified();
    if (changed.size === 0) return false;
    // Iterative walk through macro dependencies, memoised per macro.
    for (const start of macros) {
      const memo = this.macroMemo.get(start);
      if (memo !== undefined) {
        if (memo) return true;
        continue;
      }
      const seen = new Set<string>([start]);
      const stack = [start];
      let hit = false;
      while (stack.length > 0 && !hit) {
        const id = stack.pop()!;
        if (changed.has(id) || this.macroMemo.get(id) === true) hit = true;
        else {
          for (const dep of this.current.macros[id]?.depends_on.macros ?? []) {
            if (!seen.has(dep)) {
              seen.add(dep);
              stack.push(dep);
            }
          }
        }
      }
      this.macroMemo.set(start, hit);
      if (hit) return true;
    }
    return false;
  }
}
