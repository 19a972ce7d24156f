/**
 * dbt context members tsdbt does not support yet. Each is present in the
 * context and raises `[unsupported] <name> is not supported yet` at the
 * template's file and line when used, so a project that needs one fails
 * loudly at parse (exit 2) instead of compiling to wrong SQL.
 *
 * The lists come from dbt's documented Jinja context ("dbt Jinja functions"
 * reference) and dbt-core's `BaseAdapter` methods marked `@available`.
 */
import { TsdbtError } from '../errors.ts';

/** Context names dbt documents that tsdbt does not implement. */
export const UNSUPPORTED_CONTEXT_MEMBERS: readonly string[] = ['submit_python_job', 'debug'];

/** `adapter.<name>` methods of dbt's adapters that tsdbt does not implement. */
export const UNSUPPORTED_ADAPTER_METHODS: readonly string[] = [
  'cache_added',
  'cache_dropped',
  'cache_renamed',
  'verify_database',
  'get_partitions_metadata',
  'get_rows_different_sql',
  'get_incremental_strategy_macro',
  'valid_incremental_strategies',
  'standardize_grants_dict',
  'get_column_schema_from_query',
  'render_raw_columns_constraints',
  'render_raw_model_constraints',
  'calculate_freshness',
  'calculate_freshness_from_metadata',
  'submit_python_job',
  'convert_type',
  'get_compiler',
  'connection_named',
  'set_relations_cache',
  'clear_transaction',
  'get_hard_deletes_behavior',
  'assert_valid_snapshot_target_given_strategy',
  'get_catalog',
  'get_filtered_catalog',
  'get_catalog_by_relations',
  'run_sql_for_tests',
];

/** The error an unsupported member raises (the Jinja layer adds the line). */
export function unsupported(name: string, file: string): TsdbtError {
  return new TsdbtError('unsupported', `[unsupported] ${name} is not supported yet`, {
    file,
    hint: 'tsdbt does not implement this dbt feature yet; see the support table in README.md. Remove the call or guard it, or open an issue with the project that needs it.',
  });
}

/** Context entries for {@link UNSUPPORTED_CONTEXT_MEMBERS}: each raises when called. */
export function unsupportedMembers(file: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of UNSUPPORTED_CONTEXT_MEMBERS) {
    out[n] = () => {
      throw unsupported(n, file);
    };
  }
  return out;
}

/**
 * `adapter` with the dbt methods tsdbt lacks raising `[unsupported] adapter.x`
 * on access; other unknown names stay undefined (Jinja's "is undefined").
 */
export function guardAdapter<T extends object>(adapter: T, file: string): T {
  const missing = new Set(UNSUPPORTED_ADAPTER_METHODS);
  return new Proxy(adapter, {
    get(target, key, receiver) {
      if (typeof key === 'string' && !(key in target) && missing.has(key)) throw unsupported(`adapter.${key}`, file);
      return Reflect.get(target, key, receiver);
    },
  });
}
