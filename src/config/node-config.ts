/**
 * Node configs as dbt resolves them from a `models:` / `seeds:` / `tests:`
 * (`data_tests:`) / `snapshots:` / `sources:` tree in `dbt_project.yml`, and
 * dbt's merge rules for layering configs (project tree → properties file
 * `config:` → `{{ config() }}` in the file).
 *
 * Tree rules (dbt-core `_project_configs` + `fqn_search`):
 *  - the tree is searched along the node's fqn `[package, ...folders, name]`;
 *    keys at the top of the tree apply to every node, deeper keys override
 *    shallower ones;
 *  - a key with a `+` prefix is always a config;
 *  - a key without `+` whose value is not a mapping is a config;
 *  - a key without `+` whose value is a mapping is a folder — EXCEPT (a tsdbt
 *    kindness, dbt silently ignores these) a known dict-valued config
 *    (`meta`, `docs`, `persist_docs`, `grants`, `column_types`, `quoting`,
 *    `contract`, …) whose mapping holds no `+` keys and no config keys: that is
 *    read as the config.
 */
import { closest, distance } from 'fastest-levenshtein';
import { TsdbtError } from '../errors.ts';
import type { ConfigTree, NodeConfig } from './types.ts';
import { isPlainObject } from './yaml-file.ts';

/** Every config key dbt 1.x knows for models, seeds, snapshots, data tests and sources (Postgres adapter). */
export const KNOWN_CONFIG_KEYS: ReadonlySet<string> = new Set([
  // general
  'enabled', 'materialized', 'schema', 'alias', 'database', 'tags', 'meta', 'docs', 'persist_docs',
  'pre_hook', 'post_hook', 'grants', 'contract', 'constraints', 'quoting', 'sql_header', 'group', 'access',
  'full_refresh', 'packages', 'event_time', 'on_configuration_change', 'static_analysis',
  // incremental
  'unique_key', 'incremental_strategy', 'on_schema_change', 'incremental_predicates',
  'merge_update_columns', 'merge_exclude_columns', 'batch_size', 'begin', 'lookback', 'concurrent_batches',
  // seeds
  'column_types', 'quote_columns', 'delimiter',
  // data tests
  'severity', 'error_if', 'warn_if', 'where', 'limit', 'fail_calc', 'store_failures', 'store_failures_as',
  // snapshots
  'strategy', 'updated_at', 'check_cols', 'target_schema', 'target_database', 'invalidate_hard_deletes',
  'snapshot_meta_column_names', 'dbt_valid_to_current', 'hard_deletes',
  // postgres adapter
  'indexes', 'unlogged', 'query_timeout',
  // Citus distribution (src/config/dist-config.ts)
  'dist', 'colocate_with', 'shard_count',
  // other adapters' keys that appear in shared projects (accepted, ignored by tsdbt)
  'transient', 'copy_grants', 'cluster_by', 'partition_by',
  // sources
  'loaded_at_field', 'loaded_at_query', 'freshness', 'quote', 'identifier',
  // tsdbt: `validate: false` skips parsing the node's compiled SQL before the run (src/sql)
  'validate',
]);

/**
 * Dict-valued configs, with the keys their mapping may hold (`null`: any key).
 * Used to tell `meta: {owner: x}` (config) from a folder named `meta`.
 */
const DICT_CONFIGS: Record<string, ReadonlySet<string> | null> = {
  meta: null,
  column_types: null,
  grants: null,
  docs: new Set(['show', 'node_color']),
  persist_docs: new Set(['relation', 'columns']),
  quoting: new Set(['database', 'schema', 'identifier', 'column']),
  contract: new Set(['enforced', 'alias_types']),
  freshness: new Set(['warn_after', 'error_after', 'filter']),
  snapshot_meta_column_names: null,
};

/** Configs whose values append across levels (dbt MergeBehavior.Append). Tags are also de-duplicated. */
const APPEND_KEYS = new Set(['tags', 'pre_hook', 'post_hook', 'packages']);
/** Configs whose dicts are shallow-merged (dbt MergeBehavior.Update). */
const UPDATE_KEYS = new Set(['meta', 'persist_docs', 'column_types', 'quoting', 'docs', 'contract', 'snapshot_meta_column_names']);

const HOOK_ALIASES: Record<string, string> = { 'pre-hook': 'pre_hook', 'post-hook': 'post_hook' };

/** Where a config mapping was written, for warnings. Registered by the loaders. */
export interface ConfigLocation {
  /** Project-relative file. */
  readonly file?: string;
  /** Dotted path of the mapping, e.g. `models.jaffle_shop.staging`, or a description like `config()`. */
  readonly path?: string;
  /** 1-based line of each key of the mapping. */
  readonly keyLines?: Readonly<Record<string, number>>;
  /** Line of the mapping itself (used when a key's own line is unknown). */
  readonly line?: number;
}

const locations = new WeakMap<object, ConfigLocation>();

/** Records where a config mapping came from so warnings about it can name the file and line. */
export function setConfigLocation(mapping: object, loc: ConfigLocation): void {
  locations.set(mapping, loc);
}

/** The location registered for a config mapping, if any. */
export function getConfigLocation(mapping: object): ConfigLocation | undefined {
  return locations.get(mapping);
}

function listify(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? [...v] : [v];
}

/** Canonical config key: strips `+` and spaces, maps `pre-hook`/`post-hook` to `pre_hook`/`post_hook`. */
export function canonicalConfigKey(key: string): string {
  const k = key.replace(/^\+\s*/, '').trim();
  return HOOK_ALIASES[k] ?? k;
}

/** Suggestion for a misspelt config key, or undefined when nothing is close. */
export function suggestConfigKey(key: string): string | undefined {
  const k = key.replace(/-/g, '_');
  if (KNOWN_CONFIG_KEYS.has(k)) return k;
  const best = closest(k, [...KNOWN_CONFIG_KEYS]);
  const d = distance(k, best);
  return d <= Math.max(2, Math.floor(k.length / 3)) ? best : undefined;
}

function unknownKeyWarning(key: string, where: ConfigLocation | undefined, rawKey: string): TsdbtError {
  const suggestion = suggestConfigKey(key);
  const place = where?.path ? ` in ${where.path}` : '';
  const message = `unknown config key '${key}'${place}` + (suggestion ? `; did you mean '${suggestion}'?` : '');
  const hint = suggestion
    ? `rename it to '${suggestion}' (dbt keeps unknown keys as custom config, so a misspelt key silently does nothing)`
    : `if it is a custom setting for your own macros, put it under +meta instead (dbt keeps unknown keys but ignores them)`;
  return new TsdbtError('unknown-config-key', message, {
    kind: 'project',
    file: where?.file,
    line: where?.keyLines?.[rawKey] ?? where?.line,
    hint,
  });
}

/**
 * Normalises one config mapping as written (a `config:` block in a properties
 * file, the arguments of `{{ config() }}`, or the config keys of one tree
 * level): `+` prefixes stripped, `pre-hook`/`post-hook` → `pre_hook`/
 * `post_hook`, hooks and tags turned into lists. Unknown keys are kept (as dbt
 * does) and reported as `unknown-config-key` warnings with a suggestion.
 * `grants` privileges keep their `+` (it means "append" when merged).
 *
 * `where` names the file/line for warnings; by default the location
 * registered for `raw` (see {@link setConfigLocation}) is used.
 */
export function normalizeConfig(
  raw: Record<string, unknown>,
  where?: ConfigLocation,
): { config: NodeConfig; unknownKeys: TsdbtError[] } {
  const loc = where ?? locations.get(raw);
  const config: NodeConfig = {};
  const unknownKeys: TsdbtError[] = [];
  for (const [rawKey, value] of Object.entries(raw)) {
    const key = canonicalConfigKey(rawKey);
    if (!KNOWN_CONFIG_KEYS.has(key)) unknownKeys.push(unknownKeyWarning(key, loc, rawKey));
    if (key === 'tags') config.tags = listify(value).map(String);
    else if (key === 'pre_hook' || key === 'post_hook') config[key] = listify(value) as string[];
    else if (key === 'grants' && isPlainObject(value)) {
      const g: Record<string, string[]> = {};
      for (const [priv, grantees] of Object.entries(value)) g[priv] = listify(grantees).map(String);
      config.grants = g;
    } else config[key] = value;
  }
  return { config, unknownKeys };
}

function copyValue(v: unknown): unknown {
  if (Array.isArray(v)) return [...v];
  if (isPlainObject(v)) return { ...v };
  return v;
}

/**
 * Layers `override` on `base` with dbt's merge rules and returns a new config
 * (inputs are not changed):
 *  - `tags`: union, in order (dbt appends; duplicates dropped);
 *  - `pre_hook`, `post_hook`, `packages`: appended;
 *  - `meta`, `docs`, `persist_docs`, `column_types`, `quoting`, `contract`:
 *    shallow-merged dicts;
 *  - `grants`: per privilege — replaced, or appended when the privilege is
 *    written `+select`;
 *  - everything else: replaced (an explicit `null` replaces too).
 * Keys are expected canonical (see {@link normalizeConfig}).
 */
export function mergeConfig(base: NodeConfig, override: NodeConfig): NodeConfig {
  const out: NodeConfig = {};
  for (const [k, v] of Object.entries(base)) out[k] = copyValue(v);
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    if (APPEND_KEYS.has(k)) {
      const merged = [...listify(out[k]), ...listify(v)];
      out[k] = k === 'tags' ? [...new Set(merged.map(String))] : merged;
    } else if (k === 'grants') {
      const g: Record<string, string[]> = {};
      if (isPlainObject(out.grants)) for (const [p, list] of Object.entries(out.grants)) g[p.replace(/^\+/, '')] = listify(list).map(String);
      if (isPlainObject(v)) {
        for (const [p, list] of Object.entries(v)) {
          const append = p.startsWith('+');
          const priv = append ? p.slice(1) : p;
          g[priv] = append && g[priv] ? [...g[priv], ...listify(list).map(String)] : listify(list).map(String);
        }
      }
      out.grants = g;
    } else if (UPDATE_KEYS.has(k) && isPlainObject(v) && isPlainObject(out[k])) {
      out[k] = { ...(out[k] as Record<string, unknown>), ...v };
    } else {
      out[k] = copyValue(v);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Trees

interface TreeLevel {
  readonly own: NodeConfig;
  readonly unknown: readonly TsdbtError[];
  readonly children: Map<string, TreeLevel>;
  /** Memo: config merged from the root down to this level. */
  merged?: NodeConfig;
  /** Memo: unknown-key warnings of this level and its ancestors. */
  mergedUnknown?: readonly TsdbtError[];
}

const compiledTrees = new WeakMap<object, TreeLevel>();

/** True when a mapping under key `key` (written without `+`) is a folder rather than a dict config. */
function isFolder(key: string, value: Record<string, unknown>): boolean {
  if (!(key in DICT_CONFIGS)) return true;
  const allowed = DICT_CONFIGS[key];
  for (const k of Object.keys(value)) {
    if (k.startsWith('+')) return true;
    if (allowed && allowed.has(k)) continue;
    if (KNOWN_CONFIG_KEYS.has(canonicalConfigKey(k))) return true;
  }
  return false;
}

function compileLevel(map: Record<string, unknown>, path: string): TreeLevel {
  const configPart: Record<string, unknown> = {};
  const children = new Map<string, TreeLevel>();
  for (const [key, value] of Object.entries(map)) {
    if (!key.startsWith('+') && isPlainObject(value) && isFolder(key, value)) {
      children.set(key, compileLevel(value, `${path}.${key}`));
    } else {
      configPart[key] = value;
    }
  }
  const { config, unknownKeys } = normalizeConfig(configPart, locations.get(map) ?? { path });
  return { own: config, unknown: unknownKeys, children };
}

function compiledTree(tree: ConfigTree, rootPath: string): TreeLevel {
  let root = compiledTrees.get(tree);
  if (!root) {
    root = compileLevel(tree, locations.get(tree)?.path ?? rootPath);
    root.merged = mergeConfig({}, root.own);
    root.mergedUnknown = root.unknown;
    compiledTrees.set(tree, root);
  }
  return root;
}

/**
 * The config the project file's tree gives a node, merged from the top of
 * the tree down to the node's own entry (deeper wins; see {@link mergeConfig}).
 *
 * `projectName` is the node's package; `fqnPath` is its dbt fqn
 * `[package, ...folders, name]` (as in the manifest). If `fqnPath[0]` is not
 * `projectName`, the package name is prepended (so `[...folders, name]` works
 * too, unless the first folder is named like the package).
 *
 * `unknownKeys`: `unknown-config-key` warnings for the tree levels that apply
 * to this node. The same TsdbtError objects are returned for every node under
 * a level, so callers can de-duplicate by identity (or call
 * {@link checkConfigTree} once instead).
 *
 * Fast: the tree is compiled once per tree object and the merged config of
 * every level is memoised, so a call costs O(depth) plus one copy of the
 * result. Treat the tree as immutable after the first call.
 */
export function resolveNodeConfig(
  tree: ConfigTree,
  projectName: string,
  fqnPath: readonly string[],
): { config: NodeConfig; unknownKeys: readonly TsdbtError[] } {
  const root = compiledTree(tree ?? {}, 'config');
  const fqn = fqnPath[0] === projectName ? fqnPath : [projectName, ...fqnPath];
  let level = root;
  for (const seg of fqn) {
    const child = level.children.get(seg);
    if (!child) break;
    if (child.merged === undefined) {
      child.merged = mergeConfig(level.merged!, child.own);
      child.mergedUnknown = child.unknown.length ? [...level.mergedUnknown!, ...child.unknown] : level.mergedUnknown;
    }
    level = child;
  }
  return { config: mergeConfig({}, level.merged!), unknownKeys: level.mergedUnknown! };
}

/** Every `unknown-config-key` warning in a tree, once each. */
export function checkConfigTree(tree: ConfigTree): TsdbtError[] {
  const out: TsdbtError[] = [];
  const walk = (l: TreeLevel) => {
    out.push(...l.unknown);
    for (const c of l.children.values()) walk(c);
  };
  walk(compiledTree(tree ?? {}, 'config'));
  return out;
}

/**
 * dbt's "unused configuration paths" check: the dotted paths of tree levels
 * that hold config but match no node (usually a misspelt folder name).
 * `fqns` are the fqns of every node of this resource type. `prefix` is the
 * tree's name (`models`, `seeds`, …) used in the returned paths.
 */
export function unusedConfigPaths(tree: ConfigTree, fqns: Iterable<readonly string[]>, prefix = 'models'): string[] {
  const used = new Set<string>();
  for (const fqn of fqns) {
    let p = '';
    for (const seg of fqn) {
      p += '\u0000' + seg;
      used.add(p);
    }
  }
  const out: string[] = [];
  const walk = (l: TreeLevel, key: string, dotted: string) => {
    for (const [name, child] of l.children) {
      const k = key + '\u0000' + name;
      const d = `${dotted}.${name}`;
      if (!used.has(k) && Object.keys(child.own).length > 0) out.push(d);
      walk(child, k, d);
    }
  };
  walk(compiledTree(tree ?? {}, prefix), '', prefix);
  return out;
}
