/**
 * Every SQL statement the materializations run, as pure functions of
 * (relation names, columns, config, quoter) → SQL text. Nothing here touches a
 * database; the strategies in this folder execute what these return.
 *
 * The shapes follow dbt-postgres (dbt-labs/dbt-adapters): `create table … as (…)`,
 * `create view … as (…)`, `alter table … rename to …`, dbt's
 * `get_insert_into_sql`, `get_delete_insert_merge_sql` and `get_merge_sql`
 * (with the `DBT_INTERNAL_SOURCE` / `DBT_INTERNAL_DEST` aliases and the raw,
 * unquoted `unique_key` expressions dbt uses), and
 * `alter_relation_add_remove_columns`.
 */
import { createHash } from 'node:crypto';
import type { RelationRef } from '../adapters/adapter.ts';
import { TsdbtError } from '../errors.ts';
import { isColumnName, isPlainName, sqlFragmentProblem, splitTopLevelCommas } from '../adapters/sql-fragment.ts';

/** Identifier and literal quoting (an {@link import('../adapters/adapter.ts').Adapter} is one). */
export interface Quoter {
  quoteIdentifier(name: string): string;
  quoteLiteral(value: string): string;
}

/** The relation kinds a materialization can build or replace. */
export type ReplaceableKind = 'table' | 'view' | 'materialized_view';

/** Postgres's limit on identifier length, in bytes (NAMEDATALEN − 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/** Suffix of the relation a model is built under before the swap. */
export const TMP_SUFFIX = '__tsdbt_tmp';
/** Suffix the previous relation is renamed to during the swap (dropped in the same transaction). */
export const BACKUP_SUFFIX = '__tsdbt_backup';
/** Suffix of the session temporary table holding an incremental run's new rows. */
export const INCREMENTAL_SUFFIX = '__tsdbt_incr';

/**
 * Key of the transaction-level advisory lock every swap takes first, so that
 * swaps (from any tsdbt process on the database) run one at a time and never
 * wait for each other's relation locks in a cycle. See README.md, "Lock ordering".
 */
export const SWAP_LOCK_KEY = 0x7473646274n; // "tsdbt" in ASCII

/** `select pg_advisory_xact_lock(<key>)`: serialises swaps until the transaction ends. */
export function swapLockSql(): string {
  return `select pg_catalog.pg_advisory_xact_lock(${SWAP_LOCK_KEY.toString()})`;
}

/** `"schema"."identifier"`. */
export function qualified(rel: RelationRef, q: Quoter): string {
  return `${q.quoteIdentifier(rel.schema)}.${q.quoteIdentifier(rel.identifier)}`;
}

/** A session temporary table's name, `pg_temp."name"`. */
export function tempQualified(identifier: string, q: Quoter): string {
  return `pg_temp.${q.quoteIdentifier(identifier)}`;
}

/** Byte length of `s` in UTF-8 (Postgres measures identifiers in bytes). */
export function identifierBytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The longest prefix of `s` that fits in `maxBytes` UTF-8 bytes without splitting a character. */
function truncateToBytes(s: string, maxBytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * `<alias><suffix>`, kept within {@link MAX_IDENTIFIER_BYTES}: when too long, the
 * alias is cut and an 8-hex-digit hash of the whole alias is inserted
 * (`<cut alias>_<hash><suffix>`), so distinct aliases keep distinct helper names.
 *
 * @example helperIdentifier('orders', TMP_SUFFIX) // 'orders__tsdbt_tmp'
 */
export function helperIdentifier(alias: string, suffix: string): string {
  const whole = alias + suffix;
  if (identifierBytes(whole) <= MAX_IDENTIFIER_BYTES) return whole;
  const hash = createHash('sha256').update(alias, 'utf8').digest('hex').slice(0, 8);
  const room = MAX_IDENTIFIER_BYTES - identifierBytes(suffix) - 1 - hash.length;
  return `${truncateToBytes(alias, room)}_${hash}${suffix}`;
}

/**
 * An invocation's token (six lower-case hex digits, `Adapter.invocationToken`) as a
 * suffix of the helper names: `orders__tsdbt_tmp_3fa9c1`. Two invocations that write one
 * schema (two targets whose `generate_schema_name` meets) never share a helper relation.
 * Without a token the names are the plain `<alias>__tsdbt_tmp` / `__tsdbt_backup`.
 */
function withToken(suffix: string, token: string | undefined): string {
  if (token === undefined || token === '') return suffix;
  if (!HELPER_TOKEN.test(token)) throw new Error(`invocation token must be six lower-case hex digits, got ${JSON.stringify(token)}`);
  return `${suffix}_${token}`;
}

/** What an invocation token looks like (see {@link tmpRelation}). */
export const HELPER_TOKEN = /^[0-9a-f]{6}$/u;

/** The relation a model is built under before the swap (same schema): `<alias>__tsdbt_tmp[_<token>]`. */
export function tmpRelation(rel: RelationRef, token?: string): RelationRef {
  return { schema: rel.schema, identifier: helperIdentifier(rel.identifier, withToken(TMP_SUFFIX, token)) };
}

/** The name the previous relation takes during the swap (same schema): `<alias>__tsdbt_backup[_<token>]`. */
export function backupRelation(rel: RelationRef, token?: string): RelationRef {
  return { schema: rel.schema, identifier: helperIdentifier(rel.identifier, withToken(BACKUP_SUFFIX, token)) };
}

/**
 * Catalog query for the helper relations of `alias` left by any invocation (a crashed
 * run, or a run of another target on the same schema): the exact names `$2` (text[],
 * the token-less names) and every name that is one of the prefixes `$3` (text[]) followed
 * by six hex digits. `$1` schema. Rows: `{ name, relkind }`.
 */
export function leftoverLookupSql(): string {
  return [
    'select c.relname::text as name, c.relkind::text as relkind',
    'from pg_catalog.pg_class c',
    'join pg_catalog.pg_namespace n on n.oid = c.relnamespace',
    'where n.nspname = $1',
    "  and (c.relname = any($2::text[]) or (pg_catalog.left(c.relname, -6) = any($3::text[]) and pg_catalog.right(c.relname, 6) ~ '^[0-9a-f]{6}$'))",
    'order by 1',
  ].join('\n');
}

/** Parameters of {@link leftoverLookupSql} for one model relation: `[schema, exact names, token prefixes]`. */
export function leftoverLookupParams(rel: RelationRef): [string, string[], string[]] {
  const exact = [tmpRelation(rel).identifier, backupRelation(rel).identifier];
  const prefixes = [tmpRelation(rel, '000000').identifier, backupRelation(rel, '000000').identifier].map((n) => n.slice(0, -6));
  return [rel.schema, exact, prefixes];
}

/** The SQL keyword for a kind: `table`, `view`, `materialized view`. */
export function kindKeyword(kind: ReplaceableKind): string {
  return kind === 'materialized_view' ? 'materialized view' : kind;
}

/**
 * Removes trailing whitespace and semicolons from a model's SQL so it can be
 * wrapped in parentheses (`select 1;` → `select 1`). Everything else is kept,
 * so character offsets into the result equal offsets into the original.
 */
export function trimModelSql(sql: string): string {
  return sql.replace(/[\s;]+$/u, '');
}

/** `create schema if not exists "schema"` (dbt's `postgres__create_schema`). */
export function createSchemaSql(schema: string, q: Quoter): string {
  return `create schema if not exists ${q.quoteIdentifier(schema)}`;
}

/**
 * `create table "s"."t" as (\n<sql>\n)` — dbt's `postgres__create_table_as`
 * (the newline before `)` keeps a trailing `-- comment` in the model harmless).
 */
export function createTableAsSql(rel: RelationRef, sql: string, q: Quoter, opts: { unlogged?: boolean } = {}): string {
  return `create ${opts.unlogged ? 'unlogged ' : ''}table ${qualified(rel, q)}\nas (\n${trimModelSql(sql)}\n)`;
}

/** Prepends dbt's `sql_header` config (e.g. `set work_mem = '1GB';`) to a statement, when set. */
export function withSqlHeader(statement: string, header: unknown): string {
  return typeof header === 'string' && header.trim() !== '' ? `${header}\n${statement}` : statement;
}

/** `create temporary table "t" as (\n<sql>\n)`: an incremental run's new rows, in this session only. */
export function createTempTableAsSql(identifier: string, sql: string, q: Quoter): string {
  return `create temporary table ${q.quoteIdentifier(identifier)}\nas (\n${trimModelSql(sql)}\n)`;
}

/** `create view "s"."v" as (\n<sql>\n)` — dbt's `postgres__create_view_as`. */
export function createViewAsSql(rel: RelationRef, sql: string, q: Quoter): string {
  return `create view ${qualified(rel, q)}\nas (\n${trimModelSql(sql)}\n)`;
}

/**
 * The 1-based character position in `statement` where the model SQL starts
 * minus one, i.e. how much to subtract from a Postgres error position to get a
 * position in the model SQL. −1 when the model SQL is not in the statement.
 */
export function modelSqlOffset(statement: string, sql: string): number {
  const i = statement.indexOf(`(\n${trimModelSql(sql)}\n)`);
  return i < 0 ? -1 : i + 2;
}

/** `alter <kind> "s"."a" rename to "b"` (dbt's `postgres__rename_relation`). */
export function renameRelationSql(rel: RelationRef, kind: ReplaceableKind, newIdentifier: string, q: Quoter): string {
  return `alter ${kindKeyword(kind)} ${qualified(rel, q)} rename to ${q.quoteIdentifier(newIdentifier)}`;
}

/** `drop <kind> if exists "s"."a" [cascade]` (dbt's `drop_relation_if_exists` always cascades). */
export function dropRelationSql(rel: RelationRef, kind: ReplaceableKind, q: Quoter, opts: { cascade?: boolean } = {}): string {
  return `drop ${kindKeyword(kind)} if exists ${qualified(rel, q)}${opts.cascade ? ' cascade' : ''}`;
}

/** `drop table if exists pg_temp."t"`. */
export function dropTempTableSql(identifier: string, q: Quoter): string {
  return `drop table if exists ${tempQualified(identifier, q)}`;
}

// ---------------------------------------------------------------- catalog queries

/**
 * Catalog look-up of one relation. Parameters: `$1` schema, `$2` identifier.
 * Row: `{ oid: string, relkind: string }` (`r`/`p` table, `v` view, `m` materialized view, `f` foreign table, …).
 */
export function relationLookupSql(): string {
  return [
    'select c.oid::text as oid, c.relkind::text as relkind',
    'from pg_catalog.pg_class c',
    'join pg_catalog.pg_namespace n on n.oid = c.relnamespace',
    'where n.nspname = $1 and c.relname = $2',
  ].join('\n');
}

/**
 * Columns of a relation in position order. Parameters: `$1` schema (or, when
 * `temp`, unused and omitted) and the identifier (`$2`, or `$1` when `temp`).
 * Rows: `{ name, data_type, position }` with Postgres's formatted type.
 */
export function columnsSql(temp = false): string {
  return [
    'select a.attname::text as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as data_type, a.attnum::int as position',
    'from pg_catalog.pg_attribute a',
    'join pg_catalog.pg_class c on c.oid = a.attrelid',
    'join pg_catalog.pg_namespace n on n.oid = c.relnamespace',
    temp
      ? 'where c.relnamespace = pg_catalog.pg_my_temp_schema() and c.relname = $1'
      : 'where n.nspname = $1 and c.relname = $2',
    '  and a.attnum > 0 and not a.attisdropped',
    'order by a.attnum',
  ].join('\n');
}

/**
 * Every view and materialized view that depends on the relation with OID `$1`,
 * directly or through other views (pg_depend → pg_rewrite), with what is needed
 * to recreate each one. Run it with `search_path` set to `pg_catalog` so that
 * `pg_get_viewdef` and friends print every other name schema-qualified.
 *
 * Rows (JSON columns are text, parse them): `{ oid, schema, name, relkind,
 * definition, owner, options (json string[] | null), comment, column_comments
 * (json {column, comment}[] | null), acl (json {grantee, privilege, grantable}[] | null),
 * extras (json string[] | null: index, trigger and rule definitions),
 * depends_on (json string[] | null: OIDs this view reads) }`.
 */
export function dependentViewsSql(): string {
  return `with recursive deps(oid) as (
  select r.ev_class
  from pg_catalog.pg_depend d
  join pg_catalog.pg_rewrite r on r.oid = d.objid
  where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
    and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    and d.refobjid = $1::text::pg_catalog.oid
    and r.ev_class <> $1::text::pg_catalog.oid
  union
  select r.ev_class
  from deps
  join pg_catalog.pg_depend d on d.refobjid = deps.oid
  join pg_catalog.pg_rewrite r on r.oid = d.objid
  where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
    and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    and r.ev_class <> deps.oid
)
select
  c.oid::text as oid,
  n.nspname::text as schema,
  c.relname::text as name,
  c.relkind::text as relkind,
  pg_catalog.pg_get_viewdef(c.oid, true) as definition,
  pg_catalog.pg_get_userbyid(c.relowner)::text as owner,
  c.relispopulated as populated,
  pg_catalog.array_to_json(c.reloptions)::text as options,
  pg_catalog.obj_description(c.oid, 'pg_class') as comment,
  (select pg_catalog.json_agg(pg_catalog.json_build_object('column', a.attname, 'comment', ds.description) order by a.attnum)::text
     from pg_catalog.pg_attribute a
     join pg_catalog.pg_description ds
       on ds.objoid = c.oid and ds.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and ds.objsubid = a.attnum
    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as column_comments,
  (select pg_catalog.json_agg(pg_catalog.json_build_object(
            'grantee', case when x.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(x.grantee)::text end,
            'privilege', x.privilege_type,
            'grantable', x.is_grantable))::text
     from pg_catalog.aclexplode(c.relacl) x
    where x.grantee <> c.relowner) as acl,
  (select pg_catalog.json_agg(e.def order by e.ord, e.def)::text from (
      select 1 as ord, pg_catalog.pg_get_indexdef(i.indexrelid) as def
        from pg_catalog.pg_index i where i.indrelid = c.oid
      union all
      select 2, pg_catalog.pg_get_triggerdef(t.oid)
        from pg_catalog.pg_trigger t where t.tgrelid = c.oid and not t.tgisinternal
      union all
      select 3, pg_catalog.pg_get_ruledef(ru.oid)
        from pg_catalog.pg_rewrite ru where ru.ev_class = c.oid and ru.rulename <> '_RETURN'
    ) e) as extras,
  (select pg_catalog.json_agg(distinct d.refobjid::text)::text
     from pg_catalog.pg_rewrite r
     join pg_catalog.pg_depend d on d.objid = r.oid
      and d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
      and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    where r.ev_class = c.oid and d.refobjid <> c.oid) as depends_on
from deps
join pg_catalog.pg_class c on c.oid = deps.oid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('v', 'm')
order by n.nspname, c.relname`;
}

/** A view or materialized view captured before a swap, to be recreated after it. */
export interface DependentView {
  readonly oid: string;
  readonly schema: string;
  readonly name: string;
  readonly kind: 'view' | 'materialized_view';
  /** `pg_get_viewdef(oid, true)` taken with search_path = pg_catalog (names qualified), no trailing `;`. */
  readonly definition: string;
  readonly owner: string;
  /** reloptions as `key=value` (e.g. `security_barrier=true`, `check_option=local`). */
  readonly options: readonly string[];
  readonly comment: string | null;
  readonly columnComments: readonly { readonly column: string; readonly comment: string }[];
  readonly grants: readonly { readonly grantee: string; readonly privilege: string; readonly grantable: boolean }[];
  /** Complete `CREATE INDEX` / `CREATE TRIGGER` / `CREATE RULE` statements to replay. */
  readonly extras: readonly string[];
  /** OIDs of the relations this view reads. */
  readonly dependsOn: readonly string[];
  /** False for a materialized view created or left `with no data`. */
  readonly populated?: boolean;
}

/**
 * The statements that recreate a captured dependent view: `create [materialized] view`,
 * then owner, comments, grants, and its indexes/triggers/rules. `currentUser`
 * decides whether an `alter … owner to` is needed.
 */
export function recreateDependentSql(view: DependentView, currentUser: string, q: Quoter): string[] {
  const rel = { schema: view.schema, identifier: view.name };
  const name = qualified(rel, q);
  const keyword = kindKeyword(view.kind);
  const withOptions = view.options.length > 0 ? ` with (${view.options.join(', ')})` : '';
  const noData = view.kind === 'materialized_view' && view.populated === false ? '\nwith no data' : '';
  const out = [`create ${keyword} ${name}${withOptions} as\n${trimModelSql(view.definition)}${noData}`];
  if (view.owner !== currentUser) out.push(`alter ${keyword} ${name} owner to ${q.quoteIdentifier(view.owner)}`);
  if (view.comment !== null) out.push(`comment on ${keyword} ${name} is ${q.quoteLiteral(view.comment)}`);
  for (const c of view.columnComments) {
    out.push(`comment on column ${name}.${q.quoteIdentifier(c.column)} is ${q.quoteLiteral(c.comment)}`);
  }
  for (const g of view.grants) {
    const grantee = g.grantee === 'PUBLIC' ? 'public' : q.quoteIdentifier(g.grantee);
    out.push(`grant ${g.privilege.toLowerCase()} on ${name} to ${grantee}${g.grantable ? ' with grant option' : ''}`);
  }
  out.push(...view.extras.map((e) => trimModelSql(e)));
  return out;
}

/** `drop view "s"."v"` (no cascade: an object we did not capture must stop the swap, not vanish). */
export function dropDependentSql(view: DependentView, q: Quoter): string {
  return `drop ${kindKeyword(view.kind)} ${qualified({ schema: view.schema, identifier: view.name }, q)}`;
}

/**
 * Every object that depends (`pg_depend`, deptype `n`) on the relation with OID `$1` or on its
 * row type, and which a `drop … cascade` of that relation would therefore drop with it: views and
 * materialized views (through their `_RETURN` rule), foreign keys of other tables, functions and
 * procedures taking or returning the row type (or, in a SQL-standard body, reading the relation),
 * columns of other tables typed by it, policies, … The relation's own parts (its rules, its
 * constraints, its row type) are left out.
 *
 * Rows: `{ what: string` (`view "s"."v"`, `function s.f(s.t)`, `constraint fk on table s.o`, as
 * `pg_describe_object` words it, views named by their kind)`, kind: 'view' | 'foreign_key' | 'other',
 * owner: string | null, on_schema, on_name: string | null` (the relation the object belongs to: the view, the
 * foreign key's table, …)` }`, ordered by `what`.
 */
export function dependentObjectsSql(): string {
  return `select distinct
  case
    when d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and r.rulename = '_RETURN'
      then case rc.relkind when 'm' then 'materialized view ' else 'view ' end
           || pg_catalog.quote_ident(rn.nspname) || '.' || pg_catalog.quote_ident(rc.relname)
    else pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
  end as what,
  case
    when d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and r.rulename = '_RETURN' then 'view'
    when d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass and k.contype = 'f' then 'foreign_key'
    else 'other'
  end as kind,
  pg_catalog.pg_get_userbyid(coalesce(p.proowner, rc.relowner, kc.relowner, oc.relowner, pc.relowner))::text as owner,
  (select n.nspname::text from pg_catalog.pg_namespace n where n.oid = coalesce(rc.relnamespace, kc.relnamespace, oc.relnamespace, pc.relnamespace)) as on_schema,
  coalesce(rc.relname, kc.relname, oc.relname, pc.relname)::text as on_name
from pg_catalog.pg_depend d
join pg_catalog.pg_class t on t.oid = $1::text::pg_catalog.oid
left join pg_catalog.pg_rewrite r on d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and r.oid = d.objid
left join pg_catalog.pg_class rc on rc.oid = r.ev_class
left join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
left join pg_catalog.pg_constraint k on d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass and k.oid = d.objid
left join pg_catalog.pg_class kc on kc.oid = k.conrelid
left join pg_catalog.pg_proc p on d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and p.oid = d.objid
left join pg_catalog.pg_class oc on d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and oc.oid = d.objid
left join pg_catalog.pg_policy po on d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass and po.oid = d.objid
left join pg_catalog.pg_class pc on pc.oid = po.polrelid
where d.deptype = 'n'
  and ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.refobjid = t.oid)
    or (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass and d.refobjid = t.reltype))
  and not (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = t.oid)
  and (r.oid is null or r.ev_class <> t.oid)
  and (k.oid is null or k.conrelid <> t.oid)
order by 1`;
}

/** One row of {@link dependentObjectsSql}. */
export interface DependentObject {
  /** Human-readable and schema-qualified: `view "s"."v"`, `function s.f(s.t)`, `constraint fk on table s.o`. */
  readonly what: string;
  readonly kind: 'view' | 'foreign_key' | 'other';
  readonly owner: string | null;
  /** The relation the object belongs to (the view, the foreign key's table, the policy's table), when it belongs to one. */
  readonly on_schema?: string | null;
  readonly on_name?: string | null;
}

// ---------------------------------------------------------------- incremental DML

/** A column by name and formatted Postgres type. */
export interface ColumnSpec {
  readonly name: string;
  readonly dataType: string;
}

/** `"a", "b"`. */
export function quotedCsv(columns: readonly ColumnSpec[], q: Quoter): string {
  return columns.map((c) => q.quoteIdentifier(c.name)).join(', ');
}

/**
 * `unique_key` as a list of SQL expressions (dbt does not quote them). Empty when absent.
 * A string key holding top-level commas (`'id, day'`) is split into its parts, which is
 * what dbt's delete+insert makes of it (`where (id, day) in (select distinct id, day …)`).
 * Parts that are not safe SQL fragments are kept whole (see {@link uniqueKeyProblem}).
 */
export function uniqueKeyList(uniqueKey: string | readonly string[] | null | undefined): string[] {
  if (uniqueKey === null || uniqueKey === undefined) return [];
  const list = typeof uniqueKey === 'string' ? (sqlFragmentProblem(uniqueKey) ? [uniqueKey] : splitTopLevelCommas(uniqueKey)) : [...uniqueKey];
  return list.map((k) => String(k).trim()).filter((k) => k !== '');
}

/**
 * Why a `unique_key` entry cannot be used, or undefined: any strategy needs a
 * column name or one SQL expression that cannot leave its slot
 * ({@link sqlFragmentProblem}); `merge` needs a column name (plain or
 * double-quoted), since it writes `DBT_INTERNAL_SOURCE.<key>`.
 */
export function uniqueKeyProblem(key: string, strategy: string): string | undefined {
  const problem = sqlFragmentProblem(key);
  if (problem) return `it holds ${problem}`;
  if (strategy === 'merge' && !isColumnName(key)) return 'the merge strategy needs a column name (id, or "Order ID"), not an expression';
  return undefined;
}

/** Throws `invalid-unique-key` for an entry {@link uniqueKeyProblem} refuses: nothing unsafe is ever written into SQL. */
function assertUniqueKeys(keys: readonly string[], strategy: string): void {
  for (const k of keys) {
    const problem = uniqueKeyProblem(k, strategy);
    if (problem) throw invalidUniqueKey(k, problem);
  }
}

/** The `invalid-unique-key` error for one `unique_key` entry. */
export function invalidUniqueKey(key: string, problem: string, where: { file?: string; owner?: string } = {}): TsdbtError {
  return new TsdbtError('invalid-unique-key', `config 'unique_key'${where.owner ? ` of ${where.owner}` : ''}: ${JSON.stringify(key)} is not a column name or a single SQL expression: ${problem}.`, {
    kind: 'project',
    file: where.file,
    hint: 'Write unique_key as a column name (id), a quoted name (\'"Order ID"\'), a list of them ([\'id\', \'day\']), or — for delete+insert — one expression such as coalesce(id, 0); it cannot hold ;, comments, $ or backslashes, and its parentheses must balance.',
  });
}

/** Throws `invalid-incremental-predicate` for a predicate that could leave its slot (see {@link sqlFragmentProblem}). */
function assertPredicates(predicates: readonly string[]): void {
  for (const p of predicates) {
    const problem = sqlFragmentProblem(p);
    if (problem) throw invalidPredicate(p, problem);
  }
}

/** The `invalid-incremental-predicate` error. */
export function invalidPredicate(predicate: string, problem: string, where: { file?: string; owner?: string } = {}): TsdbtError {
  return new TsdbtError(
    'invalid-incremental-predicate',
    `config 'incremental_predicates'${where.owner ? ` of ${where.owner}` : ''}: ${JSON.stringify(predicate)} is not one SQL condition: it holds ${problem}.`,
    {
      kind: 'project',
      file: where.file,
      hint: "incremental_predicates are SQL conditions by design (dbt), e.g. \"DBT_INTERNAL_DEST.day > current_date - 7\"; each must be one condition: no ;, comments, $ or backslashes, balanced parentheses. Put other SQL in a pre_hook or post_hook.",
    },
  );
}

/** A key as written when it is a plain name (dbt's output), else parenthesised so it stays one expression. */
function keySql(k: string): string {
  return isColumnName(k) ? k : `(${k})`;
}

/**
 * dbt's `get_insert_into_sql` (the `append` strategy):
 * `insert into <target> (<cols>) (select <cols> from <source>)`.
 * `source` is already rendered (e.g. `pg_temp."x"`).
 */
export function insertIntoSql(target: RelationRef, source: string, columns: readonly ColumnSpec[], q: Quoter): string {
  const cols = quotedCsv(columns, q);
  return `insert into ${qualified(target, q)} (${cols})\n(\n    select ${cols}\n    from ${source}\n)`;
}

/**
 * dbt's `get_delete_insert_merge_sql` (the `delete+insert` strategy): delete the
 * target rows whose key matches a new row, then insert every new row. Like dbt,
 * keys compare with `in`, so rows with a NULL key are never deleted. Returns
 * `[delete, insert]`, or `[insert]` without a unique key.
 */
export function deleteInsertSql(
  target: RelationRef,
  source: string,
  uniqueKey: readonly string[],
  columns: readonly ColumnSpec[],
  q: Quoter,
  predicates: readonly string[] = [],
): string[] {
  assertUniqueKeys(uniqueKey, 'delete+insert');
  assertPredicates(predicates);
  const insert = insertIntoSql(target, source, columns, q);
  if (uniqueKey.length === 0) return [insert];
  const keys = uniqueKey.map(keySql).join(', ');
  const extra = predicates.map((p) => `\n    and (${p})`).join('');
  const del =
    `delete from ${qualified(target, q)} as DBT_INTERNAL_DEST\n` +
    `where (${keys}) in (\n    select distinct ${keys}\n    from ${source} as DBT_INTERNAL_SOURCE\n)${extra}`;
  return [del, insert];
}

/**
 * dbt's `get_merge_sql` (the `merge` strategy, Postgres ≥ 15): update matching
 * rows, insert the others. Without a unique key the join is `FALSE` and every
 * row is inserted, as in dbt. `updateColumns` are SQL column references
 * (quoted by default; dbt passes `merge_update_columns` through unquoted).
 */
export function mergeSql(
  target: RelationRef,
  source: string,
  uniqueKey: readonly string[],
  columns: readonly ColumnSpec[],
  q: Quoter,
  opts: { updateColumns?: readonly string[]; predicates?: readonly string[] } = {},
): string {
  assertUniqueKeys(uniqueKey, 'merge');
  assertPredicates(opts.predicates ?? []);
  const matches = [...(opts.predicates ?? [])];
  if (uniqueKey.length === 0) matches.push('FALSE');
  for (const k of uniqueKey) matches.push(`DBT_INTERNAL_SOURCE.${k} = DBT_INTERNAL_DEST.${k}`);
  const updates = opts.updateColumns ?? columns.map((c) => q.quoteIdentifier(c.name));
  for (const c of updates) {
    if (!isColumnName(c)) {
      throw new TsdbtError('invalid-merge-update-columns', `config 'merge_update_columns': ${JSON.stringify(c)} is not a column name.`, {
        kind: 'project',
        hint: 'List column names: [\'amount\', \'"Updated At"\'].',
      });
    }
  }
  const lines = [
    `merge into ${qualified(target, q)} as DBT_INTERNAL_DEST`,
    `using ${source} as DBT_INTERNAL_SOURCE`,
    `on (${matches.join(') and (')})`,
  ];
  if (uniqueKey.length > 0 && updates.length > 0) {
    lines.push('when matched then update set');
    lines.push(updates.map((c) => `    ${c} = DBT_INTERNAL_SOURCE.${c}`).join(',\n'));
  }
  lines.push('when not matched then insert');
  lines.push(`    (${quotedCsv(columns, q)})`);
  lines.push('values');
  lines.push(`    (${columns.map((c) => `DBT_INTERNAL_SOURCE.${q.quoteIdentifier(c.name)}`).join(', ')})`);
  return lines.join('\n');
}

/** dbt's `alter_relation_add_remove_columns` (add half): `alter table … add column "c" type, …`. */
export function addColumnsSql(target: RelationRef, columns: readonly ColumnSpec[], q: Quoter): string {
  const adds = columns.map((c) => `add column ${q.quoteIdentifier(c.name)} ${c.dataType}`).join(',\n    ');
  return `alter table ${qualified(target, q)}\n    ${adds}`;
}

/** dbt's `alter_relation_add_remove_columns` (remove half): `alter table … drop column "c", …` (no cascade). */
export function dropColumnsSql(target: RelationRef, columns: readonly string[], q: Quoter): string {
  const drops = columns.map((c) => `drop column ${q.quoteIdentifier(c)}`).join(',\n    ');
  return `alter table ${qualified(target, q)}\n    ${drops}`;
}

/** `alter table … alter column "c" type <t> using "c"::<t>` (keeps the column's position and data). */
export function alterColumnTypeSql(target: RelationRef, column: string, dataType: string, q: Quoter): string {
  const c = q.quoteIdentifier(column);
  return `alter table ${qualified(target, q)} alter column ${c} type ${dataType} using ${c}::${dataType}`;
}

/** Privileges the `grants` config may name on a table or view (PostgreSQL's; `all` = `all privileges`). */
export const GRANT_PRIVILEGES = ['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger', 'maintain', 'all', 'all privileges'] as const;

/** A grantee of the `grants` config, resolved: `name` as pg_roles / aclexplode show it, `sql` quoted for a statement. */
export interface Grantee {
  readonly name: string;
  readonly sql: string;
}

/**
 * Reads one grantee of the `grants` config as dbt-postgres writes it into SQL
 * (unquoted, so folded to lower case): `Reporter` → role `reporter`;
 * `"Weird Role"` (quoted in the YAML value) keeps its case and characters;
 * `public` → PUBLIC. Anything else — spaces, `;`, quotes inside an unquoted
 * name — is rejected instead of being pasted into SQL.
 *
 * @throws TsdbtError `invalid-grantee`.
 */
export function parseGrantee(raw: string, q: Quoter): Grantee {
  const g = raw.trim();
  if (/^public$/i.test(g)) return { name: 'PUBLIC', sql: 'public' };
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(g)) {
    const name = g.toLowerCase();
    return { name, sql: q.quoteIdentifier(name) };
  }
  const quoted = /^"((?:[^"]|"")+)"$/.exec(g);
  if (quoted) {
    const name = quoted[1].replace(/""/g, '"');
    return { name, sql: q.quoteIdentifier(name) };
  }
  throw new TsdbtError('invalid-grantee', `grants: ${JSON.stringify(raw)} is not a role name`, {
    kind: 'project',
    hint: 'Write a role name (letters, digits, _), public, or a quoted name such as \'"Report Readers"\' for a role with other characters.',
  });
}

/**
 * The `grants` config resolved: privilege (lower case, `+` merge marker
 * dropped) → grantees, empty values skipped; `all privileges` is `all`.
 *
 * @throws TsdbtError `invalid-grant-privilege`, `invalid-grantee`.
 */
export function resolveGrants(grants: Record<string, readonly string[] | string> | null | undefined, q: Quoter): Map<string, Grantee[]> {
  const out = new Map<string, Grantee[]>();
  if (!grants) return out;
  for (const [rawPrivilege, value] of Object.entries(grants)) {
    const privilege = rawPrivilege.replace(/^\+/, '').trim().toLowerCase().replace(/\s+/g, ' ');
    if (!(GRANT_PRIVILEGES as readonly string[]).includes(privilege)) {
      throw new TsdbtError('invalid-grant-privilege', `grants: ${JSON.stringify(rawPrivilege)} is not a privilege on a table or view`, {
        kind: 'project',
        hint: `Use one of: ${GRANT_PRIVILEGES.join(', ')}.`,
      });
    }
    const list = (typeof value === 'string' ? [value] : (value ?? [])).map(String).filter((g) => g.trim() !== '');
    const key = privilege === 'all privileges' ? 'all' : privilege;
    const seen = new Map((out.get(key) ?? []).map((g) => [g.name, g]));
    for (const g of list) {
      const grantee = parseGrantee(g, q);
      seen.set(grantee.name, grantee);
    }
    out.set(key, [...seen.values()]);
  }
  return out;
}

/**
 * dbt-postgres's `get_grant_sql` for the `grants` config: one
 * `grant <privilege> on <relation> to <grantees>` per privilege with grantees.
 * Unlike dbt, grantees go through the quoter (see {@link parseGrantee}), so a
 * config value can never inject SQL.
 *
 * @throws TsdbtError `invalid-grant-privilege`, `invalid-grantee`.
 */
export function grantsSql(target: RelationRef, grants: Record<string, readonly string[] | string> | null | undefined, q: Quoter): string[] {
  const out: string[] = [];
  for (const [privilege, grantees] of resolveGrants(grants, q)) {
    if (grantees.length === 0) continue;
    out.push(grantSql(target, privilege, grantees, q));
  }
  return out;
}

/** `grant <privilege> on <relation> to <grantees>` for resolved grantees. */
export function grantSql(target: RelationRef, privilege: string, grantees: readonly Grantee[], q: Quoter): string {
  return `grant ${privilege} on ${qualified(target, q)} to ${grantees.map((g) => g.sql).join(', ')}`;
}

/** dbt-postgres's `get_revoke_sql`: `revoke <privilege> on <relation> from <grantees>`. */
export function revokeSql(target: RelationRef, privilege: string, grantees: readonly Grantee[], q: Quoter): string {
  return `revoke ${privilege} on ${qualified(target, q)} from ${grantees.map((g) => g.sql).join(', ')}`;
}

/** `grant usage on schema "s" to <grantees>` — what a grantee needs to reach the relations it may read. */
export function grantSchemaUsageSql(schema: string, grantees: readonly Grantee[], q: Quoter): string {
  return `grant usage on schema ${q.quoteIdentifier(schema)} to ${grantees.map((g) => g.sql).join(', ')}`;
}

/**
 * Privileges held on relation `$1` (schema) . `$2` (name) by roles other than
 * its owner. Rows: `{ grantee: string ('PUBLIC' for public), privilege: string (lower case) }`.
 */
export function currentGrantsSql(): string {
  return [
    "select case when a.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(a.grantee)::text end as grantee,",
    '       pg_catalog.lower(a.privilege_type) as privilege',
    'from pg_catalog.pg_class c',
    'join pg_catalog.pg_namespace n on n.oid = c.relnamespace',
    'cross join lateral pg_catalog.aclexplode(c.relacl) a',
    'where n.nspname = $1 and c.relname = $2 and a.grantee <> c.relowner',
  ].join('\n');
}

// ---------------------------------------------------------------- indexes (dbt-postgres `indexes` config)

/** One entry of dbt-postgres's `indexes` config. */
export interface IndexConfig {
  readonly columns: readonly string[];
  readonly unique: boolean;
  readonly type: string | null;
}

/**
 * Reads the `indexes` config (`[{columns: [...], unique?: bool, type?: 'btree'|'hash'|…}]`).
 * On an invalid entry returns no indexes and `problem`, a sentence describing it, so
 * the caller can raise a TsdbtError naming the model.
 */
export function parseIndexes(value: unknown): { indexes: IndexConfig[]; problem?: string } {
  if (value === undefined || value === null) return { indexes: [] };
  if (!Array.isArray(value)) return { indexes: [], problem: '`indexes` must be a list of {columns, unique, type}' };
  const indexes: IndexConfig[] = [];
  for (const [i, raw] of value.entries()) {
    const entry = raw as { columns?: unknown; unique?: unknown; type?: unknown } | null;
    const cols = entry?.columns;
    if (!Array.isArray(cols) || cols.length === 0 || !cols.every((c) => typeof c === 'string' && c.trim() !== '')) {
      return { indexes: [], problem: `indexes[${i}] needs \`columns\`, a non-empty list of column names` };
    }
    for (const [j, c] of (cols as string[]).entries()) {
      const problem = sqlFragmentProblem(c);
      if (problem) return { indexes: [], problem: `indexes[${i}].columns[${j}] ${JSON.stringify(c)} is not a column name or expression: it holds ${problem}` };
    }
    const type = entry?.type === undefined || entry?.type === null ? null : String(entry.type);
    if (type !== null && !isPlainName(type)) {
      return { indexes: [], problem: `indexes[${i}] has an invalid type '${type}' (e.g. btree, hash, gin, gist, brin)` };
    }
    if (entry?.unique !== undefined && entry?.unique !== null && typeof entry.unique !== 'boolean') {
      return { indexes: [], problem: `indexes[${i}].unique must be true or false, not ${JSON.stringify(entry.unique)}` };
    }
    indexes.push({ columns: cols as string[], unique: entry?.unique === true, type });
  }
  return { indexes };
}

/**
 * dbt-postgres's index name: the md5 of `<columns>_<relation>_<unique>_<type>_<timestamp>`
 * joined by `_` (the timestamp keeps names unique across rebuilds). `nowIso` is an
 * ISO-8601 UTC timestamp without zone, as Python's `datetime.isoformat()`.
 */
export function indexName(index: IndexConfig, relationSql: string, nowIso: string): string {
  const unique = index.unique ? 'True' : 'False';
  const type = index.type ?? 'None';
  const input = [...index.columns, relationSql, unique, type, nowIso].join('_');
  return createHash('md5').update(input, 'utf8').digest('hex');
}

/**
 * dbt-postgres's `get_create_index_sql`: columns are passed through as written
 * (names or expressions, as in dbt), after {@link parseIndexes}'s checks.
 *
 * @throws TsdbtError `invalid-index-config` for a column or type that could leave its slot.
 */
export function createIndexSql(rel: RelationRef, index: IndexConfig, name: string, q: Quoter): string {
  const bad = [...index.columns.map((c) => sqlFragmentProblem(c) && c), index.type !== null && !isPlainName(index.type) && index.type].find(Boolean);
  if (bad) throw new TsdbtError('invalid-index-config', `indexes: ${JSON.stringify(bad)} is not a column name or expression.`, { kind: 'project' });
  const using = index.type ? `using ${index.type} ` : '';
  return `create ${index.unique ? 'unique ' : ''}index if not exists ${q.quoteIdentifier(name)}\non ${qualified(rel, q)} ${using}(${index.columns.join(', ')})`;
}

// ---------------------------------------------------------------- persist_docs

/**
 * dbt's `persist_docs` on Postgres (`postgres__alter_relation_comment` /
 * `postgres__alter_column_comment`): `comment on table|view <relation> is <description>`
 * when `relation` is set, and `comment on column <relation>.<column> is …` for each
 * documented column that the relation has (matched by exact name, else
 * case-insensitively, as an unquoted yml name folds), when `columns` is set. Every
 * description is a quoted literal (dbt uses a dollar-quoted block), every name a
 * quoted identifier. Empty descriptions are skipped.
 */
export function persistDocsSql(
  target: RelationRef,
  kind: ReplaceableKind,
  persist: { relation?: unknown; columns?: unknown } | null | undefined,
  docs: { description?: string | null; columns?: readonly { name: string; description?: string | null }[] } | undefined,
  existingColumns: readonly string[],
  q: Quoter,
): string[] {
  if (!persist || !docs) return [];
  const out: string[] = [];
  const name = qualified(target, q);
  if (persist.relation === true && docs.description) out.push(`comment on ${kindKeyword(kind)} ${name} is ${q.quoteLiteral(docs.description)}`);
  if (persist.columns === true) {
    for (const c of docs.columns ?? []) {
      if (!c.description) continue;
      const column = existingColumns.find((x) => x === c.name) ?? existingColumns.find((x) => x.toLowerCase() === c.name.toLowerCase());
      if (column === undefined) continue;
      out.push(`comment on column ${name}.${q.quoteIdentifier(column)} is ${q.quoteLiteral(c.description)}`);
    }
  }
  return out;
}
