/**
 * Loading a seed CSV into a new table with one COPY.
 */
import { readFileSync } from 'node:fs';
import { DatabaseError, type Adapter, type Connection, type RelationRef } from '../adapters/adapter.ts';
import { quoteLiteral } from '../adapters/quote.ts';
import { sqlTypeProblem } from '../adapters/sql-fragment.ts';
import { TsdbtError } from '../errors.ts';
import { lineOfByte, readCsvRecords } from './csv-records.ts';
import { checkDelimiter, type SeedColumn } from './infer-seed-columns.ts';
import { classifyValue, joinKinds, kindOfSqlType, SQL_TYPE, type SeedKind } from './seed-kind.ts';
import { KindsWidened, raggedRowError, SeedScanner, type ScanKind } from './seed-scanner.ts';

export interface LoadSeedTableOptions {
  /** Where to create the table; it must not exist (callers load into a temporary name and swap it in). */
  readonly relation: RelationRef;
  /** Absolute path of the CSV file. */
  readonly file: string;
  /** Project-relative path used in messages. */
  readonly displayPath: string;
  /** From {@link inferSeedColumns} (or built by hand: columns without `inferred` are never widened). */
  readonly columns: readonly SeedColumn[];
  /** Field delimiter (default `,`). */
  readonly delimiter?: string;
  /** Called after each `create table`, before the COPY (e.g. Citus's `create_distributed_table`, materializations/citus.ts). */
  readonly afterCreate?: () => Promise<void>;
}

export interface LoadSeedTableResult {
  /** Rows loaded (data rows of the CSV). */
  readonly rows: number;
  /** The columns as created: inferred types may have been widened after reading the whole file. */
  readonly columns: SeedColumn[];
}

function startKinds(columns: readonly SeedColumn[]): ScanKind[] {
  return columns.map((c) => (c.inferred ? (c.allNull ? 'null' : (kindOfSqlType(c.type) ?? 'declared')) : 'declared'));
}

function columnsFor(columns: readonly SeedColumn[], kinds: readonly ScanKind[]): SeedColumn[] {
  return columns.map((c, i) => {
    const k = kinds[i];
    if (!c.inferred || k === 'declared') return { ...c };
    return { ...c, type: SQL_TYPE[k], allNull: k === 'null' };
  });
}

/** Kinds after reading every row with csv-parse and the exact classifier (the slow, certain path). */
async function exactKinds(file: string, displayPath: string, delimiter: string, start: readonly ScanKind[]): Promise<ScanKind[]> {
  const kinds = [...start];
  for await (const rec of readCsvRecords(file, { displayPath, delimiter })) {
    if (rec.index === 0) continue;
    if (rec.fields.length !== kinds.length) throw raggedRowError(displayPath, lineOfByte(file, rec.startByte), rec.fields, kinds.length);
    for (let i = 0; i < kinds.length; i++) {
      const k = kinds[i];
      if (k === 'declared' || k === 'text') continue;
      kinds[i] = joinKinds(k as SeedKind, classifyValue(rec.fields[i]));
    }
  }
  return kinds;
}

/**
 * The line where the record holding COPY's "line N" starts. Postgres counts physical
 * lines (header = 1) but reports the LAST line of a record with quoted line breaks.
 */
async function recordStartLine(file: string, displayPath: string, delimiter: string, copyLine: number): Promise<number> {
  const buf = readFileSync(file);
  let line = 1;
  let counted = 0; // bytes of buf already scanned for line breaks
  let previousStart = 1;
  try {
    for await (const rec of readCsvRecords(file, { displayPath, delimiter })) {
      for (let i = buf.indexOf(10, counted); i !== -1 && i < rec.startByte; i = buf.indexOf(10, i + 1)) line++;
      counted = rec.startByte;
      if (line > copyLine) return previousStart;
      previousStart = line;
    }
  } catch {
    // the file's own problem is reported elsewhere; fall back to COPY's count
    return copyLine;
  }
  return previousStart <= copyLine ? previousStart : copyLine;
}

/** "COPY t, line 7, column amount: "abc"" → { line: 7, column index } (column matched against ours). */
function parseCopyContext(where: string | undefined, columns: readonly SeedColumn[]): { line?: number; column?: number } {
  if (!where) return {};
  const m = /COPY .*?, line (\d+)(?:, column (.*))?/s.exec(where.split('\n')[0]);
  if (!m) return {};
  const line = Number(m[1]);
  const rest = m[2];
  if (rest === undefined) return { line };
  let best = -1;
  columns.forEach((c, i) => {
    if ((rest === c.name || rest.startsWith(c.name + ':')) && (best < 0 || c.name.length > columns[best].name.length)) best = i;
  });
  return { line, column: best < 0 ? undefined : best };
}

function badValueError(displayPath: string, err: DatabaseError, line: number | undefined, column: SeedColumn | undefined): TsdbtError {
  const where = [line !== undefined ? `line ${line}` : undefined, column ? `column "${column.name}"` : undefined].filter(Boolean).join(', ');
  const name = column?.header ?? column?.name;
  return new TsdbtError('seed-bad-value', `${displayPath}${where ? `: ${where}` : ''}: ${err.message}`, {
    file: displayPath,
    line,
    kind: 'runtime',
    cause: err,
    hint: column
      ? `Fix the value, or set column_types for "${name}" in the seed's config (e.g. column_types: {${JSON.stringify(name)}: text}) — it is created as ${column.type}.`
      : "Fix the value, or set column_types for that column in the seed's config.",
  });
}

/**
 * Creates the table `opts.relation` with `opts.columns` and fills it from the CSV
 * with ONE `COPY … FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER …, NULL '',
 * FORCE_NULL (…))` through `conn.copyFromFile` (FORCE_NULL makes a quoted empty
 * field NULL as well, as dbt's agate does).
 *
 * Types inferred from a sample are checked against every row while the bytes stream
 * into COPY (a {@link SeedScanner} as the copy observer; on pglite just before it).
 * If a later row needs a wider type (an integer column meets 3.5, a date column meets
 * a time, a boolean column meets `yes`…), the COPY is aborted, the table is dropped
 * and created again with the types of the whole file, and loaded once more. The same
 * happens when Postgres rejects a value in an inferred column that the scan let
 * through (e.g. 2023-02-29). A connection that ignores the observer gets the scan
 * after its COPY. Call this outside a transaction block: a failed COPY would abort it.
 *
 * Speed (1M rows of bigint, timestamp, boolean, text; 56 MB; this machine): psql
 * \copy 0.64–0.73 s; this function on postgres about the same (the scan overlaps the
 * COPY); a full csv-parse pass alone takes 1.4 s, which is why inference reads a sample.
 *
 * @throws TsdbtError `invalid-column-type` (a `column_types` value that is not a type name,
 *   before any statement), `seed-bad-value` (Postgres rejected a value: names the CSV line, the
 *   column, and suggests column_types), `seed-ragged-row`, `seed-not-utf8`,
 *   `seed-invalid-csv`, `seed-bad-delimiter`; DatabaseError for anything else.
 */
export async function loadSeedTable(
  conn: Connection,
  quote: Pick<Adapter, 'quoteIdentifier' | 'quoteRelation'>,
  opts: LoadSeedTableOptions,
): Promise<LoadSeedTableResult> {
  const delimiter = opts.delimiter ?? ',';
  checkDelimiter(delimiter, opts.displayPath);
  const rel = quote.quoteRelation(opts.relation);
  const { file, displayPath } = opts;
  for (const c of opts.columns) {
    const problem = c.inferred ? undefined : sqlTypeProblem(c.type);
    if (problem) {
      throw new TsdbtError('invalid-column-type', `seed ${displayPath}: the type of column "${c.name}", ${JSON.stringify(c.type)}, is not a PostgreSQL type name (${problem}).`, {
        file: displayPath,
        kind: 'project',
        hint: 'Set column_types to a type name such as text, integer, numeric(10, 2) or timestamp with time zone.',
      });
    }
  }

  let kinds = startKinds(opts.columns);
  let observe = true;
  let exactDone = false;
  for (let attempt = 0; attempt < 4; attempt++) {
    const columns = columnsFor(opts.columns, kinds);
    const names = columns.map((c) => quote.quoteIdentifier(c.name)).join(', ');
    if (attempt > 0) await conn.query(`drop table if exists ${rel}`);
    await conn.query(`create table ${rel} (${columns.map((c) => `${quote.quoteIdentifier(c.name)} ${c.type}`).join(', ')})`);
    await opts.afterCreate?.();
    const copySql = `copy ${rel} (${names}) from stdin with (format csv, header true, delimiter ${quoteLiteral(delimiter)}, null '', force_null (${names}))`;
    const scanner = observe ? new SeedScanner({ file, displayPath, delimiter, kinds, abortOnWiden: true }) : undefined;
    try {
      const rows = await conn.copyFromFile(copySql, file, scanner);
      if (scanner && !scanner.finished) {
        // The connection did not show us the bytes: check the file now.
        const after = new SeedScanner({ file, displayPath, delimiter, kinds });
        await after.scanFile();
        if (after.widened) {
          kinds = after.kinds;
          observe = false;
          continue;
        }
      }
      return { rows, columns };
    } catch (err) {
      if (err instanceof KindsWidened) {
        const full = new SeedScanner({ file, displayPath, delimiter, kinds: err.kinds });
        await full.scanFile();
        kinds = full.kinds;
        observe = false;
        continue;
      }
      if (!(err instanceof DatabaseError) || !err.sqlState) throw err;
      // Only a data exception (class 22) or a violated constraint (23, e.g. a domain's check) is a bad value.
      // Anything else — cancelled (57014), the session terminated or the server restarting (57P01), a read-only
      // session (25006), disk full (53100) — carries COPY's "line N" too, but is not the file's fault: stop now.
      // The diagnosis below would read the whole file (seconds for a big seed) to name a bad value that is not there.
      if (!/^2[23]/.test(err.sqlState)) throw err;
      if (err.sqlState === '22021') {
        // Not UTF-8 and the scan did not run first: let the exact reader name the line.
        await exactKinds(file, displayPath, delimiter, kinds);
      }
      const ctx = parseCopyContext(err.where, columns);
      if (ctx.line === undefined) throw err;
      if (err.sqlState === '22P04') await exactKinds(file, displayPath, delimiter, kinds); // ragged rows, unclosed quotes
      const col = ctx.column;
      if (col !== undefined && kinds[col] !== 'declared' && !exactDone) {
        exactDone = true;
        const exact = await exactKinds(file, displayPath, delimiter, kinds);
        if (exact.some((k, i) => k !== kinds[i])) {
          kinds = exact;
          observe = false;
          continue;
        }
      }
      const line = await recordStartLine(file, displayPath, delimiter, ctx.line);
      throw badValueError(displayPath, err, line, col === undefined ? undefined : columns[col]);
    }
  }
  throw new Error(`loadSeedTable: ${displayPath} did not settle on column types`);
}
