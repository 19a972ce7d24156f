/**
 * `materialize`: runs one node's materialization on PostgreSQL or PGlite (the
 * same SQL for both), picking the strategy by `config.materialized` as dbt does.
 */
import { detectCitus } from './citus.ts';
import { TsdbtError } from '../errors.ts';
import { configSqlErrors } from './config-check.ts';
import { RecordingSession, type MaterializeContext, type MaterializeResult } from './context.ts';
import { contractSqlProblem } from './contract.ts';
import { incrementalStrategy } from './incremental.ts';
import { snapshotStrategy } from './snapshot.ts';
import { resolveGrants } from './sql.ts';
import { runHooks } from './steps.ts';
import { ephemeralStrategy, seedStrategy, tableStrategy, viewStrategy, type StrategyOutcome } from './strategies.ts';

/** The materializations tsdbt implements. */
export const MATERIALIZATIONS = ['view', 'table', 'incremental', 'seed', 'ephemeral', 'snapshot'] as const;
export type Materialization = (typeof MATERIALIZATIONS)[number];

const STRATEGIES: Record<Materialization, (ctx: MaterializeContext, s: RecordingSession) => Promise<StrategyOutcome>> = {
  view: viewStrategy,
  table: tableStrategy,
  incremental: incrementalStrategy,
  seed: seedStrategy,
  ephemeral: ephemeralStrategy,
  snapshot: snapshotStrategy,
};

/**
 * Builds one node: `view`, `table`, `incremental`, `seed` (default when
 * `ctx.seed` is set and nothing else is configured), `ephemeral` (no-op) or
 * `snapshot` (snapshot.ts: dbt's SCD type 2 snapshot, one transaction).
 * Replacing an existing relation never drops the views that depend on it, and
 * a failure leaves the previous relation as it was (see README.md).
 *
 * @example
 *   const r = await materialize({ conn, adapter, relation: { schema: 'analytics', identifier: 'orders' },
 *     sql: 'select 1 as id', config: { materialized: 'table' }, fullRefresh: false });
 *   r.message // 'SELECT 1'
 * @throws TsdbtError `unknown-materialization` (e.g. `materialized_view`, custom ones), any
 *   error of {@link configSqlErrors} (thrown before any statement runs),
 *   any error listed on the strategies, or DatabaseError (for the model's own
 *   SQL with `position` relative to `ctx.sql`).
 */
export async function materialize(ctx: MaterializeContext): Promise<MaterializeResult> {
  const name = ctx.config.materialized ?? (ctx.seed ? 'seed' : 'view');
  if (!(MATERIALIZATIONS as readonly string[]).includes(name)) {
    throw new TsdbtError('unknown-materialization', `Unknown materialization '${name}'.`, {
      kind: 'project',
      hint: `Use one of: ${MATERIALIZATIONS.join(', ')}.`,
    });
  }
  resolveGrants(ctx.config.grants, ctx.adapter); // a bad grants config fails before any statement runs
  // Any config value that would reach SQL unsafely (indexes, unique_key, predicates, column_types, …) fails here too.
  const unsafe = configSqlErrors(ctx.config, { label: `${name === 'seed' || name === 'snapshot' ? name : 'model'} ${ctx.relation.schema}.${ctx.relation.identifier}` });
  if (unsafe.length > 0) throw unsafe[0];
  const contractProblem = ctx.contract && contractSqlProblem(ctx.contract, `model ${ctx.relation.schema}.${ctx.relation.identifier}`);
  if (contractProblem) throw contractProblem;
  // Citus propagates DDL with the whole query string: no multi-statement batches there (RecordingSession's `batch`).
  const citus = ctx.adapter.type === 'postgres' ? await detectCitus(ctx.adapter).catch(() => null) : null;
  const session = new RecordingSession(ctx.conn, [], !citus);
  // dbt's run_hooks(pre_hooks, inside_transaction=False) before the model's transaction, and
  // run_hooks(post_hooks, inside_transaction=False) after it commits.
  await runHooks(session, ctx.beforeBeginHooks, ctx.renderHook);
  const outcome = await STRATEGIES[name as Materialization](ctx, session);
  await runHooks(session, ctx.afterCommitHooks, ctx.renderHook);
  return {
    message: outcome.message,
    rowsAffected: outcome.rowsAffected,
    statements: session.statements,
    warnings: [...(outcome.warnings ?? [])],
  };
}
