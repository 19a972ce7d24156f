/**
 * Normalised project configuration: what `dbt_project.yml`, `profiles.yml`
 * and the properties (.yml) files say, after defaults are applied.
 * Plain, readonly, JSON-serialisable data.
 */

/** Node config keys as dbt spells them (after `+` prefixes are stripped). Unknown keys are kept. */
export interface NodeConfig {
  enabled?: boolean;
  materialized?: string;
  schema?: string | null;
  alias?: string | null;
  database?: string | null;
  tags?: string[];
  meta?: Record<string, unknown>;
  unique_key?: string | string[] | null;
  incremental_strategy?: 'append' | 'delete+insert' | 'merge' | string | null;
  on_schema_change?: 'ignore' | 'append_new_columns' | 'sync_all_columns' | 'fail' | string;
  full_refresh?: boolean | null;
  column_types?: Record<string, string>;
  quote_columns?: boolean | null;
  delimiter?: string;
  pre_hook?: string[];
  post_hook?: string[];
  grants?: Record<string, string[]>;
  // data tests
  severity?: 'error' | 'warn' | string;
  error_if?: string;
  warn_if?: string;
  where?: string | null;
  limit?: number | null;
  fail_calc?: string;
  store_failures?: boolean | null;
  [key: string]: unknown;
}

/** The `models:`/`seeds:`/`tests:`/`snapshots:`/`sources:` config tree, as written (nested by project then folder). */
export type ConfigTree = Record<string, unknown>;

/** `dbt_project.yml`, normalised. Paths are relative to `root`. */
export interface ProjectConfig {
  /** Absolute path of the project directory. */
  readonly root: string;
  readonly name: string;
  readonly version?: string;
  readonly configVersion?: number;
  /** Profile name to look up in profiles.yml. */
  readonly profile?: string;
  readonly modelPaths: readonly string[];
  readonly seedPaths: readonly string[];
  readonly testPaths: readonly string[];
  readonly macroPaths: readonly string[];
  readonly snapshotPaths: readonly string[];
  readonly analysisPaths: readonly string[];
  readonly docsPaths: readonly string[];
  readonly targetPath: string;
  readonly cleanTargets: readonly string[];
  /** `vars:` as written (global keys and per-project nested keys). */
  readonly vars: Record<string, unknown>;
  readonly models: ConfigTree;
  readonly seeds: ConfigTree;
  readonly tests: ConfigTree;
  readonly snapshots: ConfigTree;
  readonly sources: ConfigTree;
  /** `unit_tests:` config tree (`+tags`, `+meta`, `+enabled` by project and folder). */
  readonly unitTests?: ConfigTree;
  /** Project-relative path of the project file (`dbt_project.yml`). */
  readonly file: string;
  /** `packages-install-path` (default `dbt_packages`). */
  readonly packagesInstallPath?: string;
  /** `log-path` (default `logs`). */
  readonly logPath?: string;
  readonly assetPaths?: readonly string[];
  /** `on-run-start` / `on-run-end` hooks as written (unrendered; a string becomes a one-item list). */
  readonly onRunStart?: readonly string[];
  readonly onRunEnd?: readonly string[];
  readonly requireDbtVersion?: string | readonly string[];
  /** 1-based line of `require-dbt-version` in dbt_project.yml (for messages). */
  readonly requireDbtVersionLine?: number;
  /** `restrict-access: true`: this project's protected models may not be referenced from other packages (dbt's group/access rules). */
  readonly restrictAccess?: boolean;
  /** Project-level `quoting:` (database/schema/identifier). */
  readonly quoting?: Record<string, unknown>;
  /** `dispatch:` entries as written. */
  readonly dispatch?: readonly { macro_namespace: string; search_order: string[] }[];
  /** `query-comment:` as written (unrendered). */
  readonly queryComment?: string | Record<string, unknown> | null;
  /** `flags:` as written. */
  readonly flags?: Record<string, unknown>;
  /**
   * Problems that do not stop the load (unknown top-level keys, pre-1.0 key
   * names), as TsdbtError with file/line; print with `.format()`.
   */
  readonly warnings?: readonly import('../errors.ts').TsdbtError[];
}

/** One output of a profile (a `target`). Secrets stay in memory only; never serialise this whole. */
export interface TargetConfig {
  readonly name: string;
  readonly profileName: string;
  readonly type: 'postgres' | 'pglite';
  readonly schema: string;
  readonly threads: number;
  // postgres
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly dbname?: string;
  readonly sslmode?: string;
  readonly connect_timeout?: number;
  readonly search_path?: string;
  readonly retries?: number;
  readonly keepalives_idle?: number;
  readonly role?: string;
  // pglite
  /** Absolute path of the PGlite data directory (default `<project>/.tsdbt/pglite/<target>`). */
  readonly dataDir?: string;
  /** Every other key, as written. */
  readonly extra: Record<string, unknown>;
  /** Where this target came from: the profiles.yml path, or 'embedded default'. */
  readonly source: string;
}

/** A column in a properties file. */
export interface ColumnProperties {
  readonly name: string;
  readonly description?: string;
  readonly data_type?: string;
  readonly quote?: boolean;
  readonly meta?: Record<string, unknown>;
  readonly tags?: string[];
  /** `tests:` / `data_tests:` entries exactly as written (string or one-key object). */
  readonly tests: readonly unknown[];
  /** 1-based line of the column's entry. */
  readonly line?: number;
  /** `constraints:` and `config:` as written. */
  readonly constraints?: unknown;
  readonly config?: unknown;
}

/**
 * One item of a model's `versions:` list (dbt's `UnparsedVersion`): `v`, where it is
 * defined (`defined_in`, default `<model>_v<v>`), and what it overrides of the model entry.
 */
export interface ModelVersionProperties {
  /** The version identifier as written: a number (`2`, `1.5`) or a string. */
  readonly v: string | number;
  /** File name (without extension) of the version's model: `defined_in:`. */
  readonly defined_in?: string;
  readonly description?: string;
  readonly config?: NodeConfig;
  readonly docs?: { show?: boolean; node_color?: string };
  readonly access?: string;
  /** The version's own model-level `constraints:` as written (replace the model entry's, as dbt's versions). */
  readonly constraints?: unknown;
  /** The version's own `tests:` / `data_tests:`; undefined: the model's tests apply (as dbt). */
  readonly tests?: readonly unknown[];
  /** Which of the model's columns the version inherits: `include` (`'*'`, `'all'` or names) minus `exclude`. Default all. */
  readonly include: '*' | 'all' | readonly string[];
  readonly exclude: readonly string[];
  /** The version's own column entries (added after the inherited ones; a same-named one replaces it). */
  readonly columns: readonly ColumnProperties[];
  /** `deprecation_date:` as written (a date or date-time string). */
  readonly deprecation_date?: string;
  readonly line: number;
}

/** A `models:`/`seeds:`/`snapshots:` entry in a properties file. */
export interface NodeProperties {
  readonly name: string;
  readonly description?: string;
  readonly config?: NodeConfig;
  readonly columns: readonly ColumnProperties[];
  readonly tests: readonly unknown[];
  readonly docs?: { show?: boolean; node_color?: string };
  readonly meta?: Record<string, unknown>;
  /** Top-level `tags:` of the entry (dbt merges them into config.tags). */
  readonly tags?: string[];
  /** Model versions (dbt's `versions:`), read and checked; absent when the entry has none. */
  readonly versions?: readonly ModelVersionProperties[];
  /** `latest_version:` as written (a number or a string); checked to be one of `versions`. */
  readonly latest_version?: string | number;
  /** Written as is, for later stages: access, group, model constraints. */
  readonly access?: string;
  readonly group?: string;
  readonly constraints?: unknown;
  readonly deprecation_date?: unknown;
  /** YAML-defined snapshots (dbt 1.9): `relation: ref('x')` as written. */
  readonly relation?: string;
  /** Project-relative path of the .yml file and the 1-based line of the entry. */
  readonly file: string;
  readonly line: number;
}

export interface SourceTableProperties {
  readonly name: string;
  readonly identifier?: string;
  readonly description?: string;
  readonly config?: NodeConfig;
  readonly columns: readonly ColumnProperties[];
  readonly tests: readonly unknown[];
  readonly loaded_at_field?: string;
  /** `freshness:` as written; null when written `freshness: null` (switches the source's off), absent when not written. */
  readonly freshness?: unknown;
  readonly meta?: Record<string, unknown>;
  readonly tags?: string[];
  readonly quoting?: unknown;
  readonly line: number;
}

export interface SourceProperties {
  readonly name: string;
  readonly database?: string;
  readonly schema?: string;
  readonly description?: string;
  readonly config?: NodeConfig;
  readonly loader?: string;
  /** Source-level `loaded_at_field` and `freshness` (defaults for its tables, as dbt). */
  readonly loaded_at_field?: string;
  readonly freshness?: unknown;
  readonly meta?: Record<string, unknown>;
  readonly tags?: string[];
  readonly tables: readonly SourceTableProperties[];
  /** `quoting:` and (package sources) `overrides:` as written. */
  readonly quoting?: unknown;
  readonly overrides?: string;
  readonly file: string;
  readonly line: number;
}

/** Everything the properties (.yml) files under model/seed/snapshot/analysis paths declare. */
export interface Properties {
  readonly models: readonly NodeProperties[];
  readonly seeds: readonly NodeProperties[];
  readonly snapshots: readonly NodeProperties[];
  readonly sources: readonly SourceProperties[];
  /** Project-relative paths of every properties file read. */
  readonly files: readonly string[];
  /** `analyses:` entries (under analysis-paths). */
  readonly analyses?: readonly NodeProperties[];
  /** Non-fatal problems (unknown keys), as TsdbtError with file/line. */
  readonly warnings?: readonly import('../errors.ts').TsdbtError[];
  /** `unit_tests:` entries as written (validated by src/unittests/parse-unit-tests.ts). */
  readonly unitTests?: readonly UnitTestProperties[];
  /**
   * `exposures:`, `groups:`, `semantic_models:`, `metrics:`, `saved_queries:` entries as written (each a
   * mapping with a name), with their file and line; checked and turned into manifest entries by
   * src/parse/exposures.ts and src/parse/groups.ts.
   */
  readonly extras?: Readonly<Record<ExtraResourceKey, readonly ExtraEntry[]>>;
}

/** One `unit_tests:` entry of a properties file, as written, with where it is (dbt ≥ 1.8). */
export interface UnitTestProperties {
  /** The YAML mapping as written. */
  readonly entry: Record<string, unknown>;
  /** Project-relative properties file. */
  readonly file: string;
  /** 1-based line of the entry. */
  readonly line: number;
  /** 1-based line of each `given:` item (same order), when known. */
  readonly givenLines: readonly (number | undefined)[];
  /** 1-based line of `expect:`, when known. */
  readonly expectLine?: number;
}

/** Top-level properties keys read as whole entries (see {@link Properties.extras}). */
export type ExtraResourceKey = 'exposures' | 'groups' | 'semantic_models' | 'metrics' | 'saved_queries';

/** One `exposures:` / `groups:` / … entry as written: its mapping, file and 1-based line, and the lines of its keys. */
export interface ExtraEntry {
  readonly name: string;
  readonly data: Record<string, unknown>;
  readonly file: string;
  readonly line: number;
  /** 1-based line of each key of the entry (e.g. `depends_on`), for messages. */
  readonly keyLines: Record<string, number>;
}
