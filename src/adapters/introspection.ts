/**
 * Catalog queries shared by both adapters (pg_catalog based, valid on PostgreSQL 15
 * and on PGlite's PostgreSQL 18). Each function takes anything that can run a
 * parameterised query, so adapters pass their own `query`.
 *
 * Mirrors dbt-postgres's `postgres__list_relations_without_caching` and
 * `postgres__get_columns_in_relation`, but reads pg_class/pg_attribute directly
 * so that every kind (table, partitioned table, view, materialized view, foreign
 * table) is covered by one query.
 */
import type { ColumnInfo, Connection, RelationInfo, RelationKind, RelationRef } from './adapter.ts';

type Queryable = Pick<Connection, 'query'>;

/** pg_class.relkind → our kind. Only these relkinds are listed (indexes, sequences, types are not relations to dbt). */
const KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized_view',
  f: 'foreign_table',
};

const RELATIONS_SQL = `
select current_database() as database, n.nspname as schema, c.relname as identifier, c.relkind::text as relkind
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f')`;

interface RelationRow {
  database: string;
  schema: string;
  identifier: string;
  relkind: string;
}

function toInfo(row: RelationRow): RelationInfo {
  return { database: row.database, schema: row.schema, identifier: row.identifier, kind: KINDS[row.relkind] ?? 'other' };
}

/**
 * The relation `rel` (exact, case-sensitive schema and identifier) with its kind, or
 * null when no table/view/materialized view/foreign table has that name.
 */
export async function getRelation(db: Queryable, rel: RelationRef): Promise<RelationInfo | null> {
  const r = await db.query<RelationRow>(RELATIONS_SQL + ' and c.relname = $2', [rel.schema, rel.identifier]);
  return r.rows.length ? toInfo(r.rows[0]) : null;
}

/** Every relation in `schema`, ordered by name; empty when the schema does not exist. */
export async function listRelations(db: Queryable, schema: string): Promise<RelationInfo[]> {
  const r = await db.query<RelationRow>(RELATIONS_SQL + ' order by c.relname', [schema]);
  return r.rows.map(toInfo);
}

const COLUMNS_SQL = `
select a.attname as name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as data_type,
       row_number() over (order by a.attnum)::int as position
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2
  and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and a.attnum > 0 and not a.attisdropped
order by a.attnum`;

/**
 * Columns of `rel` in table order, with Postgres's formatted type
 * (`format_type`: `integer`, `character varying(20)`, `timestamp without time zone`, …).
 * `position` is 1-based and dense: dropped columns are skipped and do not leave gaps
 * (unlike pg_attribute.attnum / information_schema's ordinal_position).
 * Empty when the relation does not exist.
 */
export async function getColumns(db: Queryable, rel: RelationRef): Promise<ColumnInfo[]> {
  const r = await db.query<{ name: string; data_type: string; position: number }>(COLUMNS_SQL, [rel.schema, rel.identifier]);
  return r.rows.map((row) => ({ name: row.name, dataType: row.data_type, position: Number(row.position) }));
}
