/**
 * What a user-defined `seed` materialization reads (dbt's SeedRunner context):
 * `load_agate_table()` — the CSV as an agate table with inferred column types — and
 * `adapter.add_query(sql, bindings=…)` with psycopg2's `%s` placeholders, which
 * dbt's `load_csv_rows` uses to insert the rows.
 */
import { AgateTable } from '../compile/agate-table.ts';
import { pyStr } from '../jinja/index.ts';
import { TsdbtError } from '../errors.ts';
import { inferSeedColumns } from '../seeds/index.ts';
import { readCsvRecords } from '../seeds/csv-records.ts';
import { raggedRowError } from '../seeds/seed-scanner.ts';
import { kindOfSqlType, type SeedKind } from '../seeds/seed-kind.ts';

/** The seed a user-defined seed materialization loads. */
export interface SeedSource {
  /** Absolute path of the CSV. */
  readonly file: string;
  /** Project-relative path for messages (`seeds/codes.csv`). */
  readonly displayPath: string;
  /** dbt's `delimiter` seed config (default `,`). */
  readonly delimiter?: string;
  /** dbt's `column_types`: header → SQL type; those columns are read as text, as dbt's load_agate_table does. */
  readonly columnTypes?: Record<string, string>;
}

/** A seed's agate table and the Postgres type of each column (what dbt-postgres's `adapter.convert_type` answers). */
export interface SeedAgate {
  readonly table: AgateTable;
  readonly sqlTypes: readonly string[];
}

const OID: Record<SeedKind, number> = { null: 25, integer: 23, bigint: 20, numeric: 1700, boolean: 16, date: 1082, timestamp: 1114, timestamptz: 1184, text: 25 };

/**
 * Reads the whole CSV into an agate-like table, as dbt's `load_agate_table()`: column names are the
 * header cells as written (agate's letters for blank ones); types inferred from every row by tsdbt's
 * seed inference (src/seeds/infer-seed-columns.ts: Number, Boolean, Date, DateTime, Text); values
 * are numbers, booleans, null for an empty field, and the CSV text for dates, timestamps and text.
 *
 * @throws TsdbtError the seed errors of inferSeedColumns/readCsvRecords (`seed-ragged-row`, `seed-not-utf8`, …), naming `displayPath`.
 */
export async function loadSeedAgate(seed: SeedSource): Promise<SeedAgate> {
  const delimiter = seed.delimiter ?? ',';
  const columns = await inferSeedColumns(seed.file, { displayPath: seed.displayPath, delimiter, columnTypes: seed.columnTypes, quoteColumns: true, sampleRows: Number.MAX_SAFE_INTEGER });
  const kinds = columns.map((c): SeedKind => (c.inferred ? (kindOfSqlType(c.type) ?? 'text') : 'text'));
  const fields = columns.map((c, i) => ({ name: c.name, dataTypeID: OID[kinds[i]] }));
  const rows: Record<string, unknown>[] = [];
  let line = 0;
  for await (const rec of readCsvRecords(seed.file, { displayPath: seed.displayPath, delimiter })) {
    line++;
    if (rec.index === 0) continue;
    if (rec.fields.length !== columns.length) throw raggedRowError(seed.displayPath, line, rec.fields, columns.length);
    const row: Record<string, unknown> = {};
    rec.fields.forEach((raw, i) => (row[columns[i].name] = valueOf(raw, kinds[i])));
    rows.push(row);
  }
  return { table: new AgateTable(fields, rows), sqlTypes: columns.map((c) => c.type) };
}

function valueOf(raw: string, kind: SeedKind): unknown {
  if (raw === '') return null;
  switch (kind) {
    case 'integer':
    case 'bigint':
    case 'numeric': {
      const n = Number(raw);
      return Number.isSafeInteger(n) || (Number.isFinite(n) && !/^[+-]?\d+$/.test(raw)) ? n : raw;
    }
    case 'boolean':
      return raw.toLowerCase() === 'true';
    default:
      return raw;
  }
}

/** A value as an SQL literal, as psycopg2 interpolates a binding (None → NULL, bool → true/false, str quoted). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `'${String(v)}'::float8`;
  if (typeof v === 'bigint') return v.toString();
  return `'${pyStr(v).replace(/'/g, "''")}'`;
}

/**
 * `sql` with each `%s` replaced by the next binding as a literal and `%%` by `%`, as psycopg2's
 * client-side interpolation (no server parameter limit: dbt's batches of 10 000 rows stay one statement).
 *
 * @throws TsdbtError `compiler-error` when the number of `%s` differs from the number of bindings.
 */
export function bindSql(sql: string, bindings: readonly unknown[], file: string): string {
  let i = 0;
  const out = sql.replace(/%%|%s/g, (m) => (m === '%%' ? '%' : i < bindings.length ? sqlLiteral(bindings[i++]) : (i++, m)));
  if (i !== bindings.length) {
    throw new TsdbtError('compiler-error', `adapter.add_query: the SQL has ${i} %s placeholder(s) but ${bindings.length} binding(s) were given`, { file, hint: 'Give one binding per %s (write %% for a literal percent sign).' });
  }
  return out;
}
