/**
 * The SQL of a unit test, and the comparison of its rows — pure functions,
 * written after dbt-adapters' `get_fixture_sql`, `get_expected_sql`,
 * `format_row`, `get_unit_test_sql` macros and the `unit` materialization,
 * and dbt-core's `UnitTestRunner` (order-insensitive comparison of the
 * actual and expected rows of the expected columns, a diff on failure).
 */
import { TsdbtError } from '../errors.ts';
import { quoteIdent } from '../parse/relation.ts';

/** A column with its database type (`format_type`: `integer`, `character varying(20)`, …). */
export interface TypedColumn {
  readonly name: string;
  readonly dataType: string;
}

/** `'it''s'` (E'' form when a backslash is present), as dbt's string_literal(escape_single_quotes(…)) on Postgres. */
function stringLiteral(s: string): string {
  const body = s.replace(/'/g, "''");
  return s.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/**
 * One fixture value as SQL cast to the column's type, as dbt's `format_row`
 * + `safe_cast`: text is quoted (a `character varying(n)` column loses its
 * length for text values, so a fixture is never silently truncated, as
 * dbt-adapters GH-11974), null is `null`, numbers and booleans are written
 * as they are; mappings and lists (json columns) become JSON text.
 */
export function castValue(value: unknown, dataType: string): string {
  let type = dataType;
  let text: string;
  if (value === null || value === undefined) text = 'null';
  else if (typeof value === 'string') {
    text = stringLiteral(value);
    if (/varying/.test(type)) type = type.split('(')[0].trim();
  } else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') text = String(value);
  else if (value instanceof Date) text = stringLiteral(value.toISOString());
  else text = stringLiteral(JSON.stringify(value));
  return `cast(${text} as ${type})`;
}

/** The row's values by column (case-insensitive, as dbt lower-cases names); an unknown column is an error. */
function formatRow(row: Record<string, unknown>, columns: readonly TypedColumn[], fixtureName: string, where: { file?: string; line?: number }): Map<string, string> {
  const byLower = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(row)) {
    const col = byLower.get(key.toLowerCase()) ?? columns.find((c) => c.name === key);
    if (!col) {
      throw new TsdbtError('unit-test-column', `Invalid column name: '${key}' in unit test fixture for ${fixtureName}. Accepted columns for ${fixtureName} are: ${columns.map((c) => c.name).join(', ')}`, {
        ...where,
        hint: 'use the column names of the relation (check the spelling), or rebuild the input if its columns changed',
      });
    }
    out.set(col.name, castValue(value, col.dataType));
  }
  return out;
}

/**
 * An input's rows as a `select … union all select …` (dbt's `get_fixture_sql`):
 * every column of the input relation, in its order, cast to its type; a
 * column the row does not give is `cast(null as <type>)`. No rows: one row of
 * nulls with `limit 0` (the columns stay typed).
 * @throws TsdbtError `unit-test-column` for a column the relation does not have.
 */
export function fixtureSql(rows: readonly Record<string, unknown>[], columns: readonly TypedColumn[], fixtureName: string, where: { file?: string; line?: number } = {}): string {
  const select = (values: Map<string, string>) => 'select ' + columns.map((c) => `${values.get(c.name) ?? castValue(null, c.dataType)} as ${quoteIdent(c.name)}`).join(', ');
  if (!rows.length) return `${select(new Map())}\nlimit 0`;
  return rows.map((r) => select(formatRow(r, columns, fixtureName, where))).join('\nunion all\n');
}

/**
 * The columns the expected rows name, in first-seen order (matched
 * case-insensitively to `actualColumns`): what is compared (dbt compares the
 * expected columns only). dbt takes the keys of the first row; tsdbt takes
 * every row's keys, so a row may leave a column out (it is null there).
 * @throws TsdbtError `unit-test-column` for a name the model does not return.
 */
export function expectedColumns(rows: readonly Record<string, unknown>[], actualColumns: readonly TypedColumn[], where: { file?: string; line?: number } = {}): TypedColumn[] {
  const out: TypedColumn[] = [];
  const byLower = new Map(actualColumns.map((c) => [c.name.toLowerCase(), c]));
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      const col = byLower.get(k.toLowerCase()) ?? actualColumns.find((c) => c.name === k);
      if (!col) {
        throw new TsdbtError('unit-test-column', `Invalid column name: '${k}' in unit test fixture for expected output. Accepted columns for expected output are: ${actualColumns.map((c) => c.name).join(', ')}`, {
          ...where,
          hint: 'expect: names columns the model returns',
        });
      }
      if (!out.includes(col)) out.push(col);
    }
  }
  return out;
}

/** The expected rows as SQL (dbt's `get_expected_sql`), over `columns` (from {@link expectedColumns}). */
export function expectedSql(rows: readonly Record<string, unknown>[], columns: readonly TypedColumn[], where: { file?: string; line?: number } = {}): string {
  if (!rows.length) return 'select * from dbt_internal_unit_test_actual\nlimit 0';
  return rows
    .map((r) => {
      const values = formatRow(r, columns, 'expected output', where);
      return 'select ' + columns.map((c) => `${values.get(c.name) ?? castValue(null, c.dataType)} as ${quoteIdent(c.name)}`).join(', ');
    })
    .join('\nunion all\n');
}

/**
 * The query a unit test runs (dbt's `default__get_unit_test_sql`): the actual
 * rows (the model's SQL over its fixtures) and the expected rows, each
 * projected to the compared columns and tagged in `actual_or_expected`.
 */
export function unitTestSql(actualSql: string, expected: string, columns: readonly string[]): string {
  const cols = columns.map(quoteIdent).join(', ');
  return [
    '-- Build actual result given inputs',
    'with dbt_internal_unit_test_actual as (',
    `  select ${cols}, 'actual' as "actual_or_expected"`,
    '  from (',
    actualSql.trim().replace(/;\s*$/, ''),
    '  ) _dbt_internal_unit_test_actual',
    '),',
    '-- Build expected result',
    'dbt_internal_unit_test_expected as (',
    `  select ${cols}, 'expected' as "actual_or_expected"`,
    '  from (',
    expected,
    '  ) _dbt_internal_unit_test_expected',
    ')',
    '-- Union actual and expected results',
    'select * from dbt_internal_unit_test_actual',
    'union all',
    'select * from dbt_internal_unit_test_expected',
  ].join('\n');
}

/** A value as the diff shows it and compares it. */
function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The outcome of comparing actual and expected rows. */
export interface UnitTestComparison {
  readonly equal: boolean;
  /** The diff table, empty when equal. */
  readonly rendered: string;
  readonly actual: string[][];
  readonly expected: string[][];
}

/**
 * Compares the actual and expected rows of `columns`, ignoring order and
 * counting duplicates (dbt sorts both and diffs them unordered). The diff
 * lists every row under a header `@@`: `+++` a row the model returned that
 * was not expected, `---` an expected row it did not return, blank a row in
 * both (as daff's terminal rendering that dbt prints). Values of
 * `numericColumns` compare as numbers (trailing zeros of the scale ignored).
 */
export function compareRows(columns: readonly string[], rows: readonly Record<string, unknown>[], numericColumns: ReadonlySet<string> = new Set()): UnitTestComparison {
  const actual: string[][] = [];
  const expected: string[][] = [];
  // numeric values compare as numbers (dbt compares Decimals: 12.50 equals 12.5)
  const value = (c: string, v: unknown) => {
    const text = show(v);
    return numericColumns.has(c) && /^-?\d+\.\d+$/.test(text) ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  };
  for (const r of rows) (r.actual_or_expected === 'actual' ? actual : expected).push(columns.map((c) => value(c, r[c])));
  const key = (r: string[]) => JSON.stringify(r);
  const sortRows = (a: string[][]) => [...a].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const left = new Map<string, number>();
  for (const r of expected) left.set(key(r), (left.get(key(r)) ?? 0) + 1);
  const marked: { mark: string; row: string[] }[] = [];
  for (const r of sortRows(actual)) {
    const n = left.get(key(r)) ?? 0;
    if (n > 0) {
      left.set(key(r), n - 1);
      marked.push({ mark: '', row: r });
    } else marked.push({ mark: '+++', row: r });
  }
  const missing: string[][] = [];
  for (const r of sortRows(expected)) {
    const n = left.get(key(r)) ?? 0;
    if (n > 0) {
      left.set(key(r), n - 1);
      missing.push(r);
    }
  }
  for (const r of missing) marked.push({ mark: '---', row: r });
  const equal = marked.every((m) => m.mark === '');
  if (equal) return { equal, rendered: '', actual, expected };
  marked.sort((a, b) => (key(a.row) < key(b.row) ? -1 : key(a.row) > key(b.row) ? 1 : a.mark < b.mark ? -1 : 1));
  const table = [['@@', ...columns], ...marked.map((m) => [m.mark, ...m.row])];
  const widths = table[0].map((_c, i) => Math.max(...table.map((r) => r[i].length)));
  const rendered = table.map((r) => r.map((v, i) => v.padEnd(widths[i])).join(' ,').trimEnd()).join('\n');
  return { equal, rendered, actual, expected };
}
