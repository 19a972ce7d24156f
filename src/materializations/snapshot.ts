/**
 * dbt's `snapshot` materialization (SCD type 2) on PostgreSQL and PGlite, after
 * dbt-adapters' `materialization snapshot, default`, `snapshot_timestamp_strategy`,
 * `snapshot_check_strategy`, `build_snapshot_table`, `snapshot_staging_table` and
 * `postgres__snapshot_merge_sql`. Our own SQL, the same rows:
 *
 * - first run: `create table <snapshot> as (select *, <scd_id>, <updated_at> as
 *   dbt_updated_at, <updated_at> as dbt_valid_from, <current> as dbt_valid_to
 *   [, 'False' as dbt_is_deleted] from (<query>) sbq)`;
 * - later runs: the query's rows go into a temporary table, a staging table of
 *   changes is built from it and the snapshot's current rows (`insert` for new
 *   keys and new versions, `update` closing the old version, `delete` closing
 *   rows whose key vanished, with `hard_deletes: invalidate | new_record`, and
 *   for `new_record` an `insert` of a deletion record), columns the query gained
 *   are added to the snapshot table (varchar columns widened), then
 *   `update … set dbt_valid_to` and `insert` as dbt-postgres's merge does.
 *
 * Meta columns as dbt computes them:
 * - `dbt_scd_id` = `md5(coalesce(cast(<key> as varchar), '') || '|' || … ||
 *   coalesce(cast(<updated_at> as varchar), ''))` (dbt's `snapshot_hash_arguments`
 *   over `scd_args(unique_key, updated_at)`);
 * - timestamp strategy: `<updated_at>` is the `updated_at` column; a row changed
 *   when the snapshot's `dbt_valid_from < source.<updated_at>`;
 * - check strategy: `<updated_at>` is the snapshot time `now()::timestamp without
 *   time zone` (or the `updated_at` config when set); a row changed when any of
 *   `check_cols` (`all`: every query column) is distinct, or always when a checked
 *   column is new to the snapshot table;
 * - deletions are stamped with the snapshot time; a `new_record` deletion record
 *   gets `md5(coalesce(cast(<old dbt_scd_id> as varchar), '') || '|' ||
 *   coalesce(cast(<snapshot time> as varchar), ''))`.
 *
 * Everything after the pre-hooks' start — the first build or the staging, column
 * changes, update and insert — plus grants and post-hooks is ONE transaction:
 * a failure leaves the snapshot table as it was. Re-running a snapshot on
 * unchanged data changes nothing, so a node whose connection was lost may be
 * re-run.
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { sqlFragmentProblem, isColumnName, splitTopLevelCommas } from '../adapters/sql-fragment.ts';
import type { NodeConfig } from '../config/types.ts';
import { TsdbtError } from '../errors.ts';
import { lookupRelation, readColumns } from './catalog.ts';
import type { MaterializeContext, RecordingSession } from './context.ts';
import { preservingDependents } from './dependents.ts';
import { planSchemaChange } from './schema-change.ts';
import { addColumnsSql, alterColumnTypeSql, helperIdentifier, qualified, swapLockSql, tempQualified, trimModelSql, withSqlHeader, type ColumnSpec, type Quoter } from './sql.ts';
import { checkIdentifier, createConfiguredIndexes, ensureSchema, finishInTransaction, runHooks, runModelStatement } from './steps.ts';
import type { StrategyOutcome } from './strategies.ts';
import { transactionWithRetry } from './swap.ts';

/** dbt's `hard_deletes` behaviours. */
export type HardDeletes = 'ignore' | 'invalidate' | 'new_record';

/** The meta columns' names (dbt's `snapshot_table_column_names`), as Postgres stores them. */
export interface SnapshotColumnNames {
  readonly dbt_scd_id: string;
  readonly dbt_updated_at: string;
  readonly dbt_valid_from: string;
  readonly dbt_valid_to: string;
  readonly dbt_is_deleted: string;
}

/** A snapshot's config, checked and resolved (dbt's strategy dict plus the config it reads). */
export interface SnapshotSpec {
  readonly strategy: 'timestamp' | 'check';
  /** unique_key entries: SQL expressions, as dbt writes them. */
  readonly uniqueKeys: readonly string[];
  /** True when unique_key is a list: the staging columns are `dbt_unique_key_1..n` (else `dbt_unique_key`). */
  readonly keyIsList: boolean;
  /** The `updated_at` expression (check strategy without `updated_at`: the snapshot time). */
  readonly updatedAt: string;
  /** Timestamp strategy: the `updated_at` column as written (compared as `source_data.<it>`). */
  readonly updatedAtColumn: string | null;
  /** Check strategy: `all` or the listed columns. */
  readonly checkCols: 'all' | readonly string[] | null;
  readonly hardDeletes: HardDeletes;
  /** `dbt_valid_to_current` (a SQL expression), or null. */
  readonly validToCurrent: string | null;
  readonly columns: SnapshotColumnNames;
}

/** dbt-postgres's `snapshot_get_time()`. */
export const SNAPSHOT_TIME = 'now()::timestamp without time zone';

/** Staging-table columns that are not copied into the snapshot table (dbt's `remove_columns`). */
function isHelperColumn(name: string): boolean {
  return /^dbt_change_type$|^dbt_unique_key(_\d+)?$/i.test(name);
}

/** `hard_deletes` as dbt-adapters' `get_hard_deletes_behavior` resolves it (the legacy `invalidate_hard_deletes: true` means `invalidate`). */
export function hardDeletesOf(config: NodeConfig): HardDeletes {
  if (config.invalidate_hard_deletes === true || config.hard_deletes === 'invalidate') return 'invalidate';
  if (config.hard_deletes === 'new_record') return 'new_record';
  return 'ignore';
}

function invalid(key: string, value: unknown, problem: string, hint: string): TsdbtError {
  return new TsdbtError('invalid-snapshot-config', `config '${key}' of the snapshot: ${JSON.stringify(value)} ${problem}.`, { kind: 'project', hint });
}

/**
 * Checks and resolves a snapshot's config (values written into SQL must be a
 * name or one SQL expression that cannot leave its slot; meta column names
 * plain names, folded to lower case as Postgres folds dbt's unquoted names).
 *
 * @throws TsdbtError `invalid-snapshot-config` naming the key.
 */
export function snapshotSpec(config: NodeConfig): SnapshotSpec {
  const strategy = config.strategy;
  if (strategy !== 'timestamp' && strategy !== 'check') {
    throw invalid('strategy', strategy, "is not a strategy tsdbt runs", "use strategy='timestamp' (with updated_at) or strategy='check' (with check_cols)");
  }
  const uk = config.unique_key;
  const keyIsList = Array.isArray(uk);
  const uniqueKeys = (keyIsList ? (uk as unknown[]) : [uk]).map((k) => String(k ?? '').trim());
  for (const k of uniqueKeys) {
    const problem = sqlFragmentProblem(k);
    if (problem) throw invalid('unique_key', k, `is not a column or one SQL expression (it holds ${problem})`, "write unique_key='id', unique_key=['id', 'day'] or one expression such as \"id || '-' || day\"");
  }
  if (!keyIsList && splitTopLevelCommas(uniqueKeys[0]).length > 1) {
    throw invalid('unique_key', uk, 'holds several columns in one string', `write them as a list: unique_key=[${splitTopLevelCommas(uniqueKeys[0]).map((k) => `'${k.trim()}'`).join(', ')}]`);
  }
  let updatedAtColumn: string | null = null;
  let updatedAt = SNAPSHOT_TIME;
  if (config.updated_at !== null && config.updated_at !== undefined && config.updated_at !== '') {
    const u = String(config.updated_at).trim();
    const problem = sqlFragmentProblem(u);
    if (problem) throw invalid('updated_at', u, `is not a column (it holds ${problem})`, "name the column holding each row's last change time, e.g. updated_at='updated_at'");
    updatedAt = u;
    updatedAtColumn = u;
  }
  if (strategy === 'timestamp' && updatedAtColumn === null) {
    throw invalid('updated_at', null, 'is required by the timestamp strategy', "set updated_at='<column>'");
  }
  let checkCols: SnapshotSpec['checkCols'] = null;
  if (strategy === 'check') {
    const cc = config.check_cols;
    if (cc === 'all') checkCols = 'all';
    else if (Array.isArray(cc) && cc.length > 0) {
      for (const c of cc) {
        if (typeof c !== 'string' || !isColumnName(c.trim())) throw invalid('check_cols', c, 'is not a column name', "list column names: check_cols=['status', 'amount']");
      }
      checkCols = cc.map((c) => String(c).trim());
    } else throw invalid('check_cols', cc, "is not 'all' or a list of columns", "write check_cols='all' or check_cols=['status']");
  }
  let validToCurrent: string | null = null;
  const cur = config.dbt_valid_to_current;
  if (cur !== null && cur !== undefined && cur !== '') {
    const problem = typeof cur === 'string' ? sqlFragmentProblem(cur) : 'it is not a string';
    if (problem) throw invalid('dbt_valid_to_current', cur, `is not one SQL expression (${problem})`, "write a timestamp expression, e.g. dbt_valid_to_current=\"'9999-12-31'::timestamp\"");
    validToCurrent = String(cur).trim();
  }
  const given = (config.snapshot_meta_column_names ?? {}) as Record<string, unknown>;
  const name = (k: keyof SnapshotColumnNames): string => {
    const v = given[k];
    if (v === null || v === undefined || v === '') return k;
    if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(v)) {
      throw invalid(`snapshot_meta_column_names.${k}`, v, 'is not a plain column name', 'use letters, digits and _');
    }
    return v.toLowerCase();
  };
  const columns: SnapshotColumnNames = {
    dbt_scd_id: name('dbt_scd_id'),
    dbt_updated_at: name('dbt_updated_at'),
    dbt_valid_from: name('dbt_valid_from'),
    dbt_valid_to: name('dbt_valid_to'),
    dbt_is_deleted: name('dbt_is_deleted'),
  };
  return { strategy, uniqueKeys, keyIsList, updatedAt, updatedAtColumn, checkCols, hardDeletes: hardDeletesOf(config), validToCurrent, columns };
}

/** dbt's `snapshot_hash_arguments`: `md5(coalesce(cast(a as varchar), '') || '|' || …)`. */
export function hashArguments(args: readonly string[]): string {
  return `md5(${args.map((a) => `coalesce(cast(${a} as varchar), '')`).join(" || '|' || ")})`;
}

/** The staging names of the unique key columns. */
function keyNames(spec: SnapshotSpec): string[] {
  return spec.keyIsList ? spec.uniqueKeys.map((_, i) => `dbt_unique_key_${i + 1}`) : ['dbt_unique_key'];
}

function keyFields(spec: SnapshotSpec): string {
  const names = keyNames(spec);
  return spec.uniqueKeys.map((k, i) => `${k} as ${names[i]}`).join(', ');
}

function keyJoin(spec: SnapshotSpec, a: string, b: string): string {
  return keyNames(spec)
    .map((n) => `${a}.${n} = ${b}.${n}`)
    .join(' and ');
}

/** `coalesce(nullif(u, u), <current>)`: null (or dbt_valid_to_current) typed like updated_at (dbt's `get_dbt_valid_to_current`). */
function validToCurrentExpr(spec: SnapshotSpec): string {
  return `coalesce(nullif(${spec.updatedAt}, ${spec.updatedAt}), ${spec.validToCurrent ?? 'null'})`;
}

/** The condition that a snapshot row (alias `rel`, or the bare column) is current. */
function isCurrent(spec: SnapshotSpec, col: string): string {
  return spec.validToCurrent ? `(${col} = ${spec.validToCurrent} or ${col} is null)` : `${col} is null`;
}

/**
 * dbt's `build_snapshot_table` wrapped in `create table`: the first run.
 */
export function buildSnapshotTableSql(spec: SnapshotSpec, target: RelationRef, sql: string, q: Quoter): string {
  const c = spec.columns;
  const cols = [
    `${hashArguments([...spec.uniqueKeys, spec.updatedAt])} as ${q.quoteIdentifier(c.dbt_scd_id)}`,
    `${spec.updatedAt} as ${q.quoteIdentifier(c.dbt_updated_at)}`,
    `${spec.updatedAt} as ${q.quoteIdentifier(c.dbt_valid_from)}`,
    `${validToCurrentExpr(spec)} as ${q.quoteIdentifier(c.dbt_valid_to)}`,
  ];
  if (spec.hardDeletes === 'new_record') cols.push(`'False'::text as ${q.quoteIdentifier(c.dbt_is_deleted)}`);
  return `create table ${qualified(target, q)}\nas (\n  select *,\n    ${cols.join(',\n    ')}\n  from (\n${trimModelSql(sql)}\n) sbq\n)`;
}

/** What the staging query needs to know about the two tables. */
export interface StagingInput {
  readonly target: RelationRef;
  /** The session temporary table holding the snapshot query's rows. */
  readonly sourceTemp: string;
  /** Its columns, in order. */
  readonly sourceColumns: readonly string[];
  /** The snapshot table's columns. */
  readonly targetColumns: readonly string[];
}

/**
 * The check strategy's columns and `column_added` (dbt's
 * `snapshot_check_all_get_existing_columns`): the checked query columns that
 * the snapshot table has, and whether any checked column is new to it.
 *
 * @throws TsdbtError `snapshot-check-col-missing` for a listed column the query does not have.
 */
export function checkColumns(spec: SnapshotSpec, sourceColumns: readonly string[], targetColumns: readonly string[]): { columns: string[]; columnAdded: boolean } {
  let wanted: string[];
  if (spec.checkCols === 'all') wanted = [...sourceColumns];
  else {
    wanted = [];
    for (const c of spec.checkCols ?? []) {
      const unquoted = c.startsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c;
      const found = sourceColumns.find((s) => s === unquoted) ?? sourceColumns.find((s) => s.toLowerCase() === unquoted.toLowerCase());
      if (!found) {
        throw new TsdbtError('snapshot-check-col-missing', `check_cols names '${c}', which the snapshot query does not return (its columns: ${sourceColumns.join(', ')})`, {
          kind: 'project',
          hint: 'list columns the snapshot query selects, or use check_cols=\'all\'',
        });
      }
      wanted.push(found);
    }
  }
  const existing = new Set(targetColumns);
  return { columns: wanted.filter((c) => existing.has(c)), columnAdded: wanted.some((c) => !existing.has(c)) };
}

/**
 * dbt's `snapshot_staging_table`: one row per change, with `dbt_change_type`
 * `insert` (new key, new version, or a `new_record` deletion record), `update`
 * (closes the current version: `dbt_valid_to` = the new version's updated_at)
 * or `delete` (closes a row whose key left the query: the snapshot time).
 * Columns: dbt_change_type, the query's columns, the key columns, then
 * dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_scd_id[, dbt_is_deleted].
 */
export function snapshotStagingSql(spec: SnapshotSpec, input: StagingInput, q: Quoter): string {
  const c = spec.columns;
  const id = (n: string) => q.quoteIdentifier(n);
  const T = qualified(input.target, q);
  const S = tempQualified(input.sourceTemp, q);
  const keys = keyNames(spec);
  const newRecord = spec.hardDeletes === 'new_record';
  const tracksDeletes = spec.hardDeletes !== 'ignore';
  const srcCols = input.sourceColumns.map(id);
  const isDeleted = `snapshotted_data.${id(c.dbt_is_deleted)} = 'True'`;

  let rowChanged: string;
  if (spec.strategy === 'timestamp') {
    rowChanged = `(snapshotted_data.${id(c.dbt_valid_from)} < source_data.${spec.updatedAtColumn})`;
  } else {
    const { columns, columnAdded } = checkColumns(spec, input.sourceColumns, input.targetColumns);
    rowChanged = columnAdded || columns.length === 0 ? '(TRUE)' : `(${columns.map((col) => `snapshotted_data.${id(col)} is distinct from source_data.${id(col)}`).join('\n        or ')})`;
  }
  if (newRecord) rowChanged = `(${rowChanged} or ${isDeleted})`;

  const meta = (upd: string, from: string, to: string, scd: string, del?: string) =>
    [`${upd} as ${id(c.dbt_updated_at)}`, `${from} as ${id(c.dbt_valid_from)}`, `${to} as ${id(c.dbt_valid_to)}`, `${scd} as ${id(c.dbt_scd_id)}`, ...(newRecord ? [`${del} as ${id(c.dbt_is_deleted)}`] : [])].join(', ');
  const fromSource = (alias: string) => [...srcCols.map((x) => `${alias}.${x}`), ...keys.map((k) => `${alias}.${k}`)].join(', ');

  const ctes: string[] = [];
  ctes.push(`snapshotted_data as (\n  select *, ${keyFields(spec)}\n  from ${T}\n  where ${isCurrent(spec, id(c.dbt_valid_to))}\n)`);
  ctes.push(
    `insertions_source_data as (\n  select *, ${keyFields(spec)},\n    ${spec.updatedAt} as ${id(c.dbt_updated_at)}, ${spec.updatedAt} as ${id(c.dbt_valid_from)},\n    ${validToCurrentExpr(spec)} as ${id(c.dbt_valid_to)},\n    ${hashArguments([...spec.uniqueKeys, spec.updatedAt])} as ${id(c.dbt_scd_id)}\n  from ${S}\n)`,
  );
  ctes.push(`updates_source_data as (\n  select *, ${keyFields(spec)},\n    ${spec.updatedAt} as ${id(c.dbt_updated_at)}, ${spec.updatedAt} as ${id(c.dbt_valid_from)}, ${spec.updatedAt} as ${id(c.dbt_valid_to)}\n  from ${S}\n)`);
  if (tracksDeletes) ctes.push(`deletes_source_data as (\n  select *, ${keyFields(spec)}\n  from ${S}\n)`);
  ctes.push(
    `insertions as (\n  select 'insert'::text as dbt_change_type, ${fromSource('source_data')},\n    ${meta(`source_data.${id(c.dbt_updated_at)}`, `source_data.${id(c.dbt_valid_from)}`, `source_data.${id(c.dbt_valid_to)}`, `source_data.${id(c.dbt_scd_id)}`, "'False'::text")}\n  from insertions_source_data as source_data\n  left outer join snapshotted_data on ${keyJoin(spec, 'snapshotted_data', 'source_data')}\n  where snapshotted_data.${keys[0]} is null\n     or (snapshotted_data.${keys[0]} is not null and ${rowChanged})\n)`,
  );
  ctes.push(
    `updates as (\n  select 'update'::text as dbt_change_type, ${fromSource('source_data')},\n    ${meta(`source_data.${id(c.dbt_updated_at)}`, `source_data.${id(c.dbt_valid_from)}`, `source_data.${id(c.dbt_valid_to)}`, `snapshotted_data.${id(c.dbt_scd_id)}`, `snapshotted_data.${id(c.dbt_is_deleted)}`)}\n  from updates_source_data as source_data\n  join snapshotted_data on ${keyJoin(spec, 'snapshotted_data', 'source_data')}\n  where ${rowChanged}\n)`,
  );
  // new_record: a key whose current row is already a deletion record is not deleted again.
  const notAlreadyDeleted = newRecord ? `\n    and not (${isDeleted} and ${isCurrent(spec, `snapshotted_data.${id(c.dbt_valid_to)}`)})` : '';
  if (tracksDeletes) {
    ctes.push(
      `deletes as (\n  select 'delete'::text as dbt_change_type, ${fromSource('source_data')},\n    ${meta(SNAPSHOT_TIME, SNAPSHOT_TIME, SNAPSHOT_TIME, `snapshotted_data.${id(c.dbt_scd_id)}`, `snapshotted_data.${id(c.dbt_is_deleted)}`)}\n  from snapshotted_data\n  left join deletes_source_data as source_data on ${keyJoin(spec, 'snapshotted_data', 'source_data')}\n  where source_data.${keys[0]} is null${notAlreadyDeleted}\n)`,
    );
  }
  if (newRecord) {
    const inTarget = new Set(input.targetColumns);
    const cols = input.sourceColumns.map((col) => `${inTarget.has(col) ? 'snapshotted_data' : 'source_data'}.${id(col)}`);
    ctes.push(
      `deletion_records as (\n  select 'insert'::text as dbt_change_type, ${[...cols, ...keys.map((k) => `snapshotted_data.${k}`)].join(', ')},\n    ${meta(SNAPSHOT_TIME, SNAPSHOT_TIME, `snapshotted_data.${id(c.dbt_valid_to)}`, hashArguments([`snapshotted_data.${id(c.dbt_scd_id)}`, SNAPSHOT_TIME]), "'True'::text")}\n  from snapshotted_data\n  left join deletes_source_data as source_data on ${keyJoin(spec, 'snapshotted_data', 'source_data')}\n  where source_data.${keys[0]} is null${notAlreadyDeleted}\n)`,
    );
  }
  const parts = ['select * from insertions', 'select * from updates'];
  if (tracksDeletes) parts.push('select * from deletes');
  if (newRecord) parts.push('select * from deletion_records');
  return `with ${ctes.join(',\n')}\n${parts.join('\nunion all\n')}`;
}

/**
 * dbt-postgres's `snapshot_merge_sql`: close the versions the staging table
 * updates or deletes (only current rows), then insert its `insert` rows.
 */
export function snapshotMergeSql(spec: SnapshotSpec, target: RelationRef, stagingTemp: string, insertColumns: readonly string[], q: Quoter): string[] {
  const c = spec.columns;
  const id = (n: string) => q.quoteIdentifier(n);
  const T = qualified(target, q);
  const S = tempQualified(stagingTemp, q);
  const cols = insertColumns.map(id).join(', ');
  return [
    `update ${T}\nset ${id(c.dbt_valid_to)} = DBT_INTERNAL_SOURCE.${id(c.dbt_valid_to)}\nfrom ${S} as DBT_INTERNAL_SOURCE\nwhere DBT_INTERNAL_SOURCE.${id(c.dbt_scd_id)}::text = ${T}.${id(c.dbt_scd_id)}::text\n  and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update'::text, 'delete'::text)\n  and ${isCurrent(spec, `${T}.${id(c.dbt_valid_to)}`)}`,
    `insert into ${T} (${cols})\nselect ${insertColumns.map((x) => `DBT_INTERNAL_SOURCE.${id(x)}`).join(', ')}\nfrom ${S} as DBT_INTERNAL_SOURCE\nwhere DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'::text`,
  ];
}

/** dbt's `valid_snapshot_target` / `assert_valid_snapshot_target_given_strategy`: the meta columns a snapshot table must have. */
export function missingMetaColumns(spec: SnapshotSpec, targetColumns: readonly string[]): string[] {
  const have = new Set(targetColumns.map((n) => n.toLowerCase()));
  const need = [spec.columns.dbt_scd_id, spec.columns.dbt_valid_from, spec.columns.dbt_valid_to];
  if (spec.hardDeletes === 'new_record') need.push(spec.columns.dbt_is_deleted);
  return need.filter((n) => !have.has(n.toLowerCase()));
}

/**
 * dbt's `check_time_data_types` warning: the snapshot time is `timestamp without time zone`
 * on Postgres; a `dbt_updated_at` of another type (an `updated_at` column of type timestamptz
 * or date) makes the validity ranges mix types. Undefined when they match.
 */
export function timeTypeWarning(updatedAtType: string | undefined): string | undefined {
  if (!updatedAtType || updatedAtType === 'timestamp without time zone') return undefined;
  return `Data type of snapshot table timestamp columns (timestamp without time zone) doesn't match derived column 'updated_at' (${updatedAtType}). Please update snapshot config 'updated_at'.`;
}

/** Suffixes of the session temporary tables of a snapshot run. */
const SOURCE_SUFFIX = '__tsdbt_snap_src';
const STAGING_SUFFIX = '__tsdbt_snap_stg';

/**
 * Runs dbt's snapshot materialization (see the module comment): pre-hooks,
 * the first build or the staging + merge, grants, persist_docs and post-hooks,
 * all in one transaction.
 *
 * @throws TsdbtError `invalid-snapshot-config`, `snapshot-target-not-table` (a
 *   view or other relation has the snapshot's name), `snapshot-target-not-snapshot-table`
 *   (the table lacks dbt_scd_id / dbt_valid_from / dbt_valid_to, or dbt_is_deleted
 *   with `hard_deletes: new_record`), `snapshot-check-col-missing`; DatabaseError
 *   from the query (position relative to `ctx.sql`) or the merge. On any error
 *   the snapshot table is as it was.
 */
export async function snapshotStrategy(ctx: MaterializeContext, s: RecordingSession): Promise<StrategyOutcome> {
  const q = ctx.adapter;
  const target = ctx.relation;
  checkIdentifier(target);
  const spec = snapshotSpec(ctx.config);
  await ensureSchema(s, q, target.schema);
  const sourceTemp = helperIdentifier(target.identifier, SOURCE_SUFFIX);
  const stagingTemp = helperIdentifier(target.identifier, STAGING_SUFFIX);
  const warnings: string[] = [];
  return transactionWithRetry(s, async (tx) => {
    warnings.length = 0;
    await runHooks(tx, ctx.preHooks, ctx.renderHook);
    const existing = await lookupRelation(tx, target);
    if (existing && existing.kind !== 'table') {
      throw new TsdbtError('snapshot-target-not-table', `${qualified(target, q)} is a ${existing.kind.replace('_', ' ')}, but a snapshot must be a table.`, {
        kind: 'runtime',
        hint: `drop the ${existing.kind.replace('_', ' ')} or give the snapshot another name (alias)`,
      });
    }
    if (!existing) {
      const r = await runModelStatement(tx, withSqlHeader(buildSnapshotTableSql(spec, target, ctx.sql, q), ctx.config.sql_header), ctx.sql);
      const typeWarning = timeTypeWarning((await readColumns(tx, target)).find((x) => x.name === spec.columns.dbt_updated_at)?.dataType);
      if (typeWarning) warnings.push(typeWarning);
      await createConfiguredIndexes(tx, ctx, target);
      await finishInTransaction(tx, ctx, { revoke: false });
      const n = typeof r.rowCount === 'number' && r.command.toUpperCase() === 'SELECT' ? r.rowCount : Number((await tx.look<{ n: string }>(`select count(*)::int8::text as n from ${qualified(target, q)}`)).rows[0]?.n ?? 0);
      return { message: `SELECT ${n}`, rowsAffected: n, warnings: [...warnings] };
    }
    const targetCols = await readColumns(tx, target);
    const missing = missingMetaColumns(spec, targetCols.map((x) => x.name));
    if (missing.length > 0) {
      throw new TsdbtError('snapshot-target-not-snapshot-table', `Snapshot target ${qualified(target, q)} is not a snapshot table (missing ${missing.map((m) => `"${m}"`).join(', ')}).`, {
        kind: 'runtime',
        hint:
          spec.hardDeletes === 'new_record' && missing.length === 1 && missing[0] === spec.columns.dbt_is_deleted
            ? `hard_deletes: new_record needs a ${spec.columns.dbt_is_deleted} column: add it (alter table … add column ${spec.columns.dbt_is_deleted} text) or rebuild the snapshot table`
            : 'the table was not built by this snapshot (or its meta column names changed): rename or drop it, or set snapshot_meta_column_names to match',
      });
    }
    await tx.query(`drop table if exists ${tempQualified(sourceTemp, q)}`);
    await tx.query(`drop table if exists ${tempQualified(stagingTemp, q)}`);
    await runModelStatement(tx, withSqlHeader(`create temporary table ${q.quoteIdentifier(sourceTemp)} on commit drop\nas (\n${trimModelSql(ctx.sql)}\n)`, ctx.config.sql_header), ctx.sql);
    const sourceCols = await readColumns(tx, { temp: sourceTemp });
    const staging = snapshotStagingSql(spec, { target, sourceTemp, sourceColumns: sourceCols.map((x) => x.name), targetColumns: targetCols.map((x) => x.name) }, q);
    await tx.query(`create temporary table ${q.quoteIdentifier(stagingTemp)} on commit drop\nas (\n${staging}\n)`);
    const stagingCols = (await readColumns(tx, { temp: stagingTemp })).filter((x) => !isHelperColumn(x.name));
    const typeWarning = timeTypeWarning(stagingCols.find((x) => x.name === spec.columns.dbt_updated_at)?.dataType);
    if (typeWarning) warnings.push(typeWarning);
    // Columns the query gained are added to the snapshot table; longer varchars widen it (dbt's create_columns, expand_target_column_types).
    const plan = planSchemaChange('append_new_columns', stagingCols, targetCols);
    if (plan.expand.length > 0) {
      const now = await lookupRelation(tx, target);
      await tx.query(swapLockSql());
      await preservingDependents(
        tx,
        q,
        target,
        now?.oid ?? null,
        async () => {
          for (const e of plan.expand) await tx.query(alterColumnTypeSql(target, e.name, e.to, q));
        },
        { rebuiltLater: ctx.rebuiltLater, warnings },
      );
    }
    if (plan.add.length > 0) await tx.query(addColumnsSql(target, plan.add, q));
    let inserted = 0;
    const [update, insert] = snapshotMergeSql(spec, target, stagingTemp, stagingCols.map((x: ColumnSpec) => x.name), q);
    await tx.query(update);
    inserted = (await tx.query(insert)).rowCount ?? 0;
    await finishInTransaction(tx, ctx, { revoke: true });
    return { message: `INSERT 0 ${inserted}`, rowsAffected: inserted, warnings: [...warnings] };
  });
}
