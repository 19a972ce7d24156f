/**
 * The swap: putting a relation built under a temporary name in place of the
 * current one, in one transaction, without losing dependent views.
 *
 * Transaction (retried up to 3 times on deadlock / lock timeout):
 *   1. `pg_advisory_xact_lock(SWAP_LOCK_KEY)` — swaps run one at a time;
 *   2. look up the current relation (its kind decides `alter table`/`alter view`);
 *   3. capture dependent views (search_path = pg_catalog, before renaming);
 *   4. drop them, outermost first;
 *   5. rename current → `<alias>__tsdbt_backup_<token>`, tmp → `<alias>`;
 *   6. drop the backup (`cascade`, as dbt: only non-view dependents such as
 *      foreign keys can be left by now);
 *   7. recreate the views innermost first (a failure rolls everything back);
 *   8. the caller's `after` step (grants, post-hooks).
 * Until the commit, readers keep seeing the previous relation (the renames take
 * an ACCESS EXCLUSIVE lock, so they wait at most for the swap itself, which is
 * short: the expensive build happened before, in its own statement).
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import { invocationGoneSql } from '../adapters/invocation-token.ts';
import { lookupRelation, relationKindOf } from './catalog.ts';
import type { RecordingSession } from './context.ts';
import { isRetryable, preservingDependents } from './dependents.ts';
import {
  backupRelation,
  dropRelationSql,
  leftoverLookupParams,
  leftoverLookupSql,
  qualified,
  renameRelationSql,
  swapLockSql,
  type Quoter,
  type ReplaceableKind,
} from './sql.ts';

/** How many times a swap transaction is attempted when it hits a deadlock or lock timeout. */
export const SWAP_ATTEMPTS = 3;

/** Kinds we rename and drop in place of a model; anything else at the model's name is left alone. */
export function isReplaceable(kind: string): kind is ReplaceableKind {
  return kind === 'table' || kind === 'view' || kind === 'materialized_view';
}

/** The error for a model whose name is taken by a relation we must not replace (foreign table, …). */
export function kindConflict(target: RelationRef, kind: string, q: Quoter): TsdbtError {
  return new TsdbtError(
    'relation-kind-conflict',
    `${qualified(target, q)} exists and is a ${kind.replace('_', ' ')}; tsdbt only replaces tables, views and materialized views.`,
    { kind: 'runtime', hint: 'Drop or rename that relation, or give the model another alias, then run again.' },
  );
}

/**
 * Runs `fn` in a transaction on `s`, retrying the whole transaction (after
 * its rollback) up to {@link SWAP_ATTEMPTS} times when it fails with a
 * deadlock or lock timeout.
 */
export async function transactionWithRetry<T>(s: RecordingSession, fn: (tx: RecordingSession) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await s.transaction(fn);
    } catch (e) {
      if (attempt < SWAP_ATTEMPTS && isRetryable(e)) {
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      throw e;
    }
  }
}

/**
 * Drops leftovers of a crashed run — `<alias>__tsdbt_tmp[_<token>]` and
 * `<alias>__tsdbt_backup[_<token>]` — whatever their kind (dbt's
 * `drop_relation_if_exists(preexisting_intermediate_relation)`). A helper
 * relation of another invocation whose connections are still alive (its
 * invocation lock is held, see adapters/invocation-token.ts) is in use and
 * left alone; ours (`token`), token-less ones and those of dead invocations
 * are dropped.
 */
export async function dropLeftovers(s: RecordingSession, q: Quoter, target: RelationRef, token?: string): Promise<void> {
  const found = await s.look<{ name: string; relkind: string }>(leftoverLookupSql(), leftoverLookupParams(target));
  for (const row of found.rows) {
    const rel = { schema: target.schema, identifier: String(row.name) };
    const owner = rel.identifier.slice(-6);
    const tokenLess = leftoverLookupParams(target)[1].includes(rel.identifier);
    if (!tokenLess && owner !== token && !(await invocationGone(s, owner))) continue;
    const kind = relationKindOf(String(row.relkind));
    if (!isReplaceable(kind)) throw kindConflict(rel, kind, q);
    await s.query(dropRelationSql(rel, kind, q, { cascade: true }));
  }
}

/** True when no connection of invocation `token` is alive (its shared invocation lock is free). */
async function invocationGone(s: RecordingSession, token: string): Promise<boolean> {
  try {
    const r = await s.look<{ free: boolean }>(invocationGoneSql(token));
    return r.rows[0]?.free === true;
  } catch {
    return true; // an engine without advisory locks has one session: nothing else can be running
  }
}

/**
 * Swaps `tmp` (of kind `tmpKind`) into `target`'s place, keeping the views
 * that depend on the current relation (see the module comment for the steps).
 * `opts.after` runs inside the same transaction once the new relation is in
 * place. Resolves to the warnings about dropped `rebuiltLater` views.
 *
 * @throws TsdbtError `dependent-view-failed` / `dependent-view-blocked` (see
 *   {@link preservingDependents}), `relation-kind-conflict`; DatabaseError for
 *   anything else. On any error nothing has changed, and `tmp` still exists
 *   (the caller drops it).
 */
export async function swapIntoPlace(
  s: RecordingSession,
  q: Quoter,
  target: RelationRef,
  tmp: RelationRef,
  tmpKind: ReplaceableKind,
  opts: SwapOptions = {},
): Promise<{ warnings: string[] }> {
  const backup = backupRelation(target, opts.token);
  return transactionWithRetry(s, async (tx) => {
    const warnings: string[] = [];
    await tx.query(swapLockSql());
    const old = await lookupRelation(tx, target);
    if (old && !isReplaceable(old.kind)) throw kindConflict(target, old.kind, q);
    const change = async () => {
      if (old) await tx.query(renameRelationSql(target, old.kind as ReplaceableKind, backup.identifier, q));
      await tx.query(renameRelationSql(tmp, tmpKind, target.identifier, q));
      if (old) await tx.query(dropRelationSql(backup, old.kind as ReplaceableKind, q, { cascade: true }));
    };
    await preservingDependents(tx, q, target, old?.oid ?? null, change, { rebuiltLater: opts.rebuiltLater, warnings });
    if (opts.after) await opts.after(tx);
    return { warnings };
  });
}

/** Options of {@link swapIntoPlace}. */
export interface SwapOptions {
  /** Runs inside the swap's transaction once the new relation is in place (grants, post-hooks). */
  readonly after?: (tx: RecordingSession) => Promise<void>;
  /** See `MaterializeContext.rebuiltLater`. */
  readonly rebuiltLater?: readonly RelationRef[];
  /** The invocation token the backup name carries (see `tmpRelation`). */
  readonly token?: string;
}
