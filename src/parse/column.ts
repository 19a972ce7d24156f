/**
 * dbt's `Column` as templates see it (`adapter.get_columns_in_relation`,
 * `api.Column`): dbt-core's `Column` with dbt-postgres's `PostgresColumn`
 * override of `data_type` (text and unsized varchar keep their name).
 *
 * `dtype` is the type as information_schema.columns.data_type spells it
 * (`integer`, `character varying`, `timestamp without time zone`, `ARRAY`,
 * `USER-DEFINED`), as dbt-postgres reads it.
 */
import { TsdbtError } from '../errors.ts';
import { readParams } from '../jinja/index.ts';

const STRING_TYPES = ['text', 'character varying', 'character', 'varchar'];
const FLOAT_TYPES = ['real', 'float4', 'float', 'double precision', 'float8', 'double'];
const INTEGER_TYPES = ['smallint', 'integer', 'bigint', 'smallserial', 'serial', 'bigserial', 'int2', 'int4', 'int8', 'serial2', 'serial4', 'serial8'];
const NUMERIC_TYPES = ['numeric', 'decimal'];
/** dbt's Column.TYPE_LABELS: `api.Column.translate_type`. */
const TYPE_LABELS: Record<string, string> = { STRING: 'TEXT', TIMESTAMP: 'TIMESTAMP', FLOAT: 'FLOAT', INTEGER: 'INT', BOOLEAN: 'BOOLEAN' };

/** A column of a relation, with dbt's Column properties and predicates. */
export class DbtColumn {
  constructor(
    readonly column: string,
    readonly dtype: string,
    readonly char_size: number | null = null,
    readonly numeric_precision: number | null = null,
    readonly numeric_scale: number | null = null,
  ) {}

  get name(): string {
    return this.column;
  }
  get quoted(): string {
    return '"' + this.column.replace(/"/g, '""') + '"';
  }
  /** The type to declare a column like this one (dbt-postgres's PostgresColumn.data_type). */
  get data_type(): string {
    const d = this.dtype.toLowerCase();
    if (d === 'text' || (d === 'character varying' && this.char_size === null)) return this.dtype;
    if (this.is_string()) return DbtColumn.string_type(this.string_size());
    if (this.is_numeric()) return DbtColumn.numeric_type(this.dtype, this.numeric_precision, this.numeric_scale);
    return this.dtype;
  }
  is_string(): boolean {
    return STRING_TYPES.includes(this.dtype.toLowerCase());
  }
  is_float(): boolean {
    return FLOAT_TYPES.includes(this.dtype.toLowerCase());
  }
  is_integer(): boolean {
    return INTEGER_TYPES.includes(this.dtype.toLowerCase());
  }
  is_numeric(): boolean {
    return NUMERIC_TYPES.includes(this.dtype.toLowerCase());
  }
  is_number(): boolean {
    return this.is_integer() || this.is_numeric() || this.is_float();
  }
  /** dbt: 256 for a string column without a size. @throws compiler-error for a non-string column (as dbt). */
  string_size(): number {
    if (!this.is_string()) throw new TsdbtError('compiler-error', `Called string_size() on non-string field ${this.column}`, { hint: 'Check is_string() first.' });
    return this.char_size === null ? 256 : this.char_size;
  }
  /** dbt's can_expand_to: both strings and this one is shorter. */
  can_expand_to(other: DbtColumn): boolean {
    if (!this.is_string() || !other.is_string()) return false;
    return other.string_size() > this.string_size();
  }
  /** `value::data_type`. */
  literal(value: unknown): string {
    return `${String(value)}::${this.data_type}`;
  }
  toString(): string {
    return `<Column ${this.column} (${this.data_type})>`;
  }

  static string_type(size: unknown): string {
    return `character varying(${String(size)})`;
  }
  static numeric_type(dtype: string, precision: number | null, scale: number | null): string {
    return precision === null || precision === undefined || scale === null || scale === undefined ? dtype : `${dtype}(${precision},${scale})`;
  }
  static translate_type(dtype: string): string {
    return TYPE_LABELS[String(dtype).toUpperCase()] ?? dtype;
  }
  /** `api.Column.create(name, label_or_dtype)`. */
  static create(...a: unknown[]): DbtColumn {
    const p = readParams(a, ['name', 'label_or_dtype']);
    return new DbtColumn(String(p.name), DbtColumn.translate_type(String(p.label_or_dtype)));
  }
}

/**
 * `api.Column` for templates: `api.Column.create(...)`, `api.Column(name, dtype, …)`
 * and the class methods. Keyword arguments as dbt's dataclass fields.
 */
export const apiColumn = Object.assign(
  (...a: unknown[]) => {
    const p = readParams(a, ['column', 'dtype', 'char_size', 'numeric_precision', 'numeric_scale'], { char_size: null, numeric_precision: null, numeric_scale: null });
    return new DbtColumn(String(p.column), String(p.dtype), numOrNull(p.char_size), numOrNull(p.numeric_precision), numOrNull(p.numeric_scale));
  },
  {
    create: DbtColumn.create,
    string_type: DbtColumn.string_type,
    numeric_type: (...a: unknown[]) => {
      const p = readParams(a, ['dtype', 'precision', 'scale']);
      return DbtColumn.numeric_type(String(p.dtype), numOrNull(p.precision), numOrNull(p.scale));
    },
    translate_type: DbtColumn.translate_type,
  },
);

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/**
 * Columns of a relation as dbt-postgres's `get_columns_in_relation` returns
 * them (information_schema's spelling of the type, sizes, precision, scale),
 * read from pg_catalog so views and materialized views are covered too.
 */
export const COLUMNS_IN_RELATION_SQL = `
select a.attname as column_name,
       case when t.typcategory = 'A' then 'ARRAY'
            when t.typtype in ('e', 'c', 'r') or tn.nspname not in ('pg_catalog', 'information_schema') then 'USER-DEFINED'
            else pg_catalog.format_type(a.atttypid, null) end as data_type,
       information_schema._pg_char_max_length(a.atttypid, a.atttypmod) as character_maximum_length,
       information_schema._pg_numeric_precision(a.atttypid, a.atttypmod) as numeric_precision,
       information_schema._pg_numeric_scale(a.atttypid, a.atttypmod) as numeric_scale
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_type t on t.oid = a.atttypid
join pg_catalog.pg_namespace tn on tn.oid = t.typnamespace
where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped
order by a.attnum`;

/** Rows of {@link COLUMNS_IN_RELATION_SQL} → Column objects. */
export function columnsFromRows(rows: readonly Record<string, unknown>[]): DbtColumn[] {
  return rows.map(
    (r) =>
      new DbtColumn(
        String(r.column_name),
        String(r.data_type),
        numOrNull(r.character_maximum_length),
        numOrNull(r.numeric_precision),
        numOrNull(r.numeric_scale),
      ),
  );
}
