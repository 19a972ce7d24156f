/**
 * dbt's `incremental` materialization on PostgreSQL.
 *
 * First run, full refresh (`--full-refresh` or `full_refresh: true`), or an
 * existing relation that is not a table → built like `table` (build + swap).
 * Otherwise:
 *   1. pre-hooks; the new rows go into a session temporary table
 *      (`create temporary table "<alias>__tsdbt_incr" as (…)`), outside the
 *      transaction so the long part holds no lock the swaps could wait on;
 *   2. one transaction: widen varchar columns, apply `on_schema_change`, run the
 *      strategy's DML, grants, post-hooks; retried on deadlock;
 *   3. the temporary table is dropped.
 * Strategies (dbt-postgres `postgres__get_incremental_default_sql`): default
 * `delete+insert` with a `unique_key`, `append` without; `merge` on request.
 */
import type { RelationRef } from '../adapters/adapter.ts';
import type { NodeConfig } from '../config/types.ts';
import { TsdbtError } from '../errors.ts';
import { lookupRelation, readColumns } from './catalog.ts';
import type { MaterializeContext, RecordingSession } from './context.ts';
import { preservingDependents } from './dependents.ts';
import { describeSchemaChange, planSchemaChange, validateOnSchemaChange, type SchemaChangePlan } from './schema-change.ts';
import {
  addColumnsSql,
  alterColumnTypeSql,
  createTempTableAsSql,
  deleteInsertSql,
  dropColumnsSql,
  dropTempTableSql,
  helperIdentifier,
  INCREMENTAL_SUFFIX,
  insertIntoSql,
  mergeSql,
  qualified,
  swapLockSql,
  tempQualified,
  uniqueKeyList,
  withSqlHeader,
  type Quoter,
} from './sql.ts';
import { checkIdentifier, effectiveFullRefresh, finishInTransaction, runHooks, runModelStatement } from './steps.ts';
import { assertColumnsEquivalent } from './contract.ts';
import { tableStrategy, type StrategyOutcome } from './strategies.ts';
import { swapLockPolicy, transactionWithRetry } from './swap.ts';
import { markNotRetrySafe } from './retry-safety.ts';
import { checkIncrementalOnCitus, citusStaging } from './citus.ts';

/** The incremental strategies tsdbt runs on Postgres. */
export type IncrementalStrategy = 'append' | 'delete+insert' | 'merge';

export const INCREMENTAL_STRATEGIES: readonly IncrementalStrategy[] = ['append', 'delete+insert', 'merge'];

/**
 * The strategy for a config: `incremental_strategy` when set, else dbt-postgres's
 * default (`delete+insert` with a `unique_key`, `append` without).
 *
 * @throws TsdbtError `invalid-incremental-strategy` for anything else
 *   (`microbatch`, `insert_overwrite`, typos).
 */
export function resolveIncrementalStrategy(config: NodeConfig): IncrementalStrategy {
  const s = config.incremental_strategy;
  if (s === null || s === undefined || s === '' || s === 'default') {
    return uniqueKeyList(config.unique_key).length > 0 ? 'delete+insert' : 'append';
  }
  if ((INCREMENTAL_STRATEGIES as readonly string[]).includes(s)) return s as IncrementalStrategy;
  throw new TsdbtError('invalid-incremental-strategy', `The incremental strategy '${s}' is not valid for this adapter.`, {
    kind: 'project',
    hint: `Use one of: ${INCREMENTAL_STRATEGIES.join(', ')} (or leave incremental_strategy unset).`,
  });
}

function stringList(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.map(String) : [];
}

/**
 * The DML for one incremental run (pure): dbt's `get_insert_into_sql`,
 * `get_delete_insert_merge_sql` or `get_merge_sql` against `source`.
 * `incremental_predicates` (or the older `predicates`), `merge_update_columns`
 * and `merge_exclude_columns` are honoured as in dbt.
 *
 * @throws TsdbtError `invalid-merge-columns` when both merge column configs are set.
 */
export function incrementalDml(
  strategy: IncrementalStrategy,
  config: NodeConfig,
  target: RelationRef,
  source: string,
  plan: Pick<SchemaChangePlan, 'destColumns'>,
  q: Quoter,
): string[] {
  const keys = uniqueKeyList(config.unique_key);
  const predicates = stringList(config.incremental_predicates ?? config.predicates);
  const cols = plan.destColumns;
  if (strategy === 'append') return [insertIntoSql(target, source, cols, q)];
  if (strategy === 'delete+insert') return deleteInsertSql(target, source, keys, cols, q, predicates);
  const include = stringList(config.merge_update_columns);
  const exclude = stringList(config.merge_exclude_columns);
  if (include.length > 0 && exclude.length > 0) {
    throw new TsdbtError('invalid-merge-columns', 'Model cannot specify merge_update_columns and merge_exclude_columns. Please update model to use only one config', {
      kind: 'project',
      hint: 'Keep only one of merge_update_columns and merge_exclude_columns.',
    });
  }
  let updateColumns: string[] | undefined;
  if (include.length > 0) updateColumns = include;
  else if (exclude.length > 0) {
    const ex = new Set(exclude.map((c) => c.toLowerCase()));
    updateColumns = cols.filter((c) => !ex.has(c.name.toLowerCase())).map((c) => q.quoteIdentifier(c.name));
  }
  return [mergeSql(target, source, keys, cols, q, { updateColumns, predicates })];
}

/** The `ALTER TABLE` statements a schema-change plan calls for, in dbt's order (widen, add/remove, retype). */
export function schemaChangeSql(target: RelationRef, plan: SchemaChangePlan, q: Quoter): string[] {
  const out = plan.expand.map((c) => alterColumnTypeSql(target, c.name, c.to, q));
  if (plan.add.length > 0) out.push(addColumnsSql(target, plan.add, q));
  if (plan.remove.length > 0) out.push(dropColumnsSql(target, plan.remove, q));
  for (const c of plan.alter) out.push(alterColumnTypeSql(target, c.name, c.to, q));
  return out;
}

function commandMessage(command: string, rowCount: number | null): string {
  const n = rowCount ?? 0;
  return command.toUpperCase() === 'INSERT' ? `INSERT 0 ${n}` : `${command.toUpperCase()} ${n}`;
}

/**
 * Runs dbt's incremental materialization (see the module comment).
 *
 * @throws TsdbtError `incremental-schema-changed` (on_schema_change: fail and the
 *   columns differ; the message lists them), `invalid-incremental-strategy`,
 *   `invalid-merge-columns`, `dependent-view-failed` (sync_all_columns dropped or
 *   retyped a column a view uses); DatabaseError from the model SQL (position
 *   relative to `ctx.sql`) or the DML. On any error the table is unchanged.
 */
export async function incrementalStrategy(ctx: MaterializeContext, s: RecordingSession): Promise<StrategyOutcome> {
  const q = ctx.adapter;
  const target = ctx.relation;
  checkIdentifier(target);
  const strategy = resolveIncrementalStrategy(ctx.config);
  const existing = await lookupRelation(s, target);
  if (!existing || effectiveFullRefresh(ctx) || existing.kind !== 'table') return tableStrategy(ctx, s);

  const osc = validateOnSchemaChange(ctx.config.on_schema_change);
  const warnings = osc.warning ? [osc.warning] : [];
  // Citus: the existing table keeps its distribution; a unique_key Citus cannot honour fails here (citus.ts).
  warnings.push(...(await checkIncrementalOnCitus(ctx, s, strategy)));
  await runHooks(s, ctx.preHooks, ctx.renderHook);
  const tempName = helperIdentifier(target.identifier, INCREMENTAL_SUFFIX);
  // Citus: a distributed or reference target stages its rows in a colocated table, not a temporary one (citus.ts).
  const staging = await citusStaging(ctx, s, tempName);
  const source = staging?.source ?? tempQualified(tempName, q);
  const staged = staging?.relation ?? { temp: tempName };
  await (staging ? staging.drop() : s.query(dropTempTableSql(tempName, q)));
  // dbt: the temporary relation's create_table_as checks an enforced contract's columns first.
  if (ctx.contract) await assertColumnsEquivalent(s, ctx.contract, ctx.sql, q, ctx.config.sql_header);
  try {
    if (staging) await staging.fill((stmt) => runModelStatement(s, withSqlHeader(stmt, ctx.config.sql_header), ctx.sql));
    else await runModelStatement(s, withSqlHeader(createTempTableAsSql(tempName, ctx.sql, q), ctx.config.sql_header), ctx.sql);
    // Planned before the transaction so we know whether it must take the swap lock first.
    const firstPlan = planSchemaChange(osc.mode, await readColumns(s, staged), await readColumns(s, target));
    const touchesDependents = (!ctx.contract && firstPlan.expand.length > 0) || firstPlan.remove.length > 0 || firstPlan.alter.length > 0;
    // Any ALTER TABLE takes ACCESS EXCLUSIVE, as a swap's rename does.
    const altersTable = schemaChangeSql(target, firstPlan, q).length > 0;
    // The DML transaction is the one step that must not be redone blindly (see retry-safety.ts). When it alters the
    // table (ACCESS EXCLUSIVE, as a swap) it waits for locks as a swap does, so readers are not queued behind it.
    const outcome = await transactionWithRetry(s, async (tx) => {
      const attemptWarnings: string[] = [];
      if (touchesDependents) await tx.query(swapLockSql());
      const now = await lookupRelation(tx, target);
      if (!now || now.kind !== 'table') {
        throw new TsdbtError('relation-changed', `${qualified(target, q)} changed while the model was running.`, {
          kind: 'runtime',
          hint: 'Run the model again.',
        });
      }
      const planned = planSchemaChange(osc.mode, await readColumns(tx, staged), await readColumns(tx, target));
      // dbt's incremental materialization skips expand_target_column_types under an enforced contract.
      const plan = ctx.contract ? { ...planned, expand: [] } : planned;
      if (osc.mode === 'fail' && plan.schemaChanged) {
        throw new TsdbtError(
          'incremental-schema-changed',
          `The source and target schemas on this incremental model are out of sync: the model's columns no longer match ${qualified(target, q)} (${describeSchemaChange(plan)}).`,
          {
            kind: 'runtime',
            hint: 'Set on_schema_change to append_new_columns or sync_all_columns, re-run with --full-refresh to rebuild the table, or update the table by hand.',
          },
        );
      }
      const alters = schemaChangeSql(target, plan, q);
      const needsDependents = plan.expand.length > 0 || plan.remove.length > 0 || plan.alter.length > 0;
      const runAlters = async () => {
        for (const a of alters) await tx.query(a);
      };
      if (needsDependents) {
        await preservingDependents(tx, q, target, now.oid, runAlters, { rebuiltLater: ctx.rebuiltLater, warnings: attemptWarnings });
      } else {
        await runAlters();
      }
      // dbt reports the last statement's response (the insert, for delete+insert).
      let command = 'INSERT';
      let rowCount: number | null = 0;
      for (const stmt of incrementalDml(strategy, ctx.config, target, source, plan, q)) {
        ({ command, rowCount } = await tx.query(stmt));
      }
      // The table was kept: bring its grants in line with the config (revoke what is no longer there).
      await finishInTransaction(tx, ctx, { revoke: true });
      return { command, rowCount, warnings: attemptWarnings };
    }, altersTable ? { policy: swapLockPolicy(ctx.config), target, q } : undefined).catch((e: unknown) => {
      throw markNotRetrySafe(e);
    });
    warnings.push(...outcome.warnings);
    return { message: commandMessage(outcome.command, outcome.rowCount), rowsAffected: outcome.rowCount, warnings };
  } finally {
    try {
      await (staging ? staging.drop() : s.query(dropTempTableSql(tempName, q)));
    } catch {
      /* the session may be broken; the temporary table dies with it */
    }
  }
}
