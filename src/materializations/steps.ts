/**
 * Steps shared by the strategies: schema creation, hooks, grants, running the
 * model's own statement, and "build under a temporary name, then swap".
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import type { HookSql, MaterializeContext, RecordingSession } from './context.ts';
import { dropLeftovers, swapIntoPlace, swapLockPolicy } from './swap.ts';
import { readColumns } from './catalog.ts';
import type { RelationCache } from './relation-cache.ts';
import {
  createIndexSql,
  createSchemaSql,
  indexName,
  parseIndexes,
  qualified,
  dropRelationSql,
  grantSql,
  grantSchemaUsageSql,
  currentGrantsSql,
  resolveGrants,
  revokeSql,
  swapLockSql,
  type Grantee,
  identifierBytes,
  MAX_IDENTIFIER_BYTES,
  modelSqlOffset,
  persistDocsSql,
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

/**
 * `create schema if not exists`, tolerating a concurrent creator (SQLSTATE 23505 / 42P06). With `cache`
 * (the invocation's {@link RelationCache}) once per schema per invocation.
 */
export async function ensureSchema(s: RecordingSession, q: Quoter, schema: string, cache?: RelationCache): Promise<void> {
  if (cache) return cache.schemaOnce(schema, () => ensureSchemaNow(s, q, schema));
  return ensureSchemaNow(s, q, schema);
}

async function ensureSchemaNow(s: RecordingSession, q: Quoter, schema: string): Promise<void> {
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
export async function runHooks(s: RecordingSession, hooks: readonly HookSql[] | undefined, render?: MaterializeContext['renderHook']): Promise<void> {
  for (const hook of hooks ?? []) {
    let h: string;
    if (typeof hook === 'string') h = hook;
    else if (render) h = await render(hook.template, s);
    else throw new Error(`a hook needs the database to render but no renderer was given: ${hook.template}`);
    if (trimModelSql(h).trim() === '') continue;
    await s.query(h);
  }
}

/**
 * Applies the `grants` config to `ctx.relation` inside the final transaction,
 * as dbt's `apply_grants`:
 *  - no `grants` config, or `{}`: nothing is done (dbt: a no-op);
 *  - a relation created by this build (`revoke: false`, the swap): every
 *    configured privilege is granted — it starts with none, so a grantee
 *    removed from the config has lost its access;
 *  - a relation kept by the build (`revoke: true`, an incremental run): the
 *    current grants (aclexplode, owner excluded) are compared with the config
 *    and the differences granted and revoked, privilege by privilege (a
 *    privilege missing from the config, or `select: []`, is revoked from
 *    everyone).
 * Every grantee also gets `usage` on the relation's schema (tsdbt's addition:
 * without it the grant is useless; dbt projects do it in on-run-end hooks). It
 * is never revoked automatically. The schema grant takes the swap lock first:
 * two concurrent GRANTs on one schema fail with "tuple concurrently updated".
 *
 * @throws TsdbtError `invalid-grant-privilege`, `invalid-grantee`;
 *   DatabaseError e.g. for a role that does not exist.
 */
export async function applyGrants(tx: RecordingSession, ctx: MaterializeContext, opts: { revoke: boolean }): Promise<void> {
  const config = ctx.config.grants;
  if (!config || Object.keys(config).length === 0) return;
  const q = ctx.adapter;
  const desired = resolveGrants(config, q);
  const wanted = (privilege: string, name: string) =>
    (desired.get(privilege) ?? []).some((g) => g.name === name) || (desired.get('all') ?? []).some((g) => g.name === name);
  const have = new Set<string>();
  if (opts.revoke) {
    const current = await tx.look<{ grantee: string; privilege: string }>(currentGrantsSql(), [ctx.relation.schema, ctx.relation.identifier]);
    const toRevoke = new Map<string, Grantee[]>();
    for (const row of current.rows) {
      have.add(`${row.privilege}\u0000${row.grantee}`);
      if (wanted(row.privilege, row.grantee)) continue;
      const grantee: Grantee = row.grantee === 'PUBLIC' ? { name: 'PUBLIC', sql: 'public' } : { name: row.grantee, sql: q.quoteIdentifier(row.grantee) };
      (toRevoke.get(row.privilege) ?? toRevoke.set(row.privilege, []).get(row.privilege)!).push(grantee);
    }
    for (const [privilege, grantees] of toRevoke) await tx.query(revokeSql(ctx.relation, privilege, grantees, q));
  }
  const everyone = new Map<string, Grantee>();
  for (const [privilege, grantees] of desired) {
    const missing = grantees.filter((g) => privilege === 'all' || !have.has(`${privilege}\u0000${g.name}`));
    for (const g of grantees) everyone.set(g.name, g);
    if (missing.length === 0) continue;
    await tx.query(grantSql(ctx.relation, privilege, missing, q));
  }
  const roles = [...everyone.values()];
  if (roles.length > 0) {
    await tx.query(swapLockSql());
    await tx.query(grantSchemaUsageSql(ctx.relation.schema, roles, q));
  }
}

/**
 * What runs last, inside the final transaction: grants from the `grants` config (see
 * {@link applyGrants}), `persist_docs` comments (see `persistDocsSql`; `kind` is the
 * relation's, default table), then post-hooks — dbt's order.
 */
export async function finishInTransaction(tx: RecordingSession, ctx: MaterializeContext, opts: { revoke?: boolean; kind?: ReplaceableKind } = {}): Promise<void> {
  await applyGrants(tx, ctx, { revoke: opts.revoke ?? false });
  const persist = ctx.config.persist_docs as { relation?: unknown; columns?: unknown } | undefined;
  if (ctx.docs && persist && (persist.relation === true || persist.columns === true)) {
    const columns = persist.columns === true ? (await readColumns(tx, ctx.relation)).map((c) => c.name) : [];
    for (const stmt of persistDocsSql(ctx.relation, opts.kind ?? 'table', persist, ctx.docs, columns, ctx.adapter)) await tx.query(stmt);
  }
  await runHooks(tx, ctx.postHooks, ctx.renderHook);
}

/**
 * Runs a statement that wraps the model's SQL. A {@link DatabaseError} from it
 * is rethrown with `position` made relative to `modelSql` (1-based), or
 * without a position when the error points outside the model's SQL.
 */
export async function runModelStatement(s: RecordingSession, statement: string, modelSql: string) {
  await s.flush(); // on its own, so an error's position is within `statement`
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
async function dropQuietly(s: RecordingSession, q: Quoter, rel: RelationRef, kind: ReplaceableKind, cache?: RelationCache): Promise<void> {
  try {
    await s.query(dropRelationSql(rel, kind, q, { cascade: true }));
    await cache?.noteHelper(s, rel.schema, rel.identifier, null);
  } catch {
    /* the original error matters more */
  }
}

/**
 * Builds the model under `<alias>__tsdbt_tmp_<token>` (the adapter's invocation token) with `build`, then swaps it into
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
  const cache = ctx.relationCache;
  checkIdentifier(ctx.relation);
  await ensureSchema(s, q, ctx.relation.schema, cache);
  const token = ctx.adapter.invocationToken;
  await dropLeftovers(s, q, ctx.relation, token, cache);
  await runHooks(s, ctx.preHooks, ctx.renderHook);
  const tmp = tmpRelation(ctx.relation, token);
  const lockPolicy = swapLockPolicy(ctx.config);
  // Known to the cache before it exists: should the build die half-way (a lost connection), the node's retry drops it.
  await cache?.noteHelper(s, tmp.schema, tmp.identifier, kind === 'view' ? 'v' : kind === 'materialized_view' ? 'm' : 'r');
  try {
    const value = await build(tmp);
    const { warnings } = await swapIntoPlace(s, q, ctx.relation, tmp, kind, {
      after: (tx) => finishInTransaction(tx, ctx, { kind }),
      rebuiltLater: ctx.rebuiltLater,
      dropNonFitting: effectiveFullRefresh(ctx),
      token,
      lockPolicy,
    });
    await cache?.noteHelper(s, tmp.schema, tmp.identifier, null); // swapped in: it has the model's name now
    return { value, warnings };
  } catch (e) {
    // The schema was dropped behind the invocation's back (a hook): read it again at the next node.
    if (cache && e instanceof DatabaseError && e.sqlState === '3F000') cache.forgetSchema(ctx.relation.schema);
    await dropQuietly(s, q, tmp, kind, cache);
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
