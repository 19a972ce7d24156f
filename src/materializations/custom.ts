/**
 * User-defined materializations: a `{% materialization name, default|adapter='postgres' %}`
 * block in the project or a package (the macro `materialization_<name>_<adapter>`, chosen
 * by parse/materialization-macros.ts) builds the node instead of tsdbt's TypeScript
 * strategies, as dbt's ModelRunner.execute calls `materialization_macro()` with the
 * MaterializationContext.
 *
 * The macro runs with the node's run-time context (src/compile/run-context.ts: run_query,
 * statement/load_result, adapter.get_relation, load_relation, …) plus what dbt's
 * materializations use: `sql`/`compiled_code`, `pre_hooks`/`post_hooks`,
 * `run_hooks(hooks, inside_transaction=True)`, `make_intermediate_relation`,
 * `make_temp_relation`, `make_backup_relation`, `drop_relation_if_exists`,
 * `adapter.commit()`, `persist_docs`, `apply_grants`, `should_revoke`.
 * Every statement runs once, in order, on the node's connection (replay, src/compile/live.ts).
 *
 * Transactions as dbt's connection: the first statement opens a transaction
 * (auto_begin), `adapter.commit()` (or a `commit` statement) commits it; hooks run by
 * `run_hooks(…, inside_transaction=False)` run outside any transaction. Work left
 * uncommitted when the macro ends is rolled back (dbt closes the connection with a
 * rollback) and a warning says so; on an error the open transaction is rolled back, so a
 * failure before the commit leaves the previous relation as it was. A node whose
 * materialization ran any statement is never re-run after a lost connection (user SQL of
 * unknown effect, as hooks).
 */
import { TsdbtError } from '../errors.ts';
import type { Adapter, Connection, QueryResult, RelationRef } from '../adapters/adapter.ts';
import type { MaterializationChoice } from '../parse/materialization-macros.ts';
import type { NodeConfig } from '../config/types.ts';
import { JinjaRelation } from '../parse/relation.ts';
import { pyStr, readParams, truthy } from '../jinja/index.ts';
import { RecordingSession, type MaterializeResult, type NodeDocs } from './context.ts';
import { grantsSql, persistDocsSql } from './sql.ts';
import { ensureSchema } from './steps.ts';
import { markNotRetrySafe } from './retry-safety.ts';
import { AgateTable } from '../compile/agate-table.ts';
import { bindSql, loadSeedAgate, type SeedAgate, type SeedSource } from './seed-agate.ts';

/** The database the replayed macro sees: statements auto-begin a transaction; `queryNoBegin` (dbt's auto_begin=False) does not. */
export interface MaterializationDb {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
  queryNoBegin(sql: string): Promise<QueryResult>;
}

/** What the runner hands a custom materialization. */
export interface CustomMaterializationInput {
  readonly conn: Connection;
  readonly adapter: Adapter;
  readonly choice: MaterializationChoice;
  /** The node's relation; its schema is created first, as dbt's run creates every selected node's schema. */
  readonly relation: RelationRef;
  /** The node's name and config (hooks, grants, persist_docs). */
  readonly node: { readonly name: string; readonly config: NodeConfig; readonly docs?: NodeDocs };
  /** The node's compiled SQL (`sql` / `compiled_code`). */
  readonly sql: string;
  /**
   * Runs `fn` with the node's run-time context to completion on `db` (Compiler.runInContextAtRunTime).
   * `log.call(what, key, run)` asks the database from inside the render.
   */
  readonly runInContext: <T>(db: MaterializationDb, fn: (ctx: Record<string, unknown>, log: ReplayLogLike) => T) => Promise<T>;
  /**
   * Warn when work is left uncommitted (default true). Tests pass false: dbt's test materialization
   * never commits its read-only query either.
   */
  readonly warnUncommitted?: boolean;
  /**
   * The seed's CSV, for a user-defined `seed` materialization: adds dbt's `load_agate_table()`,
   * `adapter.convert_type(agate_table, col_idx)` and `adapter.add_query(sql, bindings=…)` to the context.
   */
  readonly seed?: SeedSource;
  /** Calls a macro (`package.name`) with a context (JinjaEnv.callMacro). */
  readonly callMacro: (qualifiedName: string, ctx: Record<string, unknown>) => unknown;
}

/** A custom materialization's outcome: {@link MaterializeResult}, plus the first row the 'main' statement fetched. */
export interface CustomMaterializeResult extends MaterializeResult {
  /** `load_result('main')`'s first row as a dict, when the statement ran with fetch_result=True (a test's failures row). */
  readonly mainRow?: Record<string, unknown>;
}

/** The part of ReplayLog a materialization member uses. */
export interface ReplayLogLike {
  call<T>(what: string, key: string, run: (db: MaterializationDb) => Promise<T>): T;
}

const EMPTY: QueryResult = { rows: [], rowCount: null, command: '', fields: [] };

/** A session that opens a transaction at the first statement, as dbt's auto_begin. */
class AutoBeginSession implements MaterializationDb {
  open = false;
  constructor(private readonly s: RecordingSession) {}

  async query(sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    if (params) return this.s.look(sql, params); // catalog reads (adapter.get_relation, columns)
    return this.run(sql, true);
  }

  async queryNoBegin(sql: string): Promise<QueryResult> {
    return this.run(sql, false);
  }

  /** `commit` / `rollback` / `begin` written as statements keep the transaction state right. */
  private async run(sql: string, autoBegin: boolean): Promise<QueryResult> {
    const head = sql.trim().replace(/;\s*$/, '').trim().toLowerCase();
    if (head === 'commit' || head === 'rollback') {
      if (!this.open) return EMPTY;
      this.open = false;
      return this.s.query(head);
    }
    if (head === 'begin' || head === 'start transaction') {
      if (this.open) return EMPTY;
      this.open = true;
      return this.s.query('begin');
    }
    if (autoBegin && !this.open) {
      await this.s.query('begin');
      this.open = true;
    }
    return this.s.query(sql);
  }

  /** A statement outside any transaction (commits an open one first), for `run_hooks(…, inside_transaction=False)`. */
  async outside(sql: string): Promise<QueryResult> {
    if (this.open) {
      this.open = false;
      await this.s.query('commit');
    }
    return this.s.query(sql);
  }
}

/** A hook as dbt's materialization context lists it in `pre_hooks` / `post_hooks`. */
interface HookDict {
  sql: string;
  transaction: boolean;
  index: number;
}

function hooksOf(raw: unknown): HookDict[] {
  const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((h, index) => {
    if (h && typeof h === 'object') {
      const o = h as { sql?: unknown; transaction?: unknown };
      return { sql: pyStr(o.sql ?? ''), transaction: o.transaction === undefined ? true : truthy(o.transaction), index };
    }
    return { sql: pyStr(h), transaction: true, index };
  });
}

/** dbt's `py_current_timestring()`-style suffix for temp relations, fixed for one run of the macro. */
function timeString(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds() * 1000, 6)}`;
}

function asRelation(v: unknown, what: string, file: string): JinjaRelation {
  if (v instanceof JinjaRelation) return v;
  throw new TsdbtError('compiler-error', `${what} expects a relation (this, load_relation(), api.Relation.create()), got ${pyStr(v)}`, { file, hint: 'Pass a Relation object, not a string.' });
}

/**
 * Builds one node with its user-defined materialization macro.
 *
 * @returns dbt's adapter response of the `statement('main')` (message `SELECT 3`, rows affected),
 *   every statement run (for target/run), and warnings (e.g. uncommitted work rolled back).
 * @throws TsdbtError `materialization-no-return` when the macro does not
 *   `return({'relations': [...]})` (dbt's "did not explicitly return a list of relations");
 *   any error the macro raises (located in its file and line); a statement's DatabaseError.
 *   The open transaction is rolled back first.
 */
export async function runCustomMaterialization(input: CustomMaterializationInput): Promise<CustomMaterializeResult> {
  const { choice, node } = input;
  const session = new RecordingSession(input.conn);
  const db = new AutoBeginSession(session);
  const warnings: string[] = [];
  const suffixTime = timeString();
  const file = choice.file;
  const preHooks = hooksOf((node.config as { pre_hook?: unknown }).pre_hook);
  const postHooks = hooksOf((node.config as { post_hook?: unknown }).post_hook);
  const q = input.adapter;

  const seedAgate: SeedAgate | undefined = input.seed ? await loadSeedAgate(input.seed) : undefined;
  await ensureSchema(session, q, input.relation.schema);
  const before = session.statements.length;
  let outcome: { ret: unknown; main: unknown };
  try {
    outcome = await input.runInContext(db, (ctx, log) => {
      const exec = (what: string, sql: string) => log.call(what, `sql:${sql}`, (d) => d.query(sql));
      const render = ctx.render as (s: string) => string;
      const runHooks = (...a: unknown[]): string => {
        const p = readParams(a, ['hooks', 'inside_transaction', 'span_name'], { inside_transaction: true, span_name: null });
        const inside = truthy(p.inside_transaction);
        for (const h of (p.hooks ?? []) as HookDict[]) {
          if (h.transaction !== inside) continue;
          const sql = pyStr(render(h.sql)).trim();
          if (!sql) continue;
          if (inside) exec('run_hooks', sql);
          else log.call('run_hooks', `outside:${sql}`, (d) => (d as AutoBeginSession).outside(sql));
        }
        return '';
      };
      const withSuffix = (rel: JinjaRelation, suffix: string, type?: unknown) =>
        rel.incorporate({ path: { identifier: rel.identifier + suffix }, ...(type !== undefined && type !== null ? { type } : {}) });
      const baseAdapter = ctx.adapter as Record<string, unknown>;
      const commit = () => {
        log.call('adapter.commit', 'commit', (d) => d.query('commit'));
        return '';
      };
      const extra: Record<string, unknown> = { commit };
      if (seedAgate) {
        // dbt-postgres's convert_type for the seed's agate table: the type tsdbt's seed inference chose.
        extra.convert_type = (...a: unknown[]) => {
          const p = readParams(a, ['agate_table', 'col_idx']);
          const i = Number(p.col_idx);
          if (p.agate_table === seedAgate.table) return seedAgate.sqlTypes[i];
          const t = p.agate_table instanceof AgateTable ? p.agate_table.column_types[i] : undefined;
          return t === 'Number' ? 'numeric' : t === 'Boolean' ? 'boolean' : t === 'Date' ? 'date' : t === 'DateTime' ? 'timestamp without time zone' : 'text';
        };
        // psycopg2's cursor.execute(sql, bindings): `%s` placeholders interpolated client-side.
        extra.add_query = (...a: unknown[]) => {
          const p = readParams(a, ['sql', 'auto_begin', 'bindings', 'abridge_sql_log'], { auto_begin: true, bindings: null, abridge_sql_log: false });
          const bindings = p.bindings === null || p.bindings === undefined ? null : [...(p.bindings as Iterable<unknown>)];
          const sql = bindings ? bindSql(pyStr(p.sql), bindings, file) : pyStr(p.sql);
          exec('adapter.add_query', sql);
          return '';
        };
      }
      const adapter = new Proxy(baseAdapter, { get: (t, k) => (typeof k === 'string' && k in extra ? extra[k] : (t as Record<string | symbol, unknown>)[k]) });
      const members: Record<string, unknown> = {
        sql: input.sql,
        compiled_code: input.sql,
        pre_hooks: preHooks,
        post_hooks: postHooks,
        run_hooks: runHooks,
        adapter,
        make_intermediate_relation: (...a: unknown[]) => {
          const p = readParams(a, ['base_relation', 'suffix'], { suffix: '__dbt_tmp' });
          return withSuffix(asRelation(p.base_relation, 'make_intermediate_relation', file), pyStr(p.suffix));
        },
        make_temp_relation: (...a: unknown[]) => {
          // dbt-postgres: a session temp table, unqualified, named with a time suffix.
          const p = readParams(a, ['base_relation', 'suffix'], { suffix: '__dbt_tmp' });
          const rel = asRelation(p.base_relation, 'make_temp_relation', file);
          return new JinjaRelation({ identifier: `${rel.identifier}${pyStr(p.suffix)}${suffixTime}`, type: rel.type }, { database: false, schema: false, identifier: true });
        },
        make_backup_relation: (...a: unknown[]) => {
          const p = readParams(a, ['base_relation', 'backup_relation_type', 'suffix'], { suffix: '__dbt_backup' });
          return withSuffix(asRelation(p.base_relation, 'make_backup_relation', file), pyStr(p.suffix), p.backup_relation_type);
        },
        drop_relation_if_exists: (...a: unknown[]) => {
          const rel = readParams(a, ['relation']).relation;
          if (rel !== null && rel !== undefined) (baseAdapter.drop_relation as (r: unknown) => unknown)(rel);
          return '';
        },
        should_revoke: (...a: unknown[]) => {
          // dbt-postgres: copy_grants() is false, so revoke whenever the relation existed.
          const p = readParams(a, ['existing_relation', 'full_refresh_mode'], { full_refresh_mode: true });
          return p.existing_relation !== null && p.existing_relation !== undefined;
        },
        apply_grants: (...a: unknown[]) => {
          const p = readParams(a, ['relation', 'grant_config', 'should_revoke'], { should_revoke: true });
          const rel = asRelation(p.relation, 'apply_grants', file);
          for (const stmt of grantsSql({ schema: rel.schema ?? '', identifier: rel.identifier }, p.grant_config as Record<string, string[]> | null, q)) exec('apply_grants', stmt);
          return '';
        },
        persist_docs: (...a: unknown[]) => {
          const p = readParams(a, ['relation', 'model', 'for_relation', 'for_columns'], { for_relation: true, for_columns: true });
          const rel = asRelation(p.relation, 'persist_docs', file);
          const persist = (node.config as { persist_docs?: { relation?: unknown; columns?: unknown } }).persist_docs;
          const wanted = { relation: truthy(p.for_relation) && persist?.relation === true, columns: truthy(p.for_columns) && persist?.columns === true };
          if (!wanted.relation && !wanted.columns) return '';
          const cols = wanted.columns ? ((baseAdapter.get_columns_in_relation as (r: unknown) => { name: string }[])(rel) ?? []).map((c) => c.name) : [];
          const kind = rel.type === 'view' ? 'view' : 'table';
          for (const stmt of persistDocsSql({ schema: rel.schema ?? '', identifier: rel.identifier }, kind, wanted, node.docs, cols, q)) exec('persist_docs', stmt);
          return '';
        },
      };
      if (seedAgate) members.load_agate_table = () => seedAgate.table;
      Object.assign(ctx, members);
      const ret = input.callMacro(`${choice.packageName}.${choice.macro}`, ctx);
      const main = (ctx.load_result as (n: string) => unknown)('main');
      return { ret, main };
    });
  } catch (e) {
    if (db.open) await session.query('rollback').catch(() => undefined);
    // User SQL of unknown effect ran (beyond `create schema`): never re-run it on a new connection.
    throw session.statements.length > before ? markNotRetrySafe(e) : e;
  }
  if (db.open) {
    await session.query('rollback');
    if (input.warnUncommitted !== false) warnings.push(`materialization '${choice.macro}' (${choice.file}:${choice.line}) left its work uncommitted: it was rolled back, as dbt does. Call {{ adapter.commit() }} before the end of the materialization.`);
  }
  const ret = outcome.ret;
  if (!ret || typeof ret !== 'object' || Array.isArray(ret) || !('relations' in (ret as object))) {
    throw new TsdbtError('materialization-no-return', `The materialization ('${choice.macro.replace(/^materialization_/, '').replace(/_(postgres|default)$/, '')}') did not explicitly return a list of relations to add to the cache.`, {
      file: choice.file,
      line: choice.line,
      hint: "End the materialization with {{ return({'relations': [target_relation]}) }}, as dbt requires.",
      kind: 'runtime',
    });
  }
  const main = outcome.main as { response?: { _message?: string; rows_affected?: number }; table?: { column_names: string[]; toData(): unknown[][] } | null } | null;
  const response = main?.response;
  const first = main?.table?.toData()[0];
  const mainRow = first && main?.table ? Object.fromEntries(main.table.column_names.map((c, i) => [c, first[i]])) : undefined;
  const message = response?._message ?? 'OK';
  const rows = response?.rows_affected;
  return { message, rowsAffected: typeof rows === 'number' && rows >= 0 ? rows : null, statements: session.statements, warnings, mainRow };
}
