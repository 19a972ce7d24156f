/**
 * Steps shared by the strategies: schema creation, hooks, grants, running the
 * model's own statement, and "build under a temporary name, then swap".
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import type { MaterializeContext, RecordingSession } from './context.ts';
import { dropLeftovers, swapIntoPlace } from './swap.ts';
import {
  createIndexSql,
  createSchemaSql,
  indexName,
  parseIndexes,
  qualified,
  dropRelationSql,
  grantsSql,
  identifierBytes,
  MAX_IDENTIFIER_BYTES,
  modelSqlOffset,
  tmpRelation,
  trimModelSql,
  type Quoter,
  type ReplaceableKind,
} from './sql.ts';

/** dbt's `should_full_refresh()`: a `full_refresh` config that is not null wins over the flag. */
export function effectiveFullRefresh(ctx: Pick<MaterializeContext, 'config' | 'fullRefresh'>): boolean {
  const c = ctx.config.full_refresh;
  return c === null || c === undefined ? ctx.fullRefresh : Boolean(c);
}

/**
 * Rejects relation names Postgres would silently truncate (dbt-postgres raises
 * "Relation name '…' is longer than 63 characters" too).
 */
export function checkIdentifier(rel: RelationRef): void {
  for (const [what, name] of [
    ['Relation', rel.identifier],
    ['Schema', rel.schema],
  ] as const) {
    if (identifierBytes(name) > MAX_IDENTIFIER_BYTES) {
      throw new TsdbtError('relation-name-too-long', `${what} name '${name}' is longer than ${MAX_IDENTIFIER_BYTES} bytes, Postgres's limit.`, {
        kind: 'project',
        hint: what === 'Relation' ? 'Set a shorter `alias` in the model config (or rename the file).' : 'Use a shorter schema name.',
      });
    }
  }
}

/** `create schema if not exists`, tolerating a concurrent creator (SQLSTATE 23505 / 42P06). */
export async function ensureSchema(s: RecordingSession, q: Quoter, schema: string): Promise<void> {
  const found = await s.look(`select 1 from pg_catalog.pg_namespace where nspname = $1`, [schema]);
  if (found.rows.length > 0) return;
  try {
    await s.query(createSchemaSql(schema, q));
  } catch (e) {
    if (e instanceof DatabaseError && (e.sqlState === '23505' || e.sqlState === '42P06')) return;
    throw e;
  }
}

/** Runs each hook statement in order (empty ones skipped). */
export async function runHooks(s: RecordingSession, hooks: readonly string[] | undefined): Promise<void> {
  for (const h of hooks ?? []) {
    if (trimModelSql(h).trim() === '') continue;
    await s.query(h);
  }
}

/** Grants from the `grants` config, then post-hooks: what runs last, inside the final transaction. */
export async function finishInTransaction(tx: RecordingSession, ctx: MaterializeContext): Promise<void> {
  for (const g of grantsSql(ctx.relation, ctx.config.grants, ctx.adapter)) await tx.query(g);
  await runHooks(tx, ctx.postHooks);
}

/**
 * Runs a statement that wraps the model's SQL. A {@link DatabaseError} from it
 * is rethrown with `position` made relative to `modelSql` (1-based), or
 * without a position when the error points outside the model's SQL.
 */
export async function runModelStatement(s: RecordingSession, statement: string, modelSql: string) {
  try {
    return await s.query(statement);
  } catch (e) {
    if (!(e instanceof DatabaseError) || e.position === undefined) throw e;
    const offset = modelSqlOffset(statement, modelSql);
    const length = trimModelSql(modelSql).length;
    const inside = offset >= 0 && e.position > offset && e.position <= offset + length;
    throw new DatabaseError(e.message, {
      sqlState: e.sqlState,
      position: inside ? e.position - offset : undefined,
      detail: e.detail,
      hint: e.hint,
      where: e.where,
      cause: e,
    });
  }
}

/** Best-effort drop of the temporary build relation after a failure (errors ignored). */
async function dropQuietly(s: RecordingSession, q: Quoter, rel: RelationRef, kind: ReplaceableKind): Promise<void> {
  try {
    await s.query(dropRelationSql(rel, kind, q, { cascade: true }));
  } catch {
    /* the original error matters more */
  }
}

/**
 * Builds the model under `<alias>__tsdbt_tmp` with `build`, then swaps it into
 * place (see swap.ts). Creates the schema when missing, drops leftovers of a
 * crashed run, runs pre-hooks before the build and grants + post-hooks inside
 * the swap's transaction. On any failure the temporary relation is dropped and
 * the previous relation is untouched.
 */
export async function buildAndSwap<R>(
  ctx: MaterializeContext,
  s: RecordingSession,
  kind: ReplaceableKind,
  build: (tmp: RelationRef) => Promise<R>,
): Promise<{ value: R; warnings: string[] }> {
  const q = ctx.adapter;
  checkIdentifier(ctx.relation);
  await ensureSchema(s, q, ctx.relation.schema);
  await dropLeftovers(s, q, ctx.relation);
  await runHooks(s, ctx.preHooks);
  const tmp = tmpRelation(ctx.relation);
  try {
    const value = await build(tmp);
    const { warnings } = await swapIntoPlace(s, q, ctx.relation, tmp, kind, {
      after: (tx) => finishInTransaction(tx, ctx),
      rebuiltLater: ctx.rebuiltLater,
    });
    return { value, warnings };
  } catch (e) {
    await dropQuietly(s, q, tmp, kind);
    throw e;
  }
}

/**
 * Creates the indexes of dbt-postgres's `indexes` config on `rel` (the freshly
 * built temporary relation), named as dbt names them.
 *
 * @throws TsdbtError `invalid-index-config` when an entry is malformed.
 */
export async function createConfiguredIndexes(s: RecordingSession, ctx: MaterializeContext, rel: RelationRef): Promise<void> {
  const { indexes, problem } = parseIndexes(ctx.config.indexes);
  if (problem) {
    throw new TsdbtError('invalid-index-config', `Invalid indexes config for ${qualified(ctx.relation, ctx.adapter)}: ${problem}.`, {
      kind: 'project',
      hint: "Write indexes as a list like [{columns: ['id'], unique: true}, {columns: ['created_at'], type: 'brin'}].",
    });
  }
  const now = new Date().toISOString().replace('Z', '');
  for (const index of indexes) {
    await s.query(createIndexSql(rel, index, indexName(index, qualified(rel, ctx.adapter), now), ctx.adapter));
  }
}
