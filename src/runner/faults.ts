/**
 * What went wrong with a node, in the terms a user acts on: the connection was
 * lost (server restarted, backend terminated), a statement ran past the
 * model's `query_timeout`, or the run was cancelled (Ctrl-C / SIGTERM).
 *
 * dbt-postgres reports all of these as a plain "Database Error"; tsdbt names
 * the cause and says that the previous relation is unchanged (every
 * materialization builds under a temporary name and swaps in one transaction).
 */
import { DatabaseError, type Connection } from '../adapters/adapter.ts';

/** The message of a node that was running when the run was cancelled (run_results.json `message`). */
export const CANCELLED_MESSAGE = 'cancelled';

/** Thrown by a {@link guardConnection} once the run is cancelled, instead of sending the next statement. */
export class CancelledError extends Error {
  constructor() {
    super(CANCELLED_MESSAGE);
    this.name = 'CancelledError';
  }
}

/** Walks `e` and its `cause` chain (at most 6 deep). */
function* causes(e: unknown): Generator<unknown> {
  for (let cur: unknown = e, depth = 0; cur && depth < 6; depth++) {
    yield cur;
    cur = (cur as { cause?: unknown }).cause;
  }
}

function sqlStateOf(e: unknown): string | undefined {
  const x = e as { sqlState?: unknown; code?: unknown } | null;
  if (typeof x?.sqlState === 'string') return x.sqlState;
  if (typeof x?.code === 'string' && /^[0-9A-Z]{5}$/.test(x.code)) return x.code;
  return undefined;
}

/** Driver-level messages of a dropped or refused connection (no SQLSTATE). */
const LOST_MESSAGE =
  /Connection terminated|connection error|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|socket hang up|Client was closed|not queryable|timeout exceeded when trying to connect/i;

/**
 * True when `e` means the session to the server is gone or could not be
 * opened: SQLSTATE 57P01 (admin_shutdown: `pg_terminate_backend`, a fast
 * shutdown or restart), 57P02 (crash_shutdown), 57P03 (cannot_connect_now:
 * the server is starting), class 08 (connection exception), or a driver error
 * without SQLSTATE about the socket.
 */
export function isConnectionLost(e: unknown): boolean {
  for (const cur of causes(e)) {
    const state = sqlStateOf(cur);
    if (state === '57P01' || state === '57P02' || state === '57P03' || state?.startsWith('08')) return true;
    if (state === undefined && cur instanceof Error && LOST_MESSAGE.test(cur.message)) return true;
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && LOST_MESSAGE.test(code)) return true;
  }
  return false;
}

/** True for "canceling statement due to statement timeout" (SQLSTATE 57014). */
export function isStatementTimeout(e: unknown): boolean {
  for (const cur of causes(e)) {
    if (sqlStateOf(cur) === '57014' && /statement timeout/i.test((cur as Error).message ?? '')) return true;
  }
  return false;
}

/**
 * True when the server refused a write because the session is read-only:
 * SQLSTATE 25006 (read_only_sql_transaction) — a hot standby (after a
 * failover), or `default_transaction_read_only` on for the role or database.
 */
export function isReadOnly(e: unknown): boolean {
  for (const cur of causes(e)) if (sqlStateOf(cur) === '25006') return true;
  return false;
}

/** What ran out on the server, from {@link resourceExhausted}. */
export type ExhaustedResource = 'disk' | 'temp_file_limit' | 'memory';

/**
 * Which server resource a statement ran out of, or null: SQLSTATE 53100
 * (disk_full: "could not extend file", "No space left on device"), 53400
 * (configuration_limit_exceeded) naming `temp_file_limit` ("temporary file
 * size exceeds temp_file_limit"), 53200 (out_of_memory).
 */
export function resourceExhausted(e: unknown): ExhaustedResource | null {
  for (const cur of causes(e)) {
    const state = sqlStateOf(cur);
    if (state === '53100') return 'disk';
    if (state === '53200') return 'memory';
    if (state === '53400' && /temp_file_limit/i.test((cur as Error).message ?? '')) return 'temp_file_limit';
  }
  return null;
}

/** True when `e` is our own cancellation: a {@link CancelledError}, or "canceling statement due to user request" (57014). */
export function isCancellation(e: unknown): boolean {
  for (const cur of causes(e)) {
    if (cur instanceof CancelledError) return true;
    if (sqlStateOf(cur) === '57014' && /user request/i.test((cur as Error).message ?? '')) return true;
  }
  return false;
}

/** Statements still sent after a cancel: they only undo or clean up (rollback, drop of a temporary relation, reset). */
const CLEANUP_STATEMENT = /^\s*(rollback|drop|reset|abort)\b/i;

/**
 * A {@link Connection} that refuses to send any further statement once
 * `signal` is aborted, so a node stops at its next statement even when the
 * server-side cancel (pg_cancel_backend) arrived between two statements, or on
 * PGlite, where a running statement cannot be interrupted. Clean-up statements
 * (`rollback`, `drop …`, `reset …`) still go through, so an open transaction
 * is rolled back and the temporary build relation is dropped.
 *
 * @throws CancelledError from `query` / `copyFromFile` after the abort.
 */
export function guardConnection(conn: Connection, signal: AbortSignal | undefined): Connection {
  if (!signal) return conn;
  const check = async (sql: string) => {
    // One turn of the event loop first: PGlite runs statements synchronously, so without it a whole run
    // can be one chain of promise callbacks and a Ctrl-C would only be seen once the run is over.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal.aborted && !CLEANUP_STATEMENT.test(sql)) throw new CancelledError();
  };
  const guarded: Connection = {
    async query(sql, params) {
      await check(sql);
      return conn.query(sql, params);
    },
    async copyFromFile(copySql, filePath, observer) {
      await check(copySql);
      return observer ? conn.copyFromFile(copySql, filePath, observer) : conn.copyFromFile(copySql, filePath);
    },
    transaction(fn) {
      return conn.transaction((tx) => fn(guardConnection(tx, signal)));
    },
  };
  return guarded;
}

/** `DatabaseError` type guard usable on anything in a cause chain. */
export function databaseErrorIn(e: unknown): DatabaseError | undefined {
  for (const cur of causes(e)) if (cur instanceof DatabaseError) return cur;
  return undefined;
}
