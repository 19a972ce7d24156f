/**
 * Enforced model contracts on PostgreSQL, as dbt-adapters' `assert_columns_equivalent`,
 * `table_columns_and_constraints` and `postgres__create_table_as` (our SQL):
 *
 * 1. the model's query columns and the declared ones are typed by the database
 *    (`select * from (<sql>) as __dbt_sbq where false limit 0` and
 *    `select cast(null as <data_type>) as <name>, …`, dbt's `get_column_schema_from_query`), each type
 *    named as dbt-postgres names it (psycopg2's type-caster name: `INTEGER` for int2/int4, `STRING`
 *    for text/varchar, …); any difference in names (order ignored), count or type names is dbt's
 *    ContractError with its table of column_name / definition_type / contract_type / mismatch_reason;
 * 2. a table is created with the declared columns and constraints, then filled by
 *    `insert into … (<cols>) select <cols> from (<sql>) as model_subq`.
 */
import type { RelationRef } from '../adapters/adapter.ts';
import { sqlFragmentProblem } from '../adapters/sql-fragment.ts';
import { TsdbtError } from '../errors.ts';
import type { RecordingSession } from './context.ts';
import { qualified, trimModelSql, type Quoter } from './sql.ts';

/** One declared column (dbt's `model.columns` entry): name, data_type, quote, constraints. */
export interface ContractColumn {
  readonly name: string;
  readonly data_type: string;
  readonly quote?: boolean | null;
  readonly constraints: readonly ContractConstraint[];
}

/** A constraint (dbt's Column/ModelLevelConstraint) with `to` already the referenced relation's SQL name. */
export interface ContractConstraint {
  readonly type: string;
  readonly name?: string | null;
  readonly expression?: string | null;
  readonly to?: string | null;
  readonly to_columns?: readonly string[];
  readonly columns?: readonly string[];
}

/** What an enforced contract declares: the model's columns in properties order, and model-level constraints. */
export interface ContractSpec {
  readonly columns: readonly ContractColumn[];
  readonly constraints: readonly ContractConstraint[];
}

/** A column as the database types it: name and dbt-postgres's type name. */
export interface TypedColumn {
  readonly name: string;
  readonly data_type: string;
}

/** psycopg2's type-caster names by type OID (what dbt-postgres's `data_type_code_to_name` returns). */
const PSYCOPG2_NAMES: Record<number, string> = {};
for (const [name, oids] of Object.entries({
  LONGINTEGER: [20], INTEGER: [23, 21], FLOAT: [701, 700], DECIMAL: [1700], STRING: [19, 18, 25, 1042, 1043],
  BOOLEAN: [16], DATETIME: [1114], DATETIMETZ: [1184], TIME: [1083, 1266], DATE: [1082], INTERVAL: [704, 1186],
  BINARY: [17], ROWID: [26], LONGINTEGERARRAY: [1016], INTEGERARRAY: [1005, 1006, 1007], FLOATARRAY: [1021, 1022],
  DECIMALARRAY: [1231], STRINGARRAY: [1002, 1003, 1009, 1014, 1015], BOOLEANARRAY: [1000], DATETIMEARRAY: [1115],
  DATETIMETZARRAY: [1185], TIMEARRAY: [1183, 1270], DATEARRAY: [1182], INTERVALARRAY: [1187], BINARYARRAY: [1001],
  ROWIDARRAY: [1028, 1013], INETARRAY: [1041], CIDRARRAY: [651], MACADDRARRAY: [1040], UNKNOWN: [705],
  JSON: [114], JSONB: [3802], JSONARRAY: [199], JSONBARRAY: [3807],
})) {
  for (const oid of oids) PSYCOPG2_NAMES[oid] = name;
}

/** dbt-postgres's `get_empty_subquery_sql`: the query's columns without reading a row. */
export function emptySubquerySql(sql: string, header?: unknown): string {
  const body = `select * from (\n${trimModelSql(sql)}\n) as __dbt_sbq\nwhere false\nlimit 0`;
  return typeof header === 'string' && header.trim() !== '' ? `${header}\n${body}` : body;
}

/** A column name as dbt writes it in contract DDL: quoted when `quote: true`, else as written. */
function columnName(c: Pick<ContractColumn, 'name' | 'quote'>, q: Quoter): string {
  return c.quote ? q.quoteIdentifier(c.name) : c.name;
}

/** dbt's `get_empty_schema_sql`: `select cast(null as <data_type>) as <name>, …`. */
export function emptySchemaSql(columns: readonly ContractColumn[], q: Quoter): string {
  return `select\n${columns.map((c) => `  cast(null as ${c.data_type}) as ${columnName(c, q)}`).join(',\n')}`;
}

/**
 * The column names and dbt-postgres type names of `sql`'s result (dbt's `get_column_schema_from_query`),
 * read on the node's session without scanning a row. OIDs psycopg2 does not know are named with
 * `format_type` (dbt prints `unknown type_code <oid>`): equal types still compare equal.
 */
export async function columnSchemaFromQuery(s: RecordingSession, sql: string, header?: unknown): Promise<TypedColumn[]> {
  const r = await s.look(emptySubquerySql(sql, header));
  const unknown = [...new Set(r.fields.map((f) => f.dataTypeID).filter((oid) => PSYCOPG2_NAMES[oid] === undefined))];
  const names = new Map<number, string>();
  if (unknown.length) {
    const t = await s.look<{ oid: number; name: string }>('select oid::int4 as oid, upper(format_type(oid, null)) as name from pg_catalog.pg_type where oid = any($1::oid[])', [unknown]);
    for (const row of t.rows) names.set(Number(row.oid), row.name);
  }
  return r.fields.map((f) => ({ name: f.name, data_type: PSYCOPG2_NAMES[f.dataTypeID] ?? names.get(f.dataTypeID) ?? `unknown type_code ${f.dataTypeID}` }));
}

/** One row of dbt's ContractError table. */
export interface ContractMismatch {
  readonly column_name: string;
  readonly definition_type: string;
  readonly contract_type: string;
  readonly mismatch_reason: 'data type mismatch' | 'missing in contract' | 'missing in definition';
}

/**
 * dbt's `assert_columns_equivalent` decision and `ContractError.get_mismatches` table (pure):
 * empty when the columns match (same count, every query column declared with the same type).
 * Rows sorted by column name.
 */
export function contractMismatches(declared: readonly TypedColumn[], query: readonly TypedColumn[]): ContractMismatch[] {
  const byName = new Map(declared.map((c) => [c.name, c]));
  const fails = declared.length !== query.length || query.some((c) => byName.get(c.name)?.data_type !== c.data_type);
  if (!fails) return [];
  const out: ContractMismatch[] = [];
  const queryNames = new Set<string>();
  for (const c of query) {
    queryNames.add(c.name);
    const d = byName.get(c.name);
    if (!d) out.push({ column_name: c.name, definition_type: c.data_type, contract_type: '', mismatch_reason: 'missing in contract' });
    else if (d.data_type !== c.data_type) out.push({ column_name: c.name, definition_type: c.data_type, contract_type: d.data_type, mismatch_reason: 'data type mismatch' });
  }
  for (const d of declared) {
    if (!queryNames.has(d.name)) out.push({ column_name: d.name, definition_type: '', contract_type: d.data_type, mismatch_reason: 'missing in definition' });
  }
  return out.sort((a, b) => (a.column_name < b.column_name ? -1 : a.column_name > b.column_name ? 1 : 0));
}

/** The mismatch table as agate's `print_table` draws it (what dbt's message shows). */
export function mismatchTable(rows: readonly ContractMismatch[]): string {
  const cols = ['column_name', 'definition_type', 'contract_type', 'mismatch_reason'] as const;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

/**
 * Checks the model's query against its contract (dbt's `get_assert_columns_equivalent`), on the
 * node's session, before anything is built.
 *
 * @throws TsdbtError `contract-failed` with dbt's message ("This model has an enforced contract
 *   that failed." and the mismatch table), or `contract-invalid` when no column is declared;
 *   DatabaseError when a declared data_type is not a type.
 */
export async function assertColumnsEquivalent(s: RecordingSession, contract: ContractSpec, sql: string, q: Quoter, header?: unknown): Promise<void> {
  if (contract.columns.length === 0) {
    throw new TsdbtError('contract-invalid', "This model has an enforced contract, and its 'columns' specification is missing", {
      kind: 'project',
      hint: 'list the columns with their data_type under columns: in a properties file',
    });
  }
  const query = await columnSchemaFromQuery(s, sql, header);
  const declared = await columnSchemaFromQuery(s, emptySchemaSql(contract.columns, q));
  const rows = contractMismatches(declared, query);
  if (rows.length === 0) return;
  throw new TsdbtError(
    'contract-failed',
    'This model has an enforced contract that failed.\nPlease ensure the name, data_type, and number of columns in your contract match the columns in your model\'s definition.\n\n' +
      mismatchTable(rows),
    {
      kind: 'runtime',
      hint: `change the model's SQL or its columns: in the properties file (${rows.map((r) => `${r.column_name}: ${r.mismatch_reason}`).join('; ')})`,
    },
  );
}

/** dbt-adapters' `render_column_constraint` for Postgres (everything is enforced there). */
export function columnConstraintSql(c: ContractConstraint): string | undefined {
  const e = c.expression ?? '';
  let out: string | undefined;
  if (c.type === 'check' && e) out = `check (${e})`;
  else if (c.type === 'not_null') out = `not null ${e}`;
  else if (c.type === 'unique') out = `unique ${e}`;
  else if (c.type === 'primary_key') out = `primary key ${e}`;
  else if (c.type === 'foreign_key') {
    if (c.to && c.to_columns?.length) out = `references ${c.to} (${c.to_columns.join(', ')})`;
    else if (e) out = `references ${e}`;
  } else if (c.type === 'custom' && e) out = e;
  return out?.trim();
}

/** dbt-adapters' `render_model_constraint`. */
export function modelConstraintSql(c: ContractConstraint): string | undefined {
  const prefix = c.name ? `constraint ${c.name} ` : '';
  const cols = (c.columns ?? []).join(', ');
  const e = c.expression ? ` ${c.expression}` : '';
  if (c.type === 'check' && c.expression) return `${prefix}check (${c.expression})`;
  if (c.type === 'unique') return `${prefix}unique${e} (${cols})`;
  if (c.type === 'primary_key') return `${prefix}primary key${e} (${cols})`;
  if (c.type === 'foreign_key') {
    if (c.to && c.to_columns?.length) return `${prefix}foreign key (${cols}) references ${c.to} (${c.to_columns.join(', ')})`;
    if (c.expression) return `${prefix}foreign key (${cols}) references ${c.expression}`;
  }
  if (c.type === 'custom' && c.expression) return `${prefix}${c.expression}`;
  return undefined;
}

/**
 * `create [unlogged] table <rel> (<col> <type> <constraints>, …, <model constraints>)`: dbt's
 * `postgres__create_table_as` with an enforced contract (`table_columns_and_constraints`).
 */
export function createContractTableSql(rel: RelationRef, contract: ContractSpec, q: Quoter, opts: { unlogged?: boolean } = {}): string {
  const items = contract.columns.map((c) => [`${columnName(c, q)} ${c.data_type}`, ...c.constraints.map(columnConstraintSql).filter((x): x is string => !!x)].join(' '));
  for (const m of contract.constraints) {
    const sql = modelConstraintSql(m);
    if (sql) items.push(sql);
  }
  return `create ${opts.unlogged ? 'unlogged ' : ''}table ${qualified(rel, q)} (\n  ${items.join(',\n  ')}\n)`;
}

/** `insert into <rel> (<cols>) select <cols> from (<sql>) as model_subq` (dbt's `get_select_subquery`). */
export function insertContractRowsSql(rel: RelationRef, contract: ContractSpec, sql: string, q: Quoter): string {
  const cols = contract.columns.map((c) => columnName(c, q)).join(', ');
  return `insert into ${qualified(rel, q)} (${cols})\nselect ${cols}\nfrom (\n${trimModelSql(sql)}\n) as model_subq`;
}

/**
 * Values of a contract written into SQL as is (data types, constraint expressions and names, `to`,
 * column lists), checked as config values are (adapters/sql-fragment.ts): one fragment each, no `;`
 * or comment. Returns the first problem as a TsdbtError `invalid-contract-sql`, or undefined.
 */
export function contractSqlProblem(contract: ContractSpec, label: string): TsdbtError | undefined {
  const check = (what: string, text: string | null | undefined): TsdbtError | undefined => {
    if (text === null || text === undefined || text === '') return undefined;
    const p = sqlFragmentProblem(text);
    return p ? new TsdbtError('invalid-contract-sql', `${what} of ${label} (${JSON.stringify(text)}) cannot be written into SQL: ${p}.`, { kind: 'project', hint: 'write one type, expression or name per entry, without `;` or comments' }) : undefined;
  };
  const all = [...contract.columns.flatMap((c) => c.constraints), ...contract.constraints];
  for (const c of contract.columns) {
    const e = check(`data_type of column '${c.name}'`, c.data_type);
    if (e) return e;
  }
  for (const c of all) {
    for (const v of [c.expression, c.name, c.to, ...(c.to_columns ?? []), ...(c.columns ?? [])]) {
      const e = check(`a ${c.type} constraint`, v);
      if (e) return e;
    }
  }
  return undefined;
}
