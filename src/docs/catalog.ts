/**
 * target/catalog.json: what the database says about each relation of the
 * project — its columns with types and positions, and row-count / size stats
 * — in dbt's catalog v1 shape (https://schemas.getdbt.com/dbt/catalog/v1.json).
 *
 * Mirrors dbt-postgres's `postgres__get_catalog` (pg_catalog: relation type,
 * owner, comments, `format_type` column types) and adds the stats dbt-postgres
 * leaves out: `num_rows` and `num_bytes` (the ids dbt-bigquery uses).
 */
import { join } from 'node:path';
import type { Connection } from '../adapters/adapter.ts';
import type { Manifest } from '../parse/manifest.ts';
import { writeFileAtomic, DBT_COMPAT_VERSION } from '../artifacts/index.ts';

export const CATALOG_FILE = 'catalog.json';
export const CATALOG_SCHEMA_VERSION = 'https://schemas.getdbt.com/dbt/catalog/v1.json';

/** dbt's StatsItem. */
export interface CatalogStat {
  id: string;
  label: string;
  value: boolean | string | number | null;
  include: boolean;
  description: string | null;
}

/** dbt's ColumnMetadata. `index` is the 1-based position (dense: dropped columns leave no gap). */
export interface CatalogColumn {
  type: string;
  index: number;
  name: string;
  comment: string | null;
}

/** dbt's CatalogTable. `metadata.type` is `BASE TABLE`, `VIEW`, `MATERIALIZED VIEW` or `FOREIGN TABLE`. */
export interface CatalogTable {
  metadata: { type: string; schema: string; name: string; database: string | null; comment: string | null; owner: string | null };
  columns: Record<string, CatalogColumn>;
  stats: Record<string, CatalogStat>;
  unique_id: string | null;
}

/** dbt's CatalogArtifact (catalog v1). */
export interface Catalog {
  metadata: { dbt_schema_version: string; dbt_version: string; generated_at: string; invocation_id: string | null; env: Record<string, string> };
  nodes: Record<string, CatalogTable>;
  sources: Record<string, CatalogTable>;
  errors: string[] | null;
}

/** One relation as read from pg_catalog, before it is matched to a node. */
export interface CatalogRelation {
  readonly schema: string;
  readonly name: string;
  readonly database: string;
  /** `BASE TABLE` | `VIEW` | `MATERIALIZED VIEW` | `FOREIGN TABLE`. */
  readonly type: string;
  readonly comment: string | null;
  readonly owner: string | null;
  readonly columns: CatalogColumn[];
  /** pg_class.reltuples: −1 when never analysed (PostgreSQL 14+); null for views. */
  readonly estimatedRows: number | null;
  /** pg_total_relation_size (table + indexes + TOAST) in bytes; null for views and foreign tables. */
  readonly totalBytes: number | null;
}

type Queryable = Pick<Connection, 'query'>;

const CATALOG_SQL = `
select n.nspname as table_schema,
       c.relname as table_name,
       current_database() as table_database,
       case c.relkind when 'v' then 'VIEW' when 'm' then 'MATERIALIZED VIEW' when 'f' then 'FOREIGN TABLE' else 'BASE TABLE' end as table_type,
       pg_catalog.obj_description(c.oid, 'pg_class') as table_comment,
       pg_catalog.pg_get_userbyid(c.relowner) as table_owner,
       case when c.relkind in ('r', 'p', 'm') then c.reltuples::float8 end as reltuples,
       case when c.relkind in ('r', 'p', 'm') then pg_catalog.pg_total_relation_size(c.oid)::float8 end as total_bytes,
       a.attname as column_name,
       (row_number() over (partition by c.oid order by a.attnum))::int as column_index,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as column_type,
       pg_catalog.col_description(c.oid, a.attnum) as column_comment
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p', 'v', 'm', 'f')
order by n.nspname, c.relname, a.attnum`;

interface CatalogRow {
  table_schema: string;
  table_name: string;
  table_database: string;
  table_type: string;
  table_comment: string | null;
  table_owner: string | null;
  reltuples: number | null;
  total_bytes: number | null;
  column_name: string | null;
  column_index: number | null;
  column_type: string | null;
  column_comment: string | null;
}

/**
 * Every table, view, materialized view and foreign table in `schemas`, with
 * its columns in table order. One query (pg_catalog only; PostgreSQL 15 and
 * PGlite alike). Schemas that do not exist contribute nothing.
 */
export async function queryCatalog(db: Queryable, schemas: readonly string[]): Promise<CatalogRelation[]> {
  if (!schemas.length) return [];
  const r = await db.query<CatalogRow>(CATALOG_SQL, [[...schemas]]);
  const out: CatalogRelation[] = [];
  let current: (CatalogRelation & { columns: CatalogColumn[] }) | undefined;
  for (const row of r.rows) {
    if (!current || current.schema !== row.table_schema || current.name !== row.table_name) {
      current = {
        schema: row.table_schema,
        name: row.table_name,
        database: row.table_database,
        type: row.table_type,
        comment: row.table_comment,
        owner: row.table_owner,
        columns: [],
        estimatedRows: row.reltuples === null ? null : Number(row.reltuples),
        totalBytes: row.total_bytes === null ? null : Number(row.total_bytes),
      };
      out.push(current);
    }
    if (row.column_name !== null) {
      current.columns.push({ type: row.column_type ?? '', index: Number(row.column_index), name: row.column_name, comment: row.column_comment });
    }
  }
  return out;
}

/**
 * Exact row counts (`count(*)`) of `relations`, in batches of `batch` per
 * statement. A batch that fails (a relation dropped meanwhile, no privilege)
 * is retried one relation at a time; relations that still fail are left out.
 * Keys are `schema.name`.
 */
export async function countRows(db: Queryable, relations: readonly { schema: string; name: string }[], batch = 100): Promise<Map<string, number>> {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const counts = new Map<string, number>();
  const run = async (part: readonly { schema: string; name: string }[]) => {
    const sql = part.map((rel, i) => `select ${i} as i, count(*)::float8 as n from ${q(rel.schema)}.${q(rel.name)}`).join('\nunion all\n');
    const r = await db.query<{ i: number; n: number }>(sql);
    for (const row of r.rows) {
      const rel = part[Number(row.i)]!;
      counts.set(`${rel.schema}.${rel.name}`, Number(row.n));
    }
  };
  for (let i = 0; i < relations.length; i += batch) {
    const part = relations.slice(i, i + batch);
    try {
      await run(part);
    } catch {
      for (const rel of part) await run([rel]).catch(() => undefined);
    }
  }
  return counts;
}

export interface BuildCatalogOptions {
  /** Only these unique_ids get an entry (dbt: `docs generate --select`). Default: every node and source. */
  readonly selected?: ReadonlySet<string>;
  /** Relations up to this size (pg_total_relation_size) get an exact count(*); larger ones the planner's estimate. Default 64 MiB. */
  readonly exactCountMaxBytes?: number;
  readonly invocationId?: string;
  readonly generatedAt?: string;
}

/** The catalog's metadata block. */
function catalogMetadata(opts: { invocationId?: string; generatedAt?: string }): Catalog['metadata'] {
  return {
    dbt_schema_version: CATALOG_SCHEMA_VERSION,
    dbt_version: DBT_COMPAT_VERSION,
    generated_at: opts.generatedAt ?? new Date().toISOString(),
    invocation_id: opts.invocationId ?? null,
    env: {},
  };
}

/** A catalog with no relations: `docs generate --empty-catalog` (as dbt). */
export function emptyCatalog(opts: { invocationId?: string; generatedAt?: string } = {}): Catalog {
  return { metadata: catalogMetadata(opts), nodes: {}, sources: {}, errors: null };
}

function statsFor(rel: CatalogRelation, exact: number | undefined): Record<string, CatalogStat> {
  const stats: Record<string, CatalogStat> = {};
  let rows: number | null = null;
  let rowsDescription = '';
  if (exact !== undefined) {
    rows = exact;
    rowsDescription = 'Number of rows (exact: count(*) when the docs were generated)';
  } else if (rel.estimatedRows !== null && rel.estimatedRows >= 0) {
    rows = Math.round(rel.estimatedRows);
    rowsDescription = "Approximate number of rows (PostgreSQL's estimate, pg_class.reltuples, as of the last ANALYZE)";
  }
  if (rows !== null) stats.num_rows = { id: 'num_rows', label: '# Rows', value: rows, include: true, description: rowsDescription };
  if (rel.totalBytes !== null) {
    stats.num_bytes = {
      id: 'num_bytes',
      label: 'Approximate Size',
      value: rel.totalBytes,
      include: true,
      description: 'Size on disk in bytes: table, indexes and TOAST (pg_total_relation_size)',
    };
  }
  stats.has_stats = {
    id: 'has_stats',
    label: 'Has Stats?',
    value: Object.keys(stats).length > 0,
    include: false,
    description: 'Indicates whether there are statistics for this table',
  };
  return stats;
}

function tableFor(rel: CatalogRelation, uniqueId: string, exact: number | undefined): CatalogTable {
  const columns: Record<string, CatalogColumn> = {};
  for (const c of rel.columns) columns[c.name] = { ...c, comment: c.comment };
  return {
    metadata: {
      type: rel.type,
      schema: rel.schema,
      name: rel.name,
      database: rel.database,
      comment: rel.comment,
      owner: rel.owner,
    },
    columns,
    stats: statsFor(rel, exact),
    unique_id: uniqueId,
  };
}

/**
 * Builds the catalog of a project from the database: reads the schemas its
 * nodes and sources live in (one query), matches each relation to the node
 * or source whose schema and alias/identifier name it (exactly, else
 * case-insensitively), then counts rows of the matched tables and
 * materialized views up to `exactCountMaxBytes` (larger ones get the
 * planner's estimate; views get no row count).
 *
 * Relations that match nothing are left out, as in dbt. A database error is
 * not thrown: it lands in `errors` (dbt's catalog does the same) and the
 * catalog is otherwise empty.
 */
export async function buildCatalog(db: Queryable, manifest: Manifest, opts: BuildCatalogOptions = {}): Promise<Catalog> {
  const catalog = emptyCatalog(opts);
  // A relation may be both a node's and a source's (a seed declared as a source too): as dbt's catalog
  // (Catalog.make_unique_id_map), it is listed under every unique_id that names it.
  type Target = { id: string; kind: 'nodes' | 'sources' };
  const wanted = new Map<string, Target[]>();
  const schemas = new Set<string>();
  const add = (id: string, schema: string, name: string, kind: 'nodes' | 'sources') => {
    if (opts.selected && !opts.selected.has(id)) return;
    schemas.add(schema);
    const k = `${schema}.${name}`;
    const list = wanted.get(k) ?? [];
    if (!list.some((t) => t.kind === kind)) list.push({ id, kind });
    wanted.set(k, list);
  };
  for (const n of Object.values(manifest.nodes)) {
    if (n.relation_name && n.resource_type !== 'test') add(n.unique_id, n.schema, n.alias, 'nodes');
  }
  for (const s of Object.values(manifest.sources)) add(s.unique_id, s.schema, s.identifier || s.name, 'sources');
  const lower = new Map<string, Target[]>();
  for (const [k, v] of wanted) if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), v);

  let relations: CatalogRelation[];
  try {
    relations = await queryCatalog(db, [...schemas].sort());
  } catch (e) {
    catalog.errors = [`could not read the database catalog: ${(e as Error).message}`];
    return catalog;
  }
  const matched: { rel: CatalogRelation; target: Target }[] = [];
  for (const rel of relations) {
    const k = `${rel.schema}.${rel.name}`;
    for (const target of wanted.get(k) ?? lower.get(k.toLowerCase()) ?? []) {
      if (catalog[target.kind][target.id]) continue;
      matched.push({ rel, target });
      catalog[target.kind][target.id] = tableFor(rel, target.id, undefined); // placeholder, replaced below
    }
  }
  const maxBytes = opts.exactCountMaxBytes ?? 64 * 1024 * 1024;
  const toCount = [...new Set(matched.map((m) => m.rel))]
    .filter((rel) => (rel.type === 'BASE TABLE' || rel.type === 'MATERIALIZED VIEW') && rel.totalBytes !== null && rel.totalBytes <= maxBytes);
  const counts = await countRows(db, toCount);
  for (const { rel, target } of matched) catalog[target.kind][target.id] = tableFor(rel, target.id, counts.get(`${rel.schema}.${rel.name}`));
  return catalog;
}

/** Writes `<dir>/catalog.json` (compact, atomically) and returns its path. */
export function writeCatalog(dir: string, catalog: Catalog): string {
  const path = join(dir, CATALOG_FILE);
  writeFileAtomic(path, JSON.stringify(catalog));
  return path;
}
