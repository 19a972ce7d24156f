/**
 * The Jinja context dbt gives a model, test or macro: `ref`, `source`,
 * `config`, `var`, `env_var`, `this`, `target`, `is_incremental`, `adapter`,
 * `execute`, `model`, `invocation_id`, `run_started_at`, `flags`, `builtins`,
 * `return` and `doc` are provided by the Jinja layer / here.
 *
 * The same builder serves both dbt phases:
 *   - parse (`execute` false): `ref`/`source`/`config` calls are recorded and
 *     return placeholder relations;
 *   - compile (`execute` true): they resolve to real relations.
 */
import { DBT_VERSION } from '../dbt-version.ts';
import { datetimeFromDate, splitArgs } from '../jinja/index.ts';
import { TsdbtError } from '../errors.ts';
import { JinjaRelation } from './relation.ts';
import type { RefCall } from './manifest.ts';
import type { NodeConfig, TargetConfig } from '../config/types.ts';
import { dbtAdapterType } from '../config/target-type.ts';
import { apiColumn } from './column.ts';
import { guardAdapter, unsupportedMembers } from './unsupported-context.ts';

/** What a render recorded (parse phase). */
export interface Captured {
  refs: RefCall[];
  sources: [string, string][];
  config: NodeConfig;
}

export interface ContextHooks {
  /** Resolve `ref(name)` / `ref(pkg, name)` to a relation. Throw TsdbtError for a missing node. */
  ref(call: RefCall): JinjaRelation;
  source(sourceName: string, tableName: string): JinjaRelation;
  /** `var('x', default)` as dbt's precedence. */
  variable(name: string, fallback: unknown, hasDefault: boolean): unknown;
  envVar(name: string, fallback: unknown, hasDefault: boolean): unknown;
  isIncremental(): boolean;
}

export interface ContextInput {
  readonly execute: boolean;
  readonly target: TargetConfig;
  readonly targetDatabase: string;
  readonly projectName: string;
  readonly invocationId: string;
  readonly runStartedAt: Date;
  readonly fullRefresh: boolean;
  /** The node's own relation (`this`), when it has one. */
  readonly self: JinjaRelation | null;
  /** The node as a dict (`model` in dbt's context). */
  readonly model: Record<string, unknown>;
  /** Config resolved so far: `config.get()` reads it. */
  readonly config: NodeConfig;
  readonly file: string;
  readonly hooks: ContextHooks;
  /** Receives `config()`/`ref()`/`source()` calls (parse phase). */
  readonly captured?: Captured;
  /**
   * `adapter.dispatch(macro_name, macro_namespace)`: the macro dbt's dispatch
   * picks (see JinjaEnv.dispatch). Absent: `adapter.dispatch` raises `[unsupported]`.
   */
  readonly dispatch?: (macroName: string, macroNamespace: string | null) => unknown;
  /** Run-time `adapter` members (src/compile/run-context.ts) that replace the parse-phase answers. */
  readonly adapterOverrides?: Record<string, unknown>;
}

/** The public view of the target, without secrets (dbt's `target`). */
export function targetForTemplates(target: TargetConfig, database: string): Record<string, unknown> {
  return {
    name: target.name,
    profile_name: target.profileName,
    type: dbtAdapterType(target),
    adapter_type: target.type,
    schema: target.schema,
    database,
    dbname: database,
    threads: target.threads,
    host: target.host ?? null,
    port: target.port ?? null,
    user: target.user ?? null,
  };
}

/** Builds the dbt context object for one render. */
export function buildContext(input: ContextInput): Record<string, unknown> {
  const { hooks, captured } = input;
  const ref = (...raw: unknown[]): JinjaRelation => {
    const { positional, kwargs } = splitArgs(raw);
    const version = (kwargs.version ?? kwargs.v ?? null) as string | number | null;
    if (positional.length < 1 || positional.length > 2 || !positional.every((p) => typeof p === 'string')) {
      throw new TsdbtError('bad-ref', `ref() takes a model name, or a package name and a model name; got ${JSON.stringify(positional)}`, {
        file: input.file,
        hint: "write {{ ref('model_name') }}",
      });
    }
    const call: RefCall =
      positional.length === 1
        ? { name: positional[0] as string, package: null, version }
        : { name: positional[1] as string, package: positional[0] as string, version };
    captured?.refs.push(call);
    return hooks.ref(call);
  };
  const source = (...raw: unknown[]): JinjaRelation => {
    const { positional } = splitArgs(raw);
    if (positional.length !== 2 || !positional.every((p) => typeof p === 'string')) {
      throw new TsdbtError('bad-source', `source() takes a source name and a table name; got ${JSON.stringify(positional)}`, {
        file: input.file,
        hint: "write {{ source('source_name', 'table_name') }}",
      });
    }
    captured?.sources.push([positional[0] as string, positional[1] as string]);
    return hooks.source(positional[0] as string, positional[1] as string);
  };
  const config = (...raw: unknown[]): string => {
    const { positional, kwargs } = splitArgs(raw);
    const values = (positional.length === 1 && positional[0] && typeof positional[0] === 'object' ? positional[0] : kwargs) as NodeConfig;
    if (captured) Object.assign(captured.config, normaliseConfigKeys(values));
    return '';
  };
  const configGet = (key: string, fallback: unknown = null): unknown => {
    const k = key.replace(/-/g, '_');
    const fromCapture = captured ? (captured.config as Record<string, unknown>)[k] : undefined;
    if (fromCapture !== undefined) return fromCapture;
    const v = (input.config as Record<string, unknown>)[k];
    return v === undefined ? fallback : v;
  };
  Object.assign(config, {
    get: configGet,
    require: (key: string) => {
      const v = configGet(key, undefined);
      if (v === undefined || v === null) {
        throw new TsdbtError('config-missing', `config '${key}' is required here but not set`, { file: input.file });
      }
      return v;
    },
  });
  const variable = (...raw: unknown[]): unknown => {
    const { positional } = splitArgs(raw);
    if (positional[0] === undefined || positional[0] === null || positional[0] === '') {
      // dbt: "missing 1 required positional argument: 'var_name'".
      throw new TsdbtError('bad-var', `var() takes the name of a variable as its first argument, got ${positional[0] === '' ? "''" : 'no argument'}`, {
        file: input.file,
        hint: "write {{ var('name') }} or {{ var('name', 'default') }}",
      });
    }
    return hooks.variable(String(positional[0]), positional[1] ?? null, positional.length > 1);
  };
  const envVar = (...raw: unknown[]): unknown => {
    const { positional, kwargs } = splitArgs(raw);
    const fallback = positional.length > 1 ? positional[1] : kwargs.default;
    return hooks.envVar(String(positional[0] ?? kwargs.var), fallback ?? null, fallback !== undefined);
  };
  // dbt's parse-time answers (execute is false): introspection finds nothing and runs nothing,
  // statement blocks do not run, run_query and load_result give None. The compiler replaces these
  // with the real members (src/compile/run-context.ts) when it renders with execute true.
  const none = () => null;
  const nothing = () => '';
  const adapter = {
    quote: (s: string) => '"' + String(s).replace(/"/g, '""') + '"',
    quote_as_configured: (s: string) => '"' + String(s).replace(/"/g, '""') + '"',
    quote_seed_column: (s: string) => '"' + String(s).replace(/"/g, '""') + '"',
    type: () => 'postgres',
    get_relation: none,
    get_columns_in_relation: () => [],
    get_columns_in_query: () => [],
    list_relations_without_caching: () => [],
    get_missing_columns: () => [],
    already_exists: () => false,
    check_schema_exists: () => false,
    list_schemas: () => [],
    drop_relation: nothing,
    truncate_relation: nothing,
    rename_relation: nothing,
    create_schema: nothing,
    drop_schema: nothing,
    expand_target_column_types: nothing,
    execute: () => [null, null],
    commit: nothing,
    Column: apiColumn,
    Relation: { create: (...raw: unknown[]) => relationCreate(raw) },
    dispatch: (...raw: unknown[]) => {
      const { positional, kwargs } = splitArgs(raw);
      const name = positional[0] ?? kwargs.macro_name;
      const ns = positional[1] ?? kwargs.macro_namespace ?? null;
      if (typeof name !== 'string') {
        throw new TsdbtError('bad-dispatch', `adapter.dispatch() takes a macro name (and a macro_namespace); got ${JSON.stringify(name)}`, {
          file: input.file,
          hint: "e.g. {{ return(adapter.dispatch('my_macro', 'my_package')(arg)) }}",
        });
      }
      if (!input.dispatch) throw new TsdbtError('unsupported', `[unsupported] adapter.dispatch is not available here`, { file: input.file });
      return input.dispatch(name, typeof ns === 'string' ? ns : null);
    },
  };
  return {
    ref,
    source,
    config,
    var: variable,
    env_var: envVar,
    this: input.self,
    target: targetForTemplates(input.target, input.targetDatabase),
    is_incremental: () => hooks.isIncremental(),
    execute: input.execute,
    model: input.model,
    adapter: guardAdapter(input.adapterOverrides ? Object.assign(adapter, input.adapterOverrides) : adapter, input.file),
    api: { Relation: adapter.Relation, Column: apiColumn },
    // dbt: run_query is a macro returning load_result(...).table, which at parse is its lenient Undefined
    run_query: () => undefined,
    statement: nothing,
    load_result: none,
    store_result: nothing,
    store_raw_result: nothing,
    load_relation: none,
    load_cached_relation: none,
    get_columns_in_query: () => [],
    graph: { nodes: {}, sources: {}, exposures: {}, metrics: {}, groups: {}, semantic_models: {}, saved_queries: {}, unit_tests: {} },
    selected_resources: [],
    write: nothing,
    thread_id: 'MainThread',
    invocation_id: input.invocationId,
    run_started_at: datetimeFromDate(input.runStartedAt, true),
    project_name: input.projectName,
    dbt_version: DBT_VERSION,
    schema: input.target.schema,
    database: input.targetDatabase,
    flags: { FULL_REFRESH: input.fullRefresh, WHICH: 'run' },
    builtins: { ref, source, config },
    dbt_metadata_envs: metadataEnvs(),
    invocation_args_dict: {},
    try_or_compiler_error: (...raw: unknown[]) => {
      const { positional, kwargs } = splitArgs(raw);
      const [message, fn, ...args] = positional;
      if (typeof fn !== 'function') throw new TsdbtError('compiler-error', String(message), { file: input.file });
      try {
        return (fn as (...a: unknown[]) => unknown)(...args, ...(Object.keys(kwargs).length ? [{ ...kwargs, __keywords: true }] : []));
      } catch {
        throw new TsdbtError('compiler-error', String(message), { file: input.file, hint: 'raised by try_or_compiler_error()' });
      }
    },
    ...unsupportedMembers(input.file),
  };
}

/** The dbt version tsdbt reports to templates (`dbt_version`) and checks `require-dbt-version` against (see src/dbt-version.ts). */
export { DBT_VERSION } from '../dbt-version.ts';

let metadataEnvsCache: Record<string, string> | undefined;

/** dbt's `dbt_metadata_envs`: env vars prefixed `DBT_ENV_CUSTOM_ENV_`, without the prefix (read once per process, as dbt). */
function metadataEnvs(): Record<string, string> {
  if (metadataEnvsCache) return metadataEnvsCache;
  const out: Record<string, string> = (metadataEnvsCache = {});
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('DBT_ENV_CUSTOM_ENV_') && v !== undefined) out[k.slice('DBT_ENV_CUSTOM_ENV_'.length)] = v;
  return out;
}

/** `api.Relation.create(database=, schema=, identifier=, type=)`. */
function relationCreate(raw: unknown[]): JinjaRelation {
  const { positional, kwargs } = splitArgs(raw);
  const get = (i: number, k: string): string | null => {
    const v = positional[i] ?? kwargs[k];
    return v === undefined || v === null ? null : String(v);
  };
  return new JinjaRelation({ database: get(0, 'database'), schema: get(1, 'schema'), identifier: get(2, 'identifier') ?? '', type: get(3, 'type') });
}

/** `pre-hook` → `pre_hook`; config keys as written in `config()` calls. */
export function normaliseConfigKeys(values: Record<string, unknown>): NodeConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values ?? {})) {
    if (k === '__keywords') continue;
    out[k.replace(/-/g, '_')] = v;
  }
  return out as NodeConfig;
}
