/**
 * The Manifest: every node of a project after parsing, as plain data.
 *
 * Field names follow dbt's manifest v12 (`unique_id`, `resource_type`,
 * `depends_on`, `original_file_path`, …) so `target/manifest.json` is a
 * near-direct dump of this value.
 */
import type { NodeConfig } from '../config/types.ts';
import type { TestMetadata } from '../datatests/generic-test-name.ts';
import type { Exposure, SemanticEntry } from './exposures.ts';

export type ResourceType = 'model' | 'seed' | 'test' | 'snapshot' | 'analysis' | 'source' | 'operation' | 'unit_test';

export interface ColumnInfo {
  name: string;
  description: string;
  data_type?: string | null;
  meta: Record<string, unknown>;
  tags: string[];
  quote?: boolean | null;
  /** Column-level constraints (dbt's `ColumnLevelConstraint`), models only; see src/parse/contracts.ts. */
  constraints?: Constraint[];
}

/**
 * A constraint as dbt's `ColumnLevelConstraint` / `ModelLevelConstraint`: `type` one of
 * check, not_null, unique, primary_key, foreign_key, custom; `columns` for model-level ones.
 * `to` is written as `ref('m')` / `source('s', 't')` and becomes the relation's name after linking
 * (as dbt's compile resolves it).
 */
export interface Constraint {
  type: 'check' | 'not_null' | 'unique' | 'primary_key' | 'foreign_key' | 'custom';
  name: string | null;
  expression: string | null;
  warn_unenforced: boolean;
  warn_unsupported: boolean;
  to: string | null;
  to_columns: string[];
  columns?: string[];
}

/** A ref as written: `ref('m')` → `{ name: 'm' }`; `ref('pkg', 'm')` → `{ package: 'pkg', name: 'm' }`. */
export interface RefCall {
  name: string;
  package?: string | null;
  version?: string | number | null;
  /** 1-based line in the node's file where the call was made, when known. */
  line?: number;
}

/** For generic data tests: which test and with what arguments (dbt's `test_metadata`); defined with the test naming in src/datatests. */
export type { TestMetadata };

/** A model, seed, test, snapshot or analysis. */
export interface ManifestNode {
  unique_id: string;
  resource_type: Exclude<ResourceType, 'source'>;
  package_name: string;
  name: string;
  /** Path relative to its resource path (e.g. `staging/stg_sessions.sql` under `models/`). */
  path: string;
  /** Path relative to the project root (e.g. `models/staging/stg_sessions.sql`). */
  original_file_path: string;
  /** Absolute path on disk, not serialised into manifest.json. */
  abs_path?: string;
  fqn: string[];
  raw_code: string;
  language: 'sql';
  checksum: { name: 'sha256'; checksum: string };
  /** Fully resolved config: project file < properties < `config()` in the file. */
  config: NodeConfig;
  tags: string[];
  description: string;
  columns: Record<string, ColumnInfo>;
  meta: Record<string, unknown>;
  docs: { show: boolean; node_color?: string | null };
  /** Properties file that described this node, if any: `project_name://models/schema.yml`. */
  patch_path: string | null;
  database: string;
  schema: string;
  alias: string;
  /** `"schema"."alias"` (quoted, as dbt writes it); null for ephemeral models and tests. */
  relation_name: string | null;
  depends_on: { nodes: string[]; macros: string[] };
  refs: RefCall[];
  /** `[source_name, table_name]` pairs. */
  sources: [string, string][];
  /** Generic tests only. */
  test_metadata?: TestMetadata;
  column_name?: string | null;
  /** The node a generic test is attached to (dbt's `attached_node`). */
  attached_node?: string | null;
  /** Generic tests: the properties key they were declared under, e.g. `models.orders`, `sources.raw` (dbt's `file_key_name`). */
  file_key_name?: string | null;
  /** Versioned models (dbt's `versions:`): this node's version; absent/null when unversioned. */
  version?: string | number | null;
  /** Versioned models: the model's latest version (what an unversioned `ref()` resolves to). */
  latest_version?: string | number | null;
  /** Models: `deprecation_date` as an ISO date-time with offset (dbt's `normalize_date`), or null. */
  deprecation_date?: string | null;
  /** Models: model-level constraints (dbt's `constraints:` on the properties entry or version). */
  constraints?: Constraint[];
  /** For seeds: absolute path of the CSV (dbt: `root_path` + path). */
  seed_file?: string;
  /** Filled by compile. */
  compiled_code?: string;
  compiled_path?: string;
  /** Doc blocks / unrendered config etc. may be added; keep additions JSON-serialisable. */
  unrendered_config?: Record<string, unknown>;
  created_at: number;
}

export interface SourceDefinition {
  unique_id: string; // source.<project>.<source_name>.<table_name>
  resource_type: 'source';
  package_name: string;
  name: string;
  source_name: string;
  source_description: string;
  identifier: string;
  database: string;
  schema: string;
  relation_name: string;
  description: string;
  loader: string;
  loaded_at_field: string | null;
  /** dbt's FreshnessThreshold after inheritance (project < source < table); null when none. */
  freshness?: import('./source-freshness.ts').FreshnessThreshold | null;
  columns: Record<string, ColumnInfo>;
  meta: Record<string, unknown>;
  source_meta: Record<string, unknown>;
  tags: string[];
  config: NodeConfig;
  path: string;
  original_file_path: string;
  fqn: string[];
  patch_path: string | null;
  created_at: number;
}

export interface MacroArgument {
  name: string;
  type?: string | null;
  description?: string;
}

export interface Macro {
  unique_id: string; // macro.<package>.<name>
  name: string;
  package_name: string;
  path: string;
  original_file_path: string;
  macro_sql: string;
  depends_on: { macros: string[] };
  description: string;
  meta: Record<string, unknown>;
  arguments: MacroArgument[];
  created_at: number;
}

export interface Documentation {
  unique_id: string; // doc.<package>.<name>
  name: string;
  package_name: string;
  path: string;
  original_file_path: string;
  block_contents: string;
}

export interface ManifestMetadata {
  dbt_schema_version: string;
  dbt_version: string;
  generated_at: string;
  invocation_id: string;
  env: Record<string, string>;
  project_name: string;
  project_id?: string;
  adapter_type: string;
}

/** Everything a project defines, keyed by unique_id. */
export interface Manifest {
  metadata: ManifestMetadata;
  nodes: Record<string, ManifestNode>;
  sources: Record<string, SourceDefinition>;
  macros: Record<string, Macro>;
  docs: Record<string, Documentation>;
  /** Exposures (src/parse/exposures.ts), keyed `exposure.<pkg>.<name>`. */
  exposures: Record<string, Exposure>;
  /** Metrics (src/parse/semantic.ts), keyed `metric.<pkg>.<name>`. */
  metrics: Record<string, SemanticEntry>;
  groups: Record<string, unknown>;
  selectors: Record<string, unknown>;
  disabled: Record<string, unknown[]>;
  /** unique_id → the unique_ids it depends on (nodes and sources). */
  parent_map: Record<string, string[]>;
  /** unique_id → the unique_ids that depend on it. */
  child_map: Record<string, string[]>;
  group_map: Record<string, string[]>;
  /** Saved queries and semantic models (src/parse/semantic.ts), keyed `saved_query.<pkg>.<name>` / `semantic_model.<pkg>.<name>`. */
  saved_queries: Record<string, SemanticEntry>;
  semantic_models: Record<string, SemanticEntry>;
  /** Unit tests (dbt ≥ 1.8), keyed `unit_test.<project>.<model>.<name>`; see src/unittests. */
  unit_tests: Record<string, UnitTestDefinition>;
}

/** Where a unit test's rows come from (dbt's `UnitTestInputFixture` / `UnitTestOutputFixture`). */
export interface UnitTestFixture {
  /** Inputs only: `ref('m')`, `source('s', 't')` or `this`, as written. */
  input?: string;
  /**
   * dict and csv: the rows as dicts (csv read, empty cells null, as dbt); sql: the SQL text
   * (from `rows:` or the fixture file).
   */
  rows: Record<string, unknown>[] | string;
  format: 'dict' | 'csv' | 'sql';
  /** The fixture file's name (without extension) under `<test-path>/fixtures/`, when one was used. */
  fixture: string | null;
}

/**
 * A unit test (dbt's `UnitTestDefinition`, manifest v12 shape): the model it
 * tests (`depends_on.nodes[0]`), its given inputs, expected rows, overrides
 * and config. Not a node: it lives in `manifest.unit_tests`, is a child of its
 * model in the lineage graph, and runs by the unit test runner.
 */
export interface UnitTestDefinition {
  unique_id: string;
  resource_type: 'unit_test';
  package_name: string;
  name: string;
  /** The tested model's name, as written. */
  model: string;
  /** Properties file path relative to its resource path. */
  path: string;
  original_file_path: string;
  fqn: string[];
  description: string;
  given: UnitTestFixture[];
  expect: Omit<UnitTestFixture, 'input'>;
  overrides: { macros: Record<string, unknown>; vars: Record<string, unknown>; env_vars: Record<string, unknown> } | null;
  config: { tags: string[]; meta: Record<string, unknown>; enabled: boolean } & Record<string, unknown>;
  depends_on: { nodes: string[]; macros: string[] };
  /** The tested model's schema. */
  schema: string;
  tags: string[];
  /** sha256 of given, expect and overrides (dbt's `build_unit_test_checksum`; state:modified compares it). */
  checksum: string | null;
  versions: null;
  version: null;
  created_at: number;
  /** 1-based line of the entry in its properties file (not serialised). */
  line?: number;
}

/**
 * Makes `manifest` read-only after parse and linking (the parent/child maps
 * filled): the Manifest object, its node/source/macro maps and every node,
 * source and macro are frozen, so a later stage that tries to write into it
 * (compiled SQL, results) fails at once in strict-mode code instead of
 * changing what other stages read. Shallow per entry (a node's `config`
 * object itself is not frozen). Cost: one Object.freeze per entry (~1 ms for
 * 12,000 nodes). Returns `manifest`.
 */
export function freezeManifest(manifest: Manifest): Manifest {
  for (const map of [manifest.nodes, manifest.sources, manifest.macros] as Record<string, object>[]) {
    for (const id in map) Object.freeze(map[id]);
    Object.freeze(map);
  }
  return Object.freeze(manifest);
}
