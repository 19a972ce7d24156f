/**
 * The adapter seam: the only place tsdbt talks to a database.
 *
 * Two implementations share every line of materialization SQL:
 *   - `postgres` (node-postgres, a pool of `threads` connections),
 *   - `pglite`   (@electric-sql/pglite, Postgres in WASM, one session).
 * Engine differences are capability flags, never `if (type === …)` elsewhere.
 */

/** A schema-qualified relation. `database` is informational (Postgres cannot cross databases). */
export interface RelationRef {
  readonly database?: string;
  readonly schema: string;
  readonly identifier: string;
}

export type RelationKind = 'table' | 'view' | 'materialized_view' | 'foreign_table' | 'other';

export interface RelationInfo extends RelationRef {
  readonly kind: RelationKind;
}

/** A column as the database's catalog describes it. `position` is 1-based. */
export interface ColumnInfo {
  readonly name: string;
  /** Postgres's formatted type, e.g. `bigint`, `character varying(20)`, `timestamp without time zone`. */
  readonly dataType: string;
  readonly position: number;
}

/** The result of one statement. `command` is Postgres's command tag word (`SELECT`, `INSERT`, `CREATE`, …). */
export interface QueryResult<Row = Record<string, unknown>> {
  readonly rows: Row[];
  readonly rowCount: number | null;
  readonly command: string;
  readonly fields: readonly { readonly name: string; readonly dataTypeID: number }[];
}

/**
 * Watches the bytes of a file while it is copied (e.g. to validate a seed while the
 * server loads it). `chunk` gets consecutive pieces of the file; `end` is called once
 * after the last piece. Either may throw to abort the COPY.
 */
export interface CopyObserver {
  chunk(bytes: Buffer): void;
  end(): void;
}

/** One database session. Statements on a connection run in order. */
export interface Connection {
  /** Runs one statement (or several separated by `;` when `params` is absent). Rejects with a {@link DatabaseError}. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /**
   * Runs `copySql` (a `COPY … FROM STDIN …` statement) feeding it the bytes of the file at `filePath`.
   * Resolves to the number of rows copied. When `observer` is given it sees every byte of the file,
   * in order, as it is sent (pglite: before the COPY starts); an error it throws aborts the COPY and
   * is rethrown unchanged.
   */
  copyFromFile(copySql: string, filePath: string, observer?: CopyObserver): Promise<number>;
  /** Runs `fn` inside BEGIN/COMMIT; rolls back and rethrows on error. Not re-entrant. */
  transaction<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
}

/** Capability flags: what the engine can do, read by the runner and materializations. */
export interface AdapterCapabilities {
  /** How many statements may run at once (pglite: 1). */
  readonly maxConcurrency: number;
  /** Whether a running statement can be cancelled from outside (pg_cancel_backend). */
  readonly cancel: boolean;
  /**
   * How many times the runner retries a node whose connection was lost (server restart,
   * pg_terminate_backend). postgres: the profile's `retries` (default 1, as dbt-postgres);
   * pglite: 0 (the database runs in this process, its session cannot be lost).
   */
  readonly connectionRetries: number;
}

/** A database reached through a profile target. Create one per invocation; always `close()` it. */
export interface Adapter {
  readonly type: 'postgres' | 'pglite';
  readonly capabilities: AdapterCapabilities;
  /**
   * Six lower-case hex digits, random per adapter (= per invocation): the suffix of
   * this invocation's helper relations (`orders__tsdbt_tmp_3fa9c1`). See invocation-token.ts.
   */
  readonly invocationToken?: string;
  /** Borrows a connection for `fn` and returns it to the pool afterwards (pglite: serialised on its one session). */
  withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
  /** Convenience: one statement on a borrowed connection. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** `"a""b"` — as pg's escapeIdentifier. */
  quoteIdentifier(name: string): string;
  /** `'it''s'` — as pg's escapeLiteral (E'' form when a backslash is present). */
  quoteLiteral(value: string): string;
  /** `"schema"."identifier"`. */
  quoteRelation(rel: RelationRef): string;
  /** The relation if it exists, with its kind; null otherwise. */
  getRelation(rel: RelationRef): Promise<RelationInfo | null>;
  /** Every relation in a schema (empty when the schema does not exist). */
  listRelations(schema: string): Promise<RelationInfo[]>;
  /** Columns of a relation in position order; empty when it does not exist. */
  getColumns(rel: RelationRef): Promise<ColumnInfo[]>;
  /** `create schema if not exists`, idempotent and safe under concurrency. */
  createSchema(schema: string): Promise<void>;
  /** Cancels every statement running on this adapter's connections (best effort; no-op without `capabilities.cancel`). */
  cancelAll(): Promise<void>;
  /** Ends every connection / closes the embedded database and releases its lock. Idempotent. */
  close(): Promise<void>;
  /**
   * Takes the run lock of a target schema (see run-lock.ts): one tsdbt run at a
   * time per database + schema. Absent on engines that need none (PGlite's data
   * directory lock already admits one process).
   */
  lockRun?(opts: Omit<import('./run-lock.ts').RunLockOptions, 'database'>): Promise<import('./run-lock.ts').RunLock>;
}

/**
 * An error raised by the database, normalised across pg and PGlite.
 * `sqlState` is Postgres's SQLSTATE (e.g. `42P01` undefined_table); `position`
 * is the 1-based character offset into the statement when Postgres gave one.
 */
export class DatabaseError extends Error {
  readonly sqlState?: string;
  readonly position?: number;
  readonly detail?: string;
  readonly hint?: string;
  readonly where?: string;
  constructor(
    message: string,
    fields: { sqlState?: string; position?: number; detail?: string; hint?: string; where?: string; cause?: unknown } = {},
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'DatabaseError';
    this.sqlState = fields.sqlState;
    this.position = fields.position;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.where = fields.where;
  }
}
