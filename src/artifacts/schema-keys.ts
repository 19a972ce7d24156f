/**
 * Which properties dbt's published artifact schemas allow on each object
 * (manifest v12 sets `additionalProperties: false` on nodes, sources, macros
 * and docs), so anything tsdbt keeps only in memory (`abs_path`,
 * `seed_file`, a ref's `line`) is left out of manifest.json.
 * Field names taken from https://schemas.getdbt.com/dbt/manifest/v12.json.
 */

export const MANIFEST_SCHEMA_VERSION = 'https://schemas.getdbt.com/dbt/manifest/v12.json';
export const RUN_RESULTS_SCHEMA_VERSION = 'https://schemas.getdbt.com/dbt/run-results/v6.json';

/** Properties every node type (Seed, Model, tests, Snapshot, Analysis, HookNode) allows. */
const COMMON_NODE_KEYS = [
  'database',
  'schema',
  'name',
  'resource_type',
  'package_name',
  'path',
  'original_file_path',
  'unique_id',
  'fqn',
  'alias',
  'checksum',
  'config',
  'tags',
  'description',
  'columns',
  'meta',
  'group',
  'docs',
  'patch_path',
  'build_path',
  'unrendered_config',
  'created_at',
  'config_call_dict',
  'unrendered_config_call_dict',
  'relation_name',
  'raw_code',
  'doc_blocks',
  'depends_on',
] as const;

/** Properties of nodes that hold code dbt compiles (every type but Seed). */
const COMPILED_NODE_KEYS = [
  'language',
  'refs',
  'sources',
  'metrics',
  'functions',
  'compiled_path',
  'compiled',
  'compiled_code',
  'extra_ctes_injected',
  'extra_ctes',
  '_pre_injected_sql',
  'contract',
] as const;

/** Schema title → allowed property names. */
export const NODE_KEYS: Record<'Seed' | 'Model' | 'GenericTest' | 'SingularTest' | 'Snapshot' | 'Analysis' | 'HookNode', readonly string[]> = {
  Seed: [...COMMON_NODE_KEYS, 'root_path', 'defer_relation'],
  Model: [
    ...COMMON_NODE_KEYS,
    ...COMPILED_NODE_KEYS,
    'access',
    'constraints',
    'version',
    'latest_version',
    'deprecation_date',
    'defer_relation',
    'primary_key',
    'time_spine',
  ],
  GenericTest: [...COMMON_NODE_KEYS, ...COMPILED_NODE_KEYS, 'column_name', 'file_key_name', 'attached_node', 'test_metadata'],
  SingularTest: [...COMMON_NODE_KEYS, ...COMPILED_NODE_KEYS],
  Snapshot: [...COMMON_NODE_KEYS, ...COMPILED_NODE_KEYS, 'defer_relation'],
  Analysis: [...COMMON_NODE_KEYS, ...COMPILED_NODE_KEYS],
  HookNode: [...COMMON_NODE_KEYS, ...COMPILED_NODE_KEYS, 'index'],
};

export const SOURCE_KEYS: readonly string[] = [
  'database',
  'schema',
  'name',
  'resource_type',
  'package_name',
  'path',
  'original_file_path',
  'unique_id',
  'fqn',
  'source_name',
  'source_description',
  'loader',
  'identifier',
  'quoting',
  'loaded_at_field',
  'loaded_at_query',
  'freshness',
  'external',
  'description',
  'columns',
  'meta',
  'source_meta',
  'tags',
  'config',
  'patch_path',
  'unrendered_config',
  'relation_name',
  'created_at',
  'unrendered_database',
  'unrendered_schema',
  'doc_blocks',
];

export const MACRO_KEYS: readonly string[] = [
  'name',
  'resource_type',
  'package_name',
  'path',
  'original_file_path',
  'unique_id',
  'macro_sql',
  'depends_on',
  'description',
  'meta',
  'docs',
  'patch_path',
  'arguments',
  'created_at',
  'supported_languages',
];

export const DOC_KEYS: readonly string[] = ['name', 'resource_type', 'package_name', 'path', 'original_file_path', 'unique_id', 'block_contents'];

export const MANIFEST_METADATA_KEYS: readonly string[] = [
  'dbt_schema_version',
  'dbt_version',
  'generated_at',
  'invocation_id',
  'invocation_started_at',
  'env',
  'project_name',
  'project_id',
  'user_id',
  'send_anonymous_usage_stats',
  'adapter_type',
  'quoting',
  'run_started_at',
];

export const RUN_RESULTS_METADATA_KEYS: readonly string[] = [
  'dbt_schema_version',
  'dbt_version',
  'generated_at',
  'invocation_id',
  'invocation_started_at',
  'env',
];

/** Picks only `keys` from `obj`, dropping undefined values. */
export function pick(obj: object, keys: readonly string[]): Record<string, unknown> {
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = src[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
