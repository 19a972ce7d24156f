/**
 * What both adapters share: error normalisation, the Connection wrapper with
 * BEGIN/COMMIT, "which connection am I on" tracking, and the Adapter methods that
 * are plain SQL (introspection, create schema, quoting).
 *
 * Engine-specific code supplies only: how to run one statement on a raw session,
 * how to COPY a file, and how to borrow a session (`acquire`).
 */
import { newInvocationToken } from './invocation-token.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DatabaseError,
  type Adapter,
  type AdapterCapabilities,
  type Connection,
  type CopyObserver,
  type QueryResult,
} from './adapter.ts';
import { getColumns, getRelation, listRelations } from './introspection.ts';
import { quoteIdentifier, quoteLiteral, quoteRelation } from './quote.ts';

/**
 * Turns whatever a driver threw into a {@link DatabaseError}. Errors carrying a
 * Postgres SQLSTATE (pg's and PGlite's `DatabaseError`, both from pg-protocol) keep
 * sqlState/position/detail/hint/where; anything else (a dropped socket, a WASM abort)
 * becomes a DatabaseError without sqlState whose `cause` is the original.
 */
export function toDatabaseError(err: unknown): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const e = err as {
    message?: unknown;
    code?: unknown;
    severity?: unknown;
    position?: unknown;
    detail?: unknown;
    hint?: unknown;
    where?: unknown;
  } | null;
  const message = err instanceof Error ? err.message : String(err);
  if (e && typeof e === 'object' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && e.severity !== undefined) {
    const pos = e.position === undefined || e.position === null || e.position === '' ? undefined : Number(e.position);
    return new DatabaseError(message, {
      sqlState: e.code,
      position: Number.isFinite(pos) ? pos : undefined,
      detail: typeof e.detail === 'string' ? e.detail : undefined,
      hint: typeof e.hint === 'string' ? e.hint : fallbackHint(e.code, message),
      where: typeof e.where === 'string' ? e.where : undefined,
      cause: err,
    });
  }
  return new DatabaseError(message, { cause: err });
}

/**
 * A what-to-do hint for errors the server sends without one, where the fix is
 * always the same. 42701 "column "id" specified more than once" comes from
 * `create table … as` / `create view … as` over a SELECT with two columns of one name.
 * 42P01 "relation … does not exist" is most often a source that was never loaded or
 * a relation written by hand instead of through ref()/source().
 */
function fallbackHint(sqlState: string, message: string): string | undefined {
  if (sqlState === '42701' && /specified more than once/.test(message)) {
    return 'every column of the result needs its own name: give the duplicates an alias (e.g. select o.id, c.id as customer_id)';
  }
  if (sqlState === '42P01' && /^relation ".*" does not exist$/.test(message)) {
    return "check that it exists: a source's table must be loaded before tsdbt runs (schema and identifier come from its sources: entry); refer to models and seeds with ref() so they are built first";
  }
  return undefined;
}

/** The engine-specific part of one session. */
export interface RawSession {
  /** Runs SQL; without params several `;`-separated statements may run, and the last result is returned. */
  run(sql: string, params?: readonly unknown[]): Promise<QueryResult<any>>;
  copyFromFile(copySql: string, filePath: string, observer?: CopyObserver): Promise<number>;
}

/**
 * Wraps a raw session as a {@link Connection}: errors normalised to DatabaseError,
 * and `transaction()` implemented with BEGIN/COMMIT/ROLLBACK.
 *
 * A COMMIT that Postgres answers with `ROLLBACK` (a statement inside failed and its
 * error was swallowed by `fn`) rejects with sqlState 25P02 instead of passing silently.
 */
export function wrapSession(raw: RawSession): Connection {
  let inTransaction = false;
  const conn: Connection = {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      try {
        return (await raw.run(sql, params)) as QueryResult<Row>;
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
    async copyFromFile(copySql, filePath, observer) {
      return raw.copyFromFile(copySql, filePath, observer);
    },
    async transaction<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
      if (inTransaction) throw new Error('Connection.transaction() is not re-entrant: a transaction is already open on this connection');
      inTransaction = true;
      try {
        await conn.query('begin');
        let result: T;
        try {
          result = await fn(conn);
        } catch (err) {
          await conn.query('rollback').catch(() => undefined);
          throw err;
        }
        const commit = await conn.query('commit');
        if (commit.command === 'ROLLBACK') {
          throw new DatabaseError('the transaction was rolled back at COMMIT because a statement inside it had failed', {
            sqlState: '25P02',
          });
        }
        return result;
      } finally {
        inTransaction = false;
      }
    },
  };
  return conn;
}

/** The engine-specific part of an adapter. */
export interface AdapterCore {
  readonly type: Adapter['type'];
  readonly capabilities: AdapterCapabilities;
  /** See {@link Adapter.invocationToken}; a new one is made when absent. */
  readonly invocationToken?: string;
  /** Borrows a session for `fn` (a pool checkout, or the one PGlite session under its mutex). */
  acquire<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
  cancelAll(): Promise<void>;
  /** `insideConnection`: close() was called from within withConnection (so it must not wait for that work). */
  close(insideConnection: boolean): Promise<void>;
  /** See {@link Adapter.lockRun}. */
  lockRun?: Adapter['lockRun'];
}

/**
 * Builds an {@link Adapter} from its engine core.
 *
 * Re-entrance: inside `withConnection(fn)` (and anything `fn` awaits), further
 * `withConnection` / `query` / introspection calls on the same adapter run on the
 * SAME connection instead of borrowing another one. So a worker holding a connection
 * never deadlocks waiting for a second (pool of `threads`, or PGlite's single session),
 * and sees its own uncommitted work. Still, prefer the `conn` you were given.
 */
export function buildAdapter(core: AdapterCore): Adapter {
  const scope = new AsyncLocalStorage<{ conn: Connection; active: boolean }>();

  const withConnection = <T>(fn: (conn: Connection) => Promise<T>): Promise<T> => {
    const current = scope.getStore();
    if (current?.active) return fn(current.conn);
    return core.acquire(async (conn) => {
      const store = { conn, active: true };
      try {
        return await scope.run(store, () => fn(conn));
      } finally {
        // Work started inside fn that outlives it must not keep using this borrowed connection.
        store.active = false;
      }
    });
  };

  const query = <Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> =>
    withConnection((c) => c.query<Row>(sql, params));

  return {
    type: core.type,
    capabilities: core.capabilities,
    invocationToken: core.invocationToken ?? newInvocationToken(),
    withConnection,
    query,
    quoteIdentifier,
    quoteLiteral,
    quoteRelation,
    getRelation: (rel) => withConnection((c) => getRelation(c, rel)),
    listRelations: (schema) => withConnection((c) => listRelations(c, schema)),
    getColumns: (rel) => withConnection((c) => getColumns(c, rel)),
    async createSchema(schema) {
      try {
        await query(`create schema if not exists ${quoteIdentifier(schema)}`);
      } catch (err) {
        // Two sessions racing on CREATE SCHEMA IF NOT EXISTS: the loser gets a unique violation.
        if (err instanceof DatabaseError && (err.sqlState === '23505' || err.sqlState === '42P06')) return;
        throw err;
      }
    },
    cancelAll: () => core.cancelAll(),
    close: () => core.close(scope.getStore()?.active === true),
    ...(core.lockRun ? { lockRun: core.lockRun } : {}),
  };
}
