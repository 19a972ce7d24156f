/**
 * The `view`, `table`, `seed` and `ephemeral` strategies (incremental lives in
 * incremental.ts). Each mirrors the dbt-postgres materialization of the same
 * name, except that the old relation is replaced by a swap that keeps
 * dependent views (see swap.ts) instead of a cascading drop.
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import { inferSeedColumns, loadSeedTable } from '../seeds/index.ts';
import type { MaterializeContext, RecordingSession } from './context.ts';
import { assertColumnsEquivalent, createContractTableSql, insertContractRowsSql } from './contract.ts';
import { createTableAsSql, createViewAsSql, qualified, withSqlHeader } from './sql.ts';
import { activeDistribution, createEmptySql, distribute, insertModelRowsSql } from './citus.ts';
import { buildAndSwap, createConfiguredIndexes, effectiveFullRefresh, runModelStatement } from './steps.ts';

/** What a strategy returns; `materialize` adds the statements and warnings. */
export interface StrategyOutcome {
  readonly message: string;
  readonly rowsAffected: number | null;
  readonly warnings?: readonly string[];
}

/** Rows in a relation (used when the driver does not report a `create table as` count). */
async function countRows(s: RecordingSession, rel: RelationRef, ctx: MaterializeContext): Promise<number> {
  const r = await s.look<{ n: string | number }>(`select count(*)::int8::text as n from ${qualified(rel, ctx.adapter)}`);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * dbt's `view` materialization: `create view <alias>__tsdbt_tmp as (…)`, then
 * swap. Result `CREATE VIEW`.
 */
export async function viewStrategy(ctx: MaterializeContext, s: RecordingSession): Promise<StrategyOutcome> {
  const { warnings } = await buildAndSwap(ctx, s, 'view', async (tmp) => {
    // dbt's create_view_as: an enforced contract checks the columns (views take no constraints).
    if (ctx.contract) await assertColumnsEquivalent(s, ctx.contract, ctx.sql, ctx.adapter, ctx.config.sql_header);
    await runModelStatement(s, withSqlHeader(createViewAsSql(tmp, ctx.sql, ctx.adapter), ctx.config.sql_header), ctx.sql);
  });
  return { message: 'CREATE VIEW', rowsAffected: null, warnings };
}

/**
 * dbt's `table` materialization: `create table <alias>__tsdbt_tmp as (…)`
 * (`unlogged` and `sql_header` honoured), the `indexes` config, then swap.
 * Result `SELECT <rows>`.
 */
export async function tableStrategy(ctx: MaterializeContext, s: RecordingSession): Promise<StrategyOutcome> {
  const contract = ctx.contract;
  const { value: rows, warnings } = await buildAndSwap(ctx, s, 'table', async (tmp) => {
    if (contract) {
      // dbt's postgres__create_table_as: the contract's columns are checked (after pre-hooks) before anything is built.
      await assertColumnsEquivalent(s, contract, ctx.sql, ctx.adapter, ctx.config.sql_header);
      // Declared columns and constraints, then the rows: a violated constraint fails here, before the swap.
      await s.query(withSqlHeader(createContractTableSql(tmp, contract, ctx.adapter, { unlogged: ctx.config.unlogged === true }), ctx.config.sql_header));
      await distribute(ctx, s, tmp); // Citus `dist`: distributed before the rows go in (citus.ts)
      const r = await runModelStatement(s, insertContractRowsSql(tmp, contract, ctx.sql, ctx.adapter), ctx.sql);
      await createConfiguredIndexes(s, ctx, tmp);
      return typeof r.rowCount === 'number' ? r.rowCount : await countRows(s, tmp, ctx);
    }
    const unlogged = ctx.config.unlogged === true;
    let r;
    if (await activeDistribution(ctx, s)) {
      // Citus `dist` (citus.ts): created empty with the model's columns, distributed, then filled on the shards.
      await runModelStatement(s, withSqlHeader(createEmptySql(tmp, ctx.sql, ctx.adapter, { unlogged }), ctx.config.sql_header), ctx.sql);
      await distribute(ctx, s, tmp);
      r = await runModelStatement(s, withSqlHeader(insertModelRowsSql(tmp, ctx.sql, ctx.adapter), ctx.config.sql_header), ctx.sql);
    } else {
      r = await runModelStatement(s, withSqlHeader(createTableAsSql(tmp, ctx.sql, ctx.adapter, { unlogged }), ctx.config.sql_header), ctx.sql);
    }
    const rows = typeof r.rowCount === 'number' && ['SELECT', 'INSERT'].includes(r.command.toUpperCase()) ? r.rowCount : await countRows(s, tmp, ctx);
    await createConfiguredIndexes(s, ctx, tmp);
    return rows;
  });
  return { message: `SELECT ${rows}`, rowsAffected: rows, warnings };
}

/**
 * dbt's `seed` materialization, rebuilt by swap: the CSV is loaded (COPY) into
 * `<alias>__tsdbt_tmp` with the inferred or configured column types, then
 * swapped in, so a bad CSV leaves the previous table as it was. Result
 * `INSERT <rows>` (`CREATE <rows>` under full refresh, as dbt reports).
 *
 * @throws TsdbtError `seed-file-missing` when the context has no `seed`.
 */
export async function seedStrategy(ctx: MaterializeContext, s: RecordingSession): Promise<StrategyOutcome> {
  const seed = ctx.seed;
  if (!seed) {
    throw new TsdbtError('seed-file-missing', `No CSV file was given for seed ${qualified(ctx.relation, ctx.adapter)}.`, {
      kind: 'runtime',
      hint: 'This is a tsdbt bug: the runner must pass the seed file to the materialization.',
    });
  }
  const delimiter = typeof ctx.config.delimiter === 'string' && ctx.config.delimiter !== '' ? ctx.config.delimiter : ',';
  const columns = await inferSeedColumns(seed.file, {
    displayPath: seed.displayPath,
    delimiter,
    columnTypes: ctx.config.column_types ?? {},
    quoteColumns: ctx.config.quote_columns ?? null,
  });
  const { value: rows, warnings } = await buildAndSwap(ctx, s, 'table', async (tmp) => {
    // Citus `dist`: the empty table is distributed before the COPY, which Citus routes to the shards (citus.ts).
    const afterCreate = ctx.config.dist != null ? async () => void (await distribute(ctx, s, tmp)) : undefined;
    const r = await loadSeedTable(s, ctx.adapter, { relation: tmp, file: seed.file, displayPath: seed.displayPath, columns, delimiter, afterCreate });
    await createConfiguredIndexes(s, ctx, tmp);
    return r.rows;
  });
  const code = effectiveFullRefresh(ctx) ? 'CREATE' : 'INSERT';
  return { message: `${code} ${rows}`, rowsAffected: rows, warnings };
}

/** dbt's `ephemeral`: nothing is built (the compiler inlines the model as a CTE). */
export async function ephemeralStrategy(): Promise<StrategyOutcome> {
  return { message: 'EPHEMERAL', rowsAffected: null };
}
