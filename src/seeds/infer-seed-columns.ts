/**
 * Seed column names and types, as dbt-postgres decides them for `dbt seed`.
 */
import { TsdbtError } from '../errors.ts';
import { createReadStream } from 'node:fs';
import { SQL_TYPE } from './seed-kind.ts';
import { SeedScanner } from './seed-scanner.ts';

/** A column of a seed table. */
export interface SeedColumn {
  /** The column's name in the table (always written quoted, so exactly this). */
  readonly name: string;
  /** The SQL type used in CREATE TABLE (inferred, or the `column_types` entry verbatim). */
  readonly type: string;
  /** The header cell as written in the CSV (differs from `name` only when quote_columns is false). */
  readonly header?: string;
  /** True when `type` was inferred from the data; loadSeedTable may widen it after seeing every row. */
  readonly inferred?: boolean;
  /** For an inferred column: no row read so far had a value, so `text` is only a default. */
  readonly allNull?: boolean;
}

export interface InferSeedColumnsOptions {
  /** Project-relative path used in messages (e.g. `seeds/countries.csv`). */
  readonly displayPath: string;
  /** Field delimiter, one ASCII character (dbt's `delimiter` seed config; default `,`). */
  readonly delimiter?: string;
  /** dbt's `column_types`: header name (exact case) → SQL type, used verbatim. */
  readonly columnTypes?: Record<string, string>;
  /** dbt's `quote_columns` (null/undefined = the Postgres default, true). */
  readonly quoteColumns?: boolean | null;
  /** How many data rows to read for inference (default 50 000); loadSeedTable checks the rest. */
  readonly sampleRows?: number;
}

/** The same check and message for inferSeedColumns and loadSeedTable. */
export function checkDelimiter(delimiter: string, displayPath: string): void {
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new TsdbtError('seed-bad-delimiter', `the delimiter of seed ${displayPath} must be one ASCII character other than a quote or line break, not ${JSON.stringify(delimiter)}`, {
      file: displayPath,
      kind: 'runtime',
      hint: "Set the seed's `delimiter` config to a single character such as ',' ';' '|' or '\\t'.",
    });
  }
}

/** agate's name for an unnamed column: a, b, …, z, aa, bb, … */
function letterName(i: number): string {
  return String.fromCharCode(97 + (i % 26)).repeat(Math.floor(i / 26) + 1);
}

/**
 * Reads the header and the first `sampleRows` rows of a seed CSV and returns its
 * columns in order, with types inferred as dbt-postgres does (agate's type tester as
 * dbt configures it):
 *   - integer when every value is a whole number that fits int4, bigint when one needs
 *     int8 (dbt would say `integer` and fail to load it), numeric for decimals and beyond int8;
 *   - boolean for `true`/`false` in any case (dbt's agate takes only these, not yes/no/1/0);
 *   - date for YYYY-MM-DD; timestamp without time zone for a date with a `T` or space
 *     and HH:MM[:SS[.fff]] (and dates mixed in); timestamp with time zone when a value
 *     carries a zone (dbt writes `timestamp without time zone` and drops the zone);
 *   - text otherwise, and for a column with no value at all (dbt would say integer).
 * Empty fields are NULL and do not decide the type. The literal `null` is NOT taken as
 * NULL (dbt's agate does): such a column becomes text.
 *
 * Names: on Postgres, dbt's `quote_columns` defaults to true, so the header is used as
 * written and quoted — `UserID` stays `"UserID"` (case kept; `select userid` will not
 * find it). With `quote_columns: false` dbt writes the header unquoted and Postgres
 * folds it to lower case; we do the same (`UserID` → `userid`). A blank header cell is
 * named as agate names it (`a`, `b`, … by position).
 *
 * `column_types` overrides per column by exact header name (as dbt's seed
 * materialization does); those columns are never inferred or widened.
 *
 * @throws TsdbtError `seed-empty` (no header), `seed-duplicate-column`,
 *   `seed-ragged-row` (a row with more or fewer fields than the header, with its line),
 *   `seed-not-utf8`, `seed-invalid-csv`, `seed-bad-delimiter` — each names `displayPath`.
 */
export async function inferSeedColumns(file: string, opts: InferSeedColumnsOptions): Promise<SeedColumn[]> {
  const delimiter = opts.delimiter ?? ',';
  checkDelimiter(delimiter, opts.displayPath);
  const sampleRows = opts.sampleRows ?? 50_000;
  const columnTypes = opts.columnTypes ?? {};
  const emptyError = (why: string): TsdbtError =>
    new TsdbtError('seed-empty', `seed ${opts.displayPath} has no header line (${why})`, {
      file: opts.displayPath,
      line: 1,
      kind: 'runtime',
      hint: 'Put the column names on the first line, separated by the delimiter (e.g. id,name,created_at).',
    });

  const scanner = new SeedScanner({
    file,
    displayPath: opts.displayPath,
    delimiter,
    maxRecords: sampleRows,
    kindsForHeader: (h) => {
      if (h.length === 1 && h[0].trim() === '') throw emptyError('its first line is empty');
      return h.map((name) => (Object.hasOwn(columnTypes, name) ? 'declared' : 'null'));
    },
  });
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
    scanner.chunk(chunk as Buffer);
    if (scanner.full) break;
  }
  scanner.end();
  const header = scanner.header;
  if (!header) throw emptyError('the file is empty');
  const kinds = scanner.kinds;

  const fold = opts.quoteColumns === false;
  const columns: SeedColumn[] = header.map((h, i) => {
    const written = h === '' ? letterName(i) : h;
    const name = fold ? written.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : written;
    const k = kinds[i];
    if (k === 'declared') return { name, type: columnTypes[h], header: h, inferred: false };
    return { name, type: SQL_TYPE[k], header: h, inferred: true, allNull: k === 'null' };
  });

  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first !== undefined) {
      throw new TsdbtError('seed-duplicate-column', `seed ${opts.displayPath} has two columns named "${c.name}" (header fields ${first + 1} and ${i + 1})`, {
        file: opts.displayPath,
        line: 1,
        kind: 'runtime',
        hint: fold
          ? 'Rename one of them in the header (with quote_columns: false, names differing only in case collide).'
          : 'Rename one of them in the header line.',
      });
    }
    seen.set(c.name, i);
  });
  return columns;
}
