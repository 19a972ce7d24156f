/**
 * What a materialization receives and returns, and the recording session the
 * strategies run their SQL through.
 */
import type { Adapter, Connection, CopyObserver, QueryResult, RelationRef } from '../adapters/adapter.ts';
import type { NodeConfig } from '../config/types.ts';
import type { ContractSpec } from './contract.ts';

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

/**
 * A {@link Connection} that records the statements it runs. `query`,
 * `copyFromFile` and `transaction` behave as the wrapped connection's;
 * `look` runs a catalog query without recording it.
 */
export class RecordingSession implements Connection {
  constructor(
    readonly conn: Connection,
    readonly statements: string[] = [],
  ) {}

  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    this.statements.push(sql);
    return this.conn.query<Row>(sql, params);
  }

  /** A catalog read: runs `sql` without recording it. */
  look<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    return this.conn.query<Row>(sql, params);
  }

  copyFromFile(copySql: string, filePath: string, observer?: CopyObserver): Promise<number> {
    this.statements.push(copySql);
    return observer ? this.conn.copyFromFile(copySql, filePath, observer) : this.conn.copyFromFile(copySql, filePath);
  }

  transaction<T>(fn: (conn: RecordingSession) => Promise<T>): Promise<T> {
    return this.conn.transaction((tx) => fn(new RecordingSession(tx, this.statements)));
  }
}
