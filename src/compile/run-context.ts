/**
 * The members of dbt's Jinja context that need the database or the whole
 * manifest, as dbt gives them at compile/run time (`execute` true):
 * `run_query`, `statement` / `load_result` / `store_result`, the `adapter`
 * methods that read or change relations, `load_relation`, `graph`,
 * `selected_resources`, `log` / `print`, `write`, `render`, `thread_id`,
 * `flags`. (`api.Relation` / `api.Column` need no database: the parse
 * context's serve both phases.)
 *
 * Database work goes through a {@link ReplayLog} (see live.ts): without a
 * connection (the up-front compile pass) the first such call makes the node
 * compile at run time instead.
 *
 * The parse-phase versions (`execute` false: run_query → None, introspection
 * → empty, nothing runs) are in src/parse/jinja-context.ts, as dbt's parse
 * context.
 */
import { TsdbtError } from '../errors.ts';
import { readParams, splitArgs, pyStr, truthy } from '../jinja/index.ts';
import { JinjaRelation } from '../parse/relation.ts';
import type { Manifest } from '../parse/manifest.ts';
import { AgateTable } from './agate-table.ts';
import { COLUMNS_IN_RELATION_SQL, DbtColumn, columnsFromRows } from '../parse/column.ts';
import type { LiveDatabase, ReplayLog } from './live.ts';
import { unsupportedMembers } from '../parse/unsupported-context.ts';

/** What the run-time members need from the compiler. */
export interface RunContextInput {
  readonly log: ReplayLog;
  /** unique_ids selected in this invocation (`selected_resources`): one frozen list shared by every node. */
  readonly selected: readonly string[];
  /** dbt's flat graph ({@link flatGraph}), built once per invocation and shared. */
  readonly graph: Record<string, unknown>;
  /** `log(msg, info=True)`, `print(msg)` and `print_table()` output. */
  readonly onLog: (msg: string, info: boolean, kind?: 'print') => void;
  /** The file being rendered, for error locations. */
  readonly file: string;
  /** The target's database name (relations without a database get it). */
  readonly database: string;
  /** `write(text)`: where the node's compiled text would be written. */
  readonly onWrite?: (text: string) => void;
  /** `render(text)`: renders a string with the current context. */
  readonly render?: (text: string) => string;
  readonly threadId?: string;
  readonly flags: Record<string, unknown>;
}

/** dbt's AdapterResponse as templates see it. */
interface AdapterResponse {
  _message: string;
  code: string;
  rows_affected: number;
  toString(): string;
}

function response(command: string, rowCount: number | null): AdapterResponse {
  const code = command || 'SELECT';
  const rows = rowCount ?? -1;
  // As psycopg2's statusmessage, which dbt-postgres reports: `INSERT 0 n` (the oid field), `SELECT n`, `UPDATE n`.
  const message = rows >= 0 ? (code === 'INSERT' ? `INSERT 0 ${rows}` : `${code} ${rows}`) : code;
  return { _message: message, code, rows_affected: rows, toString: () => message };
}

interface StatementResult {
  response: AdapterResponse;
  data: unknown[][];
  table: AgateTable | null;
}

const quoteId = (s: string) => '"' + String(s).replace(/"/g, '""') + '"';

function asRelation(v: unknown, what: string, file: string): JinjaRelation {
  if (v instanceof JinjaRelation) return v;
  throw new TsdbtError('compiler-error', `${what} expects a relation (from ref(), source(), this or api.Relation.create()), got ${pyStr(v)}`, {
    file,
    hint: 'Pass a Relation object, not a string.',
  });
}

/**
 * Builds the run-time members (merged over the parse-phase context by the compiler).
 * Every member that needs the database answers through `input.log`.
 */
export function runContextMembers(input: RunContextInput): Record<string, unknown> {
  const { log } = input;
  const results = new Map<string, StatementResult>();

  // autoBegin: dbt's `auto_begin` — a database that keeps a transaction (a custom materialization's session,
  // src/materializations/custom.ts) opens one first; statements with auto_begin=False run as they are.
  const runSql = (what: string, sql: string, autoBegin = true): { result: StatementResult } => {
    const value = log.call(what, `sql:${sql}`, async (db: LiveDatabase) => {
      const r = !autoBegin && db.queryNoBegin ? await db.queryNoBegin(sql) : await db.query(sql);
      return r;
    });
    const table = new AgateTable(value.fields, value.rows);
    return { result: { response: response(value.command, value.rowCount), data: table.toData(), table } };
  };

  const relationFromInfo = (row: { schema: string; identifier: string; relkind: string }): JinjaRelation =>
    new JinjaRelation({ database: input.database, schema: row.schema, identifier: row.identifier, type: KIND[row.relkind] ?? 'table' });

  const getRelation = (database: unknown, schema: unknown, identifier: unknown): JinjaRelation | null => {
    const s = String(schema);
    const id = String(identifier);
    const rows = log.call('adapter.get_relation', `rel:${s}.${id}`, async (db) => (await db.query(RELATION_SQL + ' and c.relname = $2', [s, id])).rows);
    const row = (rows as { schema: string; identifier: string; relkind: string }[])[0];
    if (!row) return null;
    const rel = relationFromInfo(row);
    return database === null || database === undefined ? rel : rel.incorporate({ path: { database: String(database) } });
  };

  const getColumns = (relation: unknown): DbtColumn[] => {
    const rel = asRelation(relation, 'get_columns_in_relation', input.file);
    if (rel.isCte || !rel.schema) return [];
    const rows = log.call('adapter.get_columns_in_relation', `cols:${rel.schema}.${rel.identifier}`, async (db) => (await db.query(COLUMNS_IN_RELATION_SQL, [rel.schema, rel.identifier])).rows);
    return columnsFromRows(rows as Record<string, unknown>[]);
  };

  const columnsInQuery = (sql: unknown): string[] => {
    const q = `select * from (\n${pyStr(sql)}\n) as __dbt_sbq where false limit 0`;
    const r = log.call('get_columns_in_query', `sql:${q}`, async (db) => {
      const x = await db.query(q);
      return x.fields.map((f) => f.name);
    });
    return r;
  };

  const listRelations = (schemaRelation: unknown): JinjaRelation[] => {
    const schema = schemaRelation instanceof JinjaRelation ? schemaRelation.schema : String((schemaRelation as { schema?: unknown })?.schema ?? schemaRelation);
    const rows = log.call('adapter.list_relations_without_caching', `list:${schema}`, async (db) => (await db.query(RELATION_SQL + ' order by c.relname', [schema])).rows);
    return (rows as { schema: string; identifier: string; relkind: string }[]).map(relationFromInfo);
  };

  const execute = (what: string, sql: string, autoBegin = true): StatementResult => runSql(what, sql, autoBegin).result;

  const dropRelation = (relation: unknown): string => {
    const rel = asRelation(relation, 'adapter.drop_relation', input.file);
    const kind = rel.type === 'view' ? 'view' : rel.type === 'materialized_view' ? 'materialized view' : 'table';
    execute('adapter.drop_relation', `drop ${kind} if exists ${rel.render()} cascade`, false); // dbt's drop_relation: auto_begin=False
    return '';
  };

  const statement = (...a: unknown[]): string => {
    const { kwargs } = splitArgs(a);
    const p = readParams(a, ['name', 'fetch_result', 'auto_begin', 'language'], { name: null, fetch_result: false, auto_begin: true, language: 'sql' });
    const caller = kwargs.caller as (() => unknown) | undefined;
    if (typeof caller !== 'function') {
      throw new TsdbtError('compiler-error', 'statement() is a call block: write {% call statement(\'name\', fetch_result=True) %} select … {% endcall %}', { file: input.file });
    }
    if (p.language !== 'sql') throw new TsdbtError('unsupported', `[unsupported] statement(language='${pyStr(p.language)}') is not supported yet: only SQL runs on Postgres`, { file: input.file });
    const sql = pyStr(caller());
    if (p.name === 'main') input.onWrite?.(sql);
    const res = execute('statement', sql, truthy(p.auto_begin));
    if (p.name !== null && p.name !== undefined) {
      results.set(pyStr(p.name), truthy(p.fetch_result) ? res : { response: res.response, data: [], table: null });
    }
    return '';
  };

  const storeResult = (...a: unknown[]): string => {
    const p = readParams(a, ['name', 'response', 'agate_table'], { response: null, agate_table: null });
    const table = p.agate_table instanceof AgateTable ? p.agate_table : null;
    results.set(pyStr(p.name), { response: p.response as AdapterResponse, data: table ? table.toData() : [], table });
    return '';
  };

  const adapter = {
    quote: (s: unknown) => quoteId(pyStr(s)),
    quote_as_configured: (s: unknown) => quoteId(pyStr(s)),
    quote_seed_column: (...a: unknown[]) => {
      const p = readParams(a, ['column', 'quote_config'], { quote_config: null });
      return p.quote_config === false ? pyStr(p.column) : quoteId(pyStr(p.column));
    },
    type: () => 'postgres',
    get_relation: (...a: unknown[]) => {
      const p = readParams(a, ['database', 'schema', 'identifier'], { database: null });
      return getRelation(p.database, p.schema, p.identifier);
    },
    get_columns_in_relation: (...a: unknown[]) => getColumns(readParams(a, ['relation']).relation),
    get_columns_in_query: (...a: unknown[]) => columnsInQuery(readParams(a, ['sql']).sql),
    list_relations_without_caching: (...a: unknown[]) => listRelations(readParams(a, ['schema_relation']).schema_relation),
    get_missing_columns: (...a: unknown[]) => {
      const p = readParams(a, ['from_relation', 'to_relation']);
      const have = new Set(getColumns(p.to_relation).map((c) => c.name));
      return getColumns(p.from_relation).filter((c) => !have.has(c.name));
    },
    already_exists: (...a: unknown[]) => {
      const p = readParams(a, ['schema', 'name']);
      return getRelation(null, p.schema, p.name) !== null;
    },
    check_schema_exists: (...a: unknown[]) => {
      const p = readParams(a, ['database', 'schema']);
      const s = pyStr(p.schema);
      const rows = log.call('adapter.check_schema_exists', `schema:${s}`, async (db) => (await db.query('select 1 from pg_catalog.pg_namespace where nspname = $1', [s])).rows);
      return (rows as unknown[]).length > 0;
    },
    list_schemas: (..._a: unknown[]) =>
      (log.call('adapter.list_schemas', 'schemas', async (db) => (await db.query('select nspname from pg_catalog.pg_namespace order by nspname')).rows) as { nspname: string }[]).map((r) => r.nspname),
    drop_relation: (...a: unknown[]) => dropRelation(readParams(a, ['relation']).relation),
    truncate_relation: (...a: unknown[]) => {
      execute('adapter.truncate_relation', `truncate table ${asRelation(readParams(a, ['relation']).relation, 'adapter.truncate_relation', input.file).render()}`);
      return '';
    },
    rename_relation: (...a: unknown[]) => {
      const p = readParams(a, ['from_relation', 'to_relation']);
      const from = asRelation(p.from_relation, 'adapter.rename_relation', input.file);
      const to = asRelation(p.to_relation, 'adapter.rename_relation', input.file);
      const kind = from.type === 'view' ? 'view' : 'table';
      execute('adapter.rename_relation', `alter ${kind} ${from.render()} rename to ${quoteId(to.identifier)}`);
      return '';
    },
    create_schema: (...a: unknown[]) => {
      const rel = asRelation(readParams(a, ['relation']).relation, 'adapter.create_schema', input.file);
      execute('adapter.create_schema', `create schema if not exists ${quoteId(rel.schema ?? '')}`);
      return '';
    },
    drop_schema: (...a: unknown[]) => {
      const rel = asRelation(readParams(a, ['relation']).relation, 'adapter.drop_schema', input.file);
      execute('adapter.drop_schema', `drop schema if exists ${quoteId(rel.schema ?? '')} cascade`);
      return '';
    },
    /** dbt-postgres: widen varchar columns of `goal` that are shorter than `current`'s. */
    expand_target_column_types: (...a: unknown[]) => {
      const p = readParams(a, ['from_relation', 'to_relation']);
      const from = new Map(getColumns(p.from_relation).map((c) => [c.name, c]));
      const to = asRelation(p.to_relation, 'adapter.expand_target_column_types', input.file);
      for (const c of getColumns(to)) {
        const f = from.get(c.name);
        if (f && c.can_expand_to(f)) {
          execute('adapter.expand_target_column_types', `alter table ${to.render()} alter column ${c.quoted} type ${DbtColumn.string_type(f.string_size())}`);
        }
      }
      return '';
    },
    execute: (...a: unknown[]) => {
      const p = readParams(a, ['sql', 'auto_begin', 'fetch', 'limit'], { auto_begin: false, fetch: false, limit: null });
      const res = execute('adapter.execute', pyStr(p.sql), truthy(p.auto_begin));
      return [res.response, truthy(p.fetch) ? res.table : new AgateTable([], [])];
    },
    commit: () => '',
  };

  const loadRelation = (...a: unknown[]): JinjaRelation | null => {
    const rel = asRelation(readParams(a, ['relation']).relation, 'load_relation', input.file);
    if (rel.isCte) return null;
    return getRelation(rel.database, rel.schema, rel.identifier);
  };

  const members: Record<string, unknown> = {
    execute: true,
    run_query: (...a: unknown[]) => runSql('run_query', pyStr(readParams(a, ['sql']).sql), false).result.table, // dbt: statement(auto_begin=False)
    statement,
    load_result: (name: unknown) => results.get(pyStr(name)) ?? null,
    store_result: storeResult,
    store_raw_result: (...a: unknown[]) => {
      const p = readParams(a, ['name', 'message', 'code', 'rows_affected', 'agate_table'], { message: null, code: null, rows_affected: null, agate_table: null });
      const table = p.agate_table instanceof AgateTable ? p.agate_table : null;
      const r = response(pyStr(p.code ?? 'SELECT'), p.rows_affected === null ? null : Number(p.rows_affected));
      // dbt's AdapterResponse keeps the message given (noop_statement in a seed materialization: `INSERT 3`).
      if (p.message !== null && p.message !== undefined) {
        const m = pyStr(p.message);
        r._message = m;
        r.toString = () => m;
      }
      results.set(pyStr(p.name), { response: r, data: table ? table.toData() : [], table });
      return '';
    },
    load_relation: loadRelation,
    load_cached_relation: loadRelation,
    get_columns_in_query: (...a: unknown[]) => columnsInQuery(readParams(a, ['sql']).sql),
    graph: input.graph,
    selected_resources: input.selected,
    log: (...a: unknown[]) => {
      const p = readParams(a, ['msg', 'info'], { info: false });
      input.onLog(pyStr(p.msg), truthy(p.info));
      return '';
    },
    print: (...a: unknown[]) => {
      input.onLog(splitArgs(a).positional.map(pyStr).join(' '), true, 'print');
      return '';
    },
    write: (...a: unknown[]) => {
      input.onWrite?.(pyStr(readParams(a, ['payload']).payload));
      return '';
    },
    render: (...a: unknown[]) => (input.render ? input.render(pyStr(readParams(a, ['string']).string)) : pyStr(readParams(a, ['string']).string)),
    thread_id: input.threadId ?? 'Thread-1',
    flags: input.flags,
    adapter,
    ...unsupportedMembers(input.file),
  };
  // print_table() writes the table where print() writes.
  const rq = members.run_query as (...a: unknown[]) => AgateTable;
  members.run_query = (...a: unknown[]) => withPrint(rq(...a), input.onLog);
  return members;
}

function withPrint(t: AgateTable | null, onLog: (msg: string, info: boolean, kind?: 'print') => void): AgateTable | null {
  if (!t) return t;
  Object.defineProperty(t, 'print_table', {
    value: (..._a: unknown[]) => {
      onLog(t.toText(), true, 'print');
      return '';
    },
    enumerable: false,
  });
  return t;
}

const KIND: Record<string, string> = { r: 'table', p: 'table', v: 'view', m: 'materialized_view', f: 'table' };

const RELATION_SQL = `
select n.nspname as schema, c.relname as identifier, c.relkind::text as relkind
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f')`;

/**
 * dbt's flat graph (`graph` in the context): `nodes` (models, seeds, tests,
 * snapshots, analyses), `sources`, `exposures`, `metrics`, `groups`,
 * `semantic_models`, `saved_queries`, each keyed by unique_id, with the
 * manifest's node dicts (resource_type, package_name, config, depends_on,
 * columns, relation_name, …). Read-only.
 */
export function flatGraph(manifest: Manifest): Record<string, unknown> {
  const m = manifest as unknown as Record<string, unknown>;
  return {
    nodes: manifest.nodes,
    sources: manifest.sources,
    exposures: m.exposures ?? {},
    metrics: m.metrics ?? {},
    groups: m.groups ?? {},
    semantic_models: m.semantic_models ?? {},
    saved_queries: m.saved_queries ?? {},
    unit_tests: m.unit_tests ?? {},
  };
}
