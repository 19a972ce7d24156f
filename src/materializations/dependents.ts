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
import type { RecordingSession } from './context.ts';
import { dependentViewsSql, dropDependentSql, qualified, recreateDependentSql, type DependentView, type Quoter } from './sql.ts';

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
 * restores the previous value (transaction-local: must run inside a transaction). Under that path
 * `pg_get_viewdef` qualifies every name outside pg_catalog, and the captured
 * definitions resolve the same way when replayed.
 */
export async function withCatalogSearchPath<T>(s: RecordingSession, fn: () => Promise<T>): Promise<T> {
  const before = await s.look<{ search_path: string }>(`select pg_catalog.current_setting('search_path') as search_path`);
  const previous = String(before.rows[0]?.search_path ?? '');
  await s.look(`select pg_catalog.set_config('search_path', 'pg_catalog', true)`);
  // No finally: after an error the transaction is aborted and rolls back, which restores the path anyway.
  const result = await fn();
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
 * Inside the caller's transaction: sets aside the views that depend on
 * `target` (dropping the outermost first — the order readers lock them in),
 * runs `change`, then recreates them innermost first with their owner,
 * comments, grants, indexes, triggers and rules.
 *
 * `describe` names the change for messages (e.g. `rebuilding "s"."orders"`).
 *
 * @throws TsdbtError `dependent-view-blocked` when a dependent view cannot be
 *   dropped (something we do not recreate depends on it), and
 *   `dependent-view-failed` when one cannot be recreated (e.g. it uses a column
 *   the model no longer has). Either way the caller's transaction must roll
 *   back, which leaves the old relation and every view exactly as they were.
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
  const views = await withCatalogSearchPath(s, async () => {
    const captured = await captureDependents(s, targetOid);
    for (const v of [...captured].reverse()) {
      try {
        await s.query(dropDependentSql(v, q));
      } catch (e) {
        if (isRetryable(e)) throw e;
        throw new TsdbtError(
          'dependent-view-blocked',
          `Could not set aside ${v.kind === 'view' ? 'view' : 'materialized view'} ${qualified({ schema: v.schema, identifier: v.name }, q)}, ` +
            `which depends on ${targetName}, to rebuild it: ${dbMessage(e)}. Nothing was changed.`,
          {
            kind: 'runtime',
            hint: 'tsdbt recreates dependent views and materialized views only; drop or change the other objects named above, then run again.',
            cause: e,
          },
        );
      }
    }
    return captured;
  });
  await change();
  if (views.length === 0) return views;
  const currentUser = await s.look<{ u: string }>('select current_user::text as u');
  const me = String(currentUser.rows[0]?.u ?? '');
  const later = new Set((opts.rebuiltLater ?? []).map((r) => `${r.schema}\u0000${r.identifier}`));
  await withCatalogSearchPath(s, async () => {
    for (const v of views) {
      const name = qualified({ schema: v.schema, identifier: v.name }, q);
      const droppable = later.has(`${v.schema}\u0000${v.name}`);
      if (droppable) await s.query('savepoint tsdbt_dependent');
      for (const stmt of recreateDependentSql(v, me, q)) {
        try {
          await s.query(stmt);
        } catch (e) {
          if (isRetryable(e)) throw e;
          if (droppable) {
            await s.query('rollback to savepoint tsdbt_dependent');
            opts.warnings?.push(
              `${v.kind === 'view' ? 'View' : 'Materialized view'} ${name} was dropped because it no longer fits ${targetName} ` +
                `(${dbMessage(e)}); its own model rebuilds it later in this run.`,
            );
            break;
          }
          const what = v.kind === 'view' ? 'View' : 'Materialized view';
          throw new TsdbtError(
            'dependent-view-failed',
            `${what} ${name} depends on ${targetName} and could not be recreated ` +
              `after the rebuild: ${dbMessage(e)}. Nothing was changed: the previous ${targetName} and its dependent views are intact.`,
            {
              kind: 'runtime',
              hint: `Keep the columns that view uses in the model, or change or drop the view first, then run again.`,
              cause: e,
            },
          );
        }
      }
      if (droppable) await s.query('release savepoint tsdbt_dependent');
    }
  });
  return views;
}

/** Options of {@link preservingDependents}. */
export interface PreserveOptions {
  /** Views that may be dropped instead of failing (see `MaterializeContext.rebuiltLater`). */
  readonly rebuiltLater?: readonly RelationRef[];
  /** Receives a message for each such view that was dropped. */
  readonly warnings?: string[];
}

/** True for a deadlock or lock-timeout error (SQLSTATE 40P01 / 55P03), anywhere in the `cause` chain. */
export function isRetryable(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    if (cur instanceof DatabaseError && (cur.sqlState === '40P01' || cur.sqlState === '55P03')) return true;
    const state = (cur as { sqlState?: unknown; code?: unknown }).sqlState ?? (cur as { code?: unknown }).code;
    if (state === '40P01' || state === '55P03') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}
