/**
 * Checks, before anything runs, every config value that the materializations
 * write into SQL. Names (relations, schemas, columns, grantees) always go
 * through the adapter's quoting; the values below are the ones dbt writes
 * unquoted, and each is either accepted as safe or refused here with the
 * node's file and the config key:
 *
 * | key | in SQL as | rule |
 * |---|---|---|
 * | `indexes[].columns` | `create index … (<cols>)` (dbt: as written) | a name or one expression ({@link sqlFragmentProblem}) |
 * | `indexes[].type` / `.unique` | `using <type>` / `unique` | a plain name / true or false |
 * | `unique_key` | delete+insert `where (<key>) in (select distinct <key> …)`, merge `on (S.<key> = D.<key>)` | a name or one expression; merge: a name |
 * | `incremental_predicates` (`predicates`) | `and (<predicate>)` | SQL by design in dbt; must be one condition |
 * | `merge_update_columns` | `<col> = DBT_INTERNAL_SOURCE.<col>` | a plain or quoted name |
 * | `incremental_strategy` | not in SQL | one of append, delete+insert, merge |
 * | `grants` | `grant <privilege> on … to <grantee>` | privilege from a fixed list; grantee a role name, quoted |
 * | `column_types` (seeds) | `create table (… "<col>" <type>)` (dbt: verbatim) | a type name ({@link sqlTypeProblem}) |
 *
 * Never in SQL, so nothing to check: `materialized` (dispatch only; parse
 * refuses unknown ones), `on_schema_change` (an unknown value is dbt's
 * warning and `ignore`), `merge_exclude_columns` (compared with column
 * names), `quote_columns` (seed columns are always quoted), `delimiter`
 * (a quoted literal), `partition_by` / `cluster_by` (other adapters' keys,
 * ignored). SQL by design, as in dbt, and left alone: `pre_hook`,
 * `post_hook`, `sql_header`, and the data test configs `where`, `fail_calc`,
 * `warn_if`, `error_if`. `persist_docs` writes nothing yet (tsdbt does not
 * run `comment on`).
 */
import { snapshotSpec } from './snapshot.ts';
import { isColumnName, sqlTypeProblem } from '../adapters/sql-fragment.ts';
import type { NodeConfig } from '../config/types.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { resolveIncrementalStrategy } from './incremental.ts';
import { invalidPredicate, invalidUniqueKey, parseIndexes, resolveGrants, uniqueKeyList, uniqueKeyProblem, type Quoter } from './sql.ts';
import { quoteIdentifier, quoteLiteral } from '../adapters/quote.ts';
import { sqlFragmentProblem } from '../adapters/sql-fragment.ts';
import { swapLockPolicy } from './swap.ts';

/** The node a config belongs to, for messages. */
export interface ConfigOwner {
  /** e.g. `model orders`, `seed countries`. */
  readonly label: string;
  /** Project-relative file (`models/orders.sql`), when known. */
  readonly file?: string;
}

const QUOTER: Quoter = { quoteIdentifier, quoteLiteral };

function list(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Re-issues a TsdbtError from the SQL builders with the node's file and name. */
function located(e: unknown, owner: ConfigOwner, key: string): TsdbtError {
  if (!(e instanceof TsdbtError)) throw e;
  const msg = e.message.startsWith('config ') ? e.message : `config '${key}' of ${owner.label}: ${e.message}`;
  return new TsdbtError(e.code, msg, { kind: 'project', file: e.file ?? owner.file, line: e.line, hint: e.hint });
}

/**
 * Every problem with the SQL-bound values of one node's config (see the module
 * comment), as `kind: 'project'` TsdbtErrors naming `owner.file` and the key.
 * Empty when the config is safe to run. Pure; runs no SQL.
 */
export function configSqlErrors(config: NodeConfig, owner: ConfigOwner): TsdbtError[] {
  const out: TsdbtError[] = [];
  const where = { file: owner.file, owner: owner.label };

  const { problem: indexProblem } = parseIndexes(config.indexes);
  if (indexProblem) {
    out.push(
      new TsdbtError('invalid-index-config', `config 'indexes' of ${owner.label}: ${indexProblem}.`, {
        kind: 'project',
        file: owner.file,
        hint: "Write indexes as a list like [{columns: ['id'], unique: true}, {columns: ['created_at'], type: 'brin'}]; a column is a name or one expression (no ;, comments, $ or backslashes; balanced parentheses).",
      }),
    );
  }

  let strategy = 'delete+insert';
  if (config.materialized === 'incremental') {
    try {
      strategy = resolveIncrementalStrategy(config);
    } catch (e) {
      out.push(located(e, owner, 'incremental_strategy'));
    }
  }

  if (config.materialized === 'snapshot') {
    // updated_at, check_cols, dbt_valid_to_current, snapshot_meta_column_names and the unique_key expression reach SQL too.
    try {
      snapshotSpec(config);
    } catch (e) {
      out.push(located(e, owner, 'snapshot'));
    }
  }

  const rawKeys = list(config.unique_key);
  if (rawKeys.some((k) => typeof k !== 'string')) {
    out.push(invalidUniqueKey(JSON.stringify(config.unique_key), 'it must be a string or a list of strings', where));
  } else {
    for (const k of uniqueKeyList(config.unique_key as string | string[] | null | undefined)) {
      const problem = uniqueKeyProblem(k, strategy);
      if (problem) out.push(invalidUniqueKey(k, problem, where));
    }
  }

  for (const p of list(config.incremental_predicates ?? config.predicates)) {
    const problem = typeof p === 'string' ? sqlFragmentProblem(p) : 'it is not a string';
    if (problem) out.push(invalidPredicate(String(p), problem, where));
  }

  for (const c of list(config.merge_update_columns)) {
    if (typeof c !== 'string' || !isColumnName(c.trim())) {
      out.push(
        new TsdbtError('invalid-merge-update-columns', `config 'merge_update_columns' of ${owner.label}: ${JSON.stringify(c)} is not a column name.`, {
          kind: 'project',
          file: owner.file,
          hint: 'List column names: [\'amount\', \'"Updated At"\'] (a name with other characters in double quotes).',
        }),
      );
    }
  }

  try {
    resolveGrants(config.grants, QUOTER);
  } catch (e) {
    out.push(located(e, owner, 'grants'));
  }

  const types = config.column_types;
  if (types !== null && types !== undefined && (typeof types !== 'object' || Array.isArray(types))) {
    // dbt's SeedConfig.column_types is a dict: anything else fails its config validation.
    out.push(
      new TsdbtError('invalid-column-type', `config 'column_types' of ${owner.label} must be a mapping of column name to type, got ${JSON.stringify(types)}.`, {
        kind: 'project',
        file: owner.file,
        hint: 'Write column_types: {population: bigint, name: text} (in dbt_project.yml under seeds:, or in the seed\'s config:).',
      }),
    );
  } else if (types !== null && types !== undefined && typeof types === 'object') {
    for (const [column, type] of Object.entries(types)) {
      const problem = typeof type === 'string' ? sqlTypeProblem(type) : 'it is not a string';
      if (!problem) continue;
      out.push(
        new TsdbtError('invalid-column-type', `config 'column_types' of ${owner.label}: the type of ${JSON.stringify(column)}, ${JSON.stringify(type)}, is not a PostgreSQL type name (${problem}).`, {
          kind: 'project',
          file: owner.file,
          hint: 'Write a type name such as text, integer, numeric(10, 2), varchar(20), timestamp with time zone, date[] or a schema-qualified type; nothing else may follow it.',
        }),
      );
    }
  }
  return out;
}

/** A manifest node, as far as {@link checkNodeConfigs} needs it. */
export interface ConfigCheckedNode {
  readonly name: string;
  readonly resource_type: string;
  readonly original_file_path?: string;
  readonly config: NodeConfig;
}

/**
 * Checks the configs of the nodes `ids` of `nodes` (models, seeds, snapshots;
 * data tests' SQL configs are SQL by design) before a run starts, so a
 * hostile or mistaken value stops the invocation with exit code 2 before any
 * statement runs.
 *
 * @throws TsdbtError (one problem) or CompileErrors (several), all `kind: 'project'`.
 */
export function checkNodeConfigs(nodes: Readonly<Record<string, ConfigCheckedNode | undefined>>, ids: readonly string[]): void {
  const errors: TsdbtError[] = [];
  for (const id of ids) {
    const n = nodes[id];
    if (!n || n.resource_type === 'test' || n.config.enabled === false) continue;
    errors.push(...configSqlErrors(n.config, { label: `${n.resource_type} '${n.name}'`, file: n.original_file_path }));
    try {
      swapLockPolicy(n.config, n.original_file_path);
    } catch (e) {
      if (!(e instanceof TsdbtError)) throw e;
      errors.push(new TsdbtError(e.code, `config of ${n.resource_type} '${n.name}': ${e.message}`, { kind: 'project', file: e.file, hint: e.hint }));
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new CompileErrors(errors);
}
