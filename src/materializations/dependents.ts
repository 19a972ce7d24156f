/**
 * Keeping views that depend on a rebuilt relation alive.
 *
 * dbt drops the old relation with `cascade`, which silently drops every view
 * built on it (the long-standing "my dashboard views vanished" complaint).
 * Instead we capture the dependent views' definitions (fully qualified, with
 * owner, comments, grants, indexes, triggers and rules), set them aside, make
 * the change, and recreate them — all inside the caller's transaction, so a
 * view that no longer fits rolls everything back.
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import type { RebuiltRelation, RecordingSession } from './context.ts';
import {
  dependentObjectsSql,
  dependentViewsSql,
  dropDependentSql,
  qualified,
  recreateDependentSql,
  trimModelSql,
  type DependentObject,
  type DependentView,
  type Quoter,
} from './sql.ts';

interface DependentRow {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  definition: string;
  owner: string;
  populated: boolean | null;
  options: string | null;
  comment: string | null;
  column_comments: string | null;
  acl: string | null;
  extras: string | null;
  depends_on: string | null;
}

function parseJson<T>(text: string | null, fallback: T): T {
  return text === null || text === undefined ? fallback : (JSON.parse(text) as T);
}

/**
 * Runs `fn` with `search_path` set to `pg_catalog` for the rest of it, then
 * restores the previous value (transaction-local: must run inside a transaction); `fn` receives that
 * previous value. Under that path
 * `pg_get_viewdef` qualifies every name outside pg_catalog, and the captured
 * definitions resolve the same way when replayed.
 */
export async function withCatalogSearchPath<T>(s: RecordingSession, fn: (previousPath: string) => Promise<T>): Promise<T> {
  const before = await s.look<{ search_path: string }>(`select pg_catalog.current_setting('search_path') as search_path`);
  const previous = String(before.rows[0]?.search_path ?? '');
  await s.look(`select pg_catalog.set_config('search_path', 'pg_catalog', true)`);
  // No finally: after an error the transaction is aborted and rolls back, which restores the path anyway.
  const result = await fn(previous);
  await s.look(`select pg_catalog.set_config('search_path', $1, true)`, [previous]);
  return result;
}

/**
 * Views and materialized views depending (recursively) on the relation with
 * OID `oid`, in creation order (each after everything it reads). Must run
 * inside {@link withCatalogSearchPath} and before any rename, so that the
 * definitions name the relation as it will be named after the swap.
 */
export async function captureDependents(s: RecordingSession, oid: string): Promise<DependentView[]> {
  const r = await s.look<DependentRow>(dependentViewsSql(), [oid]);
  const views: DependentView[] = r.rows.map((row) => ({
    oid: String(row.oid),
    schema: String(row.schema),
    name: String(row.name),
    kind: row.relkind === 'm' ? 'materialized_view' : 'view',
    definition: String(row.definition),
    owner: String(row.owner),
    options: parseJson<string[] | null>(row.options, null) ?? [],
    comment: row.comment ?? null,
    columnComments: parseJson<{ column: string; comment: string }[] | null>(row.column_comments, null) ?? [],
    grants: parseJson<{ grantee: string; privilege: string; grantable: boolean }[] | null>(row.acl, null) ?? [],
    extras: parseJson<string[] | null>(row.extras, null) ?? [],
    dependsOn: parseJson<string[] | null>(row.depends_on, null) ?? [],
    populated: row.populated !== false,
  }));
  return creationOrder(views);
}

/**
 * Orders views so that each comes after the captured views it reads (a
 * topological order; ties keep the input order, which is by schema and name).
 * Pure. Views in a dependency cycle (possible only through `create or replace`
 * tricks) are appended in input order.
 */
export function creationOrder(views: readonly DependentView[]): DependentView[] {
  const byOid = new Map(views.map((v) => [v.oid, v]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: DependentView[] = [];
  const visit = (v: DependentView): void => {
    if (done.has(v.oid) || visiting.has(v.oid)) return;
    visiting.add(v.oid);
    for (const dep of v.dependsOn) {
      const d = byOid.get(dep);
      if (d) visit(d);
    }
    visiting.delete(v.oid);
    done.add(v.oid);
    out.push(v);
  };
  for (const v of views) visit(v);
  return out;
}

function dbMessage(e: unknown): string {
  if (e instanceof DatabaseError) return e.detail ? `${e.message} (${e.detail})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Thrown inside a swap's transaction when a view appeared on the relation (or on one of its
 * dependent views) after the dependents were captured — a build of another thread creating its
 * `__tsdbt_tmp` view there, say. Counts as retryable ({@link isRetryable}): the transaction rolls
 * back and is tried again, and the next capture includes the newcomer. Never reaches the user
 * unless it keeps happening for the whole `swap_lock_wait`.
 */
export class DependentsChangedError extends Error {
  constructor(what: string) {
    super(`the views depending on ${what} changed while they were being set aside; trying again`);
    this.name = 'DependentsChangedError';
  }
}

/** Objects that depend on the relation `oid` (see {@link dependentObjectsSql}). */
export async function dependentObjects(s: RecordingSession, oid: string): Promise<DependentObject[]> {
  // An OID is digits: inlined, the query needs no parameters and can travel with deferred statements (the swap's renames).
  const r = /^[0-9]+$/.test(oid) ? await s.look<DependentObject>(dependentObjectsSql().replaceAll('$1', `'${oid}'`)) : await s.look<DependentObject>(dependentObjectsSql(), [oid]);
  return r.rows.map((x) => ({
    what: String(x.what),
    kind: x.kind,
    owner: x.owner === null ? null : String(x.owner),
    on_schema: x.on_schema ?? null,
    on_name: x.on_name ?? null,
  }));
}

/** `function s.f(s.t) (owner alice)` — the owner only when it is not `me`. */
function describeObject(o: DependentObject, me: string): string {
  return o.owner && o.owner !== me ? `${o.what} (owner ${o.owner})` : o.what;
}

/** Runs `stmts` under a savepoint (not recorded: it changes nothing); on a (non-retryable) failure rolls back to it and returns the error, else null. */
async function attempt(s: RecordingSession, stmts: readonly string[]): Promise<unknown> {
  await s.look('savepoint tsdbt_dependent');
  try {
    for (const stmt of stmts) await s.query(stmt);
  } catch (e) {
    if (isRetryable(e)) throw e;
    await s.look('rollback to savepoint tsdbt_dependent');
    return e;
  }
  await s.look('release savepoint tsdbt_dependent');
  return null;
}

async function currentUser(s: RecordingSession): Promise<string> {
  const r = await s.look<{ u: string }>('select current_user::text as u');
  return String(r.rows[0]?.u ?? '');
}

const HINT_SELECT_OR_REFRESH =
  'Keep the columns these dependants use in the model; or select their models too (tsdbt run -s <model>+) and make them fit the new columns; ' +
  'or run with --full-refresh to drop them as dbt does (each is named in a warning; those selected are rebuilt by their own models).';

/**
 * Sets aside one captured view (`drop view`, no cascade) under a savepoint. When something
 * depends on it: a view we did not capture means a concurrent build created it just now
 * ({@link DependentsChangedError}, retried); anything else (a function returning its row type,
 * a foreign table column of its type, …) blocks the swap (`dependent-view-blocked`), unless
 * `dropNonFitting`, when it is dropped with the view and named in a warning.
 */
async function setAside(s: RecordingSession, q: Quoter, v: DependentView, targetName: string, me: string, opts: PreserveOptions): Promise<void> {
  const err = await attempt(s, [dropDependentSql(v, q)]);
  if (err === null) return;
  const name = qualified({ schema: v.schema, identifier: v.name }, q);
  const what = v.kind === 'view' ? 'view' : 'materialized view';
  const blockers = await dependentObjects(s, v.oid);
  const others = blockers.filter((b) => b.kind !== 'view');
  if (blockers.length > 0 && others.length === 0) throw new DependentsChangedError(name);
  if (opts.dropNonFitting && others.length > 0) {
    await s.query(`${dropDependentSql(v, q)} cascade`);
    opts.warnings?.push(
      `--full-refresh: dropped ${others.map((o) => describeObject(o, me)).join(', ')}, which depended on ${what} ${name} (itself built on ${targetName}); ` +
        `tsdbt cannot recreate ${others.length === 1 ? 'it' : 'them'}: recreate ${others.length === 1 ? 'it' : 'them'} by hand.`,
    );
    return;
  }
  if (others.length === 0) {
    // Not a dependant: the database refused the drop itself (the view belongs to a role we are not a member of, …).
    const foreign = v.owner !== me;
    throw new TsdbtError(
      'dependent-view-blocked',
      `Could not set aside ${what} ${name}${foreign ? ` (owner ${v.owner})` : ''}, which depends on ${targetName}, to rebuild it: ${dbMessage(err)}. ` +
        `Nothing was changed: the previous ${targetName} and everything on it are intact.`,
      {
        kind: 'runtime',
        hint: foreign
          ? `tsdbt drops and recreates every view on the model, keeping its owner: run as a member of role ${v.owner} (grant ${v.owner} to ${me}), or have ${v.owner} drop ${name} before the run.`
          : `Fix the cause above, then run again.`,
        cause: err,
      },
    );
  }
  const named = others.map((o) => describeObject(o, me)).join(', ');
  throw new TsdbtError(
    'dependent-view-blocked',
    `Could not set aside ${what} ${name}, which depends on ${targetName}, to rebuild it: ${named} depend${others.length === 1 ? 's' : ''} on it ` +
      `and tsdbt recreates views and materialized views only. Nothing was changed: the previous ${targetName} and everything on it are intact.`,
    {
      kind: 'runtime',
      hint: `Drop or change ${others.length === 1 ? 'that object' : 'those objects'} first (or make ${others.length === 1 ? 'it' : 'them'} not depend on ${name}), or run with --full-refresh to drop ${others.length === 1 ? 'it' : 'them'} along with the view, then run again.`,
      cause: err,
    },
  );
}

/**
 * Inside the caller's transaction: sets aside the views that depend on
 * `target` (dropping the outermost first — the order readers lock them in),
 * runs `change`, then recreates them innermost first with their owner,
 * comments, grants, indexes, triggers and rules.
 *
 * A view that no longer fits the changed relation (it uses a column the model
 * dropped) and that a later node of this run rebuilds (`opts.rebuiltLater`
 * with its new SQL) is recreated from that new SQL — what its own node will
 * build anyway. Any other view that fits neither way, and every view built on
 * it, is a "blocking dependant": all of them are named in one
 * `dependent-view-failed` error and the caller's transaction must roll back,
 * leaving the old relation and every view exactly as they were. With
 * `opts.dropNonFitting` (`--full-refresh`) they are dropped instead, each
 * named in a warning (dbt drops them silently).
 *
 * @throws TsdbtError `dependent-view-blocked` when a dependent view cannot be
 *   dropped (an object we do not recreate, e.g. a function returning its row
 *   type, depends on it), and `dependent-view-failed` as above.
 *   {@link DependentsChangedError} (retryable) when a view appeared meanwhile.
 * @returns the captured views, in creation order.
 */
export async function preservingDependents(
  s: RecordingSession,
  q: Quoter,
  target: RelationRef,
  targetOid: string | null,
  change: () => Promise<void>,
  opts: PreserveOptions = {},
): Promise<DependentView[]> {
  const targetName = qualified(target, q);
  if (targetOid === null) {
    await change();
    return [];
  }
  const me = await currentUser(s);
  const views = await withCatalogSearchPath(s, async () => {
    const captured = await captureDependents(s, targetOid);
    for (const v of [...captured].reverse()) await setAside(s, q, v, targetName, me, opts);
    return captured;
  });
  await change();
  if (views.length === 0) return views;
  const later = new Map((opts.rebuiltLater ?? []).map((r) => [`${r.schema}\u0000${r.identifier}`, r]));
  const blocking: { view: DependentView; name: string; reason: string; selected: boolean; privilege?: boolean }[] = [];
  const lost = new Map<string, string>(); // oid → qualified name of views not recreated
  await withCatalogSearchPath(s, async (previousPath) => {
    for (const v of views) {
      const name = qualified({ schema: v.schema, identifier: v.name }, q);
      const ref = later.get(`${v.schema}\u0000${v.name}`);
      const on = v.dependsOn.find((d) => lost.has(d));
      if (on !== undefined) {
        lost.set(v.oid, name);
        blocking.push({ view: v, name, reason: `it is built on ${lost.get(on)}`, selected: ref !== undefined });
        continue;
      }
      const err = await attempt(s, recreateDependentSql(v, me, q));
      if (err === null) continue;
      if (isPrivilegeError(err)) {
        // It fits, but we may not give it back to its owner (or restore its grants): no new SQL changes that.
        lost.set(v.oid, name);
        blocking.push({ view: v, name, reason: `tsdbt, as ${me}, may not recreate it as it was: ${dbMessage(err)}`, selected: ref !== undefined, privilege: true });
        continue;
      }
      let reason = dbMessage(err);
      if (ref?.sql !== undefined && v.kind === 'view') {
        // Its model's new SQL, with the session's own search_path (the model was compiled for it).
        await s.look(`select pg_catalog.set_config('search_path', $1, true)`, [previousPath]);
        const fresh: DependentView = { ...v, definition: `(\n${trimModelSql(ref.sql)}\n)`, columnComments: [], extras: [] };
        const err2 = await attempt(s, recreateDependentSql(fresh, me, q));
        await s.look(`select pg_catalog.set_config('search_path', 'pg_catalog', true)`);
        if (err2 === null) continue;
        reason += `; its model's new SQL does not fit either: ${dbMessage(err2)}`;
      }
      lost.set(v.oid, name);
      blocking.push({ view: v, name, reason, selected: ref !== undefined });
    }
  });
  if (blocking.length === 0) return views;
  const label = (b: (typeof blocking)[number]) =>
    `${b.view.kind === 'view' ? 'view' : 'materialized view'} ${b.name}` +
    `${b.view.owner !== me ? ` (owner ${b.view.owner})` : ''}${b.selected ? '' : ', not rebuilt by this run'}`;
  if (opts.dropNonFitting) {
    for (const b of blocking) {
      opts.warnings?.push(
        `--full-refresh: dropped ${label(b)}, which no longer fits ${targetName} (${b.reason}); ` +
          (b.selected ? 'its own model rebuilds it later in this run.' : 'recreate it, or run its model, to get it back.'),
      );
    }
    return views;
  }
  const list = blocking.map((b) => `  - ${label(b)}: ${b.reason}`).join('\n');
  const owners = [...new Set(blocking.filter((b) => b.privilege).map((b) => b.view.owner))];
  throw new TsdbtError(
    'dependent-view-failed',
    `${blocking.length === 1 ? 'A view' : `${blocking.length} views`} on ${targetName} could not be recreated on its new version, ` +
      `so the rebuild was rolled back: the previous ${targetName} and every view on it are intact.\n${list}`,
    {
      kind: 'runtime',
      hint:
        owners.length > 0
          ? `Run tsdbt as a member of the owning role${owners.length === 1 ? '' : 's'} (${owners.map((o) => `grant ${o} to ${me}`).join('; ')}), or have the owner drop the view before the run.`
          : HINT_SELECT_OR_REFRESH,
    },
  );
}

/**
 * Before a swap drops the previous relation (`oid`, now under its backup name) with `cascade`:
 * a view on it now appeared after the capture ({@link DependentsChangedError}, retried); a
 * foreign key of another table is dropped as dbt drops it, named in a warning; any other object
 * (a function taking or returning its row type, a column of that type, a policy, …) would vanish,
 * so the swap is refused with `dependent-object-blocked` naming each — unless
 * `opts.dropNonFitting` (`--full-refresh`): then it is dropped and named in a warning.
 * `opts.backupName`: the identifier the relation has now (the swap's backup name), written as
 * `target`'s in messages.
 */
export async function checkCascade(s: RecordingSession, q: Quoter, target: RelationRef, oid: string, opts: PreserveOptions & { backupName?: string } = {}): Promise<void> {
  // Described after the rename, a row type reads `s.t__tsdbt_backup_…`: name it as the user knows it.
  const unbackup = (w: string) => (opts.backupName ? w.split(opts.backupName).join(target.identifier) : w);
  const found = (await dependentObjects(s, oid)).map((o) => ({ ...o, what: unbackup(o.what) }));
  if (found.length === 0) return;
  const targetName = qualified(target, q);
  if (found.some((o) => o.kind === 'view')) throw new DependentsChangedError(targetName);
  const me = await currentUser(s);
  const fks = found.filter((o) => o.kind === 'foreign_key');
  const others = found.filter((o) => o.kind === 'other');
  if (others.length > 0 && !opts.dropNonFitting) {
    throw new TsdbtError(
      'dependent-object-blocked',
      `Rebuilding ${targetName} would drop ${others.map((o) => describeObject(o, me)).join(', ')}, which depend${others.length === 1 ? 's' : ''} on it ` +
        `(on its row type or its columns), and tsdbt can only recreate views and materialized views. Nothing was changed: the previous ${targetName} is intact.`,
      {
        kind: 'runtime',
        hint: `Drop ${others.length === 1 ? 'that object' : 'those objects'} first and recreate ${others.length === 1 ? 'it' : 'them'} after the run (e.g. in a post-hook), or run with --full-refresh to let tsdbt drop ${others.length === 1 ? 'it' : 'them'} (named in a warning).`,
      },
    );
  }
  for (const o of others) opts.warnings?.push(`--full-refresh: dropped ${describeObject(o, me)}, which depended on the previous ${targetName}; recreate it by hand.`);
  const later = new Set((opts.rebuiltLater ?? []).map((r) => `${r.schema}\u0000${r.identifier}`));
  for (const o of fks) {
    // A foreign key of a model this run rebuilds next comes back with it (its contract): nothing to say.
    if (later.has(`${o.on_schema}\u0000${o.on_name}`)) continue;
    opts.warnings?.push(`Dropped ${describeObject(o, me)}, a foreign key referencing the previous ${targetName} (dbt drops it too); add it again in a post-hook if you need it.`);
  }
}

/** Options of {@link preservingDependents} and {@link checkCascade}. */
export interface PreserveOptions {
  /** Views later nodes of this run rebuild, with their new SQL when known (see `MaterializeContext.rebuiltLater`). */
  readonly rebuiltLater?: readonly RebuiltRelation[];
  /** `--full-refresh`: drop what blocks the change, with a warning naming it, instead of failing. */
  readonly dropNonFitting?: boolean;
  /** Receives a message for each object that was dropped. */
  readonly warnings?: string[];
}

/** True for SQLSTATE 42501 (insufficient privilege: not a member of the owning role, no CREATE on the schema, …). */
function isPrivilegeError(e: unknown): boolean {
  return e instanceof DatabaseError && e.sqlState === '42501';
}

/** True for a deadlock or lock-timeout error (SQLSTATE 40P01 / 55P03) or a {@link DependentsChangedError}, anywhere in the `cause` chain. */
export function isRetryable(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    if (cur instanceof DependentsChangedError) return true;
    if (cur instanceof DatabaseError && (cur.sqlState === '40P01' || cur.sqlState === '55P03')) return true;
    const state = (cur as { sqlState?: unknown; code?: unknown }).sqlState ?? (cur as { code?: unknown }).code;
    if (state === '40P01' || state === '55P03') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}
