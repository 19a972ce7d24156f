/**
 * `store_failures`: keeping a test's failing rows in a table (or view) of the
 * audit schema, as dbt's test materialization does: the relation named after
 * the test's alias in `<target schema>_dbt_test__audit` is dropped and
 * re-created from the failing-rows query, then the test counts the rows of
 * that relation.
 */
import type { Adapter, RelationRef } from '../adapters/adapter.ts';
import { TEST_CONFIG_DEFAULTS, limitSql } from './test-sql.ts';

/** Anything that quotes identifiers as Postgres does (an {@link Adapter} is one). */
export interface IdentifierQuoter {
  quoteIdentifier(name: string): string;
}

/**
 * The audit schema's name with dbt's default `generate_schema_name`:
 * `<target schema>_<custom>` where the custom schema is the test's `schema`
 * config, default `dbt_test__audit` — so `analytics_dbt_test__audit`.
 * A project that overrides `generate_schema_name` gets its own rule; callers
 * with a Jinja layer should call that macro instead.
 */
export function auditSchemaName(targetSchema: string, customSchema: string | null = TEST_CONFIG_DEFAULTS.schema): string {
  if (customSchema === null || customSchema.trim() === '') return targetSchema;
  return `${targetSchema}_${customSchema.trim()}`;
}

/**
 * Whether a test stores its failures and as what, as dbt resolves it
 * (`TestConfig.finalize_and_validate` then `should_store_failures()`):
 * `store_failures_as` wins when set (`ephemeral` → not stored); otherwise
 * `store_failures` (unset → the `--store-failures` flag) stores a table.
 */
export function resolveStoreFailures(
  config: { store_failures?: boolean | null; store_failures_as?: string | null },
  storeFailuresFlag = false,
): { store: false } | { store: true; as: 'table' | 'view' } {
  const as = config.store_failures_as;
  if (as === 'ephemeral') return { store: false };
  if (as === 'table' || as === 'view') return { store: true, as };
  const store = config.store_failures ?? storeFailuresFlag;
  return store ? { store: true, as: 'table' } : { store: false };
}

/** What {@link storeFailures} ran. */
export interface StoreFailuresPlan {
  /** The statements run, in order, inside one transaction. */
  readonly statements: readonly string[];
  /** The quoted relation, `"analytics_dbt_test__audit"."not_null_orders_id"`. */
  readonly relation: string;
  /** {@link storedFailuresQuery} for that relation: give it to `wrapTestSql` (without a limit). */
  readonly mainSql: string;
}

/**
 * SQL that replaces the store_failures relation with exactly the test's failing rows:
 * `drop … if exists … cascade` then `create table … as (<testSql> [limit N])`.
 *
 * Run the statements in order inside ONE transaction (Postgres DDL is transactional, so
 * other sessions see the old rows or the new ones, and a failure leaves the old relation).
 * The audit schema must exist first (`adapter.createSchema(schema)`, outside the
 * transaction). Afterwards count failures from the stored rows, as dbt does:
 * `wrapTestSql(storedFailuresQuery(quoter, target), { fail_calc, warn_if, error_if })`.
 * {@link storeFailures} does all of this through an Adapter.
 *
 * @param quoter quotes identifiers (an Adapter).
 * @param target `{ schema, identifier }`: the audit schema ({@link auditSchemaName}) and the
 *   test's alias (for long generic test names, dbt's short hashed name).
 * @param testSql the failing-rows query (compiled test SQL).
 * @param options `limit` (the test's limit config), `as` ('table' default, or 'view'),
 *   `existing`: the kind of relation already there ('table' default; 'view' / 'materialized_view').
 */
export function storeFailuresSql(
  quoter: IdentifierQuoter,
  target: { schema: string; identifier: string },
  testSql: string,
  options: { limit?: number | null; as?: 'table' | 'view'; existing?: 'table' | 'view' | 'materialized_view' | null } = {},
): string[] {
  const relation = quoteRelation(quoter, target);
  const statements: string[] = [];
  // Drop whichever kind is there (DROP TABLE on a view errors in Postgres, and vice versa).
  if (options.existing === 'view') statements.push(`drop view if exists ${relation} cascade`);
  else if (options.existing === 'materialized_view') statements.push(`drop materialized view if exists ${relation} cascade`);
  else statements.push(`drop table if exists ${relation} cascade`);
  const kind = options.as === 'view' ? 'view' : 'table';
  statements.push(`create ${kind} ${relation} as (\n${limitSql(testSql, options.limit)}\n)`);
  return statements;
}

/** The failing-rows query over a stored failures relation: `select * from <relation>` (dbt's `main_sql`). */
export function storedFailuresQuery(quoter: IdentifierQuoter, target: { schema: string; identifier: string }): string {
  return `select *\nfrom ${quoteRelation(quoter, target)}`;
}

function quoteRelation(quoter: IdentifierQuoter, target: { schema: string; identifier: string }): string {
  return `${quoter.quoteIdentifier(target.schema)}.${quoter.quoteIdentifier(target.identifier)}`;
}

/**
 * Stores a test's failing rows: creates the audit schema if needed, looks at what
 * relation is there, then drops and re-creates it inside one transaction.
 *
 * @returns the plan that was run (use `plan.mainSql` with {@link wrapTestSql}).
 * @throws DatabaseError from the adapter when the SQL fails (the transaction is rolled back).
 */
export async function storeFailures(
  adapter: Pick<Adapter, 'quoteIdentifier' | 'createSchema' | 'getRelation' | 'withConnection'>,
  target: { schema: string; identifier: string },
  testSql: string,
  options: { limit?: number | null; as?: 'table' | 'view' } = {},
): Promise<StoreFailuresPlan> {
  await adapter.createSchema(target.schema);
  const ref: RelationRef = { schema: target.schema, identifier: target.identifier };
  const existing = await adapter.getRelation(ref);
  const statements = storeFailuresSql(adapter, target, testSql, {
    ...options,
    existing: existing?.kind === 'view' || existing?.kind === 'materialized_view' ? existing.kind : 'table',
  });
  await adapter.withConnection((conn) =>
    conn.transaction(async (tx) => {
      for (const s of statements) await tx.query(s);
    }),
  );
  return { statements, relation: quoteRelation(adapter, target), mainSql: storedFailuresQuery(adapter, target) };
}
