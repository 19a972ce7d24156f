/**
 * The swap: putting a relation built under a temporary name in place of the
 * current one, in one transaction, without losing dependent views.
 *
 * Transaction (retried with backoff on lock timeout / deadlock, see
 * {@link SwapLockPolicy}):
 *   0. `set local lock_timeout` — every lock is waited for briefly only;
 *   1. `pg_advisory_xact_lock(SWAP_LOCK_KEY)` — swaps run one at a time;
 *   2. look up the current relation (its kind decides `alter table`/`alter view`);
 *   3. capture dependent views (search_path = pg_catalog, before renaming);
 *   4. drop them, outermost first;
 *   5. rename current → `<alias>__tsdbt_backup_<token>`, tmp → `<alias>`;
 *   6. check what the backup's `cascade` would drop ({@link checkCascade}: a view
 *      created meanwhile → retry; a function on its row type → refuse unless
 *      --full-refresh; a foreign key → dropped as dbt does, with a warning), drop it;
 *   7. recreate the views innermost first (from its model's new SQL for a view a
 *      later node rebuilds; a view that fits neither way rolls everything back);
 *   8. the caller's `after` step (grants, post-hooks).
 * Steps 3, 4 and 7 are skipped when the look-up (2) finds no view built on the
 * relation. Statements whose results are not needed travel with the next one
 * (RecordingSession.defer): a table swap is three round trips — 0–2, 5 with
 * checkCascade's query, the drop with the COMMIT.
 * Until the commit, readers keep seeing the previous relation. The renames take
 * an ACCESS EXCLUSIVE lock; while that request waits (say, for a long report
 * reading the table), every new reader queues behind it. So the swap waits for
 * a lock at most `swap_lock_timeout` (PostgreSQL's `lock_timeout`), then rolls
 * back — the queued readers go on — and tries again after a growing pause, for
 * up to `swap_lock_wait` in all, then gives up with `swap-lock-timeout` naming
 * the sessions that hold the relation. Readers thus never wait behind the swap
 * for longer than `swap_lock_timeout` plus the swap itself. (dbt waits without
 * a limit, and every reader waits with it.)
 */
import { DatabaseError, type RelationRef } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import { invocationGoneSql } from '../adapters/invocation-token.ts';
import { relationKindOf } from './catalog.ts';
import type { RelationCache } from './relation-cache.ts';
import type { RecordingSession } from './context.ts';
import { checkCascade, isRetryable, preservingDependents } from './dependents.ts';
import type { RebuiltRelation } from './context.ts';
import {
  backupRelation,
  dependentObjectsSql,
  dropRelationSql,
  leftoverLookupParams,
  leftoverLookupSql,
  qualified,
  renameRelationSql,
  swapLockSql,
  type Quoter,
  type ReplaceableKind,
} from './sql.ts';

/** How many times a transaction without a {@link SwapLockPolicy} is attempted when it hits a deadlock or lock timeout. */
export const SWAP_ATTEMPTS = 3;

/**
 * How a swap waits for its locks: each attempt waits at most `timeoutMs` for
 * any one lock; attempts go on, with pauses of 250 ms doubling up to 2 s,
 * until `waitMs` have passed since the first.
 */
export interface SwapLockPolicy {
  readonly timeoutMs: number;
  readonly waitMs: number;
}

/** Defaults: 1 s per lock wait (`swap_lock_timeout`), 300 s in all (`swap_lock_wait`). */
export const DEFAULT_SWAP_LOCK_POLICY: SwapLockPolicy = { timeoutMs: 1000, waitMs: 300_000 };

/**
 * The {@link SwapLockPolicy} of a node's config: `swap_lock_timeout` and
 * `swap_lock_wait`, in seconds (tsdbt's; dbt has none).
 *
 * @throws TsdbtError `invalid-swap-lock-config` (kind 'project') for a value
 *   that is not a positive number of seconds.
 */
export function swapLockPolicy(config: Record<string, unknown>, file?: string): SwapLockPolicy {
  const read = (key: string, dflt: number): number => {
    const v = config[key];
    if (v === undefined || v === null || v === '') return dflt;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
      throw new TsdbtError('invalid-swap-lock-config', `${key} must be a positive number of seconds, got ${JSON.stringify(v)}`, {
        file,
        kind: 'project',
        hint: `e.g. {{ config(${key}=${dflt / 1000}) }} or +${key}: ${dflt / 1000} in dbt_project.yml`,
      });
    }
    return Math.round(n * 1000);
  };
  return { timeoutMs: read('swap_lock_timeout', DEFAULT_SWAP_LOCK_POLICY.timeoutMs), waitMs: read('swap_lock_wait', DEFAULT_SWAP_LOCK_POLICY.waitMs) };
}

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
 * its rollback) when it fails with a deadlock or lock timeout: up to
 * {@link SWAP_ATTEMPTS} times, or — with a `lock` policy — with
 * `lock_timeout` set in the transaction and pauses growing from 250 ms to
 * 2 s, until `lock.waitMs` have passed.
 *
 * @throws TsdbtError `swap-lock-timeout` (runtime) when the policy's time is
 *   up, naming `target`'s lock holders; else what `fn` throws.
 */
export async function transactionWithRetry<T>(
  s: RecordingSession,
  fn: (tx: RecordingSession) => Promise<T>,
  lock?: { readonly policy: SwapLockPolicy; readonly target: RelationRef; readonly q: Quoter },
): Promise<T> {
  const start = Date.now();
  const body = lock
    ? async (tx: RecordingSession) => {
        tx.defer(`set local lock_timeout = ${Math.max(1, Math.round(lock.policy.timeoutMs))}`); // travels with the first statement
        return fn(tx);
      }
    : fn;
  for (let attempt = 1; ; attempt++) {
    try {
      return await s.transaction(body);
    } catch (e) {
      if (!isRetryable(e)) throw e;
      if (!lock) {
        if (attempt < SWAP_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 50 * attempt));
          continue;
        }
        throw e;
      }
      const pause = Math.min(2000, 250 * 2 ** (attempt - 1));
      if (Date.now() - start + pause < lock.policy.waitMs) {
        await new Promise((r) => setTimeout(r, pause));
        continue;
      }
      throw await lockGaveUp(s, lock.target, lock.q, lock.policy, attempt, Date.now() - start, e);
    }
  }
}

/** The `swap-lock-timeout` error: who holds `target` (pg_locks), how long we tried. */
async function lockGaveUp(s: RecordingSession, target: RelationRef, q: Quoter, policy: SwapLockPolicy, attempts: number, waitedMs: number, cause: unknown): Promise<TsdbtError> {
  let holders = '';
  try {
    const r = await s.look<{ pid: number; usename: string | null; state: string | null; secs: number | null; query: string | null }>(
      `select a.pid, a.usename::text as usename, a.state, extract(epoch from now() - a.xact_start)::int as secs, left(a.query, 100) as query
         from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.pid = l.pid
        where l.granted and l.locktype = 'relation' and l.pid <> pg_catalog.pg_backend_pid()
          and l.relation = pg_catalog.to_regclass($1)
        group by 1, 2, 3, 4, 5 order by 1`,
      [qualified(target, q)],
    );
    holders = r.rows
      .map((h) => `pid ${h.pid}${h.usename ? ` (${h.usename})` : ''}${h.state ? `, ${h.state}` : ''}${h.secs !== null ? ` for ${h.secs} s` : ''}${h.query ? `: ${JSON.stringify(h.query)}` : ''}`)
      .join('; ');
  } catch {
    // best effort: the message stands without the holders
  }
  return new TsdbtError(
    'swap-lock-timeout',
    `could not swap ${qualified(target, q)} into place: ${holders ? `it is in use by ${holders}` : 'another session holds a lock on it'}. ` +
      `Tried ${attempts} times over ${(waitedMs / 1000).toFixed(1)} s, waiting at most ${policy.timeoutMs / 1000} s for a lock each time so readers were never queued behind the swap longer. The previous relation is intact.`,
    {
      kind: 'runtime',
      cause,
      hint: `run again once that session ends (tsdbt retry), or wait longer with swap_lock_wait (seconds, now ${policy.waitMs / 1000}) in the model's config`,
    },
  );
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
export async function dropLeftovers(s: RecordingSession, q: Quoter, target: RelationRef, token?: string, cache?: RelationCache): Promise<void> {
  const found = cache
    ? await cache.findHelpers(s, target.schema, leftoverMatcher(target))
    : (await s.look<{ name: string; relkind: string }>(leftoverLookupSql(), leftoverLookupParams(target))).rows;
  for (const row of found) {
    const rel = { schema: target.schema, identifier: String(row.name) };
    const owner = rel.identifier.slice(-6);
    const tokenLess = leftoverLookupParams(target)[1].includes(rel.identifier);
    if (!tokenLess && owner !== token && !(await invocationGone(s, owner))) continue;
    const kind = relationKindOf(String(row.relkind));
    if (!isReplaceable(kind)) throw kindConflict(rel, kind, q);
    await s.query(dropRelationSql(rel, kind, q, { cascade: true }));
    await cache?.noteHelper(s, rel.schema, rel.identifier, null);
  }
}

/** The names {@link leftoverLookupSql} finds for `target`, as a predicate (the same rule, applied to a cached list). */
export function leftoverMatcher(target: RelationRef): (name: string) => boolean {
  const [, exact, prefixes] = leftoverLookupParams(target);
  return (name) => {
    if (exact.includes(name)) return true;
    const chars = [...name];
    return chars.length > 6 && prefixes.includes(chars.slice(0, -6).join('')) && /^[0-9a-f]{6}$/.test(chars.slice(-6).join(''));
  };
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
 * place. Resolves to the warnings about what was dropped (foreign keys, and under
 * `dropNonFitting` the dependants that blocked the swap).
 *
 * @throws TsdbtError `dependent-view-failed` / `dependent-view-blocked` (see
 *   {@link preservingDependents}), `dependent-object-blocked` (see {@link checkCascade}), `relation-kind-conflict`; DatabaseError for
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
  const policy = opts.lockPolicy ?? DEFAULT_SWAP_LOCK_POLICY;
  // First optimistically: the cascade check is a server-side assertion travelling with the drop and COMMIT. When
  // anything depends on the old relation it fails (CASCADE_CHECK_STATE), the transaction rolls back, and the swap
  // runs again with checkCascade reading, naming and deciding about each object as below.
  for (let optimistic = true; ; optimistic = false) {
    try {
      return await swapOnce(optimistic);
    } catch (e) {
      if (optimistic && e instanceof DatabaseError && e.sqlState === CASCADE_CHECK_STATE) continue;
      throw e;
    }
  }
  function swapOnce(optimistic: boolean) {
  return transactionWithRetry(s, async (tx) => {
    const warnings: string[] = [];
    // BEGIN, lock_timeout, the swap lock and the look-up travel as one round trip (RecordingSession.defer).
    tx.defer(swapLockSql());
    const found = await tx.look<{ oid: string; relkind: string; has_dependents: boolean }>(swapLookupSql(target, q));
    const row = found.rows[0];
    const old = row ? { oid: String(row.oid), kind: relationKindOf(String(row.relkind)), hasDependents: row.has_dependents === true } : null;
    if (old && !isReplaceable(old.kind)) throw kindConflict(target, old.kind, q);
    const preserve = { rebuiltLater: opts.rebuiltLater, dropNonFitting: opts.dropNonFitting, warnings };
    const change = async () => {
      // The renames travel with the cascade check; the drop with what follows (grants, post-hooks, or the COMMIT).
      if (old) tx.defer(renameRelationSql(target, old.kind as ReplaceableKind, backup.identifier, q));
      tx.defer(renameRelationSql(tmp, tmpKind, target.identifier, q));
      if (!old) return;
      // The rename holds ACCESS EXCLUSIVE now: what depends on the old relation cannot change any more.
      if (optimistic && /^[0-9]+$/.test(old.oid)) tx.defer(cascadeAssertSql(old.oid), { record: false });
      else await checkCascade(tx, q, target, old.oid, { ...preserve, backupName: backup.identifier });
      tx.defer(dropRelationSql(backup, old.kind as ReplaceableKind, q, { cascade: true }));
    };
    // No view depends on the old relation: nothing to capture. One created after the look-up is caught by
    // checkCascade once the rename holds the relation (DependentsChangedError: the swap is tried again).
    await preservingDependents(tx, q, target, old?.hasDependents ? old.oid : null, change, preserve);
    if (opts.after) await opts.after(tx);
    return { warnings };
  }, { policy, target, q });
  }
}

/** SQLSTATE raised by {@link cascadeAssertSql} (a code of tsdbt's own: PostgreSQL's all start with a digit or a different letter pair). */
export const CASCADE_CHECK_STATE = 'TSC01';

/**
 * A statement that fails with {@link CASCADE_CHECK_STATE} when anything ({@link dependentObjectsSql}: a view,
 * a foreign key, a function on the row type, …) depends on the relation with OID `oid` (digits), and does
 * nothing otherwise: the optimistic form of {@link checkCascade}, sent with the drop.
 */
export function cascadeAssertSql(oid: string): string {
  if (!/^[0-9]+$/.test(oid)) throw new Error(`an OID is digits, got ${JSON.stringify(oid)}`);
  return (
    `do $tsdbt$ begin if exists (${dependentObjectsSql().replaceAll('$1', `'${oid}'`)}) then ` +
    `raise exception 'objects depend on the relation being replaced: checking them one by one' using errcode = '${CASCADE_CHECK_STATE}'; ` +
    'end if; end $tsdbt$'
  );
}

/**
 * The swap's look-up of `target`, with the names inlined (no parameters, so it can travel with the
 * deferred statements before it): `{ oid, relkind, has_dependents }` — whether any view or rule is
 * built on it (the first step of `dependentViewsSql`) — or no row when it does not exist.
 */
export function swapLookupSql(target: RelationRef, q: Quoter): string {
  return [
    'select c.oid::text as oid, c.relkind::text as relkind,',
    '  exists (select 1 from pg_catalog.pg_depend d join pg_catalog.pg_rewrite r on r.oid = d.objid',
    "          where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass",
    '            and d.refobjid = c.oid and r.ev_class <> c.oid) as has_dependents',
    'from pg_catalog.pg_class c',
    'join pg_catalog.pg_namespace n on n.oid = c.relnamespace',
    `where n.nspname = ${q.quoteLiteral(target.schema)} and c.relname = ${q.quoteLiteral(target.identifier)}`,
  ].join('\n');
}

/** Options of {@link swapIntoPlace}. */
export interface SwapOptions {
  /** Runs inside the swap's transaction once the new relation is in place (grants, post-hooks). */
  readonly after?: (tx: RecordingSession) => Promise<void>;
  /** See `MaterializeContext.rebuiltLater`. */
  readonly rebuiltLater?: readonly RebuiltRelation[];
  /** `--full-refresh`: dependants that block the swap are dropped with a warning instead (see {@link preservingDependents}). */
  readonly dropNonFitting?: boolean;
  /** The invocation token the backup name carries (see `tmpRelation`). */
  readonly token?: string;
  /** How long to wait for locks (default {@link DEFAULT_SWAP_LOCK_POLICY}); see {@link swapLockPolicy}. */
  readonly lockPolicy?: SwapLockPolicy;
}
