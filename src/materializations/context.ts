/**
 * What a materialization receives and returns, and the recording session the
 * strategies run their SQL through.
 */
import { DatabaseError, type Adapter, type Connection, type CopyObserver, type QueryResult, type RelationRef } from '../adapters/adapter.ts';
import type { NodeConfig } from '../config/types.ts';
import type { ContractSpec } from './contract.ts';
import type { RelationCache } from './relation-cache.ts';

/** A hook's SQL, or a template to render just before it runs (see MaterializeContext.renderHook). */
export type HookSql = string | { readonly template: string };

/**
 * Everything one materialization needs. All SQL runs on `conn` (PGlite has a
 * single session; on Postgres the runner lends one pooled connection per node).
 */
export interface MaterializeContext {
  /** The one session every statement of this node runs on. */
  readonly conn: Connection;
  /** Quoting and capability flags (catalog queries inside transactions go through `conn`). */
  readonly adapter: Adapter;
  /** The relation to build: `schema` and `identifier` (= the node's alias). */
  readonly relation: RelationRef;
  /** The compiled, rendered SELECT (unused for seeds and ephemerals). */
  readonly sql: string;
  /** The node's config: materialized, unique_key, incremental_strategy, on_schema_change, grants, … */
  readonly config: NodeConfig;
  /** `--full-refresh`. A `full_refresh` config that is not null overrides it, as in dbt. */
  readonly fullRefresh: boolean;
  /** For seeds: the CSV's absolute path and its project-relative path (for messages). */
  readonly seed?: { readonly file: string; readonly displayPath: string };
  /** Rendered pre-hooks, run before the build (dbt runs them first, too). `{ template }`: rendered by `renderHook` just before it runs. */
  readonly preHooks?: readonly HookSql[];
  /** Rendered post-hooks, run inside the final transaction, after the swap and grants. */
  readonly postHooks?: readonly HookSql[];
  /** Pre-hooks with `transaction: false` (dbt's `before_begin()`): run first, outside any transaction. */
  readonly beforeBeginHooks?: readonly HookSql[];
  /** Post-hooks with `transaction: false` (dbt's `after_commit()`): run last, after the node's transaction committed (e.g. `vacuum`). */
  readonly afterCommitHooks?: readonly HookSql[];
  /** Renders a hook template on the node's connection (the transaction's, for post-hooks). */
  readonly renderHook?: (template: string, conn: Pick<Connection, 'query'>) => Promise<string>;
  /**
   * Relations this invocation will build after this node (its selected
   * downstream models), each with the model's new compiled SQL when it is a
   * view model compiled before the run. A dependent view among them that no
   * longer fits the new relation (e.g. it used a column both models just
   * renamed) is recreated from that new SQL inside the swap; when that fails
   * too, the swap rolls back and the model fails naming it (unless
   * `fullRefresh`: then it is dropped with a warning and its own node rebuilds
   * it, as in dbt). See dependents.ts.
   */
  readonly rebuiltLater?: readonly RebuiltRelation[];
  /**
   * The node's documentation, for dbt's `persist_docs` config (`relation: true` →
   * `comment on table|view`, `columns: true` → `comment on column` for each documented
   * column the relation has). Descriptions are written as quoted literals. Without it,
   * `persist_docs` writes nothing.
   */
  readonly docs?: NodeDocs;
  /**
   * The model's enforced contract (`contract: {enforced: true}`): its query columns are checked against
   * it before anything is built (contract.ts); a table (and an incremental model's first build) is
   * created with the declared columns and constraints. Absent: no contract.
   */
  readonly contract?: ContractSpec;
  /**
   * Citus: the relation of the model named by the `colocate_with` config (see citus.ts), resolved by the runner.
   * Absent when the config is unset, `none`, or names no model.
   */
  readonly colocateWith?: RelationRef;
  /**
   * The invocation's knowledge of its schemas (relation-cache.ts): whether each exists and which swap
   * helpers are in it, read once per schema instead of once per node. Absent: every node asks the catalog.
   */
  readonly relationCache?: RelationCache;
}

/** A relation a later node of this invocation rebuilds; `sql` is its new view definition (a view model's compiled SQL), when known. */
export interface RebuiltRelation extends RelationRef {
  readonly sql?: string;
}

/** A node's descriptions, as in the manifest (`description`, `columns.<name>.description`). */
export interface NodeDocs {
  readonly description?: string | null;
  readonly columns?: readonly { readonly name: string; readonly description?: string | null }[];
}

/** The outcome of one materialization, shaped like dbt's adapter response. */
export interface MaterializeResult {
  /** dbt-style adapter response: `SELECT 1204`, `CREATE VIEW`, `INSERT 0 35`, `MERGE 12`, `INSERT 35`, `EPHEMERAL`. */
  readonly message: string;
  /** Rows written by the main statement; null when not meaningful (views, ephemerals). */
  readonly rowsAffected: number | null;
  /**
   * Every statement that created, changed or dropped something, in execution
   * order (including those of a transaction that was rolled back and retried).
   * Catalog look-ups are not listed.
   */
  readonly statements: string[];
  /** Things the user should know that did not stop the run (e.g. an invalid on_schema_change). */
  readonly warnings: string[];
}

/** Connections inside a {@link RecordingSession.transaction} (its re-entrancy guard: the BEGIN is sent by the session, not by `conn.transaction`). */
const inTransaction = new WeakSet<Connection>();

/**
 * A {@link Connection} that records the statements it runs. `query`,
 * `copyFromFile` and `transaction` behave as the wrapped connection's;
 * `look` runs a catalog query without recording it.
 *
 * Fewer round trips: {@link defer} queues a statement whose result nobody
 * needs (inside a transaction only); it is sent ahead of the next `query` /
 * `look` without parameters as one multi-statement simple query (the result
 * is the last statement's), or on its own before one with parameters, or with
 * the COMMIT. `transaction` sends its BEGIN the same way. A deferred
 * statement that fails makes the call it travels with fail (the transaction
 * then rolls back as before).
 */
export class RecordingSession implements Connection {
  private pending: string[] = [];

  /**
   * @param batch false sends every deferred statement as its own query (same order, same transaction). Citus
   *   needs that: it propagates DDL to the workers with the client's whole query string, so a multi-statement
   *   string fails there ("cannot insert multiple commands into a prepared statement").
   */
  constructor(
    readonly conn: Connection,
    readonly statements: string[] = [],
    readonly batch = true,
  ) {}

  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    this.statements.push(sql);
    return this.send<Row>(sql, params);
  }

  /** A catalog read: runs `sql` without recording it. */
  look<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    return this.send<Row>(sql, params);
  }

  /**
   * Records `sql` and queues it to travel with the next statement (see the class comment).
   * Only inside a transaction: outside one, several statements in one query would be one implicit transaction.
   */
  defer(sql: string, opts: { record?: boolean } = {}): void {
    if (opts.record !== false) this.statements.push(sql); // `record: false`: a check that changes nothing, as `look`
    this.pending.push(sql);
  }

  /** Sends what {@link defer} queued, if anything (one round trip). */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const queued = this.pending;
    this.pending = [];
    if (!this.batch) {
      for (const q of queued) await this.conn.query(q);
      return;
    }
    await this.conn.query(queued.join(';\n'));
  }

  private async send<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    if (this.pending.length > 0) {
      if ((params && params.length > 0) || !this.batch) await this.flush();
      else {
        const all = [...this.pending, sql].join(';\n');
        this.pending = [];
        return this.conn.query<Row>(all);
      }
    }
    return this.conn.query<Row>(sql, params);
  }

  copyFromFile(copySql: string, filePath: string, observer?: CopyObserver): Promise<number> {
    this.statements.push(copySql);
    return this.flush().then(() => (observer ? this.conn.copyFromFile(copySql, filePath, observer) : this.conn.copyFromFile(copySql, filePath)));
  }

  /**
   * Runs `fn` inside BEGIN/COMMIT on this session's connection; rolls back and rethrows on error. The BEGIN
   * travels with the transaction's first statement and the COMMIT with its last deferred ones.
   *
   * @throws Error when a transaction is already open on the connection (not re-entrant);
   *   DatabaseError `25P02` when the COMMIT answered ROLLBACK.
   */
  async transaction<T>(fn: (conn: RecordingSession) => Promise<T>): Promise<T> {
    if (inTransaction.has(this.conn)) throw new Error('RecordingSession.transaction() is not re-entrant: a transaction is already open on this connection');
    inTransaction.add(this.conn);
    try {
      const tx = new RecordingSession(this.conn, this.statements, this.batch);
      tx.pending.push('begin');
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        const begun = tx.pending[0] !== 'begin'; // else nothing was sent: no transaction to end
        tx.pending = [];
        if (begun) await this.conn.query('rollback').catch(() => undefined);
        throw err;
      }
      let commit: QueryResult;
      try {
        commit = await tx.send('commit');
      } catch (err) {
        // A deferred statement sent with the COMMIT failed: the transaction is aborted, end it.
        await this.conn.query('rollback').catch(() => undefined);
        throw err;
      }
      if (commit.command.toUpperCase() === 'ROLLBACK') {
        throw new DatabaseError('the transaction was rolled back at COMMIT because a statement inside it had failed', { sqlState: '25P02' });
      }
      return result;
    } finally {
      inTransaction.delete(this.conn);
    }
  }
}
